// The browser's side of `cls::app::Platform`: WebGL textures for the slice buffers, and the
// file edge in JavaScript (web/cls_bridge.js): picker, demo set, downloads through Blob URLs.
#pragma once

#include <array>

#include "app.hpp"
#include "platform.hpp"

namespace cls::web {

class WebPlatform final : public app::Platform {
public:
    ImTextureID upload_texture(int slot, const app::SliceImage& image) override;
    void open_file_picker() override;
    void load_demo() override;
    void download(const std::string& file_name, const std::vector<std::uint8_t>& bytes,
                  bool gzip) override;

private:
    std::array<unsigned, 3> textures_{};
};

// The one App of the page, shared by the main loop and the bridge.
app::App& app();

}  // namespace cls::web
