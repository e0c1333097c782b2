// The whole UI, headless: ImGui with no platform or renderer backend (the "null backend"),
// a recording Platform, real frames, real clicks on the real widgets.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <nlohmann/json.hpp>

#include "app.hpp"
#include "case_score_fixture.hpp"
#include "cls/certificate.hpp"
#include "cls/evaluation.hpp"
#include "cls/inference/onnx_rewrite.hpp"
#include "cls/nifti.hpp"
#include "cls/sha256.hpp"
#include "cls/synth.hpp"
#include "onnx_test_model.hpp"

namespace cls::app {
namespace {

class RecordingPlatform final : public Platform {
public:
    ImTextureID upload_texture(int slot, const SliceImage& image) override {
        ++uploads;
        last_width = image.width;
        return reinterpret_cast<ImTextureID>(static_cast<std::intptr_t>(slot + 2));
    }
    void open_file_picker() override { ++pickers; }
    void load_demo(Demo demo) override { demo == Demo::scans ? ++demos : ++probability_demos; }
    void download(const std::string& name, const std::vector<std::uint8_t>& bytes,
                  bool gzip) override {
        downloads.push_back({name, bytes, gzip});
    }
    void save(const std::string& key, const std::string& json) override { saved[key] = json; }
    std::size_t memory_available() const override { return memory; }
    std::size_t memory = SIZE_MAX;
    std::uint64_t network_memory() const override { return network; }
    std::uint64_t network = UINT64_MAX;
    void start_model_session(const std::string& file, const inference::ModelManifest&, bool webgpu,
                             std::span<const std::uint8_t> webgpu_model) override {
        sessions.push_back({file, webgpu});
        webgpu_models.emplace_back(webgpu_model.begin(), webgpu_model.end());
    }
    void run_network(std::span<const float> input,
                     const std::array<std::int64_t, 5>& shape) override {
        network_input.assign(input.begin(), input.end());
        network_shape = shape;
        ++network_runs;
    }
    std::map<std::string, std::string> saved;
    std::vector<std::pair<std::string, bool>> sessions;
    std::vector<std::vector<std::uint8_t>> webgpu_models;  // per session: the rewrite, or none
    std::vector<float> network_input;                      // the latest run's
    std::array<std::int64_t, 5> network_shape{};
    int network_runs = 0;
    struct Download {
        std::string name;
        std::vector<std::uint8_t> bytes;
        bool gzip;
    };
    int uploads = 0, pickers = 0, demos = 0, probability_demos = 0, last_width = 0;
    std::vector<Download> downloads;
};

class AppSmoke : public ::testing::Test {
protected:
    void SetUp() override {
        ImGui::CreateContext();
        ImGuiIO& io = ImGui::GetIO();
        io.IniFilename = nullptr;
        io.DisplaySize = {1400, 900};
        io.DeltaTime = 1.0f / 60.0f;
        unsigned char* pixels = nullptr;
        int width = 0, height = 0;
        io.Fonts->GetTexDataAsRGBA32(&pixels, &width, &height);
        io.Fonts->SetTexID(reinterpret_cast<ImTextureID>(1));
        // Every queued file loads in the next frame, however slow the machine (CI under ASan
        // once loaded two of three files in two frames with the default 12 ms).
        app.set_frame_budget(std::chrono::hours(1));
    }
    void TearDown() override { ImGui::DestroyContext(); }

    void frames(int count) {
        for (int i = 0; i < count; ++i) {
            ImGui::NewFrame();
            app.frame();
            ImGui::Render();
        }
    }
    nlohmann::json state() { return nlohmann::json::parse(app.state_json()); }
    void click(float x, float y) {
        ImGuiIO& io = ImGui::GetIO();
        io.MousePos = {x, y};
        frames(1);
        io.MouseDown[0] = true;
        frames(1);
        io.MouseDown[0] = false;
        frames(2);
    }
    void click_rect(const nlohmann::json& rect) {
        click(rect[0].get<float>() + rect[2].get<float>() / 2,
              rect[1].get<float>() + rect[3].get<float>() / 2);
    }
    // A case's probability map and label, queued.
    void enqueue_labelled(const SynthCase& c) {
        app.session().enqueue_file("probs/" + c.name + ".nii", nifti::write(c.probability, {}),
                                   "p");
        app.session().enqueue_file("labels/" + c.name + ".nii",
                                   nifti::write(c.label, {.datatype = nifti::DataType::uint8}),
                                   "l");
    }
    // Frames until nothing waits to be loaded.
    void finish_loading() {
        while (state()["loading"]["pending"].get<int>() > 0) frames(1);
    }
    void load_synthetic(int cases) {
        for (int i = 0; i < cases; ++i) enqueue_labelled(synth_case({.size = 16, .seed = 5}, i));
        finish_loading();
        frames(2);
    }

