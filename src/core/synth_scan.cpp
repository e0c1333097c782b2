#include "cls/synth_scan.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numbers>
#include <vector>

#include "cls/random.hpp"

namespace cls {
namespace {

using Eigen::Vector3d;

// Distinct from synth_case's stream, so a scan set and a probability set made with the same
// seed are unrelated.
constexpr std::uint64_t kStreamSalt = 0x5ca7'f1a1'0000'0001ULL;

double smoothstep(double edge0, double edge1, double x) {
    const double t = std::clamp((x - edge0) / (edge1 - edge0), 0.0, 1.0);
    return t * t * (3.0 - 2.0 * t);
}

Vector3d random_direction(Random& rng) {
    Vector3d d;
    do {
        d = {rng.uniform(-1, 1), rng.uniform(-1, 1), rng.uniform(-1, 1)};
    } while (d.norm() > 1.0 || d.norm() < 1e-3);
    return d.normalized();
}

// A sum of plane waves with random directions, periods and phases: a smooth random field,
// used for tissue texture, the bias field and wavy surfaces.
class Waves {
public:
    Waves() = default;
    Waves(Random& rng, int count, double min_period, double max_period, double amplitude) {
        for (int i = 0; i < count; ++i) {
            const double period = rng.uniform(min_period, max_period);
            waves_.push_back({random_direction(rng) * (2.0 * std::numbers::pi / period),
                              rng.uniform(0.0, 2.0 * std::numbers::pi)});
        }
        // sin has variance 1/2: the sum has standard deviation `amplitude`.
        amplitude_ = count > 0 ? amplitude * std::sqrt(2.0 / count) : 0.0;
    }

    [[nodiscard]] double operator()(const Vector3d& p) const {
        double sum = 0.0;
        for (const Wave& w : waves_) sum += std::sin(w.k.dot(p) + w.phase);
        return amplitude_ * sum;
    }

private:
    struct Wave {
        Vector3d k;
        double phase;
    };
    std::vector<Wave> waves_;
    double amplitude_ = 0.0;
};

struct Ellipsoid {
    Vector3d centre;
    Vector3d radii;

    // 0 at the centre, 1 on the surface.
    [[nodiscard]] double normalised_radius(const Vector3d& p) const {
        return (p - centre).cwiseQuotient(radii).norm();
    }
};

// How much of a structure's contrast a voxel at normalised radius q shows: full in the core,
// fading across the surface (q = 1 shows about a third), so lesion edges are ambiguous the
// way partial-volume edges are.
double profile(double q) { return smoothstep(1.2, 0.7, q); }

// A bright structure: a union of ellipsoids with a wavy surface (lesions, dots, cortical
// patches) or a tube along a segment (vessel-like mimics).
struct Structure {
    std::vector<Ellipsoid> parts;
    Vector3d tube_start, tube_end;
    double tube_radius = 0.0;  // > 0 for a tube
    Waves surface;             // relative perturbation of the normalised radius
    double contrast = 0.0;     // relative intensity increase in the core
    Vector3d bound_centre;
    double bound_radius = 0.0;  // no voxel farther than this shows the structure

    [[nodiscard]] bool near(const Vector3d& p) const {
        return (p - bound_centre).squaredNorm() <= bound_radius * bound_radius;
    }

    [[nodiscard]] double normalised_radius(const Vector3d& p) const {
        double q;
        if (tube_radius > 0.0) {
            const Vector3d axis = tube_end - tube_start;
            const double t = std::clamp((p - tube_start).dot(axis) / axis.squaredNorm(), 0.0, 1.0);
            q = (p - (tube_start + t * axis)).norm() / tube_radius;
        } else {
            q = parts.front().normalised_radius(p);
            for (const Ellipsoid& e : parts) q = std::min(q, e.normalised_radius(p));
        }
        return q * (1.0 + surface(p));
    }

    void bound() {
        if (tube_radius > 0.0) {
            bound_centre = 0.5 * (tube_start + tube_end);
            bound_radius = 0.5 * (tube_end - tube_start).norm() + 1.5 * tube_radius + 1.0;
            return;
        }
        bound_centre = parts.front().centre;
        for (const Ellipsoid& e : parts) {
            // Surfaces wave by at most ~15%, and profile() reaches 0 at q = 1.2.
            bound_radius = std::max(
                bound_radius, (e.centre - bound_centre).norm() + 1.5 * e.radii.maxCoeff() + 1.0);
        }
    }
};

struct Head {
    Vector3d centre;
    Vector3d radii;  // of the brain
    Waves shape;     // relative perturbation of the brain's outline
    Ellipsoid ventricles[2];

