// What the app needs from the platform it runs on, and nothing more: textures for the slice
// buffers, the file edge (picker, demo set, downloads) and a network runtime (ONNX Runtime
// Web in the page). The browser implements it in wasm/ with WebGL and JavaScript; the native
// smoke test with a recorder.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "cls/inference/model_manifest.hpp"
#include "imgui.h"
#include "slice_render.hpp"

namespace cls::app {

class Platform {
public:
    virtual ~Platform() = default;
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
    // Bytes the app may still allocate (the browser: wasm32's 4 GiB less what is in use), so
    // a volume too large is refused with a message before memory runs out, never a crash.
    [[nodiscard]] virtual std::size_t memory_available() const { return SIZE_MAX; }
    // Bytes one network run may use in the runtime's own heap, apart from memory_available():
    // the page's ONNX Runtime Web has its own wasm heap (inference::kOrtWebHeapBytes). A model
    // whose estimated run needs more is refused before any session exists.
    [[nodiscard]] virtual std::uint64_t network_memory() const { return UINT64_MAX; }
    // Stores `json` under `key` in the browser (IndexedDB), to be handed back through
    // App::restore after a reload. Nothing stored ever leaves the machine.
    virtual void save(const std::string& key, const std::string& json) = 0;
    // Starts a session on the model file the page loaded, WebGPU first where `webgpu` allows,
    // else wasm. A WebGPU session runs `webgpu_model` when it is not empty (the model rewritten
    // for WebGPU; valid only during the call), wasm always the file as loaded. Answered later
    // through App::model_session_started / model_session_failed.
    virtual void start_model_session(const std::string& model_file,
                                     const inference::ModelManifest& manifest, bool webgpu,
                                     std::span<const std::uint8_t> webgpu_model) = 0;
    // Runs the network once on `input` ([1, C, D, H, W]); the input stays valid until the
    // answer, which comes later through App::network_output or App::network_failed.
    virtual void run_network(std::span<const float> input,
                             const std::array<std::int64_t, 5>& shape) = 0;
};

}  // namespace cls::app