    RecordingPlatform platform;
    App app{platform};
};

TEST_F(AppSmoke, CalibratesLoadedCasesAndDrawsTheViews) {
    frames(2);
    load_synthetic(12);
    const auto s = state();
    EXPECT_EQ(s["cases"].size(), 12u);
    EXPECT_EQ(s["n"], 12);
    EXPECT_EQ(s["k"], 1);  // floor(13 * 0.1)
    EXPECT_TRUE(s["tau"].is_number());
    EXPECT_GT(platform.uploads, 0);
    EXPECT_EQ(platform.last_width, 16);
    EXPECT_TRUE(s["errors"].empty());
}

TEST_F(AppSmoke, CalibratesOnScoresAndShowsSetAsideCasesAgainstTheirLabels) {
    frames(2);
    for (int i = 0; i < 11; ++i) {
        const SynthCase c = synth_case({.size = 16, .seed = 5}, i);
        if (i < 10) {
            app.session().enqueue_file(
                "scores/" + c.name + ".score",
                cls::testing::score_bytes(c, RegionOfInterest::nonzero), "s");
            continue;
        }
        app.session().set_aside_case(c.name, true);
        app.session().enqueue_file("images/" + c.name + ".nii", nifti::write(c.image, {}), "i");
        enqueue_labelled(c);
    }
    finish_loading();
    frames(3);  // the calibration panel's set-aside table and the case list with it
    auto s = state();
    EXPECT_EQ(s["n"], 10);
    EXPECT_TRUE(s["tau"].is_number());
    EXPECT_TRUE(s["cases"][10]["against_label"]["at_threshold"].is_object());
    // The first case with something to show is selected, not a score.
    EXPECT_EQ(app.session().cases().find(app.session().selected())->name, "case_010");
    // A case given as its score has no volume to show; the views draw without one.
    ASSERT_TRUE(app.session().select_case("case_003"));
    frames(3);
    EXPECT_TRUE(state()["errors"].empty());
}

TEST_F(AppSmoke, ButtonsAndViewsRespondToClicks) {
    frames(2);
    load_synthetic(3);
    const auto s = state();
    click_rect(s["ui_rects"]["load_demo"]);
    EXPECT_EQ(platform.demos, 1);
    click_rect(s["ui_rects"]["load_probability_demo"]);
    EXPECT_EQ(platform.probability_demos, 1);
    click_rect(s["ui_rects"]["open_files"]);
    EXPECT_EQ(platform.pickers, 1);
    // A click near the axial view's top-left corner moves the crosshair there.
    const auto view = s["view_rects"][0];
    const auto before = state()["cursor"];
    click(view[0].get<float>() + 2, view[1].get<float>() + 2);
    const auto after = state()["cursor"];
    EXPECT_NE(before, after);
    EXPECT_EQ(after[2], before[2]);  // same axial slice

    // "Remove" takes the selected case only.
    const std::string shown = app.session().cases().find(app.session().selected())->name;
    click_rect(state()["ui_rects"]["remove_case"]);
    EXPECT_EQ(app.session().cases().cases().size(), 2u);
    EXPECT_EQ(app.session().cases().find(shown), nullptr);
    EXPECT_EQ(state()["cases"].size(), 2u);
}

TEST_F(AppSmoke, BadFilesAreReportedAndNothingIsLost) {
    frames(2);
    load_synthetic(10);
    const double tau = state()["tau"];
    std::vector<std::uint8_t> truncated =
        nifti::write(synth_case({.size = 16, .seed = 5}, 20).probability, {});
    truncated.resize(truncated.size() / 2);
    app.session().enqueue_file("probs/broken.nii", truncated, "");
    app.session().enqueue_file("probs/junk.nii", {1, 2, 3}, "");
    frames(3);
    const auto s = state();
    ASSERT_EQ(s["errors"].size(), 2u);
    EXPECT_NE(s["errors"][0].get<std::string>().find("probs/broken.nii: truncated"),
              std::string::npos);
    EXPECT_NE(s["errors"][1].get<std::string>().find("probs/junk.nii"), std::string::npos);
    EXPECT_EQ(s["cases"].size(), 10u);
    EXPECT_EQ(s["tau"].get<double>(), tau);
}

TEST_F(AppSmoke, LoadingShowsProgressOverAnnouncedFilesAndCancels) {
    frames(2);
    app.session().expect_files(6);
    const SynthCase c = synth_case({.size = 16, .seed = 5}, 0);
    app.session().enqueue_file("probs/a.nii", nifti::write(c.probability, {}), "");
    app.session().reject_file("probs/b.nii.gz: gzip stream is corrupt");
    frames(2);
    auto loading = state()["loading"];
    EXPECT_EQ(loading["total"], 6);
    EXPECT_EQ(loading["done"], 2);  // one loaded, one rejected at the file edge
    app.session().enqueue_file("probs/c.nii", nifti::write(c.probability, {}), "");
    app.session().cancel_loading();
    frames(2);
    loading = state()["loading"];
    EXPECT_EQ(loading["pending"], 0);
    EXPECT_EQ(loading["cancels"], 1);
    EXPECT_EQ(loading["done"], loading["total"]);  // the bar is gone
    EXPECT_EQ(state()["cases"].size(), 1u);        // what was loaded stays
}

TEST_F(AppSmoke, ValidateTabRunsTheCliEvaluationAsAJob) {
    frames(2);
    load_synthetic(20);
    click_rect(state()["ui_rects"]["validate_tab"]);
    ASSERT_TRUE(state()["ui_rects"].contains("run_validation")) << state()["ui_rects"].dump();
    click_rect(state()["ui_rects"]["run_validation"]);
    ASSERT_TRUE(state()["validation"]["running"].get<bool>());
    int frame_count = 0;
    while (state()["validation"]["running"].get<bool>() && frame_count < 2000) {
        frames(1);
        ++frame_count;
    }
    const auto validation = state()["validation"];
    ASSERT_FALSE(validation["running"].get<bool>()) << validation.dump();
    EXPECT_EQ(validation["calibration_cases"], 10);
    EXPECT_EQ(validation["scatter_cases"], 10);
    // Every alpha with k >= 1 on 10 calibration cases (alpha >= 0.1), as `cls evaluate` computes.
    ASSERT_EQ(validation["coverage"]["cls"].size(), 9u);
    std::vector<EvaluationCase> cases;
    for (int i = 0; i < 20; ++i) {
        const SynthCase c = synth_case({.size = 16, .seed = 5}, i);
        cases.push_back(*collect_evaluation_case(c.name, c.probability, c.label));
    }
    const auto set = EvaluationSet::create(std::move(cases), EmptyMaskPolicy::satisfied);
    EvaluationSettings settings;  // the tab's: 200 splits, half calibrate, seed 1
    settings.methods = {EvaluationMethod::cls};
    settings.epsilon = 0.1;
    settings.alpha = 0.3;
    settings.splits = 200;
    const auto report = evaluate(*set, settings);
    ASSERT_TRUE(report);
    EXPECT_EQ(validation["coverage"]["cls"][2][1].get<double>(),
              summarize(report->methods[0].splits, &SplitMetrics::coverage).mean);

    click_rect(state()["ui_rects"]["learn_tab"]);  // draws the teaching view without trouble
    frames(2);
    EXPECT_EQ(state()["tab"], "learn");
}

TEST_F(AppSmoke, ExportsTheCertificateAndMaskAndImportsCertificates) {
    frames(2);
    load_synthetic(10);
    const double tau = state()["tau"];
    app.export_certificate();
    app.export_mask();
    ASSERT_EQ(platform.downloads.size(), 2u);
    const auto& certificate_file = platform.downloads[0];
    EXPECT_EQ(certificate_file.name, "calibration_certificate.json");
    auto certificate = parse_certificate(
        std::string(certificate_file.bytes.begin(), certificate_file.bytes.end()));
    ASSERT_TRUE(certificate) << certificate.error().message;
    EXPECT_EQ(certificate->calibration.threshold, tau);
    EXPECT_EQ(certificate->inputs[0].probabilities_sha256, "p");
    const auto& mask_file = platform.downloads[1];
    EXPECT_TRUE(mask_file.gzip);
    auto mask = nifti::read(mask_file.bytes);
    ASSERT_TRUE(mask) << mask.error().message;
    EXPECT_EQ(mask->header.datatype, nifti::DataType::uint8);

    // A certificate made elsewhere (e.g. by the CLI) overrides the live calibration.
    certificate->calibration.threshold = 0.75;
    const std::string json = to_json(*certificate);
    app.session().enqueue_file("cert.json", {json.begin(), json.end()}, "");
    frames(2);
    EXPECT_EQ(state()["tau"].get<double>(), 0.75);
    EXPECT_EQ(state()["imported_certificate"], "cert.json");
    // Made from these very files (the same hashes): the app says so.
    EXPECT_EQ(state()["imported_certificate_calibration_cases"], 10);
}

// A manifest for tests/onnx_test_model.hpp's model: 8^3 patches, z-score, sigmoid.
std::string tiny_manifest(const std::string& sha256) {
    return R"({"format": "cls-model/1", "name": "tiny", "model_file": "tiny.onnx",
      "sha256": ")" +
           sha256 + R"(", "input": {"name": "image", "channels": 1},
      "output": {"name": "logits", "channels": 1, "activation": "sigmoid"},
      "patch_size": [8, 8, 8], "spacing_mm": [1, 1, 1],
      "normalisation": {"scheme": "zscore", "region": "all"}})";
}

