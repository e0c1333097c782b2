// What the app needs from the platform it runs on, and nothing more: what the session needs
// (SessionHost: a network runtime, storage, memory left) and what only the UI needs: textures
// for the slice buffers and the file edge (picker, demo sets, downloads). The browser
// implements it in wasm/ with WebGL and JavaScript; the native smoke test with a recorder.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "imgui.h"
#include "session_host.hpp"
#include "slice_render.hpp"

namespace cls::app {

class Platform : public SessionHost {
public:
    // Uploads `image` into texture `slot` (one per view), creating or resizing it as needed.
    virtual ImTextureID upload_texture(int slot, const SliceImage& image) = 0;
    virtual void open_file_picker() = 0;
    // The demo: scans with labels and the bundled model (inference, then calibration), or the
    // synthetic probability maps of the teaching set (no model needed).
    enum class Demo { scans, probabilities };
    virtual void load_demo(Demo demo) = 0;
    // Hands bytes to the user as a download named `file_name`; gzip-compressed on the way
    // when `gzip` is set (the file edge compresses, as it decompresses on load).
    virtual void download(const std::string& file_name, const std::vector<std::uint8_t>& bytes,
                          bool gzip) = 0;
};

}  // namespace cls::app
