// The NIfTI reader and writer. Files for the reader are built here byte by byte from the
// offsets of nifti1.h / nifti2.h, independently of the module's own layout tables, so that a
// wrong offset there cannot be mirrored by the test. nibabel's view of real files is checked
// separately (test_nifti_nibabel.cpp).

#include <gtest/gtest.h>

#include <Eigen/Geometry>
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "cls/nifti.hpp"

namespace {

using cls::Affine;
using cls::Dims;
using cls::Volume;
using cls::nifti::DataType;
using cls::nifti::Version;
using Bytes = std::vector<std::uint8_t>;

constexpr DataType kAllTypes[] = {DataType::uint8,  DataType::int8,  DataType::int16,
                                  DataType::uint16, DataType::int32, DataType::float32,
                                  DataType::float64};
constexpr Version kBothVersions[] = {Version::nifti1, Version::nifti2};

// A rotation about a non-axis direction, unequal zooms, a translation: axis mix-ups show.
Affine oblique_affine() {
    Affine affine = Affine::Identity();
    const Eigen::Matrix3d rotation =
        Eigen::AngleAxisd(0.3, Eigen::Vector3d(1, 2, 3).normalized()).toRotationMatrix();
    affine.topLeftCorner<3, 3>() = rotation * Eigen::Vector3d(0.8, 1.2, 2.5).asDiagonal();
    affine.topRightCorner<3, 1>() = Eigen::Vector3d(-30.5, 12.25, 7.0);
    return affine;
}

void expect_affine_near(const Affine& actual, const Affine& expected, double tolerance) {
    for (int r = 0; r < 4; ++r) {
        for (int c = 0; c < 4; ++c) {
            EXPECT_NEAR(actual(r, c), expected(r, c), tolerance) << "at (" << r << ", " << c << ")";
        }
    }
}

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

// ---- a hand-made file ---------------------------------------------------------------------

// Writes header fields at the offsets of the standard, in either byte order, and appends
// voxel data. Defaults: a single-file header with scl_slope 1 and no codes set.
class RawNifti {
public:
    RawNifti(Version version, bool big_endian)
        : v2_(version == Version::nifti2), big_endian_(big_endian), bytes_(v2_ ? 544 : 352, 0) {
        put<std::int32_t>(0, v2_ ? 540 : 348);
        magic(v2_ ? std::string("n+2\0\r\n\032\n", 8) : std::string("n+1\0", 4));
        vox_offset(v2_ ? 544 : 352);
        slope_inter(1.0, 0.0);
        pixdim(0, 1.0);
    }

    RawNifti& magic(const std::string& text) {
        std::memcpy(bytes_.data() + (v2_ ? 4 : 344), text.data(), text.size());
        return *this;
    }
    RawNifti& dims(const std::vector<std::int64_t>& dims) {
        dim(0, static_cast<std::int64_t>(dims.size()));
        for (std::size_t i = 0; i < dims.size(); ++i) {
            dim(i + 1, dims[i]);
            pixdim(i + 1, 1.0);
        }
        return *this;
    }
    RawNifti& dim(std::size_t i, std::int64_t value) {
        if (v2_) {
            put<std::int64_t>(16 + 8 * i, value);
        } else {
            put<std::int16_t>(40 + 2 * i, static_cast<std::int16_t>(value));
        }
        return *this;
    }
    RawNifti& datatype(std::int16_t code, std::int16_t bitpix) {
        put<std::int16_t>(v2_ ? 12 : 70, code);
        put<std::int16_t>(v2_ ? 14 : 72, bitpix);
        return *this;
    }
    RawNifti& pixdim(std::size_t i, double value) { return real(v2_ ? 104 : 76, i, value); }
    RawNifti& vox_offset(double value) {
        if (v2_) {
            put<std::int64_t>(168, static_cast<std::int64_t>(value));
        } else {
            put<float>(108, static_cast<float>(value));
        }
        return *this;
    }
    RawNifti& slope_inter(double slope, double inter) {
        real(v2_ ? 176 : 112, 0, slope);
        return real(v2_ ? 184 : 116, 0, inter);
    }
    RawNifti& codes(int qform_code, int sform_code) {
        if (v2_) {
            put<std::int32_t>(344, qform_code);
            put<std::int32_t>(348, sform_code);
        } else {
            put<std::int16_t>(252, static_cast<std::int16_t>(qform_code));
            put<std::int16_t>(254, static_cast<std::int16_t>(sform_code));
        }
        return *this;
    }
    RawNifti& quatern(double b, double c, double d) {
        for (std::size_t i = 0; i < 3; ++i) real(v2_ ? 352 : 256, i, std::array{b, c, d}[i]);
        return *this;
    }
    RawNifti& qoffset(double x, double y, double z) {
        for (std::size_t i = 0; i < 3; ++i) real(v2_ ? 376 : 268, i, std::array{x, y, z}[i]);
        return *this;
    }
    RawNifti& srow(const Affine& affine) {
        for (std::size_t i = 0; i < 12; ++i) {
            real(v2_ ? 400 : 280, i, affine(static_cast<int>(i / 4), static_cast<int>(i % 4)));
        }
        return *this;
    }
    template <class T>
    RawNifti& data(const std::vector<T>& values) {
        const std::size_t start = bytes_.size();
        bytes_.resize(start + values.size() * sizeof(T));
        for (std::size_t i = 0; i < values.size(); ++i) put(start + i * sizeof(T), values[i]);
        return *this;
    }
    RawNifti& bytes_of_data(std::size_t count) {
        bytes_.resize(bytes_.size() + count, 0);
        return *this;
    }

