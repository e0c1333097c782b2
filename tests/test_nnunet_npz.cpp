// nnU-Net v2's .npz probability files through the native edge (io::load_nnunet_npz, libzip).
// tests/reference/make_npz_fixtures.py writes them with nnU-Net's own savez call, key, dtype
// and axis order, and writes each class again as a NIfTI with nibabel; the channels read here
// must equal those NIfTIs voxel for voxel, on the reference's grid and affine.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cls/io/file.hpp"
#include "cls/io/npz.hpp"
#include "cls/reorientation.hpp"
#include "cls/sha256.hpp"

namespace {

namespace fs = std::filesystem;

fs::path fixture_dir() {
    const char* dir = std::getenv("CLS_REFERENCE_DIR");
    return dir == nullptr ? fs::path() : fs::path(dir) / "npz";
}

#define REQUIRE_FIXTURES()                                                                     \
    if (fixture_dir().empty()) {                                                               \
        GTEST_SKIP() << "CLS_REFERENCE_DIR is not set; run through ctest, which first writes " \
                        "the fixtures with tests/reference/make_npz_fixtures.py";              \
    }

cls::Volume reference_volume(const fs::path& dir = fixture_dir()) {
    auto loaded = cls::io::load_nifti(dir / "reference.nii");
    EXPECT_TRUE(loaded) << loaded.error().message;
    return loaded ? loaded->image.volume : cls::Volume();
}

// `tolerance` 0: exact; float16 files differ from the float32 NIfTIs by their rounding. The
// reference and the expected classes lie beside the .npz.
void expect_channels_match_nibabel(const fs::path& npz, double relative_tolerance) {
    const fs::path dir = npz.parent_path();
    const cls::Volume reference = reference_volume(dir);
    const auto loaded = cls::io::load_nnunet_npz(npz, reference);
    ASSERT_TRUE(loaded) << loaded.error().message;
    ASSERT_EQ(loaded->channels.size(), 3u);
    const auto bytes = cls::io::read_file(npz);
    ASSERT_TRUE(bytes);
    EXPECT_EQ(loaded->sha256, cls::sha256_hex(*bytes));
    for (std::size_t c = 0; c < 3; ++c) {
        const auto expected =
            cls::io::load_nifti(dir / ("case_class" + std::to_string(c) + ".nii"));
        ASSERT_TRUE(expected) << expected.error().message;
        const cls::Volume& want = expected->image.volume;
        const cls::Volume& got = loaded->channels[c];
        ASSERT_EQ(got.dims(), want.dims());
        EXPECT_TRUE(cls::same_grid(got, want, 1e-9)) << "class " << c;
        EXPECT_EQ(got.spacing(), reference.spacing());
        for (std::int64_t k = 0; k < want.dims()[2]; ++k) {
            for (std::int64_t j = 0; j < want.dims()[1]; ++j) {
                for (std::int64_t i = 0; i < want.dims()[0]; ++i) {
                    const float w = want.at(i, j, k);
                    if (relative_tolerance == 0.0) {
                        ASSERT_EQ(got.at(i, j, k), w) << npz.filename() << " class " << c
                                                      << " voxel " << i << "," << j << "," << k;
                    } else {
                        ASSERT_NEAR(got.at(i, j, k), w, relative_tolerance * std::abs(w) + 1e-7)
                            << npz.filename() << " class " << c << " voxel " << i << "," << j << ","
                            << k;
                    }
                }
            }
        }
    }
}

TEST(NnunetNpz, Float32EqualsTheNibabelChannelsVoxelForVoxel) {
    REQUIRE_FIXTURES();
    expect_channels_match_nibabel(fixture_dir() / "case.npz", 0.0);
}

TEST(NnunetNpz, FortranOrderedEqualsTheNibabelChannels) {
    REQUIRE_FIXTURES();
    expect_channels_match_nibabel(fixture_dir() / "case_fortran.npz", 0.0);
}

TEST(NnunetNpz, StoredNotDeflatedEqualsTheNibabelChannels) {
    REQUIRE_FIXTURES();
    expect_channels_match_nibabel(fixture_dir() / "case_stored.npz", 0.0);
}

TEST(NnunetNpz, Float16EqualsTheNibabelChannelsWithinHalfPrecision) {
    REQUIRE_FIXTURES();
    // float16 keeps 11 significant bits: a relative rounding error of at most 2^-11.
    expect_channels_match_nibabel(fixture_dir() / "case_f16.npz", std::ldexp(1.0, -11));
}

TEST(NnunetNpz, NibabelIOWithReorientIsTurnedBackOntoTheFilesGrid) {
    REQUIRE_FIXTURES();
    // Its plans.json names the reader; nibabel turned the expected classes back.
    expect_channels_match_nibabel(fixture_dir() / "reoriented" / "case.npz", 0.0);
}

TEST(NnunetNpz, WithoutItsPlansAReorientedArrayIsReadOnTheFilesGridAndRefused) {
    REQUIRE_FIXTURES();
    const fs::path dir = fs::temp_directory_path() / "cls_npz_without_plans";
    fs::remove_all(dir);
    fs::create_directories(dir);
    fs::copy_file(fixture_dir() / "reoriented" / "case.npz", dir / "case.npz");
    const cls::Volume reference = reference_volume(fixture_dir() / "reoriented");
    // The reference's axes are permuted on the RAS grid, so the shape gives it away here; a
    // grid that is only flipped would not, which is why the plans are read.
    const auto loaded = cls::io::load_nnunet_npz(dir / "case.npz", reference);
    ASSERT_FALSE(loaded);
    EXPECT_NE(loaded.error().message.find("(classes, z, y, x as nnU-Net saves them) but the "
                                          "reference grid is 5x6x7"),
              std::string::npos)
        << loaded.error().message;

    const std::string not_json = "{ this is not JSON";
    ASSERT_TRUE(cls::io::write_file_atomic(dir / "plans.json", {not_json.begin(), not_json.end()}));
    const auto unreadable = cls::io::load_nnunet_npz(dir / "case.npz", reference);
    ASSERT_FALSE(unreadable);
    EXPECT_EQ(unreadable.error().message,
              (dir / "plans.json").string() + ": is not nnU-Net's plans.json: not a JSON object");
    fs::remove_all(dir);
}

TEST(NnunetNpz, ClosestRasIsNibabelsIoOrientation) {
    REQUIRE_FIXTURES();
    const auto text = cls::io::read_file(fixture_dir() / "orientations.json");
    ASSERT_TRUE(text) << text.error().message;
    const auto cases = nlohmann::json::parse(text->begin(), text->end());
    ASSERT_EQ(cases.size(), 200u);
    for (const auto& c : cases) {
        cls::Affine affine;
        for (int r = 0; r < 4; ++r)
            for (int k = 0; k < 4; ++k) affine(r, k) = c.at("affine").at(r).at(k).get<double>();
        const cls::Reorientation turn = cls::closest_ras(affine);
        // nibabel: voxel axis v goes to world axis ornt[v][0], flipped when ornt[v][1] is -1.
        for (int v = 0; v < 3; ++v) {
            const int world = c.at("ornt").at(v).at(0).get<int>();
            EXPECT_EQ(turn.from[static_cast<std::size_t>(world)], v) << c.dump();
            EXPECT_EQ(turn.reversed[static_cast<std::size_t>(world)],
                      c.at("ornt").at(v).at(1).get<int>() == -1)
                << c.dump();
        }
    }
}

TEST(NnunetNpz, MemberBytesEqualWhatPythonsZipfileReads) {
    REQUIRE_FIXTURES();
    const auto npz = cls::io::read_file(fixture_dir() / "case.npz");
    const auto expected = cls::io::read_file(fixture_dir() / "probabilities.npy");
    ASSERT_TRUE(npz && expected);
    const auto member = cls::io::read_npz_member(*npz, "probabilities.npy", 1 << 20);
    ASSERT_TRUE(member) << member.error().message;
    EXPECT_EQ(*member, *expected);
}

TEST(NnunetNpz, ACaseMapIsTheChosenClassesOnTheReferenceGrid) {
    REQUIRE_FIXTURES();
    const cls::Volume reference = reference_volume();
    const fs::path path = fixture_dir() / "case.npz";
    const auto map =
        cls::io::load_case_probability_map(path, {{1, 2}, cls::ChannelCombine::sum}, &reference);
    ASSERT_TRUE(map) << map.error().message;
    EXPECT_TRUE(cls::same_grid(map->image.volume, reference, 1e-9));
    const auto one = cls::io::load_nifti(fixture_dir() / "case_class1.nii");
    const auto two = cls::io::load_nifti(fixture_dir() / "case_class2.nii");
    ASSERT_TRUE(one && two);
    for (std::size_t i = 0; i < reference.voxel_count(); ++i) {
        const float sum = one->image.volume.values()[i] + two->image.volume.values()[i];
        ASSERT_EQ(map->image.volume.values()[i], std::min(sum, 1.0f)) << "voxel " << i;
    }
    // Its classes must be named, and it has no grid of its own.
    const auto unnamed = cls::io::load_case_probability_map(path, {}, &reference);
    ASSERT_FALSE(unnamed);
    EXPECT_EQ(unnamed.error().message.rfind(path.string() + ": holds 3 probability channels "
                                                            "(nnU-Net's classes); say which",
                                            0),
              0u)
        << unnamed.error().message;
    const auto alone = cls::io::load_case_probability_map(path, {{1}}, nullptr);
    ASSERT_FALSE(alone);
    EXPECT_EQ(alone.error().message,
              path.string() +
                  ": is nnU-Net's probabilities, which hold no grid or affine; give the case's "
                  "image or label as well (--reference for cls apply)");
    // A NIfTI map goes the NIfTI way, reference or not.
    const auto nifti =
        cls::io::load_case_probability_map(fixture_dir() / "case_class1.nii", {}, nullptr);
    ASSERT_TRUE(nifti) << nifti.error().message;
    EXPECT_EQ(nifti->image.volume.values(), one->image.volume.values());
}

TEST(NnunetNpz, RefusesAWrongShapeNamingTheFileAndBothShapes) {
    REQUIRE_FIXTURES();
    const fs::path path = fixture_dir() / "wrong_shape.npz";
    const auto loaded = cls::io::load_nnunet_npz(path, reference_volume());
    ASSERT_FALSE(loaded);
    EXPECT_EQ(loaded.error().message,
              path.string() +
                  ": probabilities are 2x5x6x7 (classes, z, y, x as nnU-Net saves them) but the "
                  "reference grid is 5x6x7");
}

TEST(NnunetNpz, RefusesAnArchiveWithoutProbabilitiesNamingItsMembers) {
    REQUIRE_FIXTURES();
    const fs::path path = fixture_dir() / "no_probabilities.npz";
    const auto loaded = cls::io::load_nnunet_npz(path, reference_volume());
    ASSERT_FALSE(loaded);
    EXPECT_EQ(loaded.error().message,
              path.string() +
                  ": the archive has no member 'probabilities.npy'; its members are: "
                  "softmax.npy, seg.npy");
}

TEST(NnunetNpz, RefusesAZipBombBeforeInflatingIt) {
    REQUIRE_FIXTURES();
    const fs::path path = fixture_dir() / "bomb.npz";
    // 5x6x7 voxels, at most 256 float64 classes, plus 16 KiB of header: 446464 bytes.
    const auto loaded = cls::io::load_nnunet_npz(path, reference_volume());
    ASSERT_FALSE(loaded);
    EXPECT_EQ(loaded.error().message,
              path.string() +
                  ": the member 'probabilities.npy' declares 8388608 bytes uncompressed, more "
                  "than the 446464 it may hold here; refusing it unread (a zip bomb?)");
}

TEST(NnunetNpz, RefusesAMemberAboveTheCallersLimit) {
    REQUIRE_FIXTURES();
    const auto npz = cls::io::read_file(fixture_dir() / "case.npz");
    ASSERT_TRUE(npz);
    EXPECT_TRUE(cls::io::read_npz_member(*npz, "probabilities.npy", 2648));
    const auto refused = cls::io::read_npz_member(*npz, "probabilities.npy", 2647);
    ASSERT_FALSE(refused);
    EXPECT_NE(refused.error().message.find("declares 2648 bytes uncompressed, more than the 2647"),
              std::string::npos)
        << refused.error().message;
}

TEST(NnunetNpz, RefusesBytesThatAreNotAZipAndTruncatedArchives) {
    REQUIRE_FIXTURES();
    const auto npz = cls::io::read_file(fixture_dir() / "case.npz");
    ASSERT_TRUE(npz);
    const std::vector<std::uint8_t> text{'h', 'e', 'l', 'l', 'o'};
    const auto not_zip = cls::io::read_npz_member(text, "probabilities.npy", 1 << 20);
    ASSERT_FALSE(not_zip);
    EXPECT_EQ(not_zip.error().message.rfind("not a readable .npz (zip) archive: ", 0), 0u)
        << not_zip.error().message;
    // Every cut: refused (most lose the central directory; none may crash or succeed).
    for (std::size_t n = 0; n < npz->size(); n += 7) {
        const auto cut =
            cls::io::read_npz_member(std::span(npz->data(), n), "probabilities.npy", 1 << 20);
        EXPECT_FALSE(cut) << "first " << n << " bytes";
    }
    // A flipped byte in the compressed data: refused by the inflater or the CRC.
    std::vector<std::uint8_t> corrupt = *npz;
    corrupt[200] ^= 0x55;
    EXPECT_FALSE(cls::io::read_npz_member(corrupt, "probabilities.npy", 1 << 20));
}

TEST(NnunetNpz, MissingFileIsNamed) {
    const auto loaded = cls::io::load_nnunet_npz("/nonexistent/case.npz", cls::Volume());
    ASSERT_FALSE(loaded);
    EXPECT_EQ(loaded.error().message, "/nonexistent/case.npz: no such file");
}

}  // namespace