    [[nodiscard]] double brain_radius(const Vector3d& p) const {
        return (p - centre).cwiseQuotient(radii).norm() * (1.0 + shape(p));
    }
    [[nodiscard]] double ventricle_weight(const Vector3d& p) const {
        const double q =
            std::min(ventricles[0].normalised_radius(p), ventricles[1].normalised_radius(p));
        return smoothstep(1.1, 0.9, q);
    }
    // A voxel position well inside the brain, outside the ventricles, snapped to the grid so
    // that a lesion centred there labels at least that voxel.
    [[nodiscard]] Vector3d tissue_point(Random& rng, double max_radius) const {
        for (int attempt = 0;; ++attempt) {
            Vector3d offset;
            do {
                offset = {rng.uniform(-1, 1), rng.uniform(-1, 1), rng.uniform(-1, 1)};
            } while (offset.norm() > 1.0);
            const Vector3d p =
                (centre + max_radius * offset.cwiseProduct(radii)).array().round().matrix();
            if (attempt > 200 || (brain_radius(p) < 0.9 && ventricle_weight(p) == 0.0 &&
                                  std::min(ventricles[0].normalised_radius(p),
                                           ventricles[1].normalised_radius(p)) > 1.3)) {
                return p;
            }
        }
    }
};

Head random_head(Random& rng, double size) {
    const Vector3d middle = Vector3d::Constant((size - 1) / 2);
    // Room for about 7 voxels of fluid, skull and scalp around the brain.
    const double radius = std::max(0.25 * size, 0.5 * size - 8.0);
    Head head;
    head.centre = middle + Vector3d(rng.uniform(-1, 1), rng.uniform(-1, 1), rng.uniform(-1, 1));
    head.radii =
        radius * Vector3d(rng.uniform(0.86, 0.94), rng.uniform(0.94, 1.0), rng.uniform(0.84, 0.92));
    head.shape = Waves(rng, 4, 0.3 * size, 0.7 * size, 0.025);
    const double scale = rng.uniform(0.6, 1.3);
    const Vector3d r = head.radii;
    for (int side = 0; side < 2; ++side) {
        const double sign = side == 0 ? -1.0 : 1.0;
        head.ventricles[side] = {
            head.centre + Vector3d(sign * 0.13 * r.x(), 0.05 * r.y(), 0.1 * r.z()),
            scale * Vector3d(0.09 * r.x(), 0.33 * r.y(), 0.14 * r.z()) * rng.uniform(0.85, 1.15)};
        head.ventricles[side].radii = head.ventricles[side].radii.cwiseMax(1.0);
    }
    return head;
}

Structure random_lesion(Random& rng, const Head& head, double size, double visibility) {
    Structure lesion;
    const double max_radius = std::clamp(0.16 * size, 1.5, 8.0);
    const double r0 = std::exp(rng.uniform(std::log(1.2), std::log(max_radius)));
    const Vector3d centre = head.tissue_point(rng, 0.72);
    lesion.parts.push_back({centre, (r0 * Vector3d(rng.uniform(0.75, 1.25), rng.uniform(0.75, 1.25),
                                                   rng.uniform(0.75, 1.25)))
                                        .cwiseMax(1.0)
                                        .cwiseMin(9.0)});
    // Blobby: sometimes one or two satellites merged with the main body.
    const int satellites = rng.uniform() < 0.5 ? 0 : 1 + static_cast<int>(rng.below(2));
    for (int i = 0; i < satellites; ++i) {
        lesion.parts.push_back(
            {centre + 0.7 * r0 * random_direction(rng),
             (r0 * Vector3d(rng.uniform(0.4, 0.8), rng.uniform(0.4, 0.8), rng.uniform(0.4, 0.8)))
                 .cwiseMax(1.0)});
    }
    lesion.surface = Waves(rng, 3, 2.0 * r0 + 2.0, 4.0 * r0 + 4.0, 0.06);
    // Contrast mixes the case's visibility with the lesion's own: some cases are hard overall.
    const double w = std::clamp(0.5 * visibility + 0.5 * rng.uniform(), 0.0, 1.0);
    lesion.contrast = 0.12 + 0.88 * w;
    lesion.bound();
    return lesion;
}

Structure random_mimic(Random& rng, const Head& head, double size) {
    Structure mimic;
    const double kind = rng.uniform();
    if (kind < 0.45) {
        // A vessel: a thin bright tube.
        const Vector3d start = head.tissue_point(rng, 0.8);
        mimic.tube_start = start;
        mimic.tube_end =
            start + rng.uniform(6.0, std::max(7.0, 0.3 * size)) * random_direction(rng);
        mimic.tube_radius = rng.uniform(0.7, 1.3);
        mimic.contrast = rng.uniform(0.4, 0.9);
    } else if (kind < 0.8) {
        // A bright cortical patch just under the brain's surface.
        const Vector3d d = random_direction(rng);
        const Vector3d centre = head.centre + rng.uniform(0.86, 0.94) * d.cwiseProduct(head.radii);
        mimic.parts.push_back({centre, Vector3d(rng.uniform(1.5, 5.0), rng.uniform(1.5, 5.0),
                                                rng.uniform(1.5, 5.0))});
        mimic.contrast = rng.uniform(0.3, 0.7);
    } else {
        // A small, very bright dot.
        mimic.parts.push_back(
            {head.tissue_point(rng, 0.8), Vector3d::Constant(rng.uniform(0.9, 1.6))});
        mimic.contrast = rng.uniform(1.0, 1.5);
    }
    mimic.bound();
    return mimic;
}

// Fluid, skull and scalp at `depth` voxels outside the brain's outline (FLAIR: dark fluid,
// darker bone, brighter fat), fading to an empty background.
double outside_brain(double depth) {
    return 0.2 + (0.06 - 0.2) * smoothstep(1.0, 2.0, depth) +
           (0.55 - 0.06) * smoothstep(3.5, 4.5, depth) - 0.55 * smoothstep(6.0, 7.0, depth);
}

}  // namespace

SynthScan synth_scan(const SynthSettings& settings, int index) {
    Random rng((settings.seed * 0x9e3779b97f4a7c15ULL + static_cast<std::uint64_t>(index)) ^
               kStreamSalt);
    const std::int64_t n = settings.size;
    const double size = static_cast<double>(n);

    // The same grid as synth_case: 1 mm voxels, RAS+, centred on the world origin.
    Affine affine = Affine::Identity();
    affine.block<3, 1>(0, 3) = Vector3d::Constant(-(size - 1) / 2);
    char name[32];
    std::snprintf(name, sizeof name, "case_%03d", index);
    SynthScan result{
        .name = name, .image = Volume({n, n, n}, affine), .label = Volume({n, n, n}, affine)};

    const Head head = random_head(rng, size);
    const double mean_radius = head.radii.mean();
    const Waves texture(rng, 6, 5.0, 14.0, 0.06);
    const Waves fine_texture(rng, 4, 2.5, 4.0, 0.02);
    const Waves bias(rng, 3, 1.5 * size, 4.0 * size, rng.uniform(0.08, 0.2));
    const double gain = rng.uniform(200.0, 2000.0);
    const double noise = rng.uniform(0.02, 0.06);

    const bool lesion_free = rng.uniform() < 0.15;
    const int lesion_count = lesion_free ? 0 : 1 + static_cast<int>(rng.below(5));
    const double visibility = rng.uniform();
    std::vector<Structure> lesions, mimics;
    for (int i = 0; i < lesion_count; ++i)
        lesions.push_back(random_lesion(rng, head, size, visibility));
    const int mimic_count = static_cast<int>(rng.below(4));
    for (int i = 0; i < mimic_count; ++i) mimics.push_back(random_mimic(rng, head, size));

    for (std::int64_t z = 0; z < n; ++z) {
        for (std::int64_t y = 0; y < n; ++y) {
            for (std::int64_t x = 0; x < n; ++x) {
                const Vector3d p(static_cast<double>(x), static_cast<double>(y),
                                 static_cast<double>(z));
                const double q = head.brain_radius(p);
                const double depth = (q - 1.0) * mean_radius;  // voxels outside the brain
                double value = outside_brain(std::max(depth, 0.0));
                bool lesion = false;
                if (depth < 0.5) {
                    const double fluid = head.ventricle_weight(p);
                    // White matter, a brighter cortical ribbon, texture; fluid is suppressed.
                    double tissue =
                        0.85 + 0.12 * smoothstep(0.8, 0.93, q) + texture(p) + fine_texture(p);
                    tissue += (0.2 - tissue) * fluid;
                    double brighter = 0.0;
                    for (const Structure& s : lesions) {
                        if (!s.near(p)) continue;
                        const double r = s.normalised_radius(p);
                        brighter = std::max(brighter, s.contrast * profile(r));
                        // Labels stay in tissue: voxels in fluid would be invisible to a model.
                        lesion = lesion || (r <= 1.0 && q < 0.97 && fluid < 0.5);
                    }
                    for (const Structure& s : mimics) {
                        if (s.near(p))
                            brighter =
                                std::max(brighter, s.contrast * profile(s.normalised_radius(p)));
                    }
                    tissue *= 1.0 + brighter * (1.0 - fluid);
                    const double inside = smoothstep(0.5, -0.5, depth);
                    value = inside * tissue + (1.0 - inside) * value;
                }
                const double signal = gain * std::exp(bias(p)) * value;
                // Rician: the magnitude of the signal plus complex Gaussian noise.
                const double re = signal + gain * noise * rng.normal();
                const double im = gain * noise * rng.normal();
                result.image.at(x, y, z) = static_cast<float>(std::hypot(re, im));
                result.label.at(x, y, z) = lesion ? 1.0f : 0.0f;
            }
        }
    }
    return result;
}

}  // namespace cls
