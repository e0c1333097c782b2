// The Session alone, without ImGui: loading with its questions, nnU-Net maps waiting for their
// grid, inference with clear and cancel, stable case handles, persistence and exports.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <nlohmann/json.hpp>

#include "case_score_fixture.hpp"
#include "cls/certificate.hpp"
#include "cls/evaluation_case.hpp"
#include "cls/metrics.hpp"
#include "cls/nifti.hpp"
#include "cls/region_of_interest.hpp"
#include "cls/synth.hpp"
#include "onnx_test_model.hpp"
#include "session.hpp"
#include "session_state.hpp"

namespace cls::app {
namespace {

class RecordingHost final : public SessionHost {
public:
    std::size_t memory_available() const override { return memory; }
    void save(const std::string& key, const std::string& json) override { saved[key] = json; }
    void start_model_session(const std::string& file, const inference::ModelManifest&, bool,
                             std::span<const std::uint8_t>) override {
        sessions.push_back(file);
    }
    void run_network(std::span<const float> input, const std::array<std::int64_t, 5>&) override {
        last_input.assign(input.begin(), input.end());
        ++runs;
    }
    std::size_t memory = SIZE_MAX;
    std::map<std::string, std::string> saved;
    std::vector<std::string> sessions;
    std::vector<float> last_input;
    int runs = 0;
};

constexpr auto kUnlimited = std::chrono::hours(1);

std::vector<std::uint8_t> bytes_of(const std::string& text) { return {text.begin(), text.end()}; }

// A manifest for tests/onnx_test_model.hpp's model: 8^3 patches, z-score, sigmoid.
std::string tiny_manifest() {
    return R"({"format": "cls-model/1", "name": "tiny", "model_file": "tiny.onnx", "sha256": "",
      "input": {"name": "image", "channels": 1},
      "output": {"name": "logits", "channels": 1, "activation": "sigmoid"},
      "patch_size": [8, 8, 8], "spacing_mm": [1, 1, 1],
      "normalisation": {"scheme": "zscore", "region": "all"}})";
}

// A .npy of float32 values with `shape`, as numpy writes version 1.0 (the parser itself is
// pinned against numpy-written files in test_npy.cpp).
std::vector<std::uint8_t> npy_bytes(const std::vector<std::int64_t>& shape,
                                    const std::vector<float>& values) {
    std::string dims;
    for (std::int64_t d : shape) dims += std::to_string(d) + ", ";
    std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + dims + "), }";
    while ((10 + header.size() + 1) % 64 != 0) header += ' ';
    header += '\n';
    std::vector<std::uint8_t> out = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0};
    out.push_back(static_cast<std::uint8_t>(header.size() & 0xff));
    out.push_back(static_cast<std::uint8_t>(header.size() >> 8));
    out.insert(out.end(), header.begin(), header.end());
    const auto* data = reinterpret_cast<const std::uint8_t*>(values.data());
    out.insert(out.end(), data, data + values.size() * sizeof(float));
    return out;
}

class SessionTest : public ::testing::Test {
protected:
    void settle() {
        for (int i = 0; i < 5; ++i) session.step(kUnlimited);
    }
    nlohmann::json state() { return session_state(session); }
    void load_model() {
        const std::string manifest = tiny_manifest();
        session.enqueue_file("tiny.json", bytes_of(manifest), "m");
        session.enqueue_file("tiny.onnx", cls::testing::tiny_onnx_model("image", "logits", 8), "x");
        settle();
        ASSERT_EQ(host.sessions.size(), 1u);
        session.model_session_started("wasm", "");
    }

    RecordingHost host;
    Session session{host};
};

TEST_F(SessionTest, ClearDuringInferenceCancelsItAndDropsTheAnswerInFlight) {
    const SynthCase c = synth_case({.size = 12, .seed = 3}, 0);
    session.enqueue_file("images/a.nii", nifti::write(c.image, {}), "i");
    load_model();
    session.step(kUnlimited);
    ASSERT_EQ(host.runs, 1);
    ASSERT_TRUE(session.inference().busy());
    session.clear_cases();
    EXPECT_FALSE(session.inference().busy());
    session.network_output(host.last_input);  // arrives after the clear
    settle();
    // The answer re-created nothing: no case holding only a probability map.
    EXPECT_TRUE(session.cases().cases().empty());
    EXPECT_EQ(host.runs, 1);
    EXPECT_TRUE(session.errors().empty()) << state()["errors"];

    // The same name loaded again is another case, run afresh.
    session.enqueue_file("images/a.nii", nifti::write(c.image, {}), "i");
    settle();
    EXPECT_EQ(host.runs, 2);
}