    [[nodiscard]] const Bytes& bytes() const { return bytes_; }

private:
    RawNifti& real(std::size_t offset, std::size_t index, double value) {
        if (v2_) {
            put<double>(offset + 8 * index, value);
        } else {
            put<float>(offset + 4 * index, static_cast<float>(value));
        }
        return *this;
    }
    template <class T>
    void put(std::size_t offset, T value) {
        std::uint8_t raw[sizeof(T)];
        std::memcpy(raw, &value, sizeof(T));
        if (big_endian_) std::reverse(raw, raw + sizeof(T));  // tests run little-endian
        std::memcpy(bytes_.data() + offset, raw, sizeof(T));
    }

    bool v2_;
    bool big_endian_;
    Bytes bytes_;
};

// A valid 7x5x3 int16 file (values = index) to break one thing at a time.
RawNifti valid_int16(Version version = Version::nifti1, bool big_endian = false) {
    std::vector<std::int16_t> values(7 * 5 * 3);
    for (std::size_t i = 0; i < values.size(); ++i) values[i] = static_cast<std::int16_t>(i);
    RawNifti raw(version, big_endian);
    raw.dims({7, 5, 3}).datatype(4, 16).data(values);
    return raw;
}

std::vector<float> read_values(const Bytes& bytes) {
    const auto image = cls::nifti::read(bytes);
    if (!image) {
        ADD_FAILURE() << image.error().message;
        return {};
    }
    return image->volume.values();
}

std::string read_error(const Bytes& bytes) {
    const auto image = cls::nifti::read(bytes);
    return image ? std::string("(read succeeded)") : image.error().message;
}

// ---- writer and reader together -----------------------------------------------------------

// Values every datatype holds exactly, negative ones only where the type has them.
float representable(DataType type, std::size_t i) {
    switch (type) {
        case DataType::uint8:
        case DataType::uint16:
            return static_cast<float>((i * 37) % 201);
        case DataType::float32:
        case DataType::float64:
            return static_cast<float>(i) * 0.25f - 10.5f;
        default:
            return static_cast<float>((i * 37) % 201) - 100.0f;
    }
}

TEST(Nifti, RoundTripsEveryDatatypeInBothVersions) {
    for (const Version version : kBothVersions) {
        for (const DataType type : kAllTypes) {
            SCOPED_TRACE(cls::nifti::datatype_name(type) +
                         (version == Version::nifti1 ? " nifti1" : " nifti2"));
            Volume volume(Dims{7, 5, 3}, oblique_affine());
            for (std::size_t i = 0; i < volume.voxel_count(); ++i) {
                volume.values()[i] = representable(type, i);
            }
            const Bytes bytes = cls::nifti::write(volume, {.datatype = type, .version = version});
            const auto image = cls::nifti::read(bytes);
            ASSERT_TRUE(image) << image.error().message;

            const cls::nifti::Header& header = image->header;
            EXPECT_EQ(header.version, version);
            EXPECT_EQ(header.datatype, type);
            EXPECT_FALSE(header.big_endian);
            EXPECT_EQ(header.dims, (std::vector<std::int64_t>{7, 5, 3}));
            EXPECT_EQ(header.vox_offset, version == Version::nifti1 ? 352 : 544);
            EXPECT_EQ(header.sform_code, 1);
            EXPECT_EQ(header.qform_code, 1);
            EXPECT_EQ(header.scl_slope, 1.0);
            EXPECT_EQ(header.scl_inter, 0.0);
            ASSERT_EQ(header.pixdim.size(), 3u);
            EXPECT_NEAR(header.pixdim[0], 0.8, 1e-6);
            EXPECT_NEAR(header.pixdim[1], 1.2, 1e-6);
            EXPECT_NEAR(header.pixdim[2], 2.5, 1e-6);

            EXPECT_EQ(image->volume.dims(), (Dims{7, 5, 3}));
            EXPECT_EQ(image->volume.values(), volume.values());
            EXPECT_EQ(image->volume.source_volumes(), 1);
            expect_affine_near(image->volume.affine(), volume.affine(), 1e-5);
            EXPECT_NEAR(image->volume.spacing()[2], 2.5, 1e-6);
        }
    }
}

TEST(Nifti, WriterRoundsAndClampsToTheIntegerRange) {
    Volume volume(Dims{8, 1, 1}, Affine::Identity());
    const float nan = std::numeric_limits<float>::quiet_NaN();
    const float inf = std::numeric_limits<float>::infinity();
    volume.values() = {-5.0f, 2.5f, 3.5f, 300.0f, nan, 254.6f, inf, -inf};

    // Ties go to even, like numpy's rint.
    EXPECT_EQ(read_values(cls::nifti::write(volume, {.datatype = DataType::uint8})),
              (std::vector<float>{0, 2, 4, 255, 0, 255, 255, 0}));

    volume.values() = {1e9f, -1e9f, -0.5f, 1.5f, nan, 7.49f, inf, -inf};
    EXPECT_EQ(read_values(cls::nifti::write(volume, {.datatype = DataType::int16})),
              (std::vector<float>{32767, -32768, 0, 2, 0, 7, 32767, -32768}));
}

TEST(Nifti, WriterHeaderIsLittleEndianSingleFileInMillimetres) {
    const Volume volume(Dims{2, 3, 4}, Affine::Identity());
    const Bytes v1 = cls::nifti::write(volume, {.datatype = DataType::int16});
    ASSERT_EQ(v1.size(), 352u + 2 * 24);
    std::int32_t sizeof_hdr = 0;
    std::memcpy(&sizeof_hdr, v1.data(), 4);
    EXPECT_EQ(sizeof_hdr, 348);
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(v1.data()) + 344, 4),
              std::string("n+1\0", 4));
    float vox_offset = 0;
    std::memcpy(&vox_offset, v1.data() + 108, 4);
    EXPECT_EQ(vox_offset, 352.0f);
    EXPECT_EQ(v1[123], 2);  // xyzt_units: mm
    EXPECT_EQ(std::vector<std::uint8_t>(v1.begin() + 348, v1.begin() + 352),
              (std::vector<std::uint8_t>{0, 0, 0, 0}));  // no extensions

    const Bytes v2 = cls::nifti::write(volume, {.version = Version::nifti2});
    ASSERT_EQ(v2.size(), 544u + 4 * 24);
    std::memcpy(&sizeof_hdr, v2.data(), 4);
    EXPECT_EQ(sizeof_hdr, 540);
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(v2.data()) + 4, 8),
              std::string("n+2\0\r\n\032\n", 8));
    std::int64_t offset2 = 0;
    std::memcpy(&offset2, v2.data() + 168, 8);
    EXPECT_EQ(offset2, 544);
}

