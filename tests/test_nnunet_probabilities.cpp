// nnU-Net v2 probability arrays split into per-class volumes. The array is built here in
// nnU-Net's (C, z, y, x) C order from a formula of (c, i, j, k), so each voxel's expected
// value is known without the module's index arithmetic. numpy-written .npz files against
// nibabel-written NIfTIs are checked in test_nnunet_npz.cpp.

#include <gtest/gtest.h>

#include <Eigen/Geometry>
#include <string>
#include <vector>

#include "cls/nnunet_probabilities.hpp"

namespace {

using cls::Affine;
using cls::Dims;
using cls::Volume;

Affine oblique_affine() {
    Affine affine = Affine::Identity();
    const Eigen::Matrix3d rotation =
        Eigen::AngleAxisd(0.4, Eigen::Vector3d(1, 2, 3).normalized()).toRotationMatrix();
    affine.topLeftCorner<3, 3>() = rotation * Eigen::Vector3d(0.9, 1.1, 2.3).asDiagonal();
    affine.topRightCorner<3, 1>() = Eigen::Vector3d(12.5, -40.0, 7.25);
    return affine;
}

float value_of(std::int64_t c, std::int64_t i, std::int64_t j, std::int64_t k) {
    return static_cast<float>(1000 * c + 100 * i + 10 * j + k);
}

// A (classes, z, y, x) array for a reference of dims (x, y, z), in C order.
cls::npy::Array nnunet_array(std::int64_t classes, const Dims& dims) {
    cls::npy::Array array;
    array.shape = {classes, dims[2], dims[1], dims[0]};
    for (std::int64_t c = 0; c < classes; ++c) {
        for (std::int64_t k = 0; k < dims[2]; ++k) {
            for (std::int64_t j = 0; j < dims[1]; ++j) {
                for (std::int64_t i = 0; i < dims[0]; ++i)
                    array.values.push_back(value_of(c, i, j, k));
            }
        }
    }
    return array;
}

TEST(NnunetProbabilities, VoxelIjkOfChannelCIsArrayCkji) {
    const Dims dims{5, 6, 7};
    Volume reference(dims, oblique_affine());
    reference.set_spacing({0.9, 1.1, 2.3});
    const auto channels = cls::nnunet_probability_channels(nnunet_array(3, dims), reference);
    ASSERT_TRUE(channels) << channels.error().message;
    ASSERT_EQ(channels->size(), 3u);
    for (std::int64_t c = 0; c < 3; ++c) {
        const Volume& channel = (*channels)[static_cast<std::size_t>(c)];
        EXPECT_EQ(channel.dims(), dims);
        EXPECT_TRUE(channel.affine().isApprox(reference.affine(), 0.0));
        EXPECT_EQ(channel.spacing(), reference.spacing());
        for (std::int64_t k = 0; k < dims[2]; ++k) {
            for (std::int64_t j = 0; j < dims[1]; ++j) {
                for (std::int64_t i = 0; i < dims[0]; ++i) {
                    ASSERT_EQ(channel.at(i, j, k), value_of(c, i, j, k))
                        << "class " << c << " voxel " << i << "," << j << "," << k;
                }
            }
        }
    }
}

TEST(NnunetProbabilities, RefusesAGridMismatchNamingBothShapes) {
    const Volume reference(Dims{182, 218, 182}, Affine::Identity());
    cls::npy::Array array;
    array.shape = {2, 181, 218, 182};  // no values: the shape is refused before they are read
    const auto channels = cls::nnunet_probability_channels(array, reference);
    ASSERT_FALSE(channels);
    EXPECT_EQ(channels.error().message,
              "probabilities are 2x181x218x182 (classes, z, y, x as nnU-Net saves them) but "
              "the reference grid is 182x218x182");
}

TEST(NnunetProbabilities, RefusesTheArrayInNibabelOrder) {
    // (C, x, y, z), the order nibabel gives, is what nnU-Net's transpose avoids.
    const Volume reference(Dims{5, 6, 7}, Affine::Identity());
    cls::npy::Array array;
    array.shape = {2, 5, 6, 7};
    const auto channels = cls::nnunet_probability_channels(array, reference);
    ASSERT_FALSE(channels);
    EXPECT_EQ(channels.error().message,
              "probabilities are 2x5x6x7 (classes, z, y, x as nnU-Net saves them) but the "
              "reference grid is 5x6x7");
}

TEST(NnunetProbabilities, RefusesArraysThatAreNot4D) {
    const Volume reference(Dims{5, 6, 7}, Affine::Identity());
    cls::npy::Array array;
    array.shape = {7, 6, 5};
    const auto channels = cls::nnunet_probability_channels(array, reference);
    ASSERT_FALSE(channels);
    EXPECT_EQ(channels.error().message,
              "probabilities are 7x6x5, a 3D array, but nnU-Net saves 4D arrays (classes, z, y, "
              "x); the reference grid is 5x6x7");
}

TEST(NnunetProbabilities, RefusesZeroClasses) {
    const Volume reference(Dims{2, 2, 2}, Affine::Identity());
    cls::npy::Array array;
    array.shape = {0, 2, 2, 2};
    const auto channels = cls::nnunet_probability_channels(array, reference);
    ASSERT_FALSE(channels);
    EXPECT_EQ(channels.error().message, "probabilities have no classes (shape 0x2x2x2)");
}

std::vector<std::uint8_t> bytes_of(const std::string& text) { return {text.begin(), text.end()}; }

TEST(NnunetPlans, OnlyNibabelIOWithReorientPutsTheArraysOnTheRasGrid) {
    using cls::NnunetArrayGrid;
    using cls::read_nnunet_plans;
    EXPECT_EQ(*read_nnunet_plans(bytes_of(R"({"image_reader_writer": "NibabelIOWithReorient"})")),
              NnunetArrayGrid::ras);
    EXPECT_EQ(*read_nnunet_plans(bytes_of(R"({"image_reader_writer": "SimpleITKIO"})")),
              NnunetArrayGrid::file);
    EXPECT_EQ(*read_nnunet_plans(bytes_of(R"({"image_reader_writer": "NibabelIO"})")),
              NnunetArrayGrid::file);
    EXPECT_EQ(*read_nnunet_plans(bytes_of("{}")), NnunetArrayGrid::file);  // as the tests write
    for (const std::string bad : {"[1, 2]", "not json", ""}) {
        const auto plans = read_nnunet_plans(bytes_of(bad));
        ASSERT_FALSE(plans) << bad;
        EXPECT_EQ(plans.error().message, "is not nnU-Net's plans.json: not a JSON object");
    }
}

TEST(NnunetProbabilities, ARasGridArrayIsTurnedBackOntoTheReferencesGrid) {
    // i runs towards -R (LAS-like), j towards A, k towards S: the RAS grid reverses i only.
    Affine lar = Affine::Identity();
    lar(0, 0) = -1.0;
    const Volume reference(Dims{3, 2, 2}, lar);
    cls::npy::Array array;
    array.shape = {1, 2, 2, 3};
    for (int v = 0; v < 12; ++v) array.values.push_back(static_cast<float>(v));
    const auto channels =
        cls::nnunet_probability_channels(array, reference, cls::NnunetArrayGrid::ras);
    ASSERT_TRUE(channels) << channels.error().message;
    // Array (c, k, j, i') with i' = 2 - i: the file's voxel (i, j, k) is value k*6 + j*3 + 2 - i.
    for (int k = 0; k < 2; ++k)
        for (int j = 0; j < 2; ++j)
            for (int i = 0; i < 3; ++i)
                EXPECT_EQ(channels->front().at(i, j, k), static_cast<float>(k * 6 + j * 3 + 2 - i));
    // On the file's grid the same array would be read unflipped: the shape cannot tell.
    const auto unturned = cls::nnunet_probability_channels(array, reference);
    ASSERT_TRUE(unturned);
    EXPECT_EQ(unturned->front().at(0, 0, 0), 0.0f);
    EXPECT_EQ(channels->front().at(0, 0, 0), 2.0f);
}

}  // namespace
