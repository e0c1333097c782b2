// What a Session needs from where it runs, and nothing more: a network runtime (ONNX Runtime
// Web in the page), storage that survives a reload (IndexedDB), and how much memory is left.
// The page implements it in wasm/ (through app::Platform, which adds what only the UI needs);
// the tests with recorders.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "cls/inference/model_manifest.hpp"

namespace cls::app {

class SessionHost {
public:
    virtual ~SessionHost() = default;
    // Bytes the session may still allocate (the browser: wasm32's 4 GiB less what is in use),
    // so a volume too large is refused with a message before memory runs out, never a crash.
    [[nodiscard]] virtual std::size_t memory_available() const { return SIZE_MAX; }
    // Bytes one network run may use in the runtime's own heap, apart from memory_available():
    // the page's ONNX Runtime Web has its own wasm heap (inference::kOrtWebHeapBytes). A model
    // whose estimated run needs more is refused before any session exists.
    [[nodiscard]] virtual std::uint64_t network_memory() const { return UINT64_MAX; }
    // Stores `json` under `key`, to be handed back through Session::restore after a reload.
    // Nothing stored ever leaves the machine.
    virtual void save(const std::string& key, const std::string& json) = 0;
    // Starts a session on the model file the page loaded, WebGPU first where `webgpu` allows,
    // else wasm. A WebGPU session runs `webgpu_model` when it is not empty (the model rewritten
    // for WebGPU; valid only during the call), wasm always the file as loaded. Answered later
    // through Session::model_session_started / model_session_failed.
    virtual void start_model_session(const std::string& model_file,
                                     const inference::ModelManifest& manifest, bool webgpu,
                                     std::span<const std::uint8_t> webgpu_model) = 0;
    // Runs the network once on `input` ([1, C, D, H, W]); the input stays valid until the
    // answer, which comes later through Session::network_output or Session::network_failed.
    virtual void run_network(std::span<const float> input,
                             const std::array<std::int64_t, 5>& shape) = 0;
};

}  // namespace cls::app