TEST_F(AppSmoke, RunsTheModelPatchByPatchAndBlendsItsAnswers) {
    frames(2);
    const SynthCase c = synth_case({.size = 12, .seed = 3}, 0);
    app.session().enqueue_file("images/a.nii", nifti::write(c.image, {}), "i");
    app.session().enqueue_file("labels/a.nii",
                               nifti::write(c.label, {.datatype = nifti::DataType::uint8}), "l");
    const auto model = cls::testing::tiny_onnx_model("image", "logits", 8);
    const std::string manifest = tiny_manifest(sha256_hex(model));
    app.session().enqueue_file("models/tiny.json", {manifest.begin(), manifest.end()}, "m");
    app.session().enqueue_file("models/tiny.onnx", model, sha256_hex(model));
    frames(2);
    ASSERT_EQ(platform.sessions.size(), 1u);
    EXPECT_EQ(platform.sessions[0], (std::pair<std::string, bool>{"models/tiny.onnx", true}));
    EXPECT_EQ(state()["model"]["status"], "starting a session...");
    EXPECT_EQ(platform.network_runs, 0);

    app.session().model_session_started("wasm (1 thread)", "");
    frames(1);
    // 12^3 in 8^3 patches at overlap 0.5: 2 per axis. Answer each as the network would:
    // logits = the normalised input, so the map must be sigmoid(z-score(image)).
    for (int run = 1; run <= 8; ++run) {
        ASSERT_EQ(platform.network_runs, run);
        EXPECT_EQ(platform.network_shape, (std::array<std::int64_t, 5>{1, 1, 8, 8, 8}));
        EXPECT_EQ(state()["model"]["runs_done"], run - 1);
        app.session().network_output(platform.network_input);
        frames(1);
    }
    auto s = state();
    EXPECT_EQ(s["model"]["running"], false);
    EXPECT_EQ(s["model"]["provider"], "wasm (1 thread)");
    EXPECT_TRUE(s["errors"].empty()) << s["errors"];
    EXPECT_EQ(s["cases"][0]["files"]["probability map"], "model/a_prob.nii");
    EXPECT_TRUE(s["cases"][0]["labelled"]);

    const auto map_file = app.session().probability_file(app.session().cases().find("a")->id);
    ASSERT_TRUE(map_file);
    auto map = nifti::read(map_file->bytes);
    ASSERT_TRUE(map.ok());
    double mean = 0, sq = 0;
    for (float v : c.image.values()) mean += v;
    mean /= static_cast<double>(c.image.voxel_count());
    for (float v : c.image.values()) sq += (v - mean) * (v - mean);
    const double sd = std::sqrt(sq / static_cast<double>(c.image.voxel_count()));
    for (std::size_t i = 0; i < c.image.voxel_count(); ++i) {
        const double expected = 1.0 / (1.0 + std::exp(-(c.image.values()[i] - mean) / sd));
        ASSERT_NEAR(map->volume.values()[i], expected, 1e-5) << "voxel " << i;
    }
    // Nothing more to run: no case is left without a probability map.
    frames(3);
    EXPECT_EQ(platform.network_runs, 8);
}

