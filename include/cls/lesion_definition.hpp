// What counts as lesion in the files real pipelines write, decided once here and called by
// every edge (the CLI, the app, cls_infer): which channels of a multi-channel probability map
// are lesion and how they combine, and which values of a label are lesion.
// A segmentation tool's softmax map stores one channel per class (MONAI and nnU-Net write
// (x, y, z, C), ITK vector images (x, y, z, 1, C)); reading its first channel, the background,
// certifies nonsense. So a map with several channels is refused until the user names the lesion
// channels, and a label with several classes until the user names the lesion classes; the
// choice travels in the certificate, so `apply` uses what calibration used.
// [X] channels along NIfTI's 4th dimension, or its 5th where the 4th is 1, or nnU-Net's class
//     axis (cls/nnunet_probabilities.hpp)
// [X] several lesion channels summed (softmax classes) or maxed (independent sigmoids)
// [X] label classes by value ("1,2,4") or "nonzero"; float labels holding whole numbers
// [ ] channels given by class name (needs a model manifest or a dataset.json to name them)
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cls/enum_names.hpp"
#include "cls/nifti.hpp"
#include "cls/result.hpp"
#include "cls/volume.hpp"

namespace cls {

enum class ChannelCombine { sum, max };
inline constexpr EnumTable<ChannelCombine, 2> kChannelCombineNames{
    {{ChannelCombine::sum, "sum"}, {ChannelCombine::max, "max"}}};

// The lesion channels of a probability map, counted from 0 (0 is the background of a softmax).
// Empty means "a single-channel map": a map with several channels is then refused.
struct LesionChannels {
    std::vector<int> channels;  // ascending, no repeats
    ChannelCombine combine = ChannelCombine::sum;

    [[nodiscard]] bool single() const { return channels.empty(); }
    friend bool operator==(const LesionChannels&, const LesionChannels&) = default;
};

// The lesion values of a label. `binary` (the default) accepts 0 and one lesion value only, so
// a multi-class label is never read as lesion by accident.
struct LesionLabels {
    enum class Kind { binary, nonzero, classes };
    Kind kind = Kind::binary;
    std::vector<int> classes;  // for Kind::classes: ascending, no repeats, none 0

    friend bool operator==(const LesionLabels&, const LesionLabels&) = default;
};

struct LesionDefinition {
    LesionChannels channels;
    LesionLabels labels;
    friend bool operator==(const LesionDefinition&, const LesionDefinition&) = default;
};

// "1", "1,2,3": channel indices. Refuses negatives, repeats and anything but digits and commas.
[[nodiscard]] Result<LesionChannels> parse_lesion_channels(std::string_view text,
                                                           ChannelCombine combine);
[[nodiscard]] Result<ChannelCombine> parse_channel_combine(std::string_view text);
[[nodiscard]] std::string_view to_string(ChannelCombine combine);
// "1,2,4", "nonzero" or "binary".
[[nodiscard]] Result<LesionLabels> parse_lesion_labels(std::string_view text);
// The forms the parsers read: "1,2,3" for channels; "binary", "nonzero" or "1,2,4" for labels.
[[nodiscard]] std::string channels_text(const LesionChannels& channels);
[[nodiscard]] std::string labels_text(const LesionLabels& labels);
// In words, for messages: "single-channel maps, lesion labels binary" or "lesion channels 1,2
// (sum), lesion labels 1,2,4".
[[nodiscard]] std::string describe(const LesionDefinition& lesion);

// How many probability channels a NIfTI header declares: dim[4], or dim[5] when dim[4] is 1
// (ITK and MONAI store vector images so). 1 for a 3D file. Refuses headers with more than one
// of those axes above 1 (a time series of maps is not a set of channels).
[[nodiscard]] Result<std::int64_t> probability_channel_count(const nifti::Header& header);

// The lesion-probability map from a map's channels (one Volume each, on one grid), every value
// it reads checked to lie in [0, 1]: the channel itself for a single-channel map; otherwise the
// chosen channels, summed or maxed. A map with several channels and no choice is refused naming
// the count, `channel_axis` (where the file keeps them, e.g. "along its 4th dimension") and
// how to choose; a sum above 1 + 1e-4 anywhere is refused with the voxel count (the channels
// are not one softmax); sums within that tolerance of 1 are float rounding and read as 1.
// Errors do not name the file: callers add it.
[[nodiscard]] Result<Volume> lesion_probability_map(std::vector<Volume> channels,
                                                    const LesionChannels& choice,
                                                    std::string_view channel_axis);
// A probability map stored as integers without scaling holds 0 and 1 only: a segmentation
// (nnU-Net writes "<case>.nii.gz" so beside its probabilities), never read as probabilities.
[[nodiscard]] Status check_not_a_segmentation(const nifti::Header& header);
// Where a NIfTI header keeps its channels, for the message above: "along its 4th dimension",
// or its 5th where the 4th is 1 (ITK and MONAI vector images).
[[nodiscard]] std::string channel_axis_text(const nifti::Header& header);

// Checks a label against the lesion definition: finite values only; `binary` as check_label;
// `nonzero` and `classes` need whole numbers (a label resampled with interpolation is not one).
[[nodiscard]] Status check_label(std::span<const float> labels, const LesionLabels& lesion);
// Rewrites a checked label as 0 (background) and 1 (lesion), which everything downstream reads.
void binarise_label(std::span<float> labels, const LesionLabels& lesion);

// A probability map from its uncompressed .nii bytes, by the one rule: refused if it is a
// segmentation (check_not_a_segmentation), else parsed, its channels
// chosen and combined as above, every value checked to lie in [0, 1]. `volume` is the lesion
// probability map; `header` is the file's.
[[nodiscard]] Result<nifti::Image> read_probability_map(std::span<const std::uint8_t> nii,
                                                        const LesionChannels& choice);
// A label from its uncompressed .nii bytes: parsed, checked against `lesion`, rewritten as 0/1.
[[nodiscard]] Result<nifti::Image> read_label(std::span<const std::uint8_t> nii,
                                              const LesionLabels& lesion);

// The same two rules for an image already decoded from a file that holds one volume, e.g. read
// in two steps (nifti::read_grid, then the voxels read in place); the readers above end in them.
[[nodiscard]] Result<nifti::Image> checked_probability_map(nifti::Image image,
                                                           const LesionChannels& choice);
[[nodiscard]] Result<nifti::Image> checked_label(nifti::Image image, const LesionLabels& lesion);

}  // namespace cls
