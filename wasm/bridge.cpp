// The C++ half of the bridge to JavaScript (web/cls_bridge.js): flat extern "C" functions in
// the style of ONNX Runtime's wasm API, most of them one call on the app's Session. Bytes come
// through the heap (the caller mallocs and frees); strings are UTF-8; nothing here throws, so no
// C++ exception can reach JavaScript. Calls that can fail return 0 and leave a message for
// cls_last_error(). What the page polls has small getters; cls_state_json, the whole state as
// JSON, is for the tests and the console.
#include <emscripten.h>
#include <emscripten/heap.h>

#include <cmath>
#include <string>
#include <vector>

#include "cls/inference/onnx_rewrite.hpp"
#include "cls/lesion_definition.hpp"
#include "cls/nifti.hpp"
#include "cls/region_of_interest.hpp"
#include "web_platform.hpp"

namespace cls::web {
std::size_t heap_available() {
    // Only what lies above the heap's current top counts: memory freed inside may be too
    // fragmented for a volume-sized block, and a failed allocation aborts the module.
    const std::size_t top = *emscripten_get_sbrk_ptr();
    const std::size_t max = emscripten_get_heap_max();
    return top < max ? max - top : 0;
}
}  // namespace cls::web

namespace {

std::string g_last_error;
std::string g_state;                    // keeps the JSON alive until the next call
std::string g_set_aside;                // keeps cls_set_aside_segmentations' answer alive
std::vector<std::uint8_t> g_staged;     // the file being handed over (cls_file_buffer)
std::vector<float> g_network_output;    // the answer being handed over (cls_network_output_buffer)
std::vector<std::uint8_t> g_exported;   // keeps cls_probability_nifti's bytes alive
const cls::Volume* g_volume = nullptr;  // cls_select_volume's, until the next call
std::vector<std::uint8_t> g_rewritten;  // cls_rewrite_for_webgpu's, until the next call

int fail(std::string message) {
    g_last_error = std::move(message);
    return 0;
}

cls::app::Session& session() { return cls::web::app().session(); }

}  // namespace