// image -> ConvTranspose (one channel, kernel `kernel`, stride 2, `pads`) -> logits; the
// spatial sizes are left open, as torch exports them.
std::vector<std::uint8_t> upsampling_model(std::int64_t kernel, std::int64_t pad) {
    using namespace cls::testing;
    const std::int64_t count = kernel * kernel * kernel;
    return onnx_model({node("ConvTranspose", {"image", "w"}, {"logits"},
                            {attribute_ints("kernel_shape", {kernel, kernel, kernel}),
                             attribute_ints("strides", {2, 2, 2}),
                             attribute_ints("pads", std::vector<std::int64_t>(6, pad))},
                            "up")},
                      {float_tensor("w", {1, 1, kernel, kernel, kernel},
                                    std::vector<float>(static_cast<std::size_t>(count), 0.5f))},
                      {tensor_value("image", {1, 1, -1, -1, -1})},
                      {tensor_value("logits", {1, 1, -1, -1, -1})});
}

TEST_F(AppSmoke, NnUnetUpsamplingRunsOnWebGpuThroughTheCoresRewriteAndSaysSo) {
    frames(2);
    const std::string manifest = tiny_manifest("");
    app.session().enqueue_file("models/tiny.json", {manifest.begin(), manifest.end()}, "m");
    const auto model = upsampling_model(2, 0);  // kernel = stride: nnU-Net's
    app.session().enqueue_file("models/tiny.onnx", model, "x");
    frames(2);
    ASSERT_EQ(platform.sessions.size(), 1u);
    EXPECT_EQ(platform.sessions[0], (std::pair<std::string, bool>{"models/tiny.onnx", true}));
    auto rewrite = inference::rewrite_for_webgpu(model);
    ASSERT_TRUE(rewrite.ok() && rewrite->changed());
    EXPECT_EQ(platform.webgpu_models[0], rewrite->bytes);
    auto s = state();
    EXPECT_TRUE(s["model"]["webgpu_blocked_by"].empty());
    ASSERT_EQ(s["model"]["webgpu_rewrites"].size(), 1u);
    EXPECT_NE(s["model"]["webgpu_rewrites"][0].get<std::string>().find("ConvTranspose 'up'"),
              std::string::npos);
    EXPECT_TRUE(s["ui_rects"].contains("model_webgpu_rewrite")) << "the model panel says so";

    // MONAI's up-sampling (kernel 3, padding 1) has no such rewrite: wasm, and the reason.
    const auto monai = upsampling_model(3, 1);
    app.session().enqueue_file("models/tiny.onnx", monai, "y");
    frames(2);
    ASSERT_EQ(platform.sessions.size(), 2u);
    EXPECT_EQ(platform.sessions[1], (std::pair<std::string, bool>{"models/tiny.onnx", false}));
    EXPECT_TRUE(platform.webgpu_models[1].empty());
    s = state();
    EXPECT_EQ(s["model"]["webgpu_blocked_by"].size(), 1u);
    EXPECT_TRUE(s["model"]["webgpu_rewrites"].empty());

    // Told to use wasm only, the page gets no rewrite: wasm runs the file as loaded.
    cls::app::InferenceOptions wasm_only = app.session().inference_options();
    wasm_only.allow_webgpu = false;
    app.session().set_inference_options(wasm_only);
    app.session().enqueue_file("models/tiny.onnx", model, "z");
    frames(2);
    ASSERT_EQ(platform.sessions.size(), 3u);
    EXPECT_EQ(platform.sessions[2], (std::pair<std::string, bool>{"models/tiny.onnx", false}));
    EXPECT_TRUE(platform.webgpu_models[2].empty());
    EXPECT_EQ(state()["model"]["webgpu_rewrites"].size(), 1u) << "the panel still says so";
}