TEST_F(SessionTest, RemovingACaseTakesItsWaitingFilesAndItsRunAndKeepsTheRest) {
    // Calibration goes on without a removed case: as a session that never had it.
    std::vector<SynthCase> cases;
    for (int i = 0; i < 5; ++i) cases.push_back(synth_case({.size = 10, .seed = 4}, i));
    RecordingHost without_host;
    Session without{without_host};
    for (const SynthCase& c : cases) {
        for (Session* s : {&session, &without}) {
            if (s == &without && c.name == "case_002") continue;
            s->enqueue_file("probs/" + c.name + ".nii", nifti::write(c.probability, {}), "p");
            s->enqueue_file("labels/" + c.name + ".nii",
                            nifti::write(c.label, {.datatype = nifti::DataType::uint8}), "l");
        }
    }
    settle();
    for (int i = 0; i < 5; ++i) without.step(kUnlimited);
    for (Session* s : {&session, &without})  // k = 2 of n = 4
        ASSERT_TRUE(s->set_settings({.method = Method::cls, .epsilon = 0.25, .alpha = 0.4}));
    ASSERT_TRUE(session.select_case("case_002"));
    ASSERT_TRUE(session.remove_case("case_002"));
    EXPECT_EQ(session.cases().find("case_002"), nullptr);
    EXPECT_EQ(session.selected(), 0u);
    ASSERT_TRUE(session.calibration() && without.calibration());
    EXPECT_EQ(session.calibration()->n, 4u);
    EXPECT_EQ(session.calibration()->k, 2u);
    EXPECT_EQ(session.threshold(), without.threshold());

    // A file of the case still waiting to load goes with it, and does not make it again.
    session.enqueue_file("labels/case_003.nii", nifti::write(cases[3].label, {}), "l2");
    ASSERT_TRUE(session.remove_case("case_003"));
    settle();
    EXPECT_EQ(session.cases().find("case_003"), nullptr);
    EXPECT_EQ(session.cases().cases().size(), 3u);
    EXPECT_FALSE(session.loading().done < session.loading().total);

    const auto missing = session.remove_case("case_003");
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().message, "no case 'case_003' is loaded");
    EXPECT_TRUE(session.errors().empty()) << state()["errors"];
}

TEST_F(SessionTest, RemovingTheCaseTheModelRunsOnDropsItsAnswerAndRunsTheNext) {
    const SynthCase a = synth_case({.size = 12, .seed = 3}, 0);
    const SynthCase b = synth_case({.size = 12, .seed = 3}, 1);
    session.enqueue_file("images/a.nii", nifti::write(a.image, {}), "i");
    session.enqueue_file("images/b.nii", nifti::write(b.image, {}), "i");
    load_model();
    session.step(kUnlimited);
    ASSERT_EQ(host.runs, 1);
    ASSERT_EQ(session.inference().current_case(), "a");
    ASSERT_TRUE(session.remove_case("a"));
    session.network_output(host.last_input);  // a's answer, after the removal
    EXPECT_EQ(session.cases().find("a"), nullptr) << "the answer made nothing again";
    EXPECT_EQ(session.inference().current_case(), "b");
    while (session.inference().busy()) session.network_output(host.last_input);
    ASSERT_NE(session.cases().find("b"), nullptr);
    EXPECT_NE(session.cases().find("b")->volume(Role::probability), nullptr);
    EXPECT_EQ(session.cases().cases().size(), 1u);
    EXPECT_TRUE(session.errors().empty()) << state()["errors"];
}

