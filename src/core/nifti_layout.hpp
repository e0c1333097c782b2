// Private to the NIfTI reader and writer: where each header field lives in NIfTI-1 and
// NIfTI-2, the header fields both sides work with, and byte access that is safe on unaligned
// offsets and explicit about byte order. Offsets follow nifti1.h / nifti2.h, checked against
// nibabel's `header_dtd` definitions (nibabel/nifti1.py, nibabel/nifti2.py).
#pragma once

#include <Eigen/Core>
#include <algorithm>
#include <array>
#include <bit>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "cls/nifti.hpp"

namespace cls::nifti::detail {

// The storage type of a header field; the two versions store the same fields in different
// widths (int16 dims and float32 reals in NIfTI-1, int64 and float64 in NIfTI-2).
enum class Kind : std::uint8_t { u8, i16, i32, i64, f32, f64 };

[[nodiscard]] constexpr std::size_t width(Kind kind) {
    switch (kind) {
        case Kind::u8:
            return 1;
        case Kind::i16:
            return 2;
        case Kind::i32:
        case Kind::f32:
            return 4;
        case Kind::i64:
        case Kind::f64:
            return 8;
    }
    return 0;
}

// A field, or an array of fields of one kind, at a byte offset from the start of the file.
struct Field {
    std::size_t offset;
    Kind kind;

    [[nodiscard]] constexpr std::size_t at(std::size_t index) const {
        return offset + index * width(kind);
    }
};

struct Layout {
    Version version;
    std::int32_t sizeof_hdr;
    // The smallest vox_offset of a single file: the header plus the 4-byte extension flag.
    std::int64_t min_vox_offset;
    std::size_t magic_offset;
    std::string_view single_magic;  // ".nii": header and data in one file
    std::string_view pair_magic;    // ".hdr" of a .hdr/.img pair
    Field datatype, bitpix, dim, pixdim, vox_offset, scl_slope, scl_inter, xyzt_units;
    Field qform_code, sform_code;
    Field quatern;  // quatern_b, quatern_c, quatern_d
    Field qoffset;  // qoffset_x, qoffset_y, qoffset_z
    Field srow;     // srow_x, srow_y, srow_z: a 3x4 row-major matrix
};

inline constexpr Layout kNifti1{
    .version = Version::nifti1,
    .sizeof_hdr = 348,
    .min_vox_offset = 352,
    .magic_offset = 344,
    .single_magic = std::string_view("n+1\0", 4),
    .pair_magic = std::string_view("ni1\0", 4),
    .datatype = {70, Kind::i16},
    .bitpix = {72, Kind::i16},
    .dim = {40, Kind::i16},
    .pixdim = {76, Kind::f32},
    .vox_offset = {108, Kind::f32},
    .scl_slope = {112, Kind::f32},
    .scl_inter = {116, Kind::f32},
    .xyzt_units = {123, Kind::u8},
    .qform_code = {252, Kind::i16},
    .sform_code = {254, Kind::i16},
    .quatern = {256, Kind::f32},
    .qoffset = {268, Kind::f32},
    .srow = {280, Kind::f32},
};

inline constexpr Layout kNifti2{
    .version = Version::nifti2,
    .sizeof_hdr = 540,
    .min_vox_offset = 544,
    .magic_offset = 4,
    .single_magic = std::string_view("n+2\0", 4),
    .pair_magic = std::string_view("ni2\0", 4),
    .datatype = {12, Kind::i16},
    .bitpix = {14, Kind::i16},
    .dim = {16, Kind::i64},
    .pixdim = {104, Kind::f64},
    .vox_offset = {168, Kind::i64},
    .scl_slope = {176, Kind::f64},
    .scl_inter = {184, Kind::f64},
    .xyzt_units = {500, Kind::i32},
    .qform_code = {344, Kind::i32},
    .sform_code = {348, Kind::i32},
    .quatern = {352, Kind::f64},
    .qoffset = {376, Kind::f64},
    .srow = {400, Kind::f64},
};

// Both versions open with sizeof_hdr, which tells the version and, read either way round, the
// byte order.
inline constexpr Field kSizeofHdr{0, Kind::i32};

// NIfTI-2 follows its magic with these bytes so that a text-mode transfer, which rewrites
// line ends, is detectable.
inline constexpr std::size_t kNifti2EolOffset = 8;
inline constexpr std::string_view kNifti2Eol("\r\n\032\n", 4);

// The sform's three rows, stored row by row as in the file, so that the i-th stored value is
// coefficient i.
using Srow = Eigen::Matrix<double, 3, 4, Eigen::RowMajor>;

// The header fields the reader and writer use, widened to one type per meaning so that the
// code above the byte level does not care which version it handles.
struct Fields {
    std::int16_t datatype = 0;
    std::int16_t bitpix = 0;
    std::array<std::int64_t, 8> dim{};
    std::array<double, 8> pixdim{};
    double vox_offset = 0.0;  // a float in NIfTI-1, so possibly fractional or non-finite
    double scl_slope = 0.0;
    double scl_inter = 0.0;
    int xyzt_units = 0;
    int qform_code = 0;
    int sform_code = 0;
    std::array<double, 3> quatern{};
    std::array<double, 3> qoffset{};
    Srow srow = Srow::Zero();
};

// ---- byte access --------------------------------------------------------------------------

// Loads a T stored at `p` in the given byte order. memcpy, not a cast, because header fields
// and voxels sit at offsets with no alignment guarantee.
template <class T>
[[nodiscard]] T load(const std::uint8_t* p, bool big_endian) {
    std::array<std::uint8_t, sizeof(T)> raw;
    std::memcpy(raw.data(), p, sizeof(T));
    if (big_endian != (std::endian::native == std::endian::big)) {
        std::reverse(raw.begin(), raw.end());
    }
    T value;
    std::memcpy(&value, raw.data(), sizeof(T));
    return value;
}

// Stores a T at `p`, little-endian: the writer's only byte order.
template <class T>
void store_little(std::uint8_t* p, T value) {
    std::array<std::uint8_t, sizeof(T)> raw;
    std::memcpy(raw.data(), &value, sizeof(T));
    if constexpr (std::endian::native == std::endian::big) std::reverse(raw.begin(), raw.end());
    std::memcpy(p, raw.data(), sizeof(T));
}

// Reads header fields of any kind from a span already known to hold the whole header.
class ByteReader {
public:
    ByteReader(std::span<const std::uint8_t> bytes, bool big_endian)
        : bytes_(bytes), big_endian_(big_endian) {}

