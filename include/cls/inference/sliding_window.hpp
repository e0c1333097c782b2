// Sliding-window inference, planned and blended in C++ while something else runs the network
// (ONNX Runtime Web in the page, onnxruntime-node in batch): the image is normalised as the
// manifest says, padded up to one patch where it is smaller, cut into patches that overlap by
// a fraction (0.5 by default, as nnU-Net), and each patch's lesion probabilities are weighted
// by a Gaussian importance map (sigma = 1/8 of the patch, as nnU-Net) and blended. Optional
// mirror test-time augmentation runs every patch under all 8 axis flips and averages them.
// The runner is a job: it hands out one network input at a time and takes back the output, so
// a frame loop never waits for the network. Patches wholly in the background, as the manifest's
// `skip_background` says, are not handed out (but the first one is when all are, so that every
// job has at least one input): they are blended as if the network had answered
// probability 0, with their full Gaussian weight, in plan order. Where a skipped patch overlaps
// a run one, the blend is then w_run p / (w_run + w_skipped): what running the network would
// give if it answered exactly 0 on that background (a trained network answers about 0 there),
// not the run patch's answer alone.
// [X] sigmoid / softmax / plain outputs, padding, overlap in [0, 1), mirror TTA
// [X] background patches skipped (all at the normalised minimum; no non-zero voxel)
// [X] resampling to the manifest's spacing and back (cls/inference/resampling.hpp): the plan,
//     the patches and the skipping work on the model grid; probability() is on the image's
// [X] the manifest's axis order (cls/inference/axis_order.hpp): reoriented before resampling
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "cls/inference/model_manifest.hpp"
#include "cls/inference/resampling.hpp"
#include "cls/result.hpp"
#include "cls/volume.hpp"

namespace cls::inference {

struct WindowSettings {
    double overlap = 0.5;  // fraction of a patch shared with its neighbour, in [0, 1)
    bool mirror = false;   // test-time augmentation by axis flips (8 runs per patch)
};

// Where the patches go, in the volume's (x, y, z) axis order.
struct WindowPlan {
    Dims image{};       // the image's dimensions on the model grid
    Dims padded{};      // at least one patch along every axis
    Dims pad_before{};  // the image's offset in the padded grid (padding is centred)
    Dims patch{};
    std::vector<Dims> origins;  // patch corners in the padded grid, x fastest
};

[[nodiscard]] Result<WindowPlan> plan_windows(const Dims& image, const Dims& patch, double overlap);

// The patch's blending weights, x fastest: a separable Gaussian centred on the patch with
// sigma = side / 8, scaled so its peak is 1. Symmetric, so flipped runs weigh alike.
[[nodiscard]] std::vector<float> gaussian_importance(const Dims& patch);

struct Flip {
    bool x = false, y = false, z = false;
};
// {no flip}, or all 8 combinations of axis flips for mirror augmentation.
[[nodiscard]] std::vector<Flip> mirror_flips(bool mirror);

// (x, y, z) patch dimensions from a manifest's [D, H, W].
[[nodiscard]] Dims patch_dims(const ModelManifest& manifest);

class SlidingWindowInference {
public:
    // Normalises `image` and plans the patches; fails on non-finite intensities or a manifest
    // that does not validate.
    [[nodiscard]] static Result<SlidingWindowInference> start(const Volume& image,
                                                              const ModelManifest& manifest,
                                                              const WindowSettings& settings);
    // The same for a model of several input channels: one volume per channel, in the
    // manifest's order, all on one grid (the core's rule); each normalised on its own.
    [[nodiscard]] static Result<SlidingWindowInference> start(
        std::span<const Volume* const> channels, const ModelManifest& manifest,
        const WindowSettings& settings);

    // Network runs: the patches not skipped, times the flips.
    [[nodiscard]] std::size_t run_count() const {
        return (plan_.origins.size() - skipped_patches_) * flips_.size();
    }
    [[nodiscard]] std::size_t runs_done() const { return runs_done_; }
    [[nodiscard]] bool finished() const { return cursor_ == plan_.origins.size() * flips_.size(); }
    [[nodiscard]] const WindowPlan& plan() const { return plan_; }
    // Patches of the plan blended as background without a network run.
    [[nodiscard]] std::size_t skipped_patches() const { return skipped_patches_; }

    // [1, channels, D, H, W], as the network's input tensor.
    [[nodiscard]] std::array<std::int64_t, 5> input_shape() const;
    // Floats the output tensor of one run must hold: output channels × patch voxels.
    [[nodiscard]] std::size_t output_size() const;
    // The input of run `runs_done()`, in NCDHW order (x fastest). Not valid once finished.
    [[nodiscard]] const std::vector<float>& next_input();
    // Blends the network's raw output for that run; a wrong size or non-finite values fail it.
    Status accept_output(std::span<const float> output);
    // The blended lesion probabilities on the image's own grid, once finished.
    [[nodiscard]] Volume probability() const;

private:
    SlidingWindowInference() = default;
    // Visits the padded-grid index of each voxel of run `run`'s patch, in tensor order.
    template <class Visit>
    void for_each_patch_voxel(std::size_t run, Visit visit) const;
    // Blends run `cursor_` with `probability(i)` for the patch's voxel i, and moves on.
    template <class Probability>
    void blend(Probability probability);
    // Blends skipped patches' runs as "no lesion" until the cursor is at one to run (or done).
    void pass_skipped();

    Reorientation turn_;  // the image's axes to the network's
    Dims image_dims_{};
    ModelGrid grid_;  // the image's grid (in the network's axis order) and the model's
    WindowPlan plan_;
    std::vector<Flip> flips_;
    ModelManifest manifest_;
    Affine affine_ = Affine::Identity();  // the image's, for the probability map
    std::array<double, 3> spacing_{};
    std::vector<float> padded_;   // the normalised, padded channels, one block each
    std::vector<float> weights_;  // the Gaussian importance map of one patch
    std::vector<float> blended_;  // sum of weight × probability over the padded grid
    std::vector<float> weight_sum_;
    std::vector<float> input_;
    std::vector<bool> skipped_;  // per patch of the plan
    std::size_t skipped_patches_ = 0;
    std::size_t cursor_ = 0;     // the next run of the plan, skipped or not: patch × flips
    std::size_t runs_done_ = 0;  // network runs taken back
};

// The bytes a job on `image` holds at its peak, before it is started: the normalised, padded
// channels, the blend and its weights on the model's grid, a channel's resampling copies and
// the map. For a memory check that must refuse before allocating.
[[nodiscard]] double window_memory_bytes(const Volume& image, const ModelManifest& manifest);

// What the network's grid does to `image`, for the user: "" when it runs on the image's own
// grid, else e.g. "reoriented to RAS; resampled from 0.5 x 0.5 x 0.5 mm (32 x 32 x 32) to the
// model's 1 x 1 x 1 mm (16 x 16 x 16), and the map back".
[[nodiscard]] std::string describe_network_grid(const Volume& image, const ModelManifest& manifest);

// Runs a whole inference at once through `network` (input tensor → output tensor): for
// tests, benchmarks and callers with a synchronous runtime.
using Network = std::function<Result<std::vector<float>>(std::span<const float> input,
                                                         const std::array<std::int64_t, 5>& shape)>;
[[nodiscard]] Result<Volume> run_sliding_window(const Volume& image, const ModelManifest& manifest,
                                                const WindowSettings& settings,
                                                const Network& network);

}  // namespace cls::inference