TEST(Nifti, WriterPromotesToNifti2WhenADimensionExceedsInt16) {
    const Volume wide(Dims{40000, 1, 1}, Affine::Identity());
    const Bytes bytes = cls::nifti::write(wide, {.datatype = DataType::uint8});
    std::int32_t sizeof_hdr = 0;
    std::memcpy(&sizeof_hdr, bytes.data(), 4);
    EXPECT_EQ(sizeof_hdr, 540);
    const auto image = cls::nifti::read(bytes);
    ASSERT_TRUE(image) << image.error().message;
    EXPECT_EQ(image->volume.dims()[0], 40000);
}

// The qform alone (sform_code cleared) must give back a rigid-plus-zoom affine, including a
// reflection (negative determinant, so qfac -1).
TEST(Nifti, WrittenQformReproducesARigidAffine) {
    for (const Version version : kBothVersions) {
        Affine affine = oblique_affine();
        affine.col(0) *= -1.0;  // an x flip, as in radiological storage
        const Bytes written =
            cls::nifti::write(Volume(Dims{3, 3, 3}, affine), {.version = version});
        Bytes qform_only = written;
        qform_only[version == Version::nifti1 ? 254 : 348] = 0;  // sform_code, little-endian
        const auto image = cls::nifti::read(qform_only);
        ASSERT_TRUE(image) << image.error().message;
        EXPECT_EQ(image->header.sform_code, 0);
        expect_affine_near(image->volume.affine(), affine, 1e-5);
    }
}

TEST(Nifti, WrittenQformDropsShearButKeepsTheSformExact) {
    Affine sheared = Affine::Identity();
    sheared(0, 1) = 0.5;  // y leans into x
    const Bytes written = cls::nifti::write(Volume(Dims{3, 3, 3}, sheared), {});
    const auto image = cls::nifti::read(written);
    ASSERT_TRUE(image);
    expect_affine_near(image->volume.affine(), sheared, 0.0);

    Bytes qform_only = written;
    qform_only[254] = 0;
    const auto from_qform = cls::nifti::read(qform_only);
    ASSERT_TRUE(from_qform);
    const Eigen::Matrix3d m = from_qform->volume.affine().topLeftCorner<3, 3>();
    EXPECT_NEAR(m.col(0).dot(m.col(1)), 0.0, 1e-5);       // orthogonal axes
    EXPECT_NEAR(m.col(1).norm(), std::sqrt(1.25), 1e-6);  // zooms: the column norms
}

