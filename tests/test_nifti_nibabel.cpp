// Reading NIfTI files as nibabel reads them. tests/reference/make_nibabel_fixtures.py writes
// small files with nibabel (every datatype, both versions, .nii and .nii.gz, big-endian,
// scaled, oblique, flipped, qform-only, no transform, 4D) and records in expected.json what
// nibabel reads back; each file goes through the same path as the CLI (io::load_nifti).

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cls/io/file.hpp"
#include "cls/nifti.hpp"

namespace {

using nlohmann::json;
namespace fs = std::filesystem;

// Values are stored as float32 (see Volume); nibabel's are float64.
constexpr double kFloat32Relative = 1e-6;
constexpr double kAffineTolerance = 1e-5;

::testing::AssertionResult near_relative(double actual, double expected, double scale) {
    const double tolerance = kFloat32Relative * std::max(scale, 1e-30);
    if (std::abs(actual - expected) <= tolerance) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure()
           << actual << " differs from nibabel's " << expected << " by more than " << tolerance;
}

void expect_header_matches(const cls::nifti::Header& header, const json& expected) {
    EXPECT_EQ(header.version, expected.at("version") == 1 ? cls::nifti::Version::nifti1
                                                          : cls::nifti::Version::nifti2);
    EXPECT_EQ(header.big_endian, expected.at("big_endian").get<bool>());
    EXPECT_EQ(cls::nifti::datatype_name(header.datatype), expected.at("datatype"));
    EXPECT_EQ(header.dims, expected.at("shape").get<std::vector<std::int64_t>>());
    const auto zooms = expected.at("zooms").get<std::vector<double>>();
    ASSERT_EQ(header.pixdim.size(), zooms.size());
    for (std::size_t i = 0; i < zooms.size(); ++i) {
        EXPECT_TRUE(near_relative(header.pixdim[i], zooms[i], std::abs(zooms[i])))
            << "pixdim[" << i + 1 << "]";
    }
}

void expect_geometry_matches(const cls::Volume& volume, const json& expected) {
    const auto shape = expected.at("shape").get<std::vector<std::int64_t>>();
    for (std::size_t axis = 0; axis < 3; ++axis) {
        EXPECT_EQ(volume.dims()[axis], axis < shape.size() ? shape[axis] : 1) << "axis " << axis;
    }
    EXPECT_EQ(volume.source_volumes(), expected.at("volumes").get<std::int64_t>());

    const json& affine = expected.at("affine");
    for (int r = 0; r < 4; ++r) {
        for (int c = 0; c < 4; ++c) {
            EXPECT_NEAR(volume.affine()(r, c), affine.at(r).at(c).get<double>(), kAffineTolerance)
                << "affine(" << r << ", " << c << ")";
        }
    }
    const auto zooms = expected.at("zooms").get<std::vector<double>>();
    for (std::size_t axis = 0; axis < 3 && axis < zooms.size(); ++axis) {
        EXPECT_TRUE(near_relative(volume.spacing()[axis], zooms[axis], zooms[axis]))
            << "spacing " << axis;
    }
}

void expect_values_match(const cls::Volume& volume, const json& expected) {
    const std::vector<float>& values = volume.values();
    ASSERT_FALSE(values.empty());
    double sum = 0.0;
    double magnitude = 0.0;  // the scale of the rounding in a sum, which may cancel to ~0
    for (const float v : values) {
        sum += v;
        magnitude += std::abs(v);
    }
    const auto [min, max] = std::ranges::minmax(values);
    const double count = static_cast<double>(values.size());
    const auto reference = [&](const char* key) { return expected.at(key).get<double>(); };

    EXPECT_TRUE(near_relative(min, reference("min"), std::abs(reference("min")))) << "min";
    EXPECT_TRUE(near_relative(max, reference("max"), std::abs(reference("max")))) << "max";
    EXPECT_TRUE(near_relative(sum, reference("sum"), magnitude)) << "sum";
    EXPECT_TRUE(near_relative(sum / count, reference("mean"), magnitude / count)) << "mean";

    for (const json& sample : expected.at("samples")) {
        const auto index = sample.at("index").get<std::vector<std::int64_t>>();
        const double value = sample.at("value").get<double>();
        EXPECT_TRUE(near_relative(volume.at(index[0], index[1], index[2]), value, std::abs(value)))
            << "voxel (" << index[0] << ", " << index[1] << ", " << index[2] << ")";
    }
}

TEST(NiftiNibabel, ReadsEveryFixtureAsNibabelDoes) {
    const char* reference_dir = std::getenv("CLS_REFERENCE_DIR");
    if (reference_dir == nullptr) {
        GTEST_SKIP() << "CLS_REFERENCE_DIR is not set; run through ctest, which first writes the "
                        "fixtures with tests/reference/make_nibabel_fixtures.py";
    }
    const fs::path dir = fs::path(reference_dir) / "nibabel";
    std::ifstream stream(dir / "expected.json");
    ASSERT_TRUE(stream) << "cannot open " << (dir / "expected.json").string();
    const json expected = json::parse(stream);
    const json& files = expected.at("files");
    ASSERT_GE(files.size(), 40u) << "fewer fixtures than the script writes";

    for (const json& file : files) {
        const std::string name = file.at("name");
        SCOPED_TRACE(name);
        const auto loaded = cls::io::load_nifti(dir / name);
        ASSERT_TRUE(loaded) << loaded.error().message;
        const cls::nifti::Image& image = loaded->image;
        expect_header_matches(image.header, file);
        expect_geometry_matches(image.volume, file);
        expect_values_match(image.volume, file);
    }
}

}  // namespace