TEST_F(AppSmoke, AModelWhoseRunWouldNotFitIsRefusedBeforeAnySession) {
    // Kernel = stride 2 from 8^3 patches of one channel: input 2 KiB, output 16 KiB, no
    // intermediate tensor; weights 32 bytes. A runtime heap of 4 KiB cannot hold the run.
    platform.network = 4096;
    App small(platform);
    small.set_frame_budget(std::chrono::hours(1));
    const auto small_frames = [&](int count) {
        for (int i = 0; i < count; ++i) {
            ImGui::NewFrame();
            small.frame();
            ImGui::Render();
        }
    };
    small_frames(1);
    const std::string manifest = tiny_manifest("");
    small.session().enqueue_file("models/tiny.json", {manifest.begin(), manifest.end()}, "m");
    small.session().enqueue_file("models/tiny.onnx", upsampling_model(2, 0), "x");
    small_frames(2);
    EXPECT_TRUE(platform.sessions.empty()) << "no session, so nothing allocated for the run";
    const auto s = nlohmann::json::parse(small.state_json());
    EXPECT_EQ(s["model"]["status"], "failed");
    // Activations at the peak: input 2 KiB, output 16 KiB and ConvTranspose's column buffer
    // (1 channel x 8 kernel taps x 512 input voxels x 4 bytes) 16 KiB; the heap needs
    // (3 x 32 + 34816) x 5/4 = 43640 bytes.
    EXPECT_EQ(s["model"]["error"],
              "models/tiny.onnx: a run on a 8x8x8 patch needs about 43 KiB (weights 32 bytes, "
              "activations 34 KiB at their peak, at 'up'), more than the 4 KiB ONNX Runtime Web "
              "can hold in a tab; use a smaller patch_size in the manifest, or run "
              "scripts/infer.mjs outside the browser");
    ASSERT_EQ(s["errors"].size(), 1u);
}

TEST_F(AppSmoke, CancellingInferenceDiscardsTheAnswerInFlight) {
    frames(2);
    const SynthCase c = synth_case({.size = 12, .seed = 3}, 0);
    app.session().enqueue_file("images/a.nii", nifti::write(c.image, {}), "i");
    const auto model = cls::testing::tiny_onnx_model("image", "logits", 8);
    const std::string manifest = tiny_manifest("");
    app.session().enqueue_file("tiny.json", {manifest.begin(), manifest.end()}, "m");
    app.session().enqueue_file("tiny.onnx", model, "x");
    frames(2);
    app.session().model_session_started("wasm", "");
    frames(1);
    ASSERT_EQ(platform.network_runs, 1);
    EXPECT_TRUE(state()["model"]["running"]);
    click_rect(state()["ui_rects"]["cancel_inference"]);
    EXPECT_FALSE(state()["model"]["running"]);
    app.session().network_output(platform.network_input);  // arrives after the cancel
    frames(3);
    auto s = state();
    EXPECT_TRUE(s["errors"].empty()) << s["errors"];
    EXPECT_FALSE(s["cases"][0]["files"].contains("probability map"));
    EXPECT_EQ(platform.network_runs, 1);  // not restarted by itself: it was cancelled
}