TEST(Nifti, ReadsFromAnUnalignedSpan) {
    const Bytes bytes =
        cls::nifti::write(Volume(Dims{3, 2, 1}, oblique_affine()), {.datatype = DataType::float64});
    Bytes shifted(bytes.size() + 1);
    std::copy(bytes.begin(), bytes.end(), shifted.begin() + 1);
    const auto image = cls::nifti::read(std::span(shifted).subspan(1));
    ASSERT_TRUE(image) << image.error().message;
    expect_affine_near(image->volume.affine(), oblique_affine(), 1e-5);
}

// ---- hand-built headers -------------------------------------------------------------------

TEST(Nifti, ReadsHandBuiltBigEndianFiles) {
    const auto image1 = cls::nifti::read(valid_int16(Version::nifti1, true).bytes());
    ASSERT_TRUE(image1) << image1.error().message;
    EXPECT_TRUE(image1->header.big_endian);
    EXPECT_EQ(image1->volume.dims(), (Dims{7, 5, 3}));
    EXPECT_EQ(image1->volume.at(6, 4, 2), 104.0f);
    EXPECT_EQ(image1->volume.at(1, 2, 0), 15.0f);  // x fastest: 1 + 7 * 2

    RawNifti raw(Version::nifti2, true);
    raw.dims({3, 2, 1}).datatype(64, 64).data(std::vector<double>{-1.5, 0, 2.25, 1e300, 5, 6});
    const auto image2 = cls::nifti::read(raw.bytes());
    ASSERT_TRUE(image2) << image2.error().message;
    EXPECT_TRUE(image2->header.big_endian);
    EXPECT_EQ(image2->header.version, Version::nifti2);
    EXPECT_EQ(image2->volume.values(),
              (std::vector<float>{-1.5f, 0, 2.25f, std::numeric_limits<float>::infinity(), 5, 6}));
}

TEST(Nifti, ReadsEveryDatatypeFromHandBuiltBytes) {
    RawNifti u16(Version::nifti1, false);
    u16.dims({2, 1, 1}).datatype(512, 16).data(std::vector<std::uint16_t>{65535, 7});
    RawNifti i8(Version::nifti1, true);
    i8.dims({2, 1, 1}).datatype(256, 8).data(std::vector<std::int8_t>{-128, 127});
    RawNifti i32(Version::nifti2, true);
    i32.dims({2, 1, 1}).datatype(8, 32).data(std::vector<std::int32_t>{-2000000000, 3});
    RawNifti f32(Version::nifti2, false);
    f32.dims({2, 1, 1}).datatype(16, 32).data(std::vector<float>{0.1f, -7.5f});

    EXPECT_EQ(read_values(u16.bytes()), (std::vector<float>{65535, 7}));
    EXPECT_EQ(read_values(i8.bytes()), (std::vector<float>{-128, 127}));
    EXPECT_EQ(read_values(i32.bytes()), (std::vector<float>{-2000000000.0f, 3}));
    EXPECT_EQ(read_values(f32.bytes()), (std::vector<float>{0.1f, -7.5f}));
}

TEST(Nifti, AppliesSlopeAndIntercept) {
    RawNifti raw(Version::nifti1, false);
    raw.dims({3, 1, 1}).datatype(4, 16).slope_inter(0.5, -3.0);
    raw.data(std::vector<std::int16_t>{0, 7, -4});
    const auto image = cls::nifti::read(raw.bytes());
    ASSERT_TRUE(image) << image.error().message;
    EXPECT_EQ(image->volume.values(), (std::vector<float>{-3.0f, 0.5f, -5.0f}));
    EXPECT_EQ(image->header.scl_slope, 0.5);
    EXPECT_EQ(image->header.scl_inter, -3.0);
}

TEST(Nifti, ZeroOrNonFiniteSlopeMeansUnscaled) {
    for (const double slope :
         {0.0, std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity()}) {
        RawNifti raw(Version::nifti2, false);
        raw.dims({2, 1, 1}).datatype(4, 16).slope_inter(slope, 100.0);
        raw.data(std::vector<std::int16_t>{3, -3});
        const auto image = cls::nifti::read(raw.bytes());
        ASSERT_TRUE(image) << image.error().message;
        EXPECT_EQ(image->volume.values(), (std::vector<float>{3, -3}));
        EXPECT_EQ(image->header.scl_slope, 1.0);
        EXPECT_EQ(image->header.scl_inter, 0.0);
    }
}