    [[nodiscard]] std::int64_t integer(Field field, std::size_t index = 0) const {
        const std::uint8_t* p = at(field, index);
        switch (field.kind) {
            case Kind::u8:
                return *p;
            case Kind::i16:
                return load<std::int16_t>(p, big_endian_);
            case Kind::i32:
                return load<std::int32_t>(p, big_endian_);
            case Kind::i64:
                return load<std::int64_t>(p, big_endian_);
            case Kind::f32:
            case Kind::f64:
                break;
        }
        assert(false && "integer() of a real field");
        return 0;
    }

    // Reals widen exactly; integer fields (NIfTI-2's vox_offset) convert.
    [[nodiscard]] double real(Field field, std::size_t index = 0) const {
        const std::uint8_t* p = at(field, index);
        switch (field.kind) {
            case Kind::f32:
                return load<float>(p, big_endian_);
            case Kind::f64:
                return load<double>(p, big_endian_);
            default:
                return static_cast<double>(integer(field, index));
        }
    }

    [[nodiscard]] std::string_view text(std::size_t offset, std::size_t size) const {
        assert(offset + size <= bytes_.size());
        return {reinterpret_cast<const char*>(bytes_.data() + offset), size};
    }

private:
    [[nodiscard]] const std::uint8_t* at(Field field, std::size_t index) const {
        assert(field.at(index) + width(field.kind) <= bytes_.size());
        return bytes_.data() + field.at(index);
    }

    std::span<const std::uint8_t> bytes_;
    bool big_endian_;
};

// Writes little-endian header fields into a buffer already sized to hold the whole header.
class ByteWriter {
public:
    explicit ByteWriter(std::span<std::uint8_t> bytes) : bytes_(bytes) {}

    void integer(Field field, std::size_t index, std::int64_t value) {
        std::uint8_t* p = at(field, index);
        switch (field.kind) {
            case Kind::u8:
                *p = static_cast<std::uint8_t>(value);
                return;
            case Kind::i16:
                store_little(p, static_cast<std::int16_t>(value));
                return;
            case Kind::i32:
                store_little(p, static_cast<std::int32_t>(value));
                return;
            case Kind::i64:
                store_little(p, value);
                return;
            case Kind::f32:
            case Kind::f64:
                real(field, index, static_cast<double>(value));
                return;
        }
    }

    void real(Field field, std::size_t index, double value) {
        std::uint8_t* p = at(field, index);
        switch (field.kind) {
            case Kind::f32:
                store_little(p, static_cast<float>(value));
                return;
            case Kind::f64:
                store_little(p, value);
                return;
            default:
                integer(field, index, static_cast<std::int64_t>(value));
                return;
        }
    }

    void text(std::size_t offset, std::string_view value) {
        assert(offset + value.size() <= bytes_.size());
        std::memcpy(bytes_.data() + offset, value.data(), value.size());
    }

private:
    [[nodiscard]] std::uint8_t* at(Field field, std::size_t index) {
        assert(field.at(index) + width(field.kind) <= bytes_.size());
        return bytes_.data() + field.at(index);
    }