TEST_F(AppSmoke, AModelThatDoesNotFitItsManifestIsRefusedWithTheReason) {
    frames(2);
    const auto model = cls::testing::tiny_onnx_model("image", "logits", 16);
    const std::string manifest = tiny_manifest(sha256_hex(model));
    app.session().enqueue_file("tiny.json", {manifest.begin(), manifest.end()}, "m");
    app.session().enqueue_file("tiny.onnx", model, sha256_hex(model));
    frames(2);
    auto s = state();
    EXPECT_EQ(s["model"]["status"], "failed");
    ASSERT_EQ(s["errors"].size(), 1u);
    EXPECT_EQ(s["errors"][0],
              "tiny.onnx against tiny.json: tensor 'image' has shape [1, 1, 16, 16, 16] but the "
              "manifest expects [1, 1, 8, 8, 8]");
    EXPECT_TRUE(platform.sessions.empty());

    // Another file under the manifest's name: its hash gives it away.
    const auto other = cls::testing::tiny_onnx_model("image", "logits", 8);
    app.session().enqueue_file("tiny.onnx", other, sha256_hex(other));
    frames(2);
    s = state();
    ASSERT_EQ(s["errors"].size(), 2u);
    EXPECT_NE(
        s["errors"][1].get<std::string>().find("its SHA-256 is not the one tiny.json records"),
        std::string::npos);
}

// A model of two input channels (FLAIR, T1): a case's two images, named as nnU-Net names them
// (_0000, _0001; or BIDS suffixes, which the app's pairing knows too), are placed in the
// manifest's order whatever order they come in; the case waits for both, and
// the network gets [1, 2, D, H, W] with each channel z-scored on its own. Answering with
// channel 0 minus channel 1 as the logit gives sigmoid(z(FLAIR) - z(T1)) at every voxel.
TEST_F(AppSmoke, RunsAModelOfTwoInputChannelsOnACasesTwoModalities) {
    frames(2);
    const auto model =
        cls::testing::relu_model("image", {1, 2, 8, 8, 8}, "logits", {1, 1, 8, 8, 8});
    std::string manifest = tiny_manifest(sha256_hex(model));
    const std::string one = R"("channels": 1},)";
    manifest.replace(manifest.find(one), one.size(),
                     R"("channels": 2, "modalities": ["FLAIR", "T1"]},)");
    app.session().enqueue_file("brats.json", {manifest.begin(), manifest.end()}, "m");
    app.session().enqueue_file("tiny.onnx", model, sha256_hex(model));
    frames(2);
    app.session().model_session_started("wasm (1 thread)", "");
    const SynthCase flair = synth_case({.size = 8, .seed = 3}, 0);
    const SynthCase t1 = synth_case({.size = 8, .seed = 4}, 0);
    app.session().enqueue_file("a_0001.nii", nifti::write(t1.image, {}), "t1");
    frames(2);
    EXPECT_EQ(platform.network_runs, 0);  // the case waits for its FLAIR
    app.session().enqueue_file("a_0000.nii", nifti::write(flair.image, {}), "flair");
    frames(2);
    ASSERT_EQ(platform.network_runs, 1);
    EXPECT_EQ(platform.network_shape, (std::array<std::int64_t, 5>{1, 2, 8, 8, 8}));
    auto s = state();
    EXPECT_EQ(s["cases"][0]["files"]["image"], "a_0001.nii");
    EXPECT_EQ(s["cases"][0]["more_images"], nlohmann::json::array({"a_0000.nii"}));
    const std::size_t voxels = 8 * 8 * 8;
    std::vector<float> logits(voxels);
    for (std::size_t i = 0; i < voxels; ++i)
        logits[i] = platform.network_input[i] - platform.network_input[voxels + i];
    app.session().network_output(logits);
    frames(2);
    s = state();
    EXPECT_TRUE(s["errors"].empty()) << s["errors"];
    const auto map_file = app.session().probability_file(app.session().cases().find("a")->id);
    ASSERT_TRUE(map_file);
    auto map = nifti::read(map_file->bytes);
    ASSERT_TRUE(map.ok());
    auto zscored = [](const Volume& v) {
        double mean = 0, sq = 0;
        for (float x : v.values()) mean += x;
        mean /= static_cast<double>(v.voxel_count());
        for (float x : v.values()) sq += (x - mean) * (x - mean);
        const double sd = std::sqrt(sq / static_cast<double>(v.voxel_count()));
        std::vector<double> z;
        for (float x : v.values()) z.push_back((x - mean) / sd);
        return z;
    };
    const std::vector<double> zf = zscored(flair.image), zt = zscored(t1.image);
    for (std::size_t i = 0; i < voxels; ++i)
        ASSERT_NEAR(map->volume.values()[i], 1.0 / (1.0 + std::exp(-(zf[i] - zt[i]))), 1e-5);

    // A second T1 for the case is still refused, and a case without its T1 says so when run.
    app.session().enqueue_file("again/a_0001.nii", nifti::write(t1.image, {}), "t1 again");
    app.session().enqueue_file("b_0000.nii", nifti::write(flair.image, {}), "b");
    frames(2);
    app.session().run_model_now();
    frames(2);
    s = state();
    ASSERT_EQ(s["errors"].size(), 2u) << s["errors"];
    EXPECT_EQ(s["errors"][0],
              "again/a_0001.nii: case 'a' already has a image (a_0001.nii); remove it first or "
              "rename one");
    EXPECT_EQ(s["errors"][1], "case b has no channel 1 (T1) image yet");
}