TEST(Nifti, RefusesAValidSlopeWithANonFiniteIntercept) {
    for (const double inter :
         {std::numeric_limits<double>::quiet_NaN(), -std::numeric_limits<double>::infinity()}) {
        RawNifti raw = valid_int16();
        raw.slope_inter(2.0, inter);
        EXPECT_TRUE(contains(read_error(raw.bytes()), "scl_inter")) << read_error(raw.bytes());
    }
}

TEST(Nifti, SformWinsWhenItsCodeIsSet) {
    Affine sform = Affine::Identity();
    sform.diagonal() << 2, 3, 4, 1;
    sform.topRightCorner<3, 1>() << 10, 20, 30;
    RawNifti raw = valid_int16();
    raw.codes(1, 2).srow(sform).quatern(0, 0, 1).qoffset(-1, -2, -3);
    const auto image = cls::nifti::read(raw.bytes());
    ASSERT_TRUE(image) << image.error().message;
    expect_affine_near(image->volume.affine(), sform, 0.0);
    EXPECT_EQ(image->header.sform_code, 2);
}

// 90 degrees about z: (b, c, d) = (0, 0, sin 45°); zooms 2, 3, 4 with qfac -1.
// R = [[0,-1,0],[1,0,0],[0,0,1]], so R * diag(2, 3, -4) = [[0,-3,0],[2,0,0],[0,0,-4]].
TEST(Nifti, QformGivesTheAffineWhenTheSformCodeIsZero) {
    for (const Version version : kBothVersions) {
        RawNifti raw = valid_int16(version);
        raw.codes(1, 0).quatern(0, 0, std::sqrt(0.5)).qoffset(5, -6, 7);
        raw.pixdim(0, -1.0).pixdim(1, 2.0).pixdim(2, 3.0).pixdim(3, 4.0);
        raw.srow(Affine::Identity() * 99.0);  // ignored: sform_code is 0
        const auto image = cls::nifti::read(raw.bytes());
        ASSERT_TRUE(image) << image.error().message;
        Affine expected;
        expected << 0, -3, 0, 5,  //
            2, 0, 0, -6,          //
            0, 0, -4, 7,          //
            0, 0, 0, 1;
        expect_affine_near(image->volume.affine(), expected, 1e-6);
        EXPECT_EQ(image->volume.spacing(), (std::array<double, 3>{2, 3, 4}));
    }
}

TEST(Nifti, QfacOtherThanMinusOneCountsAsOne) {
    RawNifti raw = valid_int16();
    raw.codes(1, 0).quatern(0, 0, 0).pixdim(0, 0.0).pixdim(3, 4.0);
    const auto image = cls::nifti::read(raw.bytes());
    ASSERT_TRUE(image) << image.error().message;
    EXPECT_EQ(image->volume.affine()(2, 2), 4.0);
}

TEST(Nifti, RefusesAQuaternionLongerThanOne) {
    RawNifti raw = valid_int16();
    raw.codes(1, 0).quatern(0.8, 0.8, 0);
    EXPECT_TRUE(contains(read_error(raw.bytes()), "quaternion")) << read_error(raw.bytes());
}

// nibabel's shape_zoom_affine: diag(-zx, zy, zz), centred: translation -(shape-1)/2 * zoom.
TEST(Nifti, PixdimFallbackWhenNeitherCodeIsSet) {
    RawNifti raw = valid_int16();
    raw.pixdim(1, -2.0).pixdim(2, 3.0).pixdim(3, 4.0);  // a negative pixdim counts as its size
    const auto image = cls::nifti::read(raw.bytes());
    ASSERT_TRUE(image) << image.error().message;
    Affine expected = Affine::Identity();
    expected.diagonal() << -2, 3, 4, 1;
    expected.topRightCorner<3, 1>() << 6, -6, -4;
    expect_affine_near(image->volume.affine(), expected, 0.0);
    EXPECT_EQ(image->volume.spacing(), (std::array<double, 3>{2, 3, 4}));
    EXPECT_EQ(image->header.pixdim, (std::vector<double>{2, 3, 4}));
}

TEST(Nifti, PixdimFallbackPadsATwoDimensionalImage) {
    RawNifti raw(Version::nifti1, false);
    raw.dims({7, 5}).datatype(2, 8).pixdim(1, 2.0).pixdim(2, 3.0).pixdim(3, 9.0);
    raw.data(std::vector<std::uint8_t>(35, 1));
    const auto image = cls::nifti::read(raw.bytes());
    ASSERT_TRUE(image) << image.error().message;
    EXPECT_EQ(image->volume.dims(), (Dims{7, 5, 1}));
    Affine expected = Affine::Identity();
    expected.diagonal() << -2, 3, 1, 1;  // pixdim[3] lies beyond dim[0]: zoom 1
    expected.topRightCorner<3, 1>() << 6, -6, 0;
    expect_affine_near(image->volume.affine(), expected, 0.0);
    EXPECT_EQ(image->volume.spacing(), (std::array<double, 3>{2, 3, 1}));
}