TEST_F(SessionTest, CaseHandlesStayValidWhileCasesArriveAndDieWithClear) {
    const SynthCase first = synth_case({.size = 8, .seed = 1}, 0);
    session.enqueue_file("probs/m.nii", nifti::write(first.probability, {}), "p");
    settle();
    const CaseId shown = session.selected();
    ASSERT_NE(shown, 0u);
    const LoadedCase* before = session.cases().find(shown);
    ASSERT_NE(before, nullptr);
    // Enough cases, before and after "m" in name order, to reallocate the store many times.
    for (int i = 0; i < 64; ++i) {
        const SynthCase c = synth_case({.size = 8, .seed = 2}, i);
        const std::string name = (i % 2 ? "a" : "z") + std::to_string(i);
        session.enqueue_file("probs/" + name + ".nii", nifti::write(c.probability, {}), "p");
    }
    settle();
    ASSERT_EQ(session.cases().cases().size(), 65u);
    EXPECT_EQ(session.selected(), shown);
    const LoadedCase* after = session.cases().find(shown);
    ASSERT_NE(after, nullptr);
    EXPECT_EQ(after->name, "m");
    EXPECT_EQ(after->volume(Role::probability)->values(), first.probability.values());

    session.clear_cases();
    EXPECT_EQ(session.cases().find(shown), nullptr);
    session.enqueue_file("probs/m.nii", nifti::write(first.probability, {}), "p");
    settle();
    EXPECT_NE(session.cases().find("m")->id, shown);  // another case, another id
}

TEST_F(SessionTest, AQuestionHoldsLoadingUntilAnswered) {
    Volume label({4, 4, 4}, Affine::Identity());
    label.values()[3] = 2;
    label.values()[9] = 4;
    session.expect_files(2);
    session.enqueue_file("labels/a.nii", nifti::write(label, {}), "l");
    session.enqueue_file("labels/b.nii", nifti::write(label, {}), "l");
    settle();
    ASSERT_TRUE(session.lesion().question());
    EXPECT_EQ(session.loading().done, 0u);
    EXPECT_TRUE(session.loading_busy());
    ASSERT_TRUE(session.set_lesion_labels({LesionLabels::Kind::classes, {2, 4}}));
    settle();
    EXPECT_EQ(session.cases().cases().size(), 2u);
    EXPECT_EQ(session.loading().done, 2u);
    EXPECT_FALSE(session.loading_busy());
}

TEST_F(SessionTest, AnNnUnetMapTakesTheGridOfItsCasesImageInEitherOrder) {
    const SynthCase c = synth_case({.size = 6, .seed = 4}, 0);
    const Dims& d = c.probability.dims();
    // (C, z, y, x): class 1 is the map, class 0 its complement.
    std::vector<float> classes;
    for (float p : c.probability.values()) classes.push_back(1 - p);
    for (float p : c.probability.values()) classes.push_back(p);
    const auto npy = npy_bytes({2, d[2], d[1], d[0]}, classes);
    ASSERT_TRUE(session.set_lesion_channels({{1}, ChannelCombine::sum}));

    session.expect_files(2);
    session.enqueue_file("out/a.npz", npy, "npz-a");  // before its image
    session.step(kUnlimited);
    EXPECT_TRUE(session.cases().cases().empty());
    session.enqueue_file("imagesTr/a_0000.nii", nifti::write(c.image, {}), "img-a");
    settle();
    const LoadedCase* a = session.cases().find("a");
    ASSERT_NE(a, nullptr);
    ASSERT_NE(a->volume(Role::probability), nullptr) << state()["errors"];
    EXPECT_EQ(a->volume(Role::probability)->values(), c.probability.values());
    EXPECT_TRUE(same_grid(*a->volume(Role::probability), c.image));
    EXPECT_EQ(a->sha256[static_cast<int>(Role::probability)], "npz-a");

    // One whose case never brings a grid is refused once nothing more can come.
    session.enqueue_file("out/b.npz", npy, "npz-b");
    settle();
    ASSERT_EQ(session.errors().size(), 1u);
    EXPECT_EQ(session.errors()[0],
              "out/b.npz: nnU-Net's probabilities hold no grid or affine, and no image or label "
              "of case 'b' was loaded to lend it one; load the case's image or label with it");
    EXPECT_FALSE(session.loading_busy());
}

TEST_F(SessionTest, SegmentationsBesideNpzFilesAreSetAsideWithANote) {
    const auto aside = session.set_aside_segmentations(
        {"pred/a.nii.gz", "pred/a.npz", "pred/b.nii.gz", "imagesTr/a_0000.nii.gz"});
    EXPECT_EQ(aside, std::vector<std::string>{"pred/a.nii.gz"});
    ASSERT_EQ(session.notes().size(), 1u);
    EXPECT_EQ(session.notes()[0],
              "pred/a.nii.gz: set aside, nnU-Net's segmentation beside its .npz probabilities, "
              "which are read instead");
}

