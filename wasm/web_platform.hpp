// The browser's side of `cls::app::Platform`: WebGL textures for the slice buffers, the file
// edge in JavaScript (web/cls_bridge.js): picker, demo set, downloads through Blob URLs, and
// ONNX Runtime Web (web/model_runner.js), which answers through the bridge.
#pragma once

#include <array>

#include "app.hpp"
#include "platform.hpp"

namespace cls::web {

class WebPlatform final : public app::Platform {
public:
    ImTextureID upload_texture(int slot, const app::SliceImage& image) override;
    void open_file_picker() override;
    void load_demo(Demo demo) override;
    void download(const std::string& file_name, const std::vector<std::uint8_t>& bytes,
                  bool gzip) override;
    [[nodiscard]] std::size_t memory_available() const override;
    [[nodiscard]] std::uint64_t network_memory() const override {
        return inference::kOrtWebHeapBytes;
    }
    void save(const std::string& key, const std::string& json) override;
    void start_model_session(const std::string& model_file,
                             const inference::ModelManifest& manifest, bool webgpu,
                             std::span<const std::uint8_t> webgpu_model) override;
    void run_network(std::span<const float> input,
                     const std::array<std::int64_t, 5>& shape) override;

private:
    std::array<unsigned, 3> textures_{};
};

// Bytes the heap can surely still give: its 4 GiB maximum less its current top.
std::size_t heap_available();

// The one App of the page, shared by the main loop and the bridge.
app::App& app();

}  // namespace cls::web
