// Model manifests: the bundled one's schema read field by field, round trips, and each kind
// of mistake a user can make in a hand-written manifest, refused with the field's name.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cls/inference/model_manifest.hpp"

namespace {

using namespace cls::inference;

const std::string kManifest = R"({
  "format": "cls-model/1",
  "name": "cls-synthetic-unet",
  "description": "a test",
  "model_file": "cls_unet.onnx",
  "sha256": "ab12",
  "input": {"name": "image", "channels": 1},
  "output": {"name": "logits", "channels": 1, "activation": "sigmoid"},
  "patch_size": [32, 48, 64],
  "spatial_divisor": 8,
  "spacing_mm": [1.0, 1.0, 2.5],
  "normalisation": {"scheme": "zscore", "region": "all"},
  "provenance": {"seed": 3}
})";

std::string replaced(std::string text, const std::string& from, const std::string& to) {
    const auto at = text.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    return text.replace(at, from.size(), to);
}

std::string error_of(const std::string& text) {
    auto manifest = parse_model_manifest(text);
    return manifest.ok() ? "accepted" : manifest.error().message;
}

TEST(ModelManifest, ReadsEveryField) {
    auto m = parse_model_manifest(kManifest);
    ASSERT_TRUE(m.ok()) << m.error().message;
    EXPECT_EQ(m->name, "cls-synthetic-unet");
    EXPECT_EQ(m->model_file, "cls_unet.onnx");
    EXPECT_EQ(m->sha256, "ab12");
    EXPECT_EQ(m->input_name, "image");
    EXPECT_EQ(m->output_name, "logits");
    EXPECT_EQ(m->activation, Activation::sigmoid);
    EXPECT_EQ(m->patch_size, (std::array<std::int64_t, 3>{32, 48, 64}));
    EXPECT_EQ(m->spatial_divisor, 8);
    EXPECT_EQ(m->spacing_mm, (std::array<double, 3>{1.0, 1.0, 2.5}));
    EXPECT_EQ(m->normalisation.scheme, NormalisationScheme::zscore);
    EXPECT_FALSE(m->normalisation.nonzero_only);
    EXPECT_EQ(m->skip_background, BackgroundSkip::none);  // absent: the default
    EXPECT_NE(m->provenance_json.find("\"seed\": 3"), std::string::npos);
}

TEST(ModelManifest, RoundTripsThroughJson) {
    auto m = parse_model_manifest(kManifest);
    ASSERT_TRUE(m.ok());
    m->activation = Activation::softmax;
    m->output_channels = 4;
    m->lesion_classes = {1, 3};
    m->normalisation = {.scheme = NormalisationScheme::ct, .low = -100, .high = 200};
    auto again = parse_model_manifest(to_json(*m));
    ASSERT_TRUE(again.ok()) << again.error().message;
    EXPECT_EQ(to_json(*again), to_json(*m));
    EXPECT_EQ(again->lesion_classes, (std::vector<int>{1, 3}));
    EXPECT_NE(to_json(*m).find("\"lesion_classes\""), std::string::npos);
    EXPECT_EQ(again->normalisation.high, 200);

    m->activation = Activation::sigmoid;
    m->lesion_channel = 2;
    auto sigmoid = parse_model_manifest(to_json(*m));
    ASSERT_TRUE(sigmoid.ok()) << sigmoid.error().message;
    EXPECT_EQ(sigmoid->lesion_channel, 2);
}

TEST(ModelManifest, ReadsTheLesionClassesOfASoftmaxAndTheChannelOfSeveralSigmoids) {
    const std::string softmax =
        replaced(kManifest, R"("channels": 1, "activation": "sigmoid")",
                 R"("channels": 4, "activation": "softmax", "lesion_classes": [1, 2, 3])");
    auto whole_tumour = parse_model_manifest(softmax);
    ASSERT_TRUE(whole_tumour.ok()) << whole_tumour.error().message;
    EXPECT_EQ(whole_tumour->lesion_classes, (std::vector<int>{1, 2, 3}));
    // An older manifest's single lesion_class still reads.
    auto older = parse_model_manifest(
        replaced(kManifest, R"("channels": 1, "activation": "sigmoid")",
                 R"("channels": 2, "activation": "softmax", "lesion_class": 1)"));
    ASSERT_TRUE(older.ok()) << older.error().message;
    EXPECT_EQ(older->lesion_classes, (std::vector<int>{1}));
    auto classes = [&](const std::string& list) {
        return error_of(replaced(softmax, "[1, 2, 3]", list));
    };
    EXPECT_EQ(classes("[]"), "lesion_classes is empty");
    EXPECT_EQ(classes("[1, 4]"), "lesion class 4 is not one of the output's 4 channels (0-based)");
    EXPECT_EQ(classes("[1, 1]"), "lesion class 1 is listed twice");
    EXPECT_EQ(classes("[0, 1, 2, 3]"),
              "lesion_classes lists every channel of the softmax, whose sum is 1 everywhere; "
              "leave out the background class");
    EXPECT_EQ(classes("\"1,2\""), "manifest field 'lesion_classes' must be a list of channels");
    EXPECT_EQ(classes("[1.5]"),
              "manifest field 'lesion_classes' must be a list of channels in 0..63");

    // Several sigmoid channels: which one is lesion must be said.
    const std::string sigmoids =
        replaced(kManifest, R"("channels": 1, "activation": "sigmoid")",
                 R"("channels": 3, "activation": "sigmoid", "lesion_channel": 2)");
    auto chosen = parse_model_manifest(sigmoids);
    ASSERT_TRUE(chosen.ok()) << chosen.error().message;
    EXPECT_EQ(chosen->lesion_channel, 2);
    EXPECT_EQ(error_of(replaced(sigmoids, R"(, "lesion_channel": 2)", "")),
              "manifest field 'lesion_channel' is missing");
    EXPECT_EQ(error_of(replaced(sigmoids, R"("lesion_channel": 2)", R"("lesion_channel": 3)")),
              "lesion_channel 3 is not one of the output's 3 channels (0-based)");
}