TEST_F(SessionTest, AnNpzWaitsForThePlansOfItsFolderAndLiesOnTheGridTheyName) {
    // An LAS-like image (i towards -R): NibabelIOWithReorient saves the array with i reversed.
    const SynthCase c = synth_case({.size = 6, .seed = 4}, 0);
    const Dims& d = c.probability.dims();
    Affine las = Affine::Identity();
    las(0, 0) = -1.0;
    Volume image(d, las);
    image.values() = c.image.values();
    std::vector<float> classes;  // (C, z, y, x') with x' = the RAS axis: i reversed
    for (int cls_index = 0; cls_index < 2; ++cls_index)
        for (std::int64_t k = 0; k < d[2]; ++k)
            for (std::int64_t j = 0; j < d[1]; ++j)
                for (std::int64_t x = 0; x < d[0]; ++x) {
                    const float p = c.probability.at(d[0] - 1 - x, j, k);
                    classes.push_back(cls_index == 0 ? 1 - p : p);
                }
    ASSERT_TRUE(session.set_lesion_channels({{1}, ChannelCombine::sum}));
    const std::vector<std::string> drop = {"pred/a.npz",
                                           "pred/a.pkl",
                                           "pred/dataset.json",
                                           "pred/plans.json",
                                           "pred/predict_from_raw_data_args.json",
                                           "imagesTr/a_0000.nii"};
    const auto aside = session.set_aside_segmentations(drop);
    EXPECT_EQ(aside, (std::vector<std::string>{"pred/a.pkl", "pred/dataset.json",
                                               "pred/predict_from_raw_data_args.json"}));
    EXPECT_EQ(session.notes().front(),
              "pred/a.pkl: set aside, nnU-Net's record of its "
              "prediction (not read)");
    session.expect_files(3);
    session.enqueue_file("imagesTr/a_0000.nii", nifti::write(image, {}), "img-a");
    session.enqueue_file("pred/a.npz", npy_bytes({2, d[2], d[1], d[0]}, classes), "npz-a");
    session.step(kUnlimited);
    const LoadedCase* a = session.cases().find("a");
    ASSERT_NE(a, nullptr);
    EXPECT_EQ(a->volume(Role::probability), nullptr) << "read before its plans";
    session.enqueue_file("pred/plans.json",
                         bytes_of(R"({"image_reader_writer": "NibabelIOWithReorient"})"), "plans");
    settle();
    a = session.cases().find("a");
    ASSERT_NE(a->volume(Role::probability), nullptr) << state()["errors"];
    EXPECT_EQ(a->volume(Role::probability)->values(), c.probability.values());
    EXPECT_TRUE(session.errors().empty()) << state()["errors"];
}

TEST_F(SessionTest, AnNpzWhosePlansCannotBeReadIsRefused) {
    const SynthCase c = synth_case({.size = 4, .seed = 5}, 0);
    const Dims& d = c.probability.dims();
    ASSERT_TRUE(session.set_lesion_channels({{0}, ChannelCombine::sum}));
    (void)session.set_aside_segmentations({"pred/a.npz", "pred/plans.json", "pred/b.npz"});
    session.expect_files(4);
    session.enqueue_file("imagesTr/a_0000.nii", nifti::write(c.image, {}), "img-a");
    session.enqueue_file("pred/a.npz", npy_bytes({1, d[2], d[1], d[0]}, c.probability.values()),
                         "npz-a");
    session.enqueue_file("pred/plans.json", bytes_of("[]"), "plans");
    session.reject_file("pred/b.npz: could not be read");  // only to end the drop
    settle();
    EXPECT_EQ(session.cases().find("a")->volume(Role::probability), nullptr);
    ASSERT_EQ(session.errors().size(), 3u) << state()["errors"];
    EXPECT_EQ(session.errors()[1],
              "pred/plans.json: is not nnU-Net's plans.json: not a JSON object");
    EXPECT_EQ(session.errors()[2],
              "pred/a.npz: not read: the plans.json beside it (pred/plans.json) is not nnU-Net's "
              "plans, and they say which grid the array lies on");
}