// A single-channel model and a case that brought two nnU-Net channels: the second cannot feed
// the model, and the user hears it, rather than the model running on whichever came first.
TEST_F(AppSmoke, ASingleChannelModelRefusesACaseOfSeveralChannelsByName) {
    frames(2);
    const auto model = cls::testing::tiny_onnx_model("image", "logits", 8);
    const std::string manifest = tiny_manifest(sha256_hex(model));
    app.session().enqueue_file("tiny.json", {manifest.begin(), manifest.end()}, "m");
    app.session().enqueue_file("tiny.onnx", model, sha256_hex(model));
    frames(2);
    app.session().model_session_started("wasm (1 thread)", "");
    const SynthCase c = synth_case({.size = 8, .seed = 3}, 0);
    app.session().enqueue_file("c_0000.nii", nifti::write(c.image, {}), "0");
    app.session().enqueue_file("c_0001.nii", nifti::write(c.image, {}), "1");
    frames(3);
    const auto s = state();
    EXPECT_EQ(platform.network_runs, 0);
    ASSERT_EQ(s["errors"].size(), 1u) << s["errors"];
    EXPECT_EQ(s["errors"][0], "c_0001.nii: channel 1 (_0001) but the model takes 1 input channels");
}

TEST_F(AppSmoke, AModelWithoutManifestGetsAPrefilledForm) {
    frames(2);
    const auto model = cls::testing::tiny_onnx_model("t1", "seg", 16);
    app.session().enqueue_file("mine.onnx", model, sha256_hex(model));
    frames(2);
    EXPECT_EQ(state()["model"]["status"], "needs a manifest");
    EXPECT_TRUE(platform.sessions.empty());
}

TEST_F(AppSmoke, SettingsAndKeptCalibrationsSurviveAReload) {
    frames(2);
    load_synthetic(10);
    ASSERT_TRUE(app.session().set_settings({.method = Method::cls, .epsilon = 0.3, .alpha = 0.2}));
    frames(1);
    ASSERT_TRUE(platform.saved.contains("settings"));
    EXPECT_EQ(nlohmann::json::parse(platform.saved["settings"])["epsilon"], 0.3);
    const double tau = state()["tau"];
    app.session().keep_calibration();
    ASSERT_TRUE(platform.saved.contains("kept_calibrations"));

    // A new page: nothing loaded, only what the browser stored.
    App reloaded{platform};
    for (const auto& [key, json] : platform.saved) reloaded.session().restore(key, json);
    ImGui::NewFrame();
    reloaded.frame();
    ImGui::Render();
    auto s = nlohmann::json::parse(reloaded.state_json());
    EXPECT_EQ(s["settings"]["epsilon"], 0.3);
    EXPECT_EQ(s["settings"]["alpha"], 0.2);
    ASSERT_EQ(s["kept_calibrations"].size(), 1u);
    EXPECT_TRUE(s["tau"].is_null());
    ASSERT_TRUE(reloaded.session().use_kept(0));
    s = nlohmann::json::parse(reloaded.state_json());
    EXPECT_EQ(s["tau"].get<double>(), tau);

    // Stored garbage is ignored, not trusted.
    reloaded.session().restore("settings", R"({"epsilon": 7, "alpha": "x"})");
    reloaded.session().restore("kept_calibrations", "[{\"certificate\": \"{}\"}]");
    s = nlohmann::json::parse(reloaded.state_json());
    EXPECT_EQ(s["settings"]["epsilon"], 0.3);
    EXPECT_TRUE(s["kept_calibrations"].empty());
}

TEST_F(AppSmoke, AVolumeTooLargeForTheMemoryLeftIsRefusedBeforeItIsRead) {
    frames(2);
    load_synthetic(10);
    const double tau = state()["tau"];
    platform.memory = 50'000'000;  // less than any volume plus the app's headroom
    app.session().enqueue_file("images/big.nii",
                               nifti::write(synth_case({.size = 16, .seed = 5}, 0).image, {}), "b");
    frames(2);
    auto s = state();
    ASSERT_EQ(s["errors"].size(), 1u);
    EXPECT_EQ(s["errors"][0],
              "images/big.nii: its voxels need 67 MB but only 50 MB are left in this tab "
              "(WebAssembly has 4 GB in all); remove cases, or use the cls command line, which "
              "has no such limit");
    EXPECT_EQ(s["cases"].size(), 10u);
    EXPECT_EQ(s["tau"].get<double>(), tau);
}

// A two-channel softmax map (x, y, z, 2), as MONAI-style pipelines save one: channel 0 the
// background, channel 1 the lesion.
std::vector<std::uint8_t> softmax_nifti(const Volume& lesion_probability) {
    std::vector<std::uint8_t> bytes = nifti::write(lesion_probability, {});
    const std::int16_t rank = 4, channels = 2;
    std::memcpy(bytes.data() + 40, &rank, 2);              // dim[0]
    std::memcpy(bytes.data() + 40 + 2 * 4, &channels, 2);  // dim[4]
    const std::size_t data_bytes = 4 * lesion_probability.voxel_count();
    const std::size_t offset = bytes.size() - data_bytes;
    const std::vector<std::uint8_t> lesion(bytes.begin() + static_cast<std::ptrdiff_t>(offset),
                                           bytes.end());
    std::vector<float> background(lesion_probability.values());
    for (float& p : background) p = 1.0f - p;
    std::memcpy(bytes.data() + offset, background.data(), data_bytes);
    bytes.insert(bytes.end(), lesion.begin(), lesion.end());
    return bytes;
}

