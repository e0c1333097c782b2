// Intensity normalisation before a network sees an image, as its manifest prescribes:
// z-score over the whole image or over its non-zero voxels, CT clip-and-scale to a window,
// or clip-and-scale between two percentiles of the image. The model must have been trained
// with exactly the same rule (scripts/train_model.py uses z-score over the whole image).
// Non-finite intensities are refused with their count: they would poison every statistic.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "cls/enum_names.hpp"
#include "cls/result.hpp"
#include "cls/volume.hpp"

namespace cls::inference {

enum class NormalisationScheme { none, zscore, ct, percentile };
inline constexpr EnumTable<NormalisationScheme, 4> kNormalisationSchemeNames{
    {{NormalisationScheme::none, "none"},
     {NormalisationScheme::zscore, "zscore"},
     {NormalisationScheme::ct, "ct"},
     {NormalisationScheme::percentile, "percentile"}}};

struct Normalisation {
    NormalisationScheme scheme = NormalisationScheme::zscore;
    // zscore: statistics over non-zero voxels only (zeros stay zero), as for skull-stripped MRI.
    bool nonzero_only = false;
    // ct: clip to [low, high] HU, then scale to [0, 1]; percentile: the same between the
    // image's low-th and high-th percentiles (0..100).
    double low = 0.0;
    double high = 0.0;
};

[[nodiscard]] std::string_view to_string(NormalisationScheme scheme);
[[nodiscard]] Result<NormalisationScheme> parse_normalisation_scheme(std::string_view text);
[[nodiscard]] Status validate(const Normalisation& normalisation);

// The image's voxels, normalised, in the volume's own (x-fastest) order.
[[nodiscard]] Result<std::vector<float>> normalise(const Volume& image,
                                                   const Normalisation& normalisation);

}  // namespace cls::inference
