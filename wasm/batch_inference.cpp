// The C++ half of batch inference outside the browser (scripts/infer_lib.mjs): the same
// sliding-window core as the page, compiled for Node, while onnxruntime-node runs the network.
// Flat extern "C" functions in the style of ONNX Runtime's wasm API and wasm/bridge.cpp: jobs
// are opaque integer handles; bytes and tensors pass through the heap (the caller mallocs and
// frees what it passes in; what a job hands out stays valid until its next call or its
// close); nothing here throws, so no C++ exception can reach JavaScript. Calls that can fail
// return 0 (or a null pointer) and leave a message for cls_infer_last_error().
// [X] uncompressed NIfTI in (the caller inflates .nii.gz), float32 NIfTI probability map out
// [X] model checks before a run: SHA-256 against the manifest, inputs and outputs that fit
// [X] case names by the core's pairing rule (cls_infer_case_name), so maps pair as the CLI does
// [X] the core's WebGPU rewrite of a model (cls_infer_rewrite_for_webgpu), for parity checks
// [X] the app's memory estimate of one run (cls_infer_run_memory), for benchmarks
// [X] the manifest's axis order and spacing (the core reorients and resamples, and back)
// [X] models of several input channels: a folder's files grouped into cases by the core's rule
//     (cls_infer_group_channels), one file per channel (cls_infer_open_channels)
#include <emscripten.h>

#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "cls/case_pairing.hpp"
#include "cls/inference/input_channels.hpp"
#include "cls/inference/model_manifest.hpp"
#include "cls/inference/onnx_model_info.hpp"
#include "cls/inference/onnx_rewrite.hpp"
#include "cls/inference/run_memory.hpp"
#include "cls/inference/sliding_window.hpp"
#include "cls/nifti.hpp"
#include "cls/sha256.hpp"

namespace {

using namespace cls::inference;

struct Job {
    SlidingWindowInference window;
    std::vector<std::uint8_t> result;  // the probability map as .nii bytes, once asked for
};

std::string g_last_error;
std::string g_case_name;
std::string g_case_channels;
WebGpuRewrite g_rewrite;
std::string g_rewrite_notes;
std::string g_run_memory;
std::map<int, std::unique_ptr<Job>> g_jobs;
int g_next_handle = 1;

int fail(std::string message) {
    g_last_error = std::move(message);
    return 0;
}

Job* find(int handle) {
    const auto it = g_jobs.find(handle);
    if (it == g_jobs.end()) {
        fail("no inference job " + std::to_string(handle) + " (closed, or never opened)");
        return nullptr;
    }
    return it->second.get();
}

std::span<const std::uint8_t> bytes_of(const std::uint8_t* bytes, int size) {
    return {bytes, size > 0 ? static_cast<std::size_t>(size) : 0};
}

}  // namespace