TEST(ModelManifest, ReadsWhichBackgroundPatchesToSkip) {
    for (const auto& [text, skip] :
         {std::pair{"none", BackgroundSkip::none}, std::pair{"minimum", BackgroundSkip::minimum},
          std::pair{"nonzero", BackgroundSkip::nonzero}}) {
        auto m = parse_model_manifest(
            replaced(kManifest, R"("provenance")",
                     std::string(R"("skip_background": ")") + text + R"(", "provenance")"));
        ASSERT_TRUE(m.ok()) << m.error().message;
        EXPECT_EQ(m->skip_background, skip);
        EXPECT_EQ(parse_model_manifest(to_json(*m))->skip_background, skip);
    }
    EXPECT_EQ(error_of(replaced(kManifest, R"("provenance")",
                                R"("skip_background": "air", "provenance")")),
              "unknown skip_background 'air' (expected none, minimum or nonzero)");
}

TEST(ModelManifest, NamesTheFieldThatIsWrong) {
    EXPECT_EQ(error_of("{"), "not valid JSON");
    EXPECT_EQ(error_of(R"({"format": "cls-calibration-certificate"})"),
              "not a model manifest (field 'format' is not 'cls-model/1')");
    EXPECT_EQ(error_of(replaced(kManifest, R"("name": "image", )", "")),
              "manifest field 'name' is missing");
    EXPECT_EQ(error_of(replaced(kManifest, "[32, 48, 64]", "[32, 48]")),
              "manifest field 'patch_size' must be a list of 3");
    EXPECT_EQ(error_of(replaced(kManifest, "[32, 48, 64]", "[32, 48, 60]")),
              "patch sides must be multiples of the spatial divisor");
    EXPECT_EQ(error_of(replaced(kManifest, R"("channels": 1},)",
                                R"("channels": 4, "modalities": ["FLAIR", "T1"]},)")),
              "input.modalities names 2 channels but the model takes 4");
    EXPECT_EQ(error_of(replaced(kManifest, R"("channels": 1},)",
                                R"("channels": 2, "modalities": ["FLAIR", "flair"]},)")),
              "input.modalities names flair twice");
    auto four = parse_model_manifest(
        replaced(kManifest, R"("channels": 1},)",
                 R"("channels": 4, "modalities": ["FLAIR", "T1", "T1c", "T2"]},)"));
    ASSERT_TRUE(four.ok()) << four.error().message;
    EXPECT_EQ(channel_names(*four), "FLAIR, T1, T1c, T2");
    EXPECT_EQ(channel_name(*four, 2), "channel 2 (T1c)");
    EXPECT_EQ(parse_model_manifest(to_json(*four))->input_modalities, four->input_modalities);
    EXPECT_EQ(error_of(replaced(kManifest, "\"sigmoid\"", "\"relu\"")),
              "unknown output activation 'relu' (expected none, sigmoid or softmax)");
    EXPECT_EQ(error_of(replaced(kManifest, "\"sigmoid\"", "\"softmax\"")),
              "manifest field 'lesion_classes' is missing");
    EXPECT_EQ(error_of(replaced(kManifest, R"("region": "all")", R"("region": "brain")")),
              "manifest field 'normalisation.region' must be \"all\" or \"nonzero\"");
    EXPECT_EQ(error_of(replaced(kManifest, R"("scheme": "zscore", "region": "all")",
                                R"("scheme": "ct", "window": [400, -100])")),
              "manifest normalisation: a CT window needs low < high");
    EXPECT_EQ(error_of(replaced(kManifest, "[1.0, 1.0, 2.5]", "[1.0, 0, 2.5]")),
              "spacing_mm must be positive");
}

}  // namespace