extern "C" {

EMSCRIPTEN_KEEPALIVE const char* cls_last_error() { return g_last_error.c_str(); }

// Files arrive in two steps so their bytes are in the heap once, not twice: the page asks for a
// buffer, fills it, then hands it over for loading in the frame loop.
// Null, with a message, when the bytes would not fit in what the heap has left.
EMSCRIPTEN_KEEPALIVE std::uint8_t* cls_file_buffer(int size) {
    const auto bytes = static_cast<std::size_t>(size);
    if (cls::Status fits = session().fits_in_memory(static_cast<double>(bytes), "its bytes");
        !fits) {
        fail(fits.error().message);
        return nullptr;
    }
    g_staged.assign(bytes, 0);
    return g_staged.data();
}

// Hands the staged bytes to the session, which checks the header once and refuses a volume
// that would not fit before it is read (see Session::enqueue_file).
EMSCRIPTEN_KEEPALIVE void cls_enqueue_file(const char* path, const char* sha256) {
    session().enqueue_file(path, std::move(g_staged), sha256);
    g_staged = {};
}

EMSCRIPTEN_KEEPALIVE void cls_expect_files(int count) {
    session().expect_files(static_cast<std::size_t>(count));
}

EMSCRIPTEN_KEEPALIVE void cls_reject_file(const char* message) { session().reject_file(message); }

// What the page polls while it reads files.
EMSCRIPTEN_KEEPALIVE int cls_loading_busy() { return session().loading_busy() ? 1 : 0; }
EMSCRIPTEN_KEEPALIVE double cls_loading_cancels() {
    return static_cast<double>(session().loading().cancels);
}

// Of the paths of one drop or folder ('\n'-separated), the nnU-Net segmentations beside their
// .npz probabilities and the records of its run, which the page then does not read
// ('\n'-separated; the session notes each); the session awaits the drop's plans.json.
EMSCRIPTEN_KEEPALIVE const char* cls_set_aside_segmentations(const char* paths) {
    std::vector<std::string> list;
    for (std::string_view rest = paths; !rest.empty();) {
        const std::size_t end = rest.find('\n');
        list.emplace_back(rest.substr(0, end));
        rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
    }
    g_set_aside.clear();
    for (const std::string& path : session().set_aside_segmentations(std::move(list)))
        g_set_aside += path + "\n";
    return g_set_aside.c_str();
}

// How many bytes the whole .nii whose header starts `bytes` must hold, so the page can bound
// gzip decompression; -1 when the header is not valid (the full load will say why).
EMSCRIPTEN_KEEPALIVE double cls_declared_nifti_bytes(const std::uint8_t* bytes, int size) {
    auto header = cls::nifti::read_header({bytes, static_cast<std::size_t>(size)});
    if (!header) return fail(header.error().message) - 1.0;
    return static_cast<double>(header->file_bytes());
}

EMSCRIPTEN_KEEPALIVE int cls_set_calibration(const char* method, double epsilon, double alpha,
                                             const char* empty_masks) {
    auto parsed_method = cls::parse_method(method);
    if (!parsed_method) return fail(parsed_method.error().message);
    auto policy = cls::parse_empty_mask_policy(empty_masks);
    if (!policy) return fail(policy.error().message);
    cls::CalibrationSettings settings = session().settings();
    settings.method = *parsed_method;
    settings.epsilon = epsilon;
    settings.alpha = alpha;
    settings.empty_masks = *policy;
    if (cls::Status set = session().set_settings(settings); !set) return fail(set.error().message);
    return 1;
}

// The region of interest ("none", "nonzero" or "mask") and the level below which a case unlike
// the calibration set is flagged, as the calibration panel sets them.
EMSCRIPTEN_KEEPALIVE int cls_set_region(const char* region, double flag_below) {
    auto parsed = cls::parse_region_of_interest(region);
    if (!parsed) return fail(parsed.error().message);
    if (cls::Status set = session().set_flag_below(flag_below); !set)
        return fail(set.error().message);
    session().set_region(*parsed);
    return 1;
}

// What is lesion in multi-channel maps and multi-class labels, as the picker sets it: `channels`
// "1,2,3" with `combine` "sum" or "max", `labels` "1,2,4" or "nonzero"; an empty string leaves
// that part as it is. A file waiting for the answer is then read.
EMSCRIPTEN_KEEPALIVE int cls_set_lesion(const char* channels, const char* combine,
                                        const char* labels) {
    if (*channels) {
        auto how = cls::parse_channel_combine(combine);
        if (!how) return fail(how.error().message);
        auto chosen = cls::parse_lesion_channels(channels, *how);
        if (!chosen) return fail(chosen.error().message);
        if (cls::Status set = session().set_lesion_channels(*chosen); !set)
            return fail(set.error().message);
    }
    if (*labels) {
        auto chosen = cls::parse_lesion_labels(labels);
        if (!chosen) return fail(chosen.error().message);
        if (cls::Status set = session().set_lesion_labels(*chosen); !set)
            return fail(set.error().message);
    }
    return 1;
}
EMSCRIPTEN_KEEPALIVE void cls_skip_lesion_question() { session().skip_lesion_question(); }

EMSCRIPTEN_KEEPALIVE void cls_select_case(const char* name) { cls::web::app().select_case(name); }
// The demo's real patients: new cases whose labels only say how the masks did.
EMSCRIPTEN_KEEPALIVE void cls_set_aside_case(const char* name, int aside) {
    session().set_aside_case(name, aside != 0);
}
// 1, or 0 with cls_last_error() naming a case that is not loaded.
EMSCRIPTEN_KEEPALIVE int cls_remove_case(const char* name) {
    if (cls::Status removed = session().remove_case(name); !removed)
        return fail(removed.error().message);
    return 1;
}
EMSCRIPTEN_KEEPALIVE void cls_set_cursor(int x, int y, int z) {
    cls::web::app().set_cursor({x, y, z});
}
EMSCRIPTEN_KEEPALIVE void cls_export_mask() { cls::web::app().export_mask(); }
EMSCRIPTEN_KEEPALIVE void cls_export_certificate() { cls::web::app().export_certificate(); }

// ONNX Runtime Web's answers (web/model_runner.js).
EMSCRIPTEN_KEEPALIVE void cls_model_session_started(const char* provider, const char* note) {
    session().model_session_started(provider, note);
}
EMSCRIPTEN_KEEPALIVE void cls_model_session_failed(const char* message) {
    session().model_session_failed(message);
}
EMSCRIPTEN_KEEPALIVE void cls_model_provider_changed(const char* provider, const char* reason) {
    session().model_provider_changed(provider, reason);
}
// A network output arrives like a file: the page asks for a buffer, fills it, hands it over.
EMSCRIPTEN_KEEPALIVE float* cls_network_output_buffer(int count) {
    g_network_output.assign(static_cast<std::size_t>(count), 0.0f);
    return g_network_output.data();
}
EMSCRIPTEN_KEEPALIVE void cls_network_output_ready() {
    session().network_output(g_network_output);
    g_network_output = {};
}
EMSCRIPTEN_KEEPALIVE void cls_network_failed(const char* message) {
    session().network_failed(message);
}
// What the page stored in an earlier session (IndexedDB), handed back at start-up.
EMSCRIPTEN_KEEPALIVE void cls_restore(const char* key, const char* json) {
    session().restore(key, json);
}
EMSCRIPTEN_KEEPALIVE void cls_keep_calibration() { session().keep_calibration(); }
EMSCRIPTEN_KEEPALIVE int cls_use_kept(int index) {
    if (index < 0) return fail("no kept calibration " + std::to_string(index));
    if (cls::Status used = session().use_kept(static_cast<std::size_t>(index)); !used)
        return fail(used.error().message);
    return 1;
}

EMSCRIPTEN_KEEPALIVE void cls_cancel_inference() { session().cancel_inference(); }
EMSCRIPTEN_KEEPALIVE void cls_set_execution(int allow_webgpu) {
    cls::app::InferenceOptions options = session().inference_options();
    options.allow_webgpu = allow_webgpu != 0;
    session().set_inference_options(options);
}

// A case's probability map as the .nii the app exports; its size through
// cls_probability_nifti_size(). Null when the case has none.
EMSCRIPTEN_KEEPALIVE const std::uint8_t* cls_probability_nifti(const char* name) {
    const cls::app::LoadedCase* c = session().cases().find(std::string_view(name));
    auto file = c ? session().probability_file(c->id) : std::nullopt;
    g_exported = file ? std::move(file->bytes) : std::vector<std::uint8_t>{};
    return g_exported.empty() ? nullptr : g_exported.data();
}
EMSCRIPTEN_KEEPALIVE int cls_probability_nifti_size() {
    return static_cast<int>(g_exported.size());
}

// For the tests' window.cls.volume: a loaded case's volume of one role ("image", "label",
// "probability map") as the app holds it, for the two getters below; 0 when there is none.
EMSCRIPTEN_KEEPALIVE int cls_select_volume(const char* case_name, const char* role) {
    g_volume = nullptr;
    const cls::app::LoadedCase* loaded = session().cases().find(std::string_view(case_name));
    if (!loaded) return fail(std::string("no case '") + case_name + "'");
    for (cls::app::Role r : cls::app::kRoles) {
        if (std::string_view(cls::app::role_name(r)) == role) g_volume = loaded->volume(r);
    }
    if (!g_volume) return fail(std::string("case '") + case_name + "' has no " + role);
    return 1;
}
// dims (3), then the voxel-to-world affine's 16 entries, row by row.
EMSCRIPTEN_KEEPALIVE const double* cls_volume_geometry() {
    static double geometry[19];
    for (int i = 0; i < 3; ++i) geometry[i] = static_cast<double>(g_volume->dims()[i]);
    for (int r = 0; r < 4; ++r)
        for (int c = 0; c < 4; ++c) geometry[3 + 4 * r + c] = g_volume->affine()(r, c);
    return geometry;
}
EMSCRIPTEN_KEEPALIVE const float* cls_volume_data() { return g_volume->data(); }

// A model rewritten for WebGPU by the core (cls/inference/onnx_rewrite.hpp), for the page's
// provider check (window.cls.compareProviders); the app's own sessions get theirs through
// Platform::start_model_session. 1 when the bytes are a readable model; then
// cls_rewritten_model holds the rewrite and cls_rewritten_model_size its size (0: nothing to
// rewrite), until the next call.
EMSCRIPTEN_KEEPALIVE int cls_rewrite_for_webgpu(const std::uint8_t* bytes, int size) {
    auto rewrite = cls::inference::rewrite_for_webgpu({bytes, static_cast<std::size_t>(size)});
    if (!rewrite) return fail(rewrite.error().message);
    g_rewritten = std::move(rewrite->bytes);
    return 1;
}
EMSCRIPTEN_KEEPALIVE const std::uint8_t* cls_rewritten_model() { return g_rewritten.data(); }
EMSCRIPTEN_KEEPALIVE int cls_rewritten_model_size() { return static_cast<int>(g_rewritten.size()); }

EMSCRIPTEN_KEEPALIVE const char* cls_state_json() {
    g_state = cls::web::app().state_json();
    return g_state.c_str();
}

}  // extern "C"