TEST_F(SessionTest, AVolumeTooLargeForTheMemoryLeftIsRefusedWhenHandedOver) {
    host.memory = 80u << 20;
    Volume big({256, 256, 128}, Affine::Identity());  // 32 MB of float32 voxels
    session.expect_files(1);
    session.enqueue_file("images/big.nii", nifti::write(big, {}), "b");
    ASSERT_EQ(session.errors().size(), 1u);
    EXPECT_EQ(session.errors()[0],
              "images/big.nii: its voxels need 101 MB but only 84 MB are left in this tab "
              "(WebAssembly has 4 GB in all); remove cases, or use the cls command line, which "
              "has no such limit");
    EXPECT_EQ(session.loading().done, 1u);
    EXPECT_EQ(session.loading().total, 1u);
    EXPECT_EQ(session.loading().pending, 0u);
}

TEST_F(SessionTest, SettingsArePersistedOnChangeAndOlderKeysRestore) {
    session.step(kUnlimited);
    ASSERT_TRUE(host.saved.contains("settings"));
    CalibrationSettings settings = session.settings();
    settings.epsilon = 0.25;
    ASSERT_TRUE(session.set_settings(settings));
    session.step(kUnlimited);
    const auto saved = nlohmann::json::parse(host.saved["settings"]);
    EXPECT_EQ(saved["epsilon"], 0.25);
    EXPECT_EQ(saved["empty_mask_policy"], "satisfied");  // the certificate's key

    RecordingHost other_host;
    Session restored(other_host);
    // As an earlier version stored them: the policy under "empty_masks".
    restored.restore("settings", R"({"epsilon": 0.3, "alpha": 0.2, "empty_masks": "exclude",
                                    "method": "crc", "overlap": 0.25})");
    EXPECT_EQ(restored.settings().epsilon, 0.3);
    EXPECT_EQ(restored.settings().method, Method::crc);
    EXPECT_EQ(restored.settings().empty_masks, EmptyMaskPolicy::exclude);
    EXPECT_EQ(restored.inference_options().window.overlap, 0.25);
    restored.step(kUnlimited);
    EXPECT_FALSE(other_host.saved.contains("settings"));  // nothing changed since
    EXPECT_FALSE(session.set_settings({.epsilon = 1.5}));
}

TEST_F(SessionTest, ExportsMatchWhatTheCliWouldWrite) {
    for (int i = 0; i < 12; ++i) {
        const SynthCase c = synth_case({.size = 10, .seed = 6}, i);
        session.enqueue_file("probs/" + c.name + ".nii", nifti::write(c.probability, {}),
                             "p" + c.name);
        session.enqueue_file("labels/" + c.name + ".nii",
                             nifti::write(c.label, {.datatype = nifti::DataType::uint8}),
                             "l" + c.name);
    }
    settle();
    const auto certificate = session.certificate_file();
    ASSERT_TRUE(certificate);
    auto parsed =
        parse_certificate(std::string(certificate->bytes.begin(), certificate->bytes.end()));
    ASSERT_TRUE(parsed) << parsed.error().message;
    EXPECT_EQ(parsed->calibration.threshold, session.threshold());
    EXPECT_EQ(parsed->inputs[0].probabilities_sha256, "pcase_000");
    const auto mask = session.mask_file(session.selected());
    ASSERT_TRUE(mask);
    EXPECT_TRUE(mask->gzip);
    auto image = nifti::read(mask->bytes);
    ASSERT_TRUE(image);
    const Volume& p = *session.cases().find(session.selected())->volume(Role::probability);
    for (std::size_t i = 0; i < p.voxel_count(); ++i)
        ASSERT_EQ(image->volume.values()[i], p.values()[i] >= session.threshold() ? 1.0f : 0.0f);
}

// A brain mask for a synthetic case: the brighter half of its head.
Volume brain_mask(const Volume& image) {
    std::vector<float> head;
    for (float v : image.values())
        if (v != 0.0f) head.push_back(v);
    std::nth_element(head.begin(), head.begin() + static_cast<std::ptrdiff_t>(head.size() / 2),
                     head.end());
    const float median = head[head.size() / 2];
    Volume mask(image.dims(), image.affine());
    for (std::size_t i = 0; i < mask.voxel_count(); ++i)
        mask.data()[i] = image.data()[i] > median ? 1.0f : 0.0f;
    return mask;
}

