#include <gtest/gtest.h>

#include "slice_geometry.hpp"

namespace cls::app {
namespace {

// A 4x3x2 grid whose voxel at (x, y, z) holds the value 100x + 10y + z.
Volume coded(const Affine& affine) {
    Volume v({4, 3, 2}, affine);
    for (std::int64_t z = 0; z < 2; ++z)
        for (std::int64_t y = 0; y < 3; ++y)
            for (std::int64_t x = 0; x < 4; ++x)
                v.at(x, y, z) = static_cast<float>(100 * x + 10 * y + z);
    return v;
}

float shown(const Volume& v, const SliceGeometry& g, int column, int row, std::int64_t slice) {
    return v.data()[g.linear_index(column, row, slice)];
}

TEST(WorldAxes, FindsPermutedAndFlippedAxes) {
    Affine lps = Affine::Identity();  // DICOM-like LPS storage: x and y point away from R and A
    lps(0, 0) = -1;
    lps(1, 1) = -1;
    const WorldAxes a = world_axes(lps);
    EXPECT_EQ(a.voxel_axis, (std::array<int, 3>{0, 1, 2}));
    EXPECT_EQ(a.reversed, (std::array<bool, 3>{true, true, false}));

    Affine permuted = Affine::Zero();  // voxel x runs S, voxel y runs R, voxel z runs A
    permuted(2, 0) = 2;
    permuted(0, 1) = 1;
    permuted(1, 2) = -3;
    permuted(3, 3) = 1;
    const WorldAxes b = world_axes(permuted);
    EXPECT_EQ(b.voxel_axis, (std::array<int, 3>{1, 2, 0}));
    EXPECT_EQ(b.reversed, (std::array<bool, 3>{false, true, false}));
}

TEST(SliceGeometry, AxialInRasIsRadiologicalWithAnteriorUp) {
    const Volume v = coded(Affine::Identity());
    const SliceGeometry g(v, View::axial, /*radiological=*/true);
    EXPECT_EQ(g.width(), 4);
    EXPECT_EQ(g.height(), 3);
    EXPECT_EQ(g.normal_axis(), 2);
    // Top-left shows the patient's right (largest x) and anterior (largest y).
    EXPECT_EQ(shown(v, g, 0, 0, 1), 100 * 3 + 10 * 2 + 1);
    EXPECT_EQ(shown(v, g, 3, 2, 0), 0);
    const SliceGeometry neurological(v, View::axial, false);
    EXPECT_EQ(shown(v, neurological, 0, 0, 0), 10 * 2);  // left x = 0, anterior y = 2
}

TEST(SliceGeometry, SameAnatomyWhateverTheStorageOrder) {
    // The same anatomy stored x-flipped: voxel x' = 3 - x with a flipped affine.
    const Volume ras = coded(Affine::Identity());
    Affine flipped_affine = Affine::Identity();
    flipped_affine(0, 0) = -1;
    flipped_affine(0, 3) = 3;
    Volume flipped = coded(flipped_affine);
    for (std::int64_t z = 0; z < 2; ++z)
        for (std::int64_t y = 0; y < 3; ++y)
            for (std::int64_t x = 0; x < 4; ++x) flipped.at(x, y, z) = ras.at(3 - x, y, z);
    // The same anatomical point: voxel (1, 2, 1) of one is voxel (2, 2, 1) of the other.
    const Voxel in_ras{1, 2, 1}, in_flipped{2, 2, 1};
    for (View view : kViews) {
        const SliceGeometry a(ras, view, true), b(flipped, view, true);
        ASSERT_EQ(a.width(), b.width());
        ASSERT_EQ(a.height(), b.height());
        const std::int64_t slice_a = in_ras[a.normal_axis()], slice_b = in_flipped[b.normal_axis()];
        for (int row = 0; row < a.height(); ++row)
            for (int column = 0; column < a.width(); ++column)
                EXPECT_EQ(shown(ras, a, column, row, slice_a),
                          shown(flipped, b, column, row, slice_b))
                    << view_name(view);
    }
}

TEST(SliceGeometry, CoronalAndSagitalOrientation) {
    const Volume v = coded(Affine::Identity());
    const SliceGeometry coronal(v, View::coronal, true);
    EXPECT_EQ(coronal.normal_axis(), 1);
    EXPECT_EQ(coronal.height(), 2);                      // rows run along z
    EXPECT_EQ(shown(v, coronal, 0, 0, 0), 100 * 3 + 1);  // right, superior
    const SliceGeometry sagittal(v, View::sagittal, true);
    EXPECT_EQ(sagittal.normal_axis(), 0);
    EXPECT_EQ(shown(v, sagittal, 0, 0, 0), 10 * 2 + 1);  // anterior on the left, superior up
}

TEST(SliceGeometry, PixelAndVoxelMapsAreInverse) {
    Affine a = Affine::Identity();
    a(1, 1) = -2.5;
    const Volume v = coded(a);
    for (View view : kViews) {
        const SliceGeometry g(v, view, true);
        for (int row = 0; row < g.height(); ++row)
            for (int column = 0; column < g.width(); ++column) {
                const Voxel voxel = g.voxel_at(column, row, {1, 1, 1});
                EXPECT_EQ(g.pixel_of(voxel), (std::array<int, 2>{column, row}));
            }
    }
    EXPECT_DOUBLE_EQ(SliceGeometry(v, View::axial, true).pixel_height_mm(), 2.5);
}

}  // namespace
}  // namespace cls::app
