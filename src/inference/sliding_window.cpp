#include "cls/inference/sliding_window.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>

namespace cls::inference {
namespace {

// nnU-Net's step rule: as few patches as cover the axis with steps no longer than
// (1 − overlap) × patch, spread evenly so the first and last touch the ends.
std::vector<std::int64_t> axis_origins(std::int64_t extent, std::int64_t patch, double overlap) {
    const double target_step = static_cast<double>(patch) * (1.0 - overlap);
    const auto steps =
        static_cast<std::int64_t>(std::ceil(static_cast<double>(extent - patch) / target_step)) + 1;
    std::vector<std::int64_t> origins;
    const double step =
        steps > 1 ? static_cast<double>(extent - patch) / static_cast<double>(steps - 1) : 0.0;
    for (std::int64_t i = 0; i < steps; ++i)
        origins.push_back(static_cast<std::int64_t>(std::llround(step * static_cast<double>(i))));
    return origins;
}

double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

// Per voxel of the padded grid: 1 where a network could see something, by the manifest's rule.
std::vector<std::uint8_t> foreground_mask(const Volume& image, std::span<const float> padded,
                                          float minimum, const WindowPlan& plan,
                                          BackgroundSkip rule) {
    std::vector<std::uint8_t> mask(padded.size());
    for (std::size_t i = 0; i < padded.size(); ++i) mask[i] = padded[i] != minimum;
    if (rule != BackgroundSkip::nonzero) return mask;
    // Zeros of the image as given are background too; padding already is (it is the minimum).
    const Dims& d = plan.image;
    const Dims& o = plan.pad_before;
    const Dims& p = plan.padded;
    for (std::int64_t z = 0; z < d[2]; ++z)
        for (std::int64_t y = 0; y < d[1]; ++y)
            for (std::int64_t x = 0; x < d[0]; ++x) {
                if (image.at(x, y, z) != 0.0f) continue;
                mask[static_cast<std::size_t>((o[0] + x) +
                                              p[0] * ((o[1] + y) + p[1] * (o[2] + z)))] = 0;
            }
    return mask;
}

bool patch_has_foreground(const std::vector<std::uint8_t>& mask, const WindowPlan& plan,
                          const Dims& origin) {
    const Dims& p = plan.patch;
    const Dims& padded = plan.padded;
    for (std::int64_t z = 0; z < p[2]; ++z)
        for (std::int64_t y = 0; y < p[1]; ++y) {
            const auto row = static_cast<std::size_t>(
                origin[0] + padded[0] * ((origin[1] + y) + padded[1] * (origin[2] + z)));
            const auto begin = mask.begin() + static_cast<std::ptrdiff_t>(row);
            if (std::find(begin, begin + p[0], std::uint8_t{1}) != begin + p[0]) return true;
        }
    return false;
}

// The network's axis order first (an exact rearrangement), then its spacing.
struct NetworkGrid {
    Reorientation turn;
    ModelGrid grid;
};

NetworkGrid network_grid(const Volume& image, const ModelManifest& manifest) {
    const Reorientation turn = reorientation_for(manifest.axis_order, image.affine());
    return {turn, model_grid(turn.permuted(image.dims()), turn.permuted(image.spacing()),
                             manifest.spacing_mm)};
}

}  // namespace

Result<WindowPlan> plan_windows(const Dims& image, const Dims& patch, double overlap) {
    if (!(overlap >= 0.0 && overlap < 1.0)) return make_error("overlap must be in [0, 1)");
    WindowPlan plan;
    plan.image = image;
    plan.patch = patch;
    std::array<std::vector<std::int64_t>, 3> starts;
    for (int a = 0; a < 3; ++a) {
        if (image[a] < 1 || patch[a] < 1) return make_error("empty image or patch");
        plan.padded[a] = std::max(image[a], patch[a]);
        plan.pad_before[a] = (plan.padded[a] - image[a]) / 2;
        starts[a] = axis_origins(plan.padded[a], patch[a], overlap);
    }
    for (std::int64_t z : starts[2])
        for (std::int64_t y : starts[1])
            for (std::int64_t x : starts[0]) plan.origins.push_back({x, y, z});
    return plan;
}

std::vector<float> gaussian_importance(const Dims& patch) {
    std::array<std::vector<double>, 3> axis;
    for (int a = 0; a < 3; ++a) {
        const double centre = static_cast<double>(patch[a] - 1) / 2.0;
        const double sigma = static_cast<double>(patch[a]) / 8.0;
        for (std::int64_t i = 0; i < patch[a]; ++i) {
            const double d = (static_cast<double>(i) - centre) / sigma;
            axis[a].push_back(std::exp(-0.5 * d * d));
        }
        const double peak = *std::max_element(axis[a].begin(), axis[a].end());
        for (double& w : axis[a]) w /= peak;
    }
    std::vector<float> weights;
    weights.reserve(static_cast<std::size_t>(patch[0] * patch[1] * patch[2]));
    for (double wz : axis[2])
        for (double wy : axis[1])
            for (double wx : axis[0]) weights.push_back(static_cast<float>(wx * wy * wz));
    return weights;
}

std::vector<Flip> mirror_flips(bool mirror) {
    if (!mirror) return {Flip{}};
    std::vector<Flip> flips;
    for (int bits = 0; bits < 8; ++bits)
        flips.push_back({(bits & 1) != 0, (bits & 2) != 0, (bits & 4) != 0});
    return flips;
}

Dims patch_dims(const ModelManifest& manifest) {
    const auto& dhw = manifest.patch_size;
    return {dhw[2], dhw[1], dhw[0]};
}

Result<SlidingWindowInference> SlidingWindowInference::start(const Volume& image,
                                                             const ModelManifest& manifest,
                                                             const WindowSettings& settings) {
    const Volume* channels[] = {&image};
    return start(channels, manifest, settings);
}

Result<SlidingWindowInference> SlidingWindowInference::start(
    std::span<const Volume* const> channels, const ModelManifest& manifest,
    const WindowSettings& settings) {
    if (Status valid = validate(manifest); !valid) return valid.error();
    if (channels.size() != static_cast<std::size_t>(manifest.input_channels)) {
        return make_error("the model takes " + std::to_string(manifest.input_channels) +
                          " input channels (" + channel_names(manifest) + "); " +
                          std::to_string(channels.size()) + " were given");
    }
    const Volume& image = *channels.front();
    for (std::size_t c = 1; c < channels.size(); ++c) {
        if (Status same = check_same_grid(*channels[c], image, "its " + channel_name(manifest, 0));
            !same) {
            return same.error().in(channel_name(manifest, c));
        }
    }
    const NetworkGrid network = network_grid(image, manifest);
    const Reorientation& turn = network.turn;
    const ModelGrid& grid = network.grid;
    auto plan = plan_windows(grid.model, patch_dims(manifest), settings.overlap);
    if (!plan) return plan.error();
    auto to_network_grid = [&](std::span<const float> values) {
        std::vector<float> turned = to_network_order(values, image.dims(), turn);
        if (!grid.resamples()) return turned;
        return resample(turned, grid.source, grid.model, grid.nearest);
    };

    SlidingWindowInference job;
    job.turn_ = turn;
    job.image_dims_ = image.dims();
    job.grid_ = grid;
    job.plan_ = std::move(*plan);
    job.flips_ = mirror_flips(settings.mirror);
    job.manifest_ = manifest;
    job.affine_ = image.affine();
    job.spacing_ = image.spacing();
    const Dims& padded = job.plan_.padded;
    const auto padded_voxels = static_cast<std::size_t>(padded[0] * padded[1] * padded[2]);
    if (channels.size() > 1 || padded != grid.model)
        job.padded_.resize(channels.size() * padded_voxels);
    std::vector<std::uint8_t> foreground;
    for (std::size_t c = 0; c < channels.size(); ++c) {
        // Each channel normalised on its own voxels (as nnU-Net: statistics before resampling).
        auto normalised = normalise(*channels[c], manifest.normalisation);
        if (!normalised) return normalised.error().in(channel_name(manifest, c));
        if (!turn.identity() || grid.resamples()) *normalised = to_network_grid(*normalised);
        // Padding takes the channel's darkest normalised value: background, not a bright border.
        const float pad_value = *std::min_element(normalised->begin(), normalised->end());
        if (channels.size() == 1 && padded == grid.model) {
            job.padded_ = std::move(*normalised);  // no padding: keep the one copy
        } else {
            const std::span<float> block(job.padded_.data() + c * padded_voxels, padded_voxels);
            std::fill(block.begin(), block.end(), pad_value);
            const Dims& d = grid.model;
            const Dims& o = job.plan_.pad_before;
            for (std::int64_t z = 0; z < d[2]; ++z) {
                for (std::int64_t y = 0; y < d[1]; ++y) {
                    const auto from = normalised->begin() + (d[0] * (y + d[1] * z));
                    const auto to = (o[0] + padded[0] * ((o[1] + y) + padded[1] * (o[2] + z)));
                    std::copy(from, from + d[0], block.begin() + to);
                }
            }
        }
        const std::span<const float> block(job.padded_.data() + c * padded_voxels, padded_voxels);
        if (manifest.skip_background == BackgroundSkip::none) continue;
        // The channel's zeros on the model grid: a voxel that interpolates any non-zero one is
        // not background. A voxel is foreground when any channel says so.
        std::optional<Volume> on_model_grid;
        if ((!turn.identity() || grid.resamples()) &&
            manifest.skip_background == BackgroundSkip::nonzero) {
            on_model_grid.emplace(grid.model, image.affine());
            on_model_grid->values() = to_network_grid(channels[c]->values());
        }
        const std::vector<std::uint8_t> mask =
            foreground_mask(on_model_grid ? *on_model_grid : *channels[c], block, pad_value,
                            job.plan_, manifest.skip_background);
        if (foreground.empty()) {
            foreground = mask;
        } else {
            for (std::size_t i = 0; i < mask.size(); ++i) foreground[i] |= mask[i];
        }
    }
    job.weights_ = gaussian_importance(job.plan_.patch);
    job.blended_.assign(padded_voxels, 0.0f);
    job.weight_sum_.assign(padded_voxels, 0.0f);
    job.skipped_.assign(job.plan_.origins.size(), false);
    if (manifest.skip_background != BackgroundSkip::none) {
        for (std::size_t patch = 0; patch < job.plan_.origins.size(); ++patch) {
            if (patch_has_foreground(foreground, job.plan_, job.plan_.origins[patch])) continue;
            job.skipped_[patch] = true;
            ++job.skipped_patches_;
        }
        // Every job hands out at least one input, as it always did: callers (the app's
        // inference queue) ask a new job for its first input before asking if it is finished.
        if (job.skipped_patches_ == job.plan_.origins.size()) {
            job.skipped_.front() = false;
            --job.skipped_patches_;
        }
    }
    job.pass_skipped();
    return job;
}

std::array<std::int64_t, 5> SlidingWindowInference::input_shape() const {
    const Dims& p = plan_.patch;
    return {1, manifest_.input_channels, p[2], p[1], p[0]};
}

std::size_t SlidingWindowInference::output_size() const {
    return static_cast<std::size_t>(manifest_.output_channels) * weights_.size();
}

template <class Visit>
void SlidingWindowInference::for_each_patch_voxel(std::size_t run, Visit visit) const {
    const Dims& origin = plan_.origins[run / flips_.size()];
    const Flip& flip = flips_[run % flips_.size()];
    const Dims& p = plan_.patch;
    const Dims& padded = plan_.padded;
    std::size_t i = 0;
    for (std::int64_t z = 0; z < p[2]; ++z) {
        const std::int64_t gz = origin[2] + (flip.z ? p[2] - 1 - z : z);
        for (std::int64_t y = 0; y < p[1]; ++y) {
            const std::int64_t gy = origin[1] + (flip.y ? p[1] - 1 - y : y);
            const auto row = static_cast<std::size_t>(padded[0] * (gy + padded[1] * gz));
            for (std::int64_t x = 0; x < p[0]; ++x, ++i) {
                const std::int64_t gx = origin[0] + (flip.x ? p[0] - 1 - x : x);
                visit(i, row + static_cast<std::size_t>(gx));
            }
        }
    }
}

template <class Probability>
void SlidingWindowInference::blend(Probability probability) {
    for_each_patch_voxel(cursor_, [&](std::size_t i, std::size_t g) {
        blended_[g] += static_cast<float>(weights_[i] * probability(i));
        weight_sum_[g] += weights_[i];
    });
    ++cursor_;
}

void SlidingWindowInference::pass_skipped() {
    while (!finished() && skipped_[cursor_ / flips_.size()]) {
        blend([](std::size_t) { return 0.0; });  // the answer "no lesion", fully weighted
    }
}

const std::vector<float>& SlidingWindowInference::next_input() {
    assert(!finished());
    const std::size_t voxels = weights_.size();
    const std::size_t padded_voxels = blended_.size();
    input_.resize(static_cast<std::size_t>(manifest_.input_channels) * voxels);
    for (std::size_t c = 0; c < static_cast<std::size_t>(manifest_.input_channels); ++c) {
        float* channel = input_.data() + c * voxels;
        const float* source = padded_.data() + c * padded_voxels;
        for_each_patch_voxel(cursor_,
                             [&](std::size_t i, std::size_t g) { channel[i] = source[g]; });
    }
    return input_;
}

Status SlidingWindowInference::accept_output(std::span<const float> output) {
    assert(!finished());
    if (output.size() != output_size()) {
        return make_error("the model returned " + std::to_string(output.size()) +
                          " values for a patch; the manifest's shape needs " +
                          std::to_string(output_size()));
    }
    const auto non_finite =
        std::count_if(output.begin(), output.end(), [](float v) { return !std::isfinite(v); });
    if (non_finite > 0) {
        return make_error("the model returned " + std::to_string(non_finite) +
                          " NaN or infinite values in patch " + std::to_string(runs_done_ + 1));
    }
    const std::size_t voxels = weights_.size();
    const auto channels = static_cast<std::size_t>(manifest_.output_channels);
    // Sigmoid and plain outputs read one channel; softmax reads them all.
    const float* chosen =
        output.data() + static_cast<std::size_t>(manifest_.lesion_channel) * voxels;
    if (manifest_.activation == Activation::none) {
        const auto outside =
            std::count_if(chosen, chosen + voxels, [](float v) { return v < 0.0f || v > 1.0f; });
        if (outside > 0) {
            return make_error("the model returned " + std::to_string(outside) +
                              " values outside [0, 1] in patch " + std::to_string(runs_done_ + 1) +
                              ", but its manifest says they are probabilities (activation none); "
                              "give the activation it needs (sigmoid or softmax)");
        }
    }
    auto probability = [&](std::size_t i) -> double {
        switch (manifest_.activation) {
            case Activation::none:
                return chosen[i];
            case Activation::sigmoid:
                return sigmoid(chosen[i]);
            case Activation::softmax: {
                double peak = output[i];
                for (std::size_t c = 1; c < channels; ++c)
                    peak = std::max(peak, static_cast<double>(output[c * voxels + i]));
                double sum = 0.0;
                for (std::size_t c = 0; c < channels; ++c)
                    sum += std::exp(output[c * voxels + i] - peak);
                double lesion = 0.0;
                for (int c : manifest_.lesion_classes)
                    lesion += std::exp(output[static_cast<std::size_t>(c) * voxels + i] - peak);
                return lesion / sum;
            }
        }
        return 0.0;
    };
    blend(probability);
    ++runs_done_;
    pass_skipped();
    return Done{};
}

Volume SlidingWindowInference::probability() const {
    assert(finished());
    const Dims& d = plan_.image;
    const Dims& o = plan_.pad_before;
    const Dims& padded = plan_.padded;
    Volume out(d, affine_);
    for (std::int64_t z = 0; z < d[2]; ++z) {
        for (std::int64_t y = 0; y < d[1]; ++y) {
            for (std::int64_t x = 0; x < d[0]; ++x) {
                const auto g = static_cast<std::size_t>(
                    (o[0] + x) + padded[0] * ((o[1] + y) + padded[1] * (o[2] + z)));
                // Every voxel lies in some patch, whose Gaussian weight is never 0. Each answer
                // is in [0, 1] (checked or by construction), so the clamp only undoes rounding
                // in the weighted mean.
                out.at(x, y, z) = std::clamp(blended_[g] / weight_sum_[g], 0.0f, 1.0f);
            }
        }
    }
    if (grid_.resamples() || !turn_.identity()) {
        // Back on the image's grid; a linear mix of values in [0, 1] stays in it.
        std::vector<float> values = std::move(out.values());
        if (grid_.resamples()) values = resample(values, grid_.model, grid_.source, grid_.nearest);
        out = Volume(image_dims_, affine_);
        out.values() = to_image_order(values, image_dims_, turn_);
    }
    out.set_spacing(spacing_);
    return out;
}

namespace {

double voxels_of(const Dims& d) {
    return static_cast<double>(d[0]) * static_cast<double>(d[1]) * static_cast<double>(d[2]);
}

std::string mm_text(const std::array<double, 3>& spacing) {
    char text[96];
    std::snprintf(text, sizeof text, "%.3g x %.3g x %.3g mm", spacing[0], spacing[1], spacing[2]);
    return text;
}

std::string dims_text(const Dims& d) {
    return std::to_string(d[0]) + " x " + std::to_string(d[1]) + " x " + std::to_string(d[2]);
}

}  // namespace

double window_memory_bytes(const Volume& image, const ModelManifest& manifest) {
    const NetworkGrid network = network_grid(image, manifest);
    const Dims patch = patch_dims(manifest);
    double padded = 1.0;
    for (int a = 0; a < 3; ++a)
        padded *= static_cast<double>(std::max(network.grid.model[a], patch[a]));
    const double channels = manifest.input_channels;
    const double source = static_cast<double>(image.voxel_count());
    // Padded channels, blend and weight sum; a channel normalised on the image's grid and on
    // the model's while it is made; the map on both grids at the end.
    const double floats =
        channels * padded + 2.0 * padded + 2.0 * source + 2.0 * voxels_of(network.grid.model);
    return 4.0 * floats + static_cast<double>(64 << 20);
}

std::string describe_network_grid(const Volume& image, const ModelManifest& manifest) {
    const NetworkGrid network = network_grid(image, manifest);
    std::string text;
    if (!network.turn.identity()) text = "reoriented to RAS+";  // the one order that turns
    if (network.grid.resamples()) {
        if (!text.empty()) text += "; ";
        text += "resampled from " + mm_text(network.turn.permuted(image.spacing())) + " (" +
                dims_text(network.grid.source) + ") to the model's " +
                mm_text(manifest.spacing_mm) + " (" + dims_text(network.grid.model) +
                "), and the map back";
    }
    return text;
}

Result<Volume> run_sliding_window(const Volume& image, const ModelManifest& manifest,
                                  const WindowSettings& settings, const Network& network) {
    auto job = SlidingWindowInference::start(image, manifest, settings);
    if (!job) return job.error();
    while (!job->finished()) {
        auto output = network(job->next_input(), job->input_shape());
        if (!output) return output.error();
        if (Status accepted = job->accept_output(*output); !accepted) return accepted.error();
    }
    return job->probability();
}

}  // namespace cls::inference