TEST_F(SessionTest, TheRegionRestrictsEveryMapAndUnlikeCasesAreFlagged) {
    constexpr int kCalibration = 20;  // p = 1/21 <= 0.05 can flag a case
    std::vector<LesionScores> expected_scores;
    for (int i = 0; i < kCalibration + 2; ++i) {
        SynthCase c = synth_case({.size = 10, .seed = 6}, i);
        if (i == kCalibration + 1) {  // another resolution: 2 mm voxels
            Affine coarse = c.image.affine();
            coarse.topLeftCorner<3, 3>() *= 2.0;
            for (Volume* v : {&c.image, &c.probability, &c.label}) {
                Volume moved(v->dims(), coarse);
                moved.values() = v->values();
                *v = std::move(moved);
            }
        }
        const Volume mask = brain_mask(c.image);
        session.enqueue_file("images/" + c.name + ".nii", nifti::write(c.image, {}), "i");
        session.enqueue_file("probs/" + c.name + ".nii", nifti::write(c.probability, {}), "p");
        session.enqueue_file("brainmasks/" + c.name + ".nii", nifti::write(mask, {}), "m");
        if (i < kCalibration) {
            session.enqueue_file("labels/" + c.name + ".nii",
                                 nifti::write(c.label, {.datatype = nifti::DataType::uint8}),
                                 "l" + c.name);
            // What the CLI's rule makes of the same case.
            Volume restricted = c.probability;
            ASSERT_TRUE(restrict_to_region(restricted, mask, "its region"));
            expected_scores.push_back(
                *collect_lesion_scores(c.name, restricted.values(), c.label.values()));
        }
    }
    settle();
    ASSERT_EQ(session.cases().cases().size(), kCalibration + 2u);
    EXPECT_EQ(session.cases().find("case_000")->volume(Role::mask) != nullptr, true);

    session.set_region(RegionOfInterest::mask);
    const Result<Calibration>& live = session.calibration();
    ASSERT_TRUE(live) << live.error().message;
    auto expected = calibrate(expected_scores, session.settings());
    ASSERT_TRUE(expected);
    EXPECT_EQ(live->threshold, expected->threshold);
    const std::optional<Certificate> certificate = session.certificate();
    ASSERT_TRUE(certificate);
    EXPECT_EQ(certificate->region, RegionOfInterest::mask);
    ASSERT_EQ(certificate->profiles.size(), static_cast<std::size_t>(kCalibration));
    EXPECT_TRUE(certificate->profiles[0].intensity_percentiles);

    // The new cases' masks mark nothing outside their region.
    const LoadedCase* fresh = session.cases().find("case_020");
    const auto mask_file = session.mask_file(fresh->id);
    ASSERT_TRUE(mask_file);
    const auto written = nifti::read(mask_file->bytes);
    const Volume& region = *fresh->volume(Role::mask);
    for (std::size_t i = 0; i < region.voxel_count(); ++i) {
        if (region.data()[i] == 0.0f) {
            ASSERT_EQ(written->volume.data()[i], 0.0f) << i;
        }
    }

    // Calibration cases are not checked; the new case at another resolution is flagged.
    EXPECT_FALSE(session.exchangeability(session.cases().find("case_003")->id));
    const LoadedCase* coarse = session.cases().find("case_021");
    const auto check = session.exchangeability(coarse->id);
    ASSERT_TRUE(check);
    EXPECT_EQ(check->p_value, 1.0 / 21.0);
    EXPECT_TRUE(session.unlike_calibration(coarse->id));
    nlohmann::json cases = state()["cases"];
    EXPECT_EQ(cases[21]["exchangeability"]["flagged"], true);
    EXPECT_EQ(cases[3]["exchangeability"], nullptr);
    EXPECT_EQ(state()["settings"]["region_of_interest"], "mask");
    ASSERT_TRUE(session.set_flag_below(0.01));
    EXPECT_FALSE(session.unlike_calibration(coarse->id));
    EXPECT_FALSE(session.set_flag_below(1.0));

    // The image's non-zero voxels as the region: every case has an image, so nothing is left out.
    session.set_region(RegionOfInterest::nonzero);
    EXPECT_EQ(session.cases().calibrating_count(), static_cast<std::size_t>(kCalibration));
    EXPECT_EQ(session.cases().region_missing_count(), 0u);
    session.step(kUnlimited);
    EXPECT_EQ(nlohmann::json::parse(host.saved["settings"])["region_of_interest"], "nonzero");
}