TEST(Nifti, FourDimensionalFileKeepsTheFirstVolume) {
    std::vector<std::int16_t> values(3 * 2 * 2 * 4);
    for (std::size_t i = 0; i < values.size(); ++i) values[i] = static_cast<std::int16_t>(i);
    RawNifti raw(Version::nifti1, false);
    raw.dims({3, 2, 2, 4}).datatype(4, 16).data(values);
    const auto image = cls::nifti::read(raw.bytes());
    ASSERT_TRUE(image) << image.error().message;
    EXPECT_EQ(image->header.dims, (std::vector<std::int64_t>{3, 2, 2, 4}));
    EXPECT_EQ(image->volume.dims(), (Dims{3, 2, 2}));
    EXPECT_EQ(image->volume.source_volumes(), 4);
    ASSERT_EQ(image->volume.voxel_count(), 12u);
    for (std::size_t i = 0; i < 12; ++i) EXPECT_EQ(image->volume.values()[i], float(i));
}

TEST(Nifti, DimensionsBeyondTheFourthCountAsVolumes) {
    RawNifti raw(Version::nifti2, false);
    raw.dims({3, 2, 1, 2, 3}).datatype(2, 8).data(std::vector<std::uint8_t>(36, 9));
    const auto image = cls::nifti::read(raw.bytes());
    ASSERT_TRUE(image) << image.error().message;
    EXPECT_EQ(image->volume.dims(), (Dims{3, 2, 1}));
    EXPECT_EQ(image->volume.source_volumes(), 6);
}

TEST(Nifti, SkipsExtensionsUpToVoxOffset) {
    RawNifti raw(Version::nifti1, false);
    raw.dims({2, 1, 1}).datatype(2, 8).vox_offset(368);
    raw.bytes_of_data(16).data(std::vector<std::uint8_t>{42, 43});
    const auto image = cls::nifti::read(raw.bytes());
    ASSERT_TRUE(image) << image.error().message;
    EXPECT_EQ(image->volume.values(), (std::vector<float>{42, 43}));
    EXPECT_EQ(image->header.vox_offset, 368);
}

TEST(Nifti, ReadHeaderReportsTheHeader) {
    RawNifti raw(Version::nifti2, true);
    raw.dims({3, 2, 1, 5}).datatype(16, 32).pixdim(1, 0.5).pixdim(4, 2.0).codes(2, 0);
    raw.data(std::vector<float>(30, 1.0f));
    const auto header = cls::nifti::read_header(raw.bytes());
    ASSERT_TRUE(header) << header.error().message;
    EXPECT_EQ(header->version, Version::nifti2);
    EXPECT_EQ(header->datatype, DataType::float32);
    EXPECT_TRUE(header->big_endian);
    EXPECT_EQ(header->dims, (std::vector<std::int64_t>{3, 2, 1, 5}));
    EXPECT_EQ(header->pixdim, (std::vector<double>{0.5, 1, 1, 2}));
    EXPECT_EQ(header->qform_code, 2);
    EXPECT_EQ(header->sform_code, 0);
    EXPECT_EQ(header->vox_offset, 544);
}

// The gzip edge inflates a prefix first to learn how large the file may be.
TEST(Nifti, ReadHeaderNeedsOnlyTheHeader) {
    for (const Version version : kBothVersions) {
        const Bytes whole = valid_int16(version).bytes();
        const Bytes header_only(whole.begin(),
                                whole.begin() + (version == Version::nifti1 ? 348 : 540));
        const auto header = cls::nifti::read_header(header_only);
        ASSERT_TRUE(header) << header.error().message;
        EXPECT_EQ(header->dims, (std::vector<std::int64_t>{7, 5, 3}));
        EXPECT_TRUE(contains(read_error(header_only), "truncated")) << read_error(header_only);
    }
}

TEST(Nifti, NamesDatatypes) {
    EXPECT_EQ(cls::nifti::datatype_name(DataType::int8), "int8");
    EXPECT_EQ(cls::nifti::datatype_name(DataType::float64), "float64");
    EXPECT_EQ(cls::nifti::datatype_name(std::int16_t{512}), "uint16");
    EXPECT_EQ(cls::nifti::datatype_name(std::int16_t{32}), "code 32");
}

// ---- refusals -----------------------------------------------------------------------------