extern "C" {

EMSCRIPTEN_KEEPALIVE const char* cls_infer_last_error() { return g_last_error.c_str(); }

// The case a file belongs to, by the one pairing rule of the CLI and the app (name_file in
// cls/case_pairing.hpp): "imagesTs/case_003_0000.nii.gz" -> "case_003",
// "sub-01_ses-01_FLAIR.nii.gz" -> "sub-01_ses-01". `role` is what the caller knows the file
// is: 0 image, 1 label, 2 probability map, anything else unknown. Valid until the next call.
EMSCRIPTEN_KEEPALIVE const char* cls_infer_case_name(const char* path, int role) {
    std::optional<cls::FileRole> known;
    if (role >= 0 && role < static_cast<int>(cls::kFileRoles.size())) {
        known = cls::kFileRoles[static_cast<std::size_t>(role)];
    }
    g_case_name = cls::name_file(path == nullptr ? "" : path, known).case_name;
    return g_case_name.c_str();
}

// Whether the model in `onnx` is the one the manifest describes and can run: its SHA-256
// (when the manifest has one), then its inputs and outputs. 1 when it fits.
EMSCRIPTEN_KEEPALIVE int cls_infer_check_model(const std::uint8_t* onnx, int size,
                                               const char* manifest_json) {
    auto manifest = parse_model_manifest(manifest_json);
    if (!manifest) return fail(manifest.error().message);
    const auto bytes = bytes_of(onnx, size);
    if (!manifest->sha256.empty()) {
        const std::string actual = cls::sha256_hex(bytes);
        if (actual != manifest->sha256) {
            return fail("SHA-256 " + actual + " differs from the manifest's " + manifest->sha256 +
                        " (a different or damaged model file)");
        }
    }
    auto model = read_onnx_model_info(bytes);
    if (!model) return fail(model.error().message);
    if (cls::Status fits = check_model_fits(*manifest, *model); !fits)
        return fail(fits.error().message);
    return 1;
}

// The model rewritten for ONNX Runtime Web's WebGPU provider, by the core's one rule
// (cls/inference/onnx_rewrite.hpp). 1 when the bytes are a readable model; then
// cls_infer_rewritten_size is the rewritten model's byte count (0: nothing to rewrite),
// cls_infer_rewritten_bytes its bytes, and cls_infer_rewrite_notes the lines saying what was
// rewritten and what was kept ("rewritten: ..." or "kept: ...", one a line). Valid until the
// next rewrite.
EMSCRIPTEN_KEEPALIVE int cls_infer_rewrite_for_webgpu(const std::uint8_t* onnx, int size) {
    auto rewrite = rewrite_for_webgpu(bytes_of(onnx, size));
    if (!rewrite) return fail(rewrite.error().message);
    g_rewrite = std::move(*rewrite);
    g_rewrite_notes.clear();
    for (const std::string& line : g_rewrite.rewritten)
        g_rewrite_notes += "rewritten: " + line + "\n";
    for (const std::string& line : g_rewrite.kept) g_rewrite_notes += "kept: " + line + "\n";
    return 1;
}
EMSCRIPTEN_KEEPALIVE const std::uint8_t* cls_infer_rewritten_bytes() {
    return g_rewrite.bytes.data();
}
EMSCRIPTEN_KEEPALIVE double cls_infer_rewritten_size() {
    return static_cast<double>(g_rewrite.bytes.size());
}
EMSCRIPTEN_KEEPALIVE const char* cls_infer_rewrite_notes() { return g_rewrite_notes.c_str(); }

// What the app's memory check (cls/inference/run_memory.hpp) says of one run of the model on
// an input of [1, channels, depth, height, width], as JSON: weight_bytes,
// peak_activation_bytes, runtime_heap_bytes, budget (ONNX Runtime Web's heap), guessed (shapes
// it could not follow) and fits. Null with a message when the bytes are not a model.
EMSCRIPTEN_KEEPALIVE const char* cls_infer_run_memory(const std::uint8_t* onnx, int size,
                                                      int channels, int depth, int height,
                                                      int width) {
    auto model = read_onnx_model(bytes_of(onnx, size));
    if (!model) {
        fail(model.error().message);
        return nullptr;
    }
    const std::int64_t input[] = {1, channels, depth, height, width};
    const RunMemoryEstimate e = estimate_run_memory(memory_graph(*model), input);
    const bool fits = check_run_memory(e, kOrtWebHeapBytes, "the model", input).ok();
    g_run_memory = "{\"weight_bytes\": " + std::to_string(e.weight_bytes) +
                   ", \"peak_activation_bytes\": " + std::to_string(e.peak_activation_bytes) +
                   ", \"runtime_heap_bytes\": " + std::to_string(runtime_heap_bytes(e)) +
                   ", \"budget\": " + std::to_string(kOrtWebHeapBytes) +
                   ", \"guessed\": " + std::to_string(e.guessed) +
                   ", \"fits\": " + (fits ? "true" : "false") + "}";
    return g_run_memory.c_str();
}

// Opens a job on an uncompressed .nii: normalises and plans the patches. A handle > 0, or 0.
EMSCRIPTEN_KEEPALIVE int cls_infer_open_channels(const std::uint8_t* const* buffers,
                                                 const int* sizes, int count,
                                                 const char* manifest_json, double overlap,
                                                 int mirror) {
    auto manifest = parse_model_manifest(manifest_json);
    if (!manifest) return fail("manifest: " + manifest.error().message);
    std::vector<cls::Volume> volumes;
    for (int c = 0; c < count; ++c) {
        auto image = cls::nifti::read(bytes_of(buffers[c], sizes[c]));
        if (!image) {
            return fail(count > 1 ? channel_name(*manifest, static_cast<std::size_t>(c)) + ": " +
                                        image.error().message
                                  : image.error().message);
        }
        volumes.push_back(std::move(image->volume));
    }
    std::vector<const cls::Volume*> channels;
    for (const cls::Volume& v : volumes) channels.push_back(&v);
    auto window = SlidingWindowInference::start(channels, *manifest,
                                                {.overlap = overlap, .mirror = mirror != 0});
    if (!window) return fail(window.error().message);
    const int handle = g_next_handle++;
    g_jobs.emplace(handle, std::make_unique<Job>(Job{std::move(*window), {}}));
    return handle;
}

EMSCRIPTEN_KEEPALIVE int cls_infer_open(const std::uint8_t* nifti_bytes, int size,
                                        const char* manifest_json, double overlap, int mirror) {
    return cls_infer_open_channels(&nifti_bytes, &size, 1, manifest_json, overlap, mirror);
}

// A folder's image files (a JSON list of paths) grouped into cases for the manifest's input
// channels, by the core's rule (cls/inference/input_channels.hpp): a JSON list of
// {"name": case, "files": [one path per channel]}, or null with the error. Valid until the
// next call.
EMSCRIPTEN_KEEPALIVE const char* cls_infer_group_channels(const char* paths_json,
                                                          const char* manifest_json) {
    auto manifest = parse_model_manifest(manifest_json);
    if (!manifest) {
        fail("manifest: " + manifest.error().message);
        return nullptr;
    }
    const nlohmann::json list = nlohmann::json::parse(paths_json, nullptr, false);
    std::vector<std::string> paths;
    for (const nlohmann::json& path : list.is_array() ? list : nlohmann::json::array()) {
        if (path.is_string()) paths.push_back(path.get<std::string>());
    }
    if (!list.is_array() || paths.size() != list.size()) {
        fail("the paths are not a JSON list of strings");
        return nullptr;
    }
    auto grouped = group_case_channels(paths, *manifest);
    if (!grouped) {
        fail(grouped.error().message);
        return nullptr;
    }
    nlohmann::json out = nlohmann::json::array();
    for (const CaseChannels& c : *grouped) out.push_back({{"name", c.name}, {"files", c.files}});
    g_case_channels = out.dump();
    return g_case_channels.c_str();
}

// The next network input, [1, C, D, H, W] float32 (W fastest); valid until cls_infer_accept.
EMSCRIPTEN_KEEPALIVE const float* cls_infer_input(int handle) {
    Job* job = find(handle);
    if (job == nullptr) return nullptr;
    if (job->window.finished()) {
        fail("the job has run every patch: there is no next input");
        return nullptr;
    }
    return job->window.next_input().data();
}

// One of the 5 input dimensions [1, C, D, H, W]; 0 for an unknown job or axis.
EMSCRIPTEN_KEEPALIVE int cls_infer_input_dim(int handle, int axis) {
    Job* job = find(handle);
    if (job == nullptr || axis < 0 || axis >= 5) return 0;
    return static_cast<int>(job->window.input_shape()[static_cast<std::size_t>(axis)]);
}

// Floats the network's output for one patch must hold.
EMSCRIPTEN_KEEPALIVE int cls_infer_output_length(int handle) {
    Job* job = find(handle);
    return job == nullptr ? 0 : static_cast<int>(job->window.output_size());
}

// Blends the network's raw output for the current patch. 1 when taken.
EMSCRIPTEN_KEEPALIVE int cls_infer_accept(int handle, const float* output, int length) {
    Job* job = find(handle);
    if (job == nullptr) return 0;
    if (job->window.finished()) return fail("the job has run every patch: no output is expected");
    const cls::Status accepted =
        job->window.accept_output({output, length > 0 ? static_cast<std::size_t>(length) : 0});
    return accepted ? 1 : fail(accepted.error().message);
}

EMSCRIPTEN_KEEPALIVE int cls_infer_runs_done(int handle) {
    Job* job = find(handle);
    return job == nullptr ? 0 : static_cast<int>(job->window.runs_done());
}

EMSCRIPTEN_KEEPALIVE int cls_infer_run_count(int handle) {
    Job* job = find(handle);
    return job == nullptr ? 0 : static_cast<int>(job->window.run_count());
}

// Patches blended as background without a network run (the manifest's skip_background).
EMSCRIPTEN_KEEPALIVE int cls_infer_skipped_patches(int handle) {
    Job* job = find(handle);
    return job == nullptr ? 0 : static_cast<int>(job->window.skipped_patches());
}

EMSCRIPTEN_KEEPALIVE int cls_infer_finished(int handle) {
    Job* job = find(handle);
    return job != nullptr && job->window.finished() ? 1 : 0;
}

// The blended probability map as a float32 .nii on the image's grid and affine, once every
// patch is in; its byte count is cls_infer_result_size. Null when not finished.
EMSCRIPTEN_KEEPALIVE const std::uint8_t* cls_infer_result(int handle) {
    Job* job = find(handle);
    if (job == nullptr) return nullptr;
    if (!job->window.finished()) {
        fail("the probability map is not ready: " + std::to_string(job->window.runs_done()) +
             " of " + std::to_string(job->window.run_count()) + " patches have run");
        return nullptr;
    }
    if (job->result.empty()) {
        job->result = cls::nifti::write(job->window.probability(),
                                        {.datatype = cls::nifti::DataType::float32});
    }
    return job->result.data();
}

EMSCRIPTEN_KEEPALIVE double cls_infer_result_size(int handle) {
    Job* job = find(handle);
    return job == nullptr ? 0.0 : static_cast<double>(job->result.size());
}

EMSCRIPTEN_KEEPALIVE void cls_infer_close(int handle) { g_jobs.erase(handle); }

}  // extern "C"