TEST_F(SessionTest, ACaseWithoutItsRegionsFileIsLeftOutOfCalibrationAndSaysWhy) {
    const SynthCase c = synth_case({.size = 8, .seed = 2}, 0);
    session.enqueue_file("probs/a.nii", nifti::write(c.probability, {}), "p");
    session.enqueue_file("labels/a.nii",
                         nifti::write(c.label, {.datatype = nifti::DataType::uint8}), "l");
    settle();
    ASSERT_EQ(session.cases().calibrating_count(), 1u);
    session.set_region(RegionOfInterest::mask);
    EXPECT_EQ(session.cases().calibrating_count(), 0u);
    EXPECT_EQ(session.cases().region_missing_count(), 1u);
    EXPECT_EQ(state()["cases"][0]["region_problem"],
              "no region mask for the region of interest (mask)");
}

using cls::testing::hash_of;
using cls::testing::score_bytes;

TEST_F(SessionTest, ScoresCalibrateAsTheirVolumesWouldAndSetAsideCasesAreNewCases) {
    constexpr int kCases = 12;  // 0-9 calibrate; 10 and 11 are set aside as new cases
    std::vector<SynthCase> cases;
    for (int i = 0; i < kCases; ++i) cases.push_back(synth_case({.size = 10, .seed = 3}, i));
    // Every case from its volumes, in a session of its own: what the scores must equal.
    RecordingHost volumes_host;
    Session volumes{volumes_host};
    volumes.set_region(RegionOfInterest::nonzero);
    volumes.set_aside_case("case_010", true);  // before its files arrive
    for (const SynthCase& c : cases) {
        volumes.enqueue_file("images/" + c.name + ".nii", nifti::write(c.image, {}), "i");
        volumes.enqueue_file("probs/" + c.name + ".nii", nifti::write(c.probability, {}),
                             hash_of("p" + c.name));
        volumes.enqueue_file("labels/" + c.name + ".nii",
                             nifti::write(c.label, {.datatype = nifti::DataType::uint8}),
                             hash_of("l" + c.name));
    }
    for (int i = 0; i < 5; ++i) volumes.step(kUnlimited);
    volumes.set_aside_case("case_011", true);  // after
    ASSERT_EQ(volumes.cases().calibrating_count(), 10u);

    // Here: the calibration cases as scores (which set the region), the new cases as volumes.
    for (int i = 0; i < 10; ++i) {
        session.enqueue_file("scores/" + cases[i].name + ".score",
                             score_bytes(cases[i], RegionOfInterest::nonzero), "s");
    }
    for (int i = 10; i < kCases; ++i) {
        const SynthCase& c = cases[i];
        session.set_aside_case(c.name, true);
        session.enqueue_file("images/" + c.name + ".nii", nifti::write(c.image, {}), "i");
        session.enqueue_file("probs/" + c.name + ".nii", nifti::write(c.probability, {}), "p");
        session.enqueue_file("labels/" + c.name + ".nii",
                             nifti::write(c.label, {.datatype = nifti::DataType::uint8}), "l");
    }
    settle();
    ASSERT_TRUE(session.errors().empty()) << session.errors().front();
    EXPECT_EQ(session.region(), RegionOfInterest::nonzero);
    ASSERT_EQ(session.notes().size(), 1u);
    EXPECT_EQ(session.notes()[0],
              "region of interest set to 'nonzero', as scores/case_000.score was scored with");
    EXPECT_EQ(session.cases().calibrating_count(), 10u);

    const Result<Calibration>& from_scores = session.calibration();
    const Result<Calibration>& from_volumes = volumes.calibration();
    ASSERT_TRUE(from_scores) << from_scores.error().message;
    ASSERT_TRUE(from_volumes) << from_volumes.error().message;
    EXPECT_EQ(from_scores->threshold, from_volumes->threshold);
    EXPECT_EQ(from_scores->n, 10u);
    const auto certificate = session.certificate();
    const auto expected = volumes.certificate();
    ASSERT_TRUE(certificate && expected);
    ASSERT_EQ(certificate->inputs.size(), expected->inputs.size());
    for (std::size_t i = 0; i < expected->inputs.size(); ++i) {  // the map's and label's
        EXPECT_EQ(certificate->inputs[i].probabilities_sha256,
                  expected->inputs[i].probabilities_sha256);
        EXPECT_EQ(certificate->inputs[i].label_sha256, expected->inputs[i].label_sha256);
    }
    EXPECT_EQ(certificate->profiles, expected->profiles);

    // The set-aside cases are checked as new cases, and their labels say how their masks did.
    const double tau = session.threshold();
    for (int i = 10; i < kCases; ++i) {
        const SynthCase& c = cases[i];
        const CaseId id = session.cases().find(c.name)->id;
        const auto check = session.exchangeability(id);
        const auto volumes_check = volumes.exchangeability(volumes.cases().find(c.name)->id);
        ASSERT_TRUE(check && volumes_check);
        EXPECT_EQ(check->p_value, volumes_check->p_value);
        const auto outcome = session.set_aside_outcome(id);
        ASSERT_TRUE(outcome);
        Volume restricted = c.probability;
        ASSERT_TRUE(restrict_to_region(restricted, c.image, "its region"));
        const auto at_tau = measure_case(c.name, restricted, c.label, tau);
        const auto at_half = measure_case(c.name, restricted, c.label, 0.5);
        ASSERT_TRUE(at_tau && at_half);
        ASSERT_TRUE(outcome->at_threshold);
        EXPECT_EQ(outcome->lesion_voxels, at_tau->lesion_voxels);
        EXPECT_EQ(outcome->predicted_at_threshold, at_tau->predicted_voxels);
        EXPECT_EQ(outcome->at_threshold->fnr, at_tau->fnr);
        EXPECT_EQ(outcome->at_threshold->dice, at_tau->dice);
        EXPECT_EQ(outcome->predicted_at_half, at_half->predicted_voxels);
        EXPECT_EQ(outcome->at_half.fnr, at_half->fnr);
    }
    EXPECT_FALSE(session.set_aside_outcome(session.cases().find("case_003")->id));
    nlohmann::json listed = state()["cases"];
    EXPECT_EQ(listed[3]["score"], "scores/case_003.score");
    EXPECT_EQ(listed[10]["set_aside"], true);
    EXPECT_EQ(listed[10]["calibrates"], false);
    EXPECT_EQ(listed[10]["against_label"]["at_half"]["fnr"],
              session.set_aside_outcome(session.cases().find("case_010")->id)->at_half.fnr);

    // Back into calibration: n grows by one.
    session.set_aside_case("case_011", false);
    ASSERT_TRUE(session.calibration());
    EXPECT_EQ(session.calibration()->n, 11u);
    EXPECT_FALSE(session.set_aside_outcome(session.cases().find("case_011")->id));

    // Another region: the scores leave the set and say why; a score of another region is
    // refused by name, as is a second file for a scored case.
    session.set_region(RegionOfInterest::none);
    EXPECT_EQ(session.cases().calibrating_count(), 1u);  // case_011; case_010 is set aside
    EXPECT_EQ(session.cases().region_missing_count(), 10u);
    EXPECT_EQ(state()["cases"][0]["region_problem"],
              "its score was made with region of interest 'nonzero', not 'none'");
    SynthCase extra = synth_case({.size = 10, .seed = 3}, 20);
    session.enqueue_file("scores/case_020.score", score_bytes(extra, RegionOfInterest::mask), "s");
    session.enqueue_file("labels/case_000.nii",
                         nifti::write(cases[0].label, {.datatype = nifti::DataType::uint8}), "l");
    settle();
    ASSERT_EQ(session.errors().size(), 2u);
    EXPECT_EQ(session.errors()[0],
              "scores/case_020.score: was made with region of interest 'mask', but the cases here "
              "are restricted to 'none'; score every case of a calibration set alike");
    EXPECT_EQ(session.errors()[1],
              "labels/case_000.nii: case 'case_000' already has a score (scores/case_000.score); "
              "a case comes as its score or as its volumes, not both");
}

}  // namespace
}  // namespace cls::app