    std::span<std::uint8_t> bytes_;
};

// ---- bytes <-> fields ---------------------------------------------------------------------

// Every field this module uses, widened; the rest of the header is ignored.
[[nodiscard]] inline Fields decode(const ByteReader& reader, const Layout& layout) {
    Fields f;
    f.datatype = static_cast<std::int16_t>(reader.integer(layout.datatype));
    f.bitpix = static_cast<std::int16_t>(reader.integer(layout.bitpix));
    for (std::size_t i = 0; i < 8; ++i) {
        f.dim[i] = reader.integer(layout.dim, i);
        f.pixdim[i] = reader.real(layout.pixdim, i);
    }
    f.vox_offset = reader.real(layout.vox_offset);
    f.scl_slope = reader.real(layout.scl_slope);
    f.scl_inter = reader.real(layout.scl_inter);
    f.xyzt_units = static_cast<int>(reader.integer(layout.xyzt_units));
    f.qform_code = static_cast<int>(reader.integer(layout.qform_code));
    f.sform_code = static_cast<int>(reader.integer(layout.sform_code));
    for (std::size_t i = 0; i < 3; ++i) {
        f.quatern[i] = reader.real(layout.quatern, i);
        f.qoffset[i] = reader.real(layout.qoffset, i);
    }
    for (std::size_t i = 0; i < 12; ++i)
        f.srow(static_cast<Eigen::Index>(i)) = reader.real(layout.srow, i);
    return f;
}

// Little-endian; `header` is zero-filled and spans min_vox_offset bytes, so the fields not
// written here are zero and so is the "no extensions" flag.
inline void encode(const Fields& f, const Layout& layout, std::span<std::uint8_t> header) {
    ByteWriter writer(header);
    writer.integer(kSizeofHdr, 0, layout.sizeof_hdr);
    writer.text(layout.magic_offset, layout.single_magic);
    if (layout.version == Version::nifti2) writer.text(kNifti2EolOffset, kNifti2Eol);
    writer.integer(layout.datatype, 0, f.datatype);
    writer.integer(layout.bitpix, 0, f.bitpix);
    for (std::size_t i = 0; i < 8; ++i) {
        writer.integer(layout.dim, i, f.dim[i]);
        writer.real(layout.pixdim, i, f.pixdim[i]);
    }
    writer.real(layout.vox_offset, 0, f.vox_offset);
    writer.real(layout.scl_slope, 0, f.scl_slope);
    writer.real(layout.scl_inter, 0, f.scl_inter);
    writer.integer(layout.xyzt_units, 0, f.xyzt_units);
    writer.integer(layout.qform_code, 0, f.qform_code);
    writer.integer(layout.sform_code, 0, f.sform_code);
    for (std::size_t i = 0; i < 3; ++i) {
        writer.real(layout.quatern, i, f.quatern[i]);
        writer.real(layout.qoffset, i, f.qoffset[i]);
    }
    for (std::size_t i = 0; i < 12; ++i)
        writer.real(layout.srow, i, f.srow(static_cast<Eigen::Index>(i)));
}

// ---- datatypes ----------------------------------------------------------------------------

// Calls `f(T{})` with the C++ type stored for `type`, so that voxel loops are compiled once
// per type rather than switching per voxel.
template <class F>
decltype(auto) visit(DataType type, F&& f) {
    switch (type) {
        case DataType::uint8:
            return f(std::uint8_t{});
        case DataType::int8:
            return f(std::int8_t{});
        case DataType::int16:
            return f(std::int16_t{});
        case DataType::uint16:
            return f(std::uint16_t{});
        case DataType::int32:
            return f(std::int32_t{});
        case DataType::float32:
            return f(float{});
        case DataType::float64:
            return f(double{});
    }
    assert(false && "unknown DataType");
    return f(float{});
}

[[nodiscard]] inline std::size_t bytes_per_voxel(DataType type) {
    return visit(type, [](auto sample) { return sizeof(sample); });
}

struct NamedCode {
    std::int16_t code;
    std::string_view name;
};

inline constexpr NamedCode kSupportedTypes[] = {
    {2, "uint8"}, {256, "int8"},   {4, "int16"},    {512, "uint16"},
    {8, "int32"}, {16, "float32"}, {64, "float64"},
};
inline constexpr std::string_view kSupportedNames =
    "uint8, int8, int16, uint16, int32, float32, float64";

// The other datatypes of nifti1.h, named so that a refusal can say what the file holds.
inline constexpr NamedCode kUnsupportedTypes[] = {
    {1, "binary"},        {32, "complex64"}, {128, "rgb24"},     {768, "uint32"},
    {1024, "int64"},      {1280, "uint64"},  {1536, "float128"}, {1792, "complex128"},
    {2048, "complex256"}, {2304, "rgba32"},
};

[[nodiscard]] inline std::optional<std::string_view> find_name(std::span<const NamedCode> table,
                                                               std::int16_t code) {
    for (const NamedCode& entry : table) {
        if (entry.code == code) return entry.name;
    }
    return std::nullopt;
}

[[nodiscard]] inline std::optional<std::string_view> supported_name(std::int16_t code) {
    return find_name(kSupportedTypes, code);
}

[[nodiscard]] inline std::optional<std::string_view> unsupported_name(std::int16_t code) {
    return find_name(kUnsupportedTypes, code);
}

}  // namespace cls::nifti::detail