TEST_F(AppSmoke, AsksWhichChannelsAndClassesAreLesionAndRecordsTheAnswer) {
    frames(2);
    // The same cases as 3D maps with binary labels, for the expected threshold.
    load_synthetic(12);
    const double expected_tau = state()["tau"].get<double>();
    app.session().clear_cases();
    frames(2);

    for (int i = 0; i < 12; ++i) {
        const SynthCase c = synth_case({.size = 16, .seed = 5}, i);
        app.session().enqueue_file("probs/" + c.name + ".nii", softmax_nifti(c.probability), "p");
        // Lesion voxels alternate between classes 1 and 4; cases with lesions have some 3s
        // (not lesion) beside them.
        Volume brats = c.label;
        const bool has_lesion = std::any_of(brats.values().begin(), brats.values().end(),
                                            [](float v) { return v != 0.0f; });
        for (std::size_t v = 0; v < brats.voxel_count(); ++v) {
            const bool three = has_lesion && v % 7 == 0;
            brats.data()[v] = brats.data()[v] != 0 ? (v % 2 ? 1.0f : 4.0f) : (three ? 3.0f : 0.0f);
        }
        app.session().enqueue_file("labels/" + c.name + ".nii", nifti::write(brats, {}), "l");
    }
    frames(3);
    auto s = state();
    ASSERT_TRUE(s["lesion"]["question"].is_object()) << s["lesion"].dump();
    EXPECT_EQ(s["lesion"]["question"]["kind"], "channels");
    EXPECT_EQ(s["lesion"]["question"]["channel_count"], 2);
    EXPECT_EQ(s["cases"].size(), 0u);  // loading waits for the answer
    // The picker starts with every channel but 0 ticked: "Use" is the softmax answer.
    click_rect(state()["ui_rects"]["lesion_use"]);
    frames(2);
    s = state();
    ASSERT_TRUE(s["lesion"]["question"].is_object()) << s.dump();
    EXPECT_EQ(s["lesion"]["channels"], nlohmann::json::array({1}));
    EXPECT_EQ(s["lesion"]["question"]["kind"], "labels");
    EXPECT_EQ(s["lesion"]["question"]["label_values"], nlohmann::json::array({1, 3, 4}));
    // Answered as the page would; only 1 and 4 are lesion.
    ASSERT_TRUE(app.session().set_lesion_labels({LesionLabels::Kind::classes, {1, 4}}));
    finish_loading();
    frames(2);
    s = state();
    EXPECT_TRUE(s["errors"].empty()) << s["errors"].dump();
    EXPECT_EQ(s["cases"].size(), 12u);
    EXPECT_EQ(s["n"], 12);
    EXPECT_EQ(s["tau"].get<double>(), expected_tau);
    EXPECT_EQ(s["lesion"]["labels"], "1,4");

    app.export_certificate();
    ASSERT_FALSE(platform.downloads.empty());
    const auto& bytes = platform.downloads.back().bytes;
    auto certificate = parse_certificate(std::string(bytes.begin(), bytes.end()));
    ASSERT_TRUE(certificate);
    EXPECT_EQ(certificate->lesion.channels, (LesionChannels{{1}, ChannelCombine::sum}));
    EXPECT_EQ(certificate->lesion.labels, (LesionLabels{LesionLabels::Kind::classes, {1, 4}}));

    // Changing the choice forgets the cases read by it.
    app.session().forget_lesion_choice();
    frames(1);
    EXPECT_EQ(state()["cases"].size(), 0u);
    EXPECT_TRUE(state()["lesion"]["channels"].is_null());
}

TEST_F(AppSmoke, ASkippedLesionQuestionDropsOnlyThatFile) {
    frames(2);
    const SynthCase c = synth_case({.size = 16, .seed = 5}, 0);
    app.session().enqueue_file("probs/" + c.name + ".nii", softmax_nifti(c.probability), "p");
    app.session().enqueue_file("labels/" + c.name + ".nii",
                               nifti::write(c.label, {.datatype = nifti::DataType::uint8}), "l");
    frames(3);
    ASSERT_TRUE(state()["lesion"]["question"].is_object());
    app.session().skip_lesion_question();
    finish_loading();
    frames(2);
    const auto s = state();
    EXPECT_TRUE(s["lesion"]["question"].is_null());
    EXPECT_EQ(s["cases"].size(), 1u);  // the label
    ASSERT_EQ(s["errors"].size(), 1u);
    EXPECT_EQ(s["errors"][0],
              "probs/" + c.name + ".nii: not loaded (no answer to which of it is lesion)");
}

}  // namespace
}  // namespace cls::app
