// Slices are data before they are pixels: this turns one slice of the loaded volumes into an
// RGBA buffer, with every overlay composited, in plain testable C++. GL only uploads it.
// Layers, bottom to top: the image under a window/level (or the probability map in grey when
// there is no image), the probability heat map, the mask at 0.5, the mask at the calibrated
// tau, the difference ("voxels the guarantee adds" over 0.5, and those it drops), and the
// label's contour.
#pragma once

#include <cstdint>
#include <vector>

#include "cls/region_of_interest.hpp"
#include "cls/volume.hpp"
#include "slice_geometry.hpp"

namespace cls::app {

struct SliceLayers {
    const Volume* image = nullptr;  // any of them may be missing
    const Volume* probability = nullptr;
    const Volume* label = nullptr;
    // The region of interest's volume: outside it the map reads 0, as calibration reads it
    // (cls/region_of_interest.hpp), so no overlay marks a voxel there.
    const Volume* region = nullptr;
};

struct OverlaySettings {
    double window_center = 0.5;
    double window_width = 1.0;
    bool heat_map = true;
    float heat_opacity = 0.5f;
    bool label_contour = true;
    float label_opacity = 1.0f;
    bool tau_mask = true;
    float tau_opacity = 0.35f;
    bool fixed_mask = false;
    float fixed_opacity = 0.35f;
    bool difference = true;  // highlight voxels in one mask and not the other
    float difference_opacity = 0.8f;
    double tau = 0.5;  // +inf: the calibrated mask is empty
    double fixed_threshold = 0.5;
    RegionOfInterest region = RegionOfInterest::none;  // which of a case's volumes restricts p

    bool operator==(const OverlaySettings&) const = default;
};

// Packed 0xAABBGGRR, the byte order RGBA8 textures expect on little-endian machines.
using Rgba = std::uint32_t;
constexpr Rgba rgba(std::uint8_t r, std::uint8_t g, std::uint8_t b, std::uint8_t a = 255) {
    return static_cast<Rgba>(r) | static_cast<Rgba>(g) << 8 | static_cast<Rgba>(b) << 16 |
           static_cast<Rgba>(a) << 24;
}

inline constexpr Rgba kTauColour = rgba(0, 200, 255);      // the calibrated mask
inline constexpr Rgba kFixedColour = rgba(255, 210, 0);    // the 0.5 mask
inline constexpr Rgba kAddedColour = rgba(255, 0, 255);    // in tau's mask, not 0.5's
inline constexpr Rgba kDroppedColour = rgba(255, 120, 0);  // in 0.5's mask, not tau's
inline constexpr Rgba kLabelColour = rgba(0, 255, 0);

struct SliceImage {
    int width = 0;
    int height = 0;
    std::vector<Rgba> pixels;  // row-major, row 0 at the top
};

// Renders the slice of `geometry` through `slice` (a coordinate along its normal axis).
// All present layers must share the geometry's grid (the case store guarantees it).
void render_slice(const SliceLayers& layers, const SliceGeometry& geometry, std::int64_t slice,
                  const OverlaySettings& settings, SliceImage& out);

// Window/level presets: the image's 1st–99th percentile (robust to outliers) and full range.
struct Window {
    double center;
    double width;
};
[[nodiscard]] Window percentile_window(const Volume& image, double low = 0.01, double high = 0.99);
[[nodiscard]] Window full_range_window(const Volume& image);

}  // namespace cls::app
