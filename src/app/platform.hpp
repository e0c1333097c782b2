// What the app needs from the platform it runs on, and nothing more: textures for the slice
// buffers, and the file edge (picker, demo set, downloads). The browser implements it in
// wasm/ with WebGL and JavaScript; the native smoke test with a recorder.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "imgui.h"
#include "slice_render.hpp"

namespace cls::app {

class Platform {
public:
    virtual ~Platform() = default;
    // Uploads `image` into texture `slot` (one per view), creating or resizing it as needed.
    virtual ImTextureID upload_texture(int slot, const SliceImage& image) = 0;
    virtual void open_file_picker() = 0;
    virtual void load_demo() = 0;
    // Hands bytes to the user as a download named `file_name`; gzip-compressed on the way
    // when `gzip` is set (the file edge compresses, as it decompresses on load).
    virtual void download(const std::string& file_name, const std::vector<std::uint8_t>& bytes,
                          bool gzip) = 0;
};

}  // namespace cls::app