TEST(Nifti, RefusesATruncatedHeader) {
    for (const Version version : kBothVersions) {
        const Bytes whole = valid_int16(version).bytes();
        const Bytes cut(whole.begin(), whole.begin() + 100);
        EXPECT_TRUE(contains(read_error(cut), "truncated")) << read_error(cut);
    }
    EXPECT_TRUE(contains(read_error(Bytes{1, 2}), "truncated"));
    EXPECT_TRUE(contains(read_error(Bytes{}), "truncated"));
}

TEST(Nifti, RefusesAWrongSizeofHdr) {
    Bytes bytes = valid_int16().bytes();
    bytes[0] = 0x5d;  // 349
    EXPECT_TRUE(contains(read_error(bytes), "sizeof_hdr is 349")) << read_error(bytes);
}

TEST(Nifti, RefusesAWrongMagic) {
    RawNifti raw = valid_int16();
    raw.magic(std::string("xyz\0", 4));
    EXPECT_TRUE(contains(read_error(raw.bytes()), "magic")) << read_error(raw.bytes());
}

TEST(Nifti, RefusesTheHeaderOfAHdrImgPair) {
    for (const Version version : kBothVersions) {
        RawNifti raw = valid_int16(version);
        raw.magic(std::string(version == Version::nifti1 ? "ni1\0" : "ni2\0", 4));
        const std::string message = read_error(raw.bytes());
        EXPECT_TRUE(contains(message, ".hdr/.img")) << message;
        EXPECT_TRUE(contains(message, "single-file .nii is required")) << message;
    }
}

TEST(Nifti, RefusesDamagedNifti2LineEndCheck) {
    RawNifti raw = valid_int16(Version::nifti2);
    raw.magic(std::string("n+2\0\n\032\n\0", 8));  // "\r" lost in a text-mode transfer
    EXPECT_TRUE(contains(read_error(raw.bytes()), "binary mode")) << read_error(raw.bytes());
}

TEST(Nifti, RefusesDim0OutsideOneToSeven) {
    for (const std::int64_t rank : {0, 8, -1}) {
        RawNifti raw = valid_int16();
        raw.dim(0, rank);
        const std::string message = read_error(raw.bytes());
        EXPECT_TRUE(contains(message, "dim[0] is " + std::to_string(rank))) << message;
    }
}

TEST(Nifti, RefusesZeroOrNegativeDimensions) {
    for (const std::int64_t size : {0, -4}) {
        RawNifti raw = valid_int16(Version::nifti2);
        raw.dim(2, size);
        const std::string message = read_error(raw.bytes());
        EXPECT_TRUE(contains(message, "dim[2] is " + std::to_string(size))) << message;
    }
}

TEST(Nifti, RefusesUnsupportedDatatypesByName) {
    RawNifti complex = valid_int16();
    complex.datatype(32, 64);
    EXPECT_TRUE(contains(read_error(complex.bytes()), "complex64")) << read_error(complex.bytes());
    RawNifti unknown = valid_int16();
    unknown.datatype(1234, 8);
    EXPECT_TRUE(contains(read_error(unknown.bytes()), "code 1234")) << read_error(unknown.bytes());
}

TEST(Nifti, RefusesDataShorterThanDeclared) {
    RawNifti raw(Version::nifti1, false);
    raw.dims({7, 5, 3}).datatype(4, 16).bytes_of_data(100);
    EXPECT_EQ(read_error(raw.bytes()),
              "truncated: header declares 7x5x3 int16 voxels (210 bytes) from offset 352 but the "
              "file has 100 bytes of data");
    // Every volume is declared data, not only the first.
    RawNifti four_d(Version::nifti1, false);
    four_d.dims({2, 1, 1, 3}).datatype(2, 8).bytes_of_data(5);
    EXPECT_TRUE(contains(read_error(four_d.bytes()), "truncated")) << read_error(four_d.bytes());
}

// An allocation of the declared size would fail (or abort under ASan) long before a check
// after it could run; a clean refusal shows the size was checked first.
TEST(Nifti, RefusesAbsurdDimensionsBeforeAllocating) {
    RawNifti huge(Version::nifti2, false);
    huge.dims({10000, 10000, 10000}).datatype(16, 32).bytes_of_data(64);
    const std::string message = read_error(huge.bytes());
    EXPECT_TRUE(contains(message, "(4000000000000 bytes)")) << message;

    RawNifti overflowing(Version::nifti2, false);
    overflowing.dims({1ll << 40, 1ll << 40, 1ll << 40}).datatype(64, 64);
    EXPECT_TRUE(contains(read_error(overflowing.bytes()), "more than any file holds"))
        << read_error(overflowing.bytes());

    RawNifti widest_nifti1(Version::nifti1, false);
    widest_nifti1.dims({32767, 32767, 32767, 32767, 32767, 32767, 32767}).datatype(64, 64);
    EXPECT_TRUE(contains(read_error(widest_nifti1.bytes()), "more than any file holds"));
}

