#include "model_slot.hpp"

namespace cls::app {

Status ModelSlot::add_model(const std::string& file_name, std::span<const std::uint8_t> bytes,
                            std::string sha256) {
    auto info = inference::read_onnx_model_info(bytes);
    if (!info) return info.error().in(file_name);
    auto graph = inference::read_onnx_model(bytes);  // read above: it cannot fail now
    if (!graph) return graph.error().in(file_name);
    memory_graph_ = inference::memory_graph(*graph);
    info_ = std::move(*info);
    file_name_ = file_name;
    sha256_ = std::move(sha256);
    webgpu_ = inference::prepare_for_webgpu(bytes, *info_);
    error_.clear();
    // A manifest for another model file stays, but no longer counts as this one's.
    const std::string base = file_name.substr(file_name.find_last_of('/') + 1);
    if (manifest_ && manifest_->model_file != base) manifest_.reset();
    if (!manifest_) {
        draft_ = inference::prefill_manifest(*info_, base);
        status_ = ModelStatus::needs_manifest;
        return Done{};
    }
    return pair_up();
}

Status ModelSlot::add_manifest(inference::ModelManifest manifest, const std::string& source) {
    manifest_ = std::move(manifest);
    manifest_source_ = source;
    if (!info_) return Done{};  // the model file follows
    return pair_up();
}

Status ModelSlot::pair_up() {
    auto failed = [&](const Error& error) {
        status_ = ModelStatus::failed;
        error_ = error.message;
        return Status(error);
    };
    if (!manifest_->sha256.empty() && manifest_->sha256 != sha256_) {
        return failed(make_error(file_name_ + ": its SHA-256 is not the one " + manifest_source_ +
                                 " records; is it the model the manifest describes?"));
    }
    if (Status fits = inference::check_model_fits(*manifest_, *info_); !fits)
        return failed(fits.error().in(file_name_ + " against " + manifest_source_));
    const std::array<std::int64_t, 5> input{1, manifest_->input_channels, manifest_->patch_size[0],
                                            manifest_->patch_size[1], manifest_->patch_size[2]};
    const auto estimate = inference::estimate_run_memory(memory_graph_, input);
    if (Status fits = inference::check_run_memory(estimate, network_memory_, file_name_, input);
        !fits)
        return failed(fits.error());
    status_ = ModelStatus::starting;
    request_session();
    return Done{};
}

void ModelSlot::request_session() {
    if (!info_ || !manifest_ || status_ == ModelStatus::failed) return;
    status_ = ModelStatus::starting;
    session_requested_ = true;
    provider_.clear();
    provider_note_.clear();
    ++generation_;
}

bool ModelSlot::take_session_request() {
    const bool requested = session_requested_;
    session_requested_ = false;
    return requested;
}

void ModelSlot::session_started(std::string provider, std::string note) {
    status_ = ModelStatus::ready;
    provider_ = std::move(provider);
    provider_note_ = std::move(note);
}

void ModelSlot::session_failed(std::string message) {
    status_ = ModelStatus::failed;
    error_ = file_name_ + ": " + message;
}

void ModelSlot::provider_changed(std::string provider, std::string reason) {
    provider_ = std::move(provider);
    provider_note_ = std::move(reason);
}

}  // namespace cls::app
