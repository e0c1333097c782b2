#include "cls/synth.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

#include "cls/random.hpp"

namespace cls {
namespace {

// An axis-aligned ellipsoid in voxel coordinates.
struct Blob {
    Eigen::Vector3d centre;
    Eigen::Vector3d radii;
    double strength;  // how strongly the simulated model responds to it (see response())

    // 0 at the centre, 1 on the surface.
    [[nodiscard]] double normalised_radius(const Eigen::Vector3d& p) const {
        return (p - centre).cwiseQuotient(radii).norm();
    }
};

Blob random_blob(Random& rng, double size, double head_radius, double strength) {
    // Centres stay well inside the head so lesions sit in tissue, never in the background.
    Eigen::Vector3d offset;
    do {
        offset = {rng.uniform(-1, 1), rng.uniform(-1, 1), rng.uniform(-1, 1)};
    } while (offset.norm() > 1.0);
    const double max_radius = std::max(1.5, 0.09 * size);
    const Eigen::Vector3d radii{rng.uniform(1.0, max_radius), rng.uniform(1.0, max_radius),
                                rng.uniform(1.0, max_radius)};
    const Eigen::Vector3d centre =
        Eigen::Vector3d::Constant((size - 1) / 2) + 0.6 * head_radius * offset;
    return {centre, radii, strength};
}

double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

// The simulated network's logit response to a blob at normalised radius r: strong inside,
// half-hearted on the surface (where real models miss most voxels), fading outside.
double response(double strength, double r) { return 8.0 * strength * sigmoid(4.0 * (1.0 - r)); }

}  // namespace

SynthCase synth_case(const SynthSettings& settings, int index) {
    // Cases depend on (seed, index) only: SplitMix64 seeding decorrelates neighbouring seeds.
    Random rng(settings.seed * 0x9e3779b97f4a7c15ULL + static_cast<std::uint64_t>(index));
    const std::int64_t n = settings.size;
    const double size = static_cast<double>(n);
    const double head_radius = 0.42 * size;

    // A 1 mm grid centred on the world origin, in RAS+ like most scanners' NIfTI output.
    Affine affine = Affine::Identity();
    affine.block<3, 1>(0, 3) = Eigen::Vector3d::Constant(-(size - 1) / 2);

    SynthCase result{.name =
                         [&] {
                             char name[32];
                             std::snprintf(name, sizeof name, "case_%03d", index);
                             return std::string(name);
                         }(),
                     .image = Volume({n, n, n}, affine),
                     .label = Volume({n, n, n}, affine),
                     .probability = Volume({n, n, n}, affine)};

    // Model quality varies per case: a weak case has lesions the model misses at 0.5.
    const double case_quality = rng.uniform(0.5, 1.4);
    const bool empty_mask = rng.uniform() < 0.15;
    const int lesion_count = empty_mask ? 0 : 1 + static_cast<int>(rng.below(4));
    std::vector<Blob> lesions, mimics;
    for (int i = 0; i < lesion_count; ++i) {
        lesions.push_back(
            random_blob(rng, size, head_radius, case_quality * rng.uniform(0.6, 1.3)));
    }
    // Bright non-lesion structures the model partly mistakes for lesions (false positives).
    const int mimic_count = static_cast<int>(rng.below(3));
    for (int i = 0; i < mimic_count; ++i)
        mimics.push_back(random_blob(rng, size, head_radius, rng.uniform(0.2, 0.8)));
    const double contrast = rng.uniform(0.2, 0.6);
    const Eigen::Vector3d texture_phase{rng.uniform(0, 6.3), rng.uniform(0, 6.3),
                                        rng.uniform(0, 6.3)};
    const double bias = -5.0;

    const Eigen::Vector3d head_centre = Eigen::Vector3d::Constant((size - 1) / 2);
    for (std::int64_t z = 0; z < n; ++z) {
        for (std::int64_t y = 0; y < n; ++y) {
            for (std::int64_t x = 0; x < n; ++x) {
                const Eigen::Vector3d p(static_cast<double>(x), static_cast<double>(y),
                                        static_cast<double>(z));
                const bool in_head = (p - head_centre).norm() < head_radius;
                double intensity = 0.0;
                if (in_head) {
                    const Eigen::Vector3d u = p / size * 6.0 + texture_phase;
                    intensity = 0.6 + 0.05 * (std::sin(u.x()) * std::cos(u.y()) + std::sin(u.z()));
                }
                double logit = bias;
                bool lesion = false;
                for (const Blob& b : lesions) {
                    const double r = b.normalised_radius(p);
                    lesion = lesion || r <= 1.0;
                    logit += response(b.strength, r);
                    if (r <= 1.0) intensity += contrast * (1.0 - 0.5 * r);
                }
                for (const Blob& b : mimics) {
                    const double r = b.normalised_radius(p);
                    logit += response(b.strength, r);
                    if (r <= 1.0) intensity += 0.5 * contrast;
                }
                logit += 0.5 * rng.normal();
                result.image.at(x, y, z) = static_cast<float>(intensity + 0.03 * rng.normal());
                result.label.at(x, y, z) = lesion ? 1.0f : 0.0f;
                result.probability.at(x, y, z) = static_cast<float>(sigmoid(logit));
            }
        }
    }
    return result;
}

}  // namespace cls
