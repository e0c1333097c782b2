// The app's model: an .onnx file and its manifest, arriving in either order (or the manifest
// prefilled from the model's input shape and confirmed by the user), checked against each
// other (tensor names and shapes, the manifest's SHA-256) and audited for WebGPU before the
// page starts an ONNX Runtime session on it; a model the audit would keep off WebGPU gets the
// core's rewrite for WebGPU sessions when that makes it pass (cls/inference/onnx_rewrite.hpp).
// Before any session, a run's memory is estimated from the graph at the manifest's patch size
// (cls/inference/run_memory.hpp) and a model too big for the runtime is refused with the numbers.
// It also holds which execution provider runs and why, as the page reports it. The page keeps the
// model's bytes; C++ keeps what it read.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cls/enum_names.hpp"
#include "cls/inference/model_manifest.hpp"
#include "cls/inference/onnx_model_info.hpp"
#include "cls/inference/onnx_rewrite.hpp"
#include "cls/inference/run_memory.hpp"
#include "cls/result.hpp"

namespace cls::app {

enum class ModelStatus {
    none,            // no model yet
    needs_manifest,  // a model without a manifest: the form is prefilled, waiting for the user
    starting,        // the page is creating a session
    ready,           // patches can run
    failed,          // see error()
};
// What the model panel says.
inline constexpr EnumTable<ModelStatus, 5> kModelStatusNames{
    {{ModelStatus::none, "no model loaded"},
     {ModelStatus::needs_manifest, "needs a manifest"},
     {ModelStatus::starting, "starting a session..."},
     {ModelStatus::ready, "ready"},
     {ModelStatus::failed, "failed"}}};
[[nodiscard]] inline std::string_view to_string(ModelStatus status) {
    return name_of(kModelStatusNames, status);
}

class ModelSlot {
public:
    // A model file arrived. Replaces any model there was; keeps a manifest that names it.
    Status add_model(const std::string& file_name, std::span<const std::uint8_t> bytes,
                     std::string sha256);
    // A manifest arrived (from a file, or the prefilled form confirmed).
    Status add_manifest(inference::ModelManifest manifest, const std::string& source);

    // True once, when model and manifest fit and the page should start a session.
    [[nodiscard]] bool take_session_request();
    // What one network run may need in the runtime's own heap (Platform::network_memory).
    void set_network_memory(std::uint64_t bytes) { network_memory_ = bytes; }
    // Asks for a new session on the same model and manifest (another provider preference).
    void request_session();
    void session_started(std::string provider, std::string note);
    void session_failed(std::string message);
    // The page moved to another provider (a WebGPU run failed): say which and why.
    void provider_changed(std::string provider, std::string reason);

    [[nodiscard]] ModelStatus status() const { return status_; }
    [[nodiscard]] bool ready() const { return status_ == ModelStatus::ready; }
    [[nodiscard]] const std::string& file_name() const { return file_name_; }
    [[nodiscard]] const std::optional<inference::ModelManifest>& manifest() const {
        return manifest_;
    }
    // The prefilled manifest the form edits (needs_manifest only).
    [[nodiscard]] inference::ModelManifest& draft() { return draft_; }
    [[nodiscard]] const std::optional<inference::OnnxModelInfo>& info() const { return info_; }
    [[nodiscard]] const inference::WebGpuAudit& audit() const { return webgpu_.audit; }
    // The model a WebGPU session runs: the rewrite, or empty for the file as loaded.
    [[nodiscard]] std::span<const std::uint8_t> webgpu_model() const { return webgpu_.bytes; }
    // What the rewrite for WebGPU did, one line per node; empty when there was none.
    [[nodiscard]] const std::vector<std::string>& webgpu_rewrites() const {
        return webgpu_.rewritten;
    }
    [[nodiscard]] const std::string& provider() const { return provider_; }
    [[nodiscard]] const std::string& provider_note() const { return provider_note_; }
    [[nodiscard]] const std::string& error() const { return error_; }
    // Changes whenever a new session is asked for: results of an older model are stale.
    [[nodiscard]] std::uint64_t generation() const { return generation_; }

private:
    // Moves on once both halves are here: checks them and asks for a session, or fails.
    Status pair_up();

    ModelStatus status_ = ModelStatus::none;
    std::string file_name_;
    std::string sha256_;
    std::optional<inference::OnnxModelInfo> info_;
    std::optional<inference::ModelManifest> manifest_;
    std::string manifest_source_;
    inference::ModelManifest draft_;
    inference::WebGpuModel webgpu_;
    inference::MemoryGraph memory_graph_;
    std::uint64_t network_memory_ = UINT64_MAX;
    bool session_requested_ = false;
    std::string provider_;
    std::string provider_note_;
    std::string error_;
    std::uint64_t generation_ = 0;
};

}  // namespace cls::app
