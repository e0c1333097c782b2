// A model's manifest (`models/<name>.json`, format "cls-model/1"): what the app must know to
// feed the network and read its answer: tensor names and channels, the patch size, intensity
// normalisation, the output and how it becomes a lesion probability, the voxel spacing it was
// trained at, the model file's SHA-256 and free-form provenance.
// The output: `output.name` picks one of the model's outputs (a deep-supervision model has
// several); `softmax` over its channels with `lesion_classes` (summed: whole tumour from a
// 4-class head is [1, 2, 3]; an older manifest's single `lesion_class` still reads); `sigmoid`
// (independent channels) or `none` (the network already gives probabilities) with
// `lesion_channel` choosing one channel when there are several. A `none` output outside [0, 1]
// is refused by the sliding window, never clamped.
// A manifest can be prefilled from a model's own input shape, for models that come without.
// `skip_background` says which patches need no network run (see sliding_window.hpp).
// [X] one input channel; sigmoid, softmax (summed lesion classes) or no activation; a named
//     output; one chosen channel of several sigmoid or plain ones
// [X] several input channels (MR sequences), named by `input.modalities` in channel order;
//     which file feeds which channel: cls/inference/input_channels.hpp (scripts/infer.mjs and
//     the app, where a case's channels pair by nnU-Net suffixes or BIDS names)
// [ ] per-channel normalisation schemes (one scheme, applied to each channel on its own)
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cls/enum_names.hpp"
#include "cls/inference/axis_order.hpp"
#include "cls/inference/normalisation.hpp"
#include "cls/inference/onnx_model_info.hpp"
#include "cls/result.hpp"

namespace cls::inference {

enum class Activation { none, sigmoid, softmax };
inline constexpr EnumTable<Activation, 3> kActivationNames{{{Activation::none, "none"},
                                                            {Activation::sigmoid, "sigmoid"},
                                                            {Activation::softmax, "softmax"}}};

// Which patches the sliding window answers "no lesion" without running the network:
// `none` (the default): none; `minimum`: patches whose normalised voxels all equal the image's
// minimum (padding, and air clipped to one value), which hold nothing a network could see;
// `nonzero`: those too, and patches with no non-zero voxel in the image as given, the
// background of skull-stripped scans (nnU-Net's nonzero mask). Off unless a manifest asks, so
// that maps made before it existed are made the same way.
enum class BackgroundSkip { none, minimum, nonzero };
inline constexpr EnumTable<BackgroundSkip, 3> kBackgroundSkipNames{
    {{BackgroundSkip::none, "none"},
     {BackgroundSkip::minimum, "minimum"},
     {BackgroundSkip::nonzero, "nonzero"}}};

struct ModelManifest {
    std::string name;
    std::string description;
    std::string model_file;  // the .onnx beside the manifest
    std::string sha256;      // of the .onnx bytes; empty when not known (a prefilled manifest)
    std::string input_name = "input";
    int input_channels = 1;
    // The channels' modality names in order ("FLAIR", "T1", "T1c", "T2"); empty: unnamed.
    std::vector<std::string> input_modalities;
    std::string output_name = "output";
    int output_channels = 1;
    Activation activation = Activation::sigmoid;
    std::vector<int> lesion_classes{1};  // softmax: the channels summed into "lesion"
    int lesion_channel = 0;              // sigmoid or none: the channel that is "lesion"
    // Patch size as the network sees it, [D, H, W] = the NIfTI [k, j, i] axes.
    std::array<std::int64_t, 3> patch_size{96, 96, 96};
    std::int64_t spatial_divisor = 1;  // every dimension fed to the network is a multiple of it
    // The spacing the network was trained at, in its axis order: [i, j, k] as NIfTI pixdim for
    // `stored`, [R, A, S] for `ras`. An image at another spacing is resampled to it.
    std::array<double, 3> spacing_mm{1.0, 1.0, 1.0};
    AxisOrder axis_order = AxisOrder::stored;  // cls/inference/axis_order.hpp
    Normalisation normalisation;
    BackgroundSkip skip_background = BackgroundSkip::none;
    std::string provenance_json = "{}";  // kept as written, shown to the user
};

[[nodiscard]] std::string_view to_string(Activation activation);
[[nodiscard]] Result<Activation> parse_activation(std::string_view text);
[[nodiscard]] std::string_view to_string(BackgroundSkip skip);
[[nodiscard]] Result<BackgroundSkip> parse_background_skip(std::string_view text);

// Modality names compare ignoring letter case ("flair" is "FLAIR").
[[nodiscard]] bool same_modality(std::string_view a, std::string_view b);
// "channel 2 (T1c)", or "channel 2" without names: for messages.
[[nodiscard]] std::string channel_name(const ModelManifest& manifest, std::size_t channel);
// "FLAIR, T1, T1c, T2", or "" without names.
[[nodiscard]] std::string channel_names(const ModelManifest& manifest);

// Reads and checks a manifest; errors name the field.
[[nodiscard]] Result<ModelManifest> parse_model_manifest(std::string_view json_text);
[[nodiscard]] std::string to_json(const ModelManifest& manifest);
[[nodiscard]] Status validate(const ModelManifest& manifest);

// A manifest filled in from what the model says about itself: tensor names, channels, and a
// fixed patch size when the input has one (else 96³); the user confirms the rest.
[[nodiscard]] ModelManifest prefill_manifest(const OnnxModelInfo& model,
                                             const std::string& model_file);

// Whether the manifest describes this model: names exist, float32 tensors, channel counts
// and any fixed spatial sizes agree. The message says which one does not.
[[nodiscard]] Status check_model_fits(const ModelManifest& manifest, const OnnxModelInfo& model);

}  // namespace cls::inference