// The two-step read checks the size the caller gives before it allocates, with read's message.
TEST(Nifti, ReadGridChecksTheFileSizeBeforeAllocating) {
    RawNifti huge(Version::nifti2, false);
    huge.dims({10000, 10000, 10000}).datatype(16, 32);
    const auto refused = cls::nifti::read_grid(huge.bytes(), 600);
    ASSERT_FALSE(refused);
    EXPECT_TRUE(contains(refused.error().message,
                         "truncated: header declares 10000x10000x10000 "
                         "float32 voxels (4000000000000 bytes)"))
        << refused.error().message;
}

TEST(Nifti, ReadGridGivesReadsGridAndSaysWhenVoxelsAreValues) {
    RawNifti raw(Version::nifti1, false);
    raw.dims({3, 2, 1}).datatype(16, 32).srow(oblique_affine()).codes(0, 1);
    raw.data(std::vector<float>{0.5f, -0.0f, 1.0f, 2.0f, 3.0f, 4.0f});
    const Bytes& bytes = raw.bytes();
    const auto grid = cls::nifti::read_grid(std::span(bytes).first(348), bytes.size());
    ASSERT_TRUE(grid) << grid.error().message;
    const auto whole = cls::nifti::read(bytes);
    ASSERT_TRUE(whole);
    EXPECT_EQ(grid->volume.dims(), whole->volume.dims());
    EXPECT_EQ(grid->volume.affine(), whole->volume.affine());
    EXPECT_EQ(grid->volume.spacing(), whole->volume.spacing());
    EXPECT_TRUE(cls::nifti::voxels_are_values(grid->header));
    // Anything else needs decoding: another type, the other byte order, a scale.
    RawNifti big(Version::nifti1, true);
    big.dims({1, 1, 1}).datatype(16, 32).data(std::vector<float>{1.0f});
    RawNifti scaled(Version::nifti1, false);
    scaled.dims({1, 1, 1}).datatype(16, 32).slope_inter(2.0, 0.0).data(std::vector<float>{1.0f});
    for (const Bytes& other : {valid_int16().bytes(), big.bytes(), scaled.bytes()}) {
        EXPECT_FALSE(cls::nifti::voxels_are_values(*cls::nifti::read_header(other)));
    }
}

// Unscaled voxels are the stored numbers, as nibabel gives them (-0.0 included); a scale of
// 1 and 0 written out is no scale.
TEST(Nifti, UnscaledVoxelsAreTheStoredNumbers) {
    for (const bool big_endian : {false, true}) {
        RawNifti raw(Version::nifti1, big_endian);
        raw.dims({3, 1, 1}).datatype(16, 32).slope_inter(1.0, 0.0);
        raw.data(std::vector<float>{-0.0f, 0.25f, 3.0e38f});
        const std::vector<float> values = read_values(raw.bytes());
        ASSERT_EQ(values.size(), 3u);
        EXPECT_TRUE(std::signbit(values[0])) << "big-endian " << big_endian;
        EXPECT_EQ(values[1], 0.25f);
        EXPECT_EQ(values[2], 3.0e38f);
    }
    RawNifti doubles(Version::nifti1, false);
    doubles.dims({3, 1, 1}).datatype(64, 64).data(std::vector<double>{1e300, -1e300, 0.1});
    EXPECT_EQ(read_values(doubles.bytes()),
              (std::vector<float>{std::numeric_limits<float>::infinity(),
                                  -std::numeric_limits<float>::infinity(), 0.1f}));
}

TEST(Nifti, RefusesVoxOffsetBeyondTheFile) {
    RawNifti raw = valid_int16();
    raw.vox_offset(100000);
    const std::string message = read_error(raw.bytes());
    EXPECT_TRUE(contains(message, "vox_offset 100000 lies beyond the end of the file")) << message;
}

TEST(Nifti, RefusesVoxOffsetInsideTheHeader) {
    for (const Version version : kBothVersions) {
        RawNifti raw = valid_int16(version);
        raw.vox_offset(0);
        EXPECT_TRUE(contains(read_error(raw.bytes()), "points into the header"))
            << read_error(raw.bytes());
    }
}

TEST(Nifti, RefusesNonFiniteGeometry) {
    RawNifti sform = valid_int16();
    Affine bad = Affine::Identity();
    bad(1, 3) = std::numeric_limits<double>::quiet_NaN();
    sform.codes(0, 1).srow(bad);
    EXPECT_TRUE(contains(read_error(sform.bytes()), "non-finite")) << read_error(sform.bytes());

    RawNifti pixdim = valid_int16();
    pixdim.pixdim(2, std::numeric_limits<double>::infinity());
    EXPECT_TRUE(contains(read_error(pixdim.bytes()), "pixdim[2] is inf"))
        << read_error(pixdim.bytes());
}

}  // namespace
