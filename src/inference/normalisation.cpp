#include "cls/inference/normalisation.hpp"

#include <algorithm>
#include <cmath>

namespace cls::inference {
namespace {

// numpy's default percentile: linear interpolation between the order statistics around
// q/100 · (n − 1).
double percentile(std::vector<float> values, double q) {
    const double position = q / 100.0 * static_cast<double>(values.size() - 1);
    const auto below = static_cast<std::size_t>(std::floor(position));
    const std::size_t above = std::min(below + 1, values.size() - 1);
    std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(below),
                     values.end());
    const double lo = values[below];
    if (above == below) return lo;
    const double hi =
        *std::min_element(values.begin() + static_cast<std::ptrdiff_t>(above), values.end());
    return lo + (position - static_cast<double>(below)) * (hi - lo);
}

void clip_and_scale(std::vector<float>& values, double low, double high) {
    const double width = high > low ? high - low : 1.0;
    for (float& v : values)
        v = static_cast<float>((std::clamp(static_cast<double>(v), low, high) - low) / width);
}

void zscore(std::vector<float>& values, bool nonzero_only) {
    double sum = 0.0, sum_of_squares = 0.0;
    std::size_t count = 0;
    for (float v : values) {
        if (nonzero_only && v == 0.0f) continue;
        sum += v;
        ++count;
    }
    if (count == 0) return;  // all zero: nothing to normalise
    const double mean = sum / static_cast<double>(count);
    for (float v : values) {
        if (nonzero_only && v == 0.0f) continue;
        sum_of_squares += (v - mean) * (v - mean);
    }
    // Population standard deviation, as numpy's std() and the training script compute it.
    const double scale =
        1.0 / std::max(std::sqrt(sum_of_squares / static_cast<double>(count)), 1e-8);
    for (float& v : values) {
        if (nonzero_only && v == 0.0f) continue;
        v = static_cast<float>((v - mean) * scale);
    }
}

}  // namespace

std::string_view to_string(NormalisationScheme scheme) {
    return name_of(kNormalisationSchemeNames, scheme);
}

Result<NormalisationScheme> parse_normalisation_scheme(std::string_view text) {
    return parse_name(kNormalisationSchemeNames, text, "normalisation scheme");
}

Status validate(const Normalisation& n) {
    if (n.scheme == NormalisationScheme::ct && !(n.low < n.high))
        return make_error("a CT window needs low < high");
    if (n.scheme == NormalisationScheme::percentile &&
        !(0.0 <= n.low && n.low < n.high && n.high <= 100.0))
        return make_error("percentiles need 0 <= low < high <= 100");
    return Done{};
}

Result<std::vector<float>> normalise(const Volume& image, const Normalisation& normalisation) {
    if (Status valid = validate(normalisation); !valid) return valid.error();
    const auto non_finite = std::count_if(image.values().begin(), image.values().end(),
                                          [](float v) { return !std::isfinite(v); });
    if (non_finite > 0) {
        return make_error("the image has " + std::to_string(non_finite) +
                          " NaN or infinite voxels; the network cannot be run on it");
    }
    std::vector<float> values = image.values();
    if (values.empty()) return make_error("the image has no voxels");
    switch (normalisation.scheme) {
        case NormalisationScheme::none:
            break;
        case NormalisationScheme::zscore:
            zscore(values, normalisation.nonzero_only);
            break;
        case NormalisationScheme::ct:
            clip_and_scale(values, normalisation.low, normalisation.high);
            break;
        case NormalisationScheme::percentile:
            clip_and_scale(values, percentile(values, normalisation.low),
                           percentile(values, normalisation.high));
            break;
    }
    return values;
}

}  // namespace cls::inference
