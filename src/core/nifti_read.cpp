// Reading follows nibabel, the reference the tests compare against: the same header repairs
// on load, the same scaling rule and the same choice of affine, so that a file means here
// what it means to nibabel. Where nibabel would read garbage (a vox_offset inside the header)
// or fail late (a truncated file), this reader refuses up front with a specific message.

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "cls/nifti.hpp"
#include "nifti_layout.hpp"
#include "nifti_qform.hpp"

namespace cls::nifti {
namespace {

using detail::ByteReader;
using detail::Fields;
using detail::Layout;

std::string dims_text(std::span<const std::int64_t> dims) {
    std::string text;
    for (std::int64_t d : dims) text += (text.empty() ? "" : "x") + std::to_string(d);
    return text;
}

// "%g" keeps messages short: "352", "0.5", "nan", "1e+30".
std::string number_text(double value) {
    std::array<char, 32> text{};
    std::snprintf(text.data(), text.size(), "%g", value);
    return text.data();
}

std::optional<std::int64_t> checked_multiply(std::int64_t a, std::int64_t b) {
    if (a < 0 || b < 0) return std::nullopt;
    if (a != 0 && b > std::numeric_limits<std::int64_t>::max() / a) return std::nullopt;
    return a * b;
}

// ---- the header ---------------------------------------------------------------------------

struct Source {
    const Layout* layout;
    bool big_endian;
};

// The version and byte order both show in sizeof_hdr, the one field every header starts with.
Result<Source> detect_source(std::span<const std::uint8_t> bytes) {
    if (bytes.size() < 4) {
        return make_error("truncated: " + std::to_string(bytes.size()) +
                          " bytes, too short for a NIfTI header");
    }
    const auto sizeof_hdr = [&](bool big_endian) {
        return detail::load<std::int32_t>(bytes.data() + detail::kSizeofHdr.offset, big_endian);
    };
    for (const Layout* layout : {&detail::kNifti1, &detail::kNifti2}) {
        for (bool big_endian : {false, true}) {
            if (sizeof_hdr(big_endian) != layout->sizeof_hdr) continue;
            if (bytes.size() < static_cast<std::size_t>(layout->sizeof_hdr)) {
                return make_error("truncated: the header needs " +
                                  std::to_string(layout->sizeof_hdr) + " bytes but the file has " +
                                  std::to_string(bytes.size()));
            }
            return Source{layout, big_endian};
        }
    }
    // A DICOM slice says so at byte 128 ("DICM"): tell the user what to do with it.
    constexpr std::size_t kDicomMagicOffset = 128;
    if (bytes.size() >= kDicomMagicOffset + 4 &&
        std::string_view(reinterpret_cast<const char*>(bytes.data()) + kDicomMagicOffset, 4) ==
            "DICM") {
        return make_error(
            "is a DICOM file, not NIfTI: convert its series first, e.g. with "
            "dcm2niix -z y -f %f_%s -o OUT DICOM_FOLDER (the app reads DICOM "
            "folders itself)");
    }
    return make_error("not a NIfTI file: sizeof_hdr is " + std::to_string(sizeof_hdr(false)) +
                      ", expected 348 (NIfTI-1) or 540 (NIfTI-2)");
}

Status check_magic(const ByteReader& reader, const Layout& layout) {
    const std::string_view magic = reader.text(layout.magic_offset, layout.single_magic.size());
    if (magic == layout.pair_magic) {
        return make_error(
            "this is the header of a .hdr/.img pair; a single-file .nii is "
            "required (convert it, e.g. with nibabel or fslchfiletype)");
    }
    if (magic != layout.single_magic) {
        return make_error("not a NIfTI file: the magic string is not \"" +
                          std::string(layout.single_magic.substr(0, 3)) + "\"");
    }
    if (layout.version == Version::nifti2) {
        // All-zero is what some writers leave; nibabel accepts it too.
        const std::string_view eol = reader.text(detail::kNifti2EolOffset, 4);
        if (eol != detail::kNifti2Eol && eol != std::string_view("\0\0\0\0", 4)) {
            return make_error(
                "damaged header: its end-of-line check bytes were altered, as a "
                "text-mode transfer does; transfer the file in binary mode");
        }
    }
    return Done{};
}

// nibabel repairs these on load (its header check_fix) rather than refusing the file; doing
// the same keeps our zooms and affine equal to nibabel's. bitpix, which nibabel also
// repairs, is simply not used: the datatype decides the voxel size.
void repair_like_nibabel(Fields& f) {
    for (std::size_t axis = 1; axis <= 3; ++axis) {
        f.pixdim[axis] = f.pixdim[axis] == 0.0 ? 1.0 : std::abs(f.pixdim[axis]);
    }
    if (f.pixdim[0] != 1.0 && f.pixdim[0] != -1.0) f.pixdim[0] = 1.0;  // qfac
    for (int* code : {&f.qform_code, &f.sform_code}) {
        if (*code < 0 || *code > 5) *code = 0;  // not a NIFTI_XFORM_* code
    }
}

Result<std::vector<std::int64_t>> read_dims(const Fields& f) {
    const std::int64_t rank = f.dim[0];
    if (rank < 1 || rank > 7) {
        return make_error("dim[0] is " + std::to_string(rank) +
                          ", but a NIfTI image has 1 to 7 dimensions");
    }
    std::vector<std::int64_t> dims(f.dim.begin() + 1, f.dim.begin() + 1 + rank);
    for (std::size_t i = 0; i < dims.size(); ++i) {
        if (dims[i] < 1) {
            return make_error("dim[" + std::to_string(i + 1) + "] is " + std::to_string(dims[i]) +
                              "; every dimension must be at least 1");
        }
    }
    return dims;
}

// Only the spatial voxel sizes are used (as spacing and in the affine); a NaN there would
// silently poison every distance computed downstream.
Status check_pixdims(const Fields& f) {
    for (std::int64_t axis = 1; axis <= 3 && axis <= f.dim[0]; ++axis) {
        const double size = f.pixdim[static_cast<std::size_t>(axis)];
        if (!std::isfinite(size)) {
            return make_error("pixdim[" + std::to_string(axis) + "] is " + number_text(size) +
                              "; voxel sizes must be finite");
        }
    }
    return Done{};
}

Result<DataType> read_datatype(std::int16_t code) {
    if (detail::supported_name(code)) return static_cast<DataType>(code);
    const std::optional<std::string_view> name = detail::unsupported_name(code);
    const std::string what = name ? std::string(*name) + " (code " + std::to_string(code) + ")"
                                  : "code " + std::to_string(code);
    return make_error("unsupported datatype " + what + "; supported are " +
                      std::string(detail::kSupportedNames) +
                      " (convert the file, e.g. with nibabel)");
}

struct Scaling {
    double slope = 1.0;
    double inter = 0.0;
};

// nibabel's get_slope_inter: a zero or non-finite slope means "unscaled", but a usable slope
// with an unusable intercept is an error, since either guess would change every value.
Result<Scaling> read_scaling(const Fields& f) {
    if (f.scl_slope == 0.0 || !std::isfinite(f.scl_slope)) return Scaling{};
    if (!std::isfinite(f.scl_inter)) {
        return make_error("scl_slope is " + number_text(f.scl_slope) + " but scl_inter is " +
                          number_text(f.scl_inter) + "; the intercept must be finite");
    }
    return Scaling{f.scl_slope, f.scl_inter};
}

Result<std::int64_t> read_vox_offset(const Fields& f, const Layout& layout) {
    const double offset = f.vox_offset;
    if (!std::isfinite(offset)) return make_error("vox_offset is " + number_text(offset));
    if (offset < static_cast<double>(layout.min_vox_offset)) {
        return make_error("vox_offset " + number_text(offset) + " points into the header; a " +
                          "single-file .nii has its data at offset " +
                          std::to_string(layout.min_vox_offset) + " or later");
    }
    if (offset >= 0x1p63) return make_error("vox_offset " + number_text(offset) + " is absurd");
    return static_cast<std::int64_t>(offset);  // NIfTI-1 stores a float; nibabel truncates it
}

std::string declared_text(const std::vector<std::int64_t>& dims, DataType type) {
    return "header declares " + dims_text(dims) + " " + datatype_name(type) + " voxels";
}

// The size of all the declared data, every volume. A size beyond 64 bits is refused here,
// from the header alone; whether the bytes are present is checked once they are at hand.
Result<std::int64_t> declared_data_bytes(const std::vector<std::int64_t>& dims, DataType type) {
    std::optional<std::int64_t> size = static_cast<std::int64_t>(detail::bytes_per_voxel(type));
    for (std::int64_t d : dims) size = size ? checked_multiply(*size, d) : std::nullopt;
    if (!size) return make_error(declared_text(dims, type) + ", more than any file holds");
    return *size;
}

struct Parsed {
    Header header;
    Fields fields;  // as repaired
};

Result<Parsed> parse(std::span<const std::uint8_t> bytes) {
    const Result<Source> source = detect_source(bytes);
    if (!source) return source.error();
    const Layout& layout = *source->layout;
    const ByteReader reader(bytes, source->big_endian);
    if (Status magic = check_magic(reader, layout); !magic) return magic.error();

    Fields f = detail::decode(reader, layout);
    repair_like_nibabel(f);
    Result<std::vector<std::int64_t>> dims = read_dims(f);
    if (!dims) return dims.error();
    if (Status pixdims = check_pixdims(f); !pixdims) return pixdims.error();
    const Result<DataType> type = read_datatype(f.datatype);
    if (!type) return type.error();
    const Result<Scaling> scaling = read_scaling(f);
    if (!scaling) return scaling.error();
    const Result<std::int64_t> vox_offset = read_vox_offset(f, layout);
    if (!vox_offset) return vox_offset.error();
    const Result<std::int64_t> data_bytes = declared_data_bytes(*dims, *type);
    if (!data_bytes) return data_bytes.error();
    if (*data_bytes > std::numeric_limits<std::int64_t>::max() - *vox_offset) {
        return make_error(declared_text(*dims, *type) + " from offset " +
                          std::to_string(*vox_offset) + ", more than any file holds");
    }
    Header header{
        .version = layout.version,
        .datatype = *type,
        .big_endian = source->big_endian,
        .dims = std::move(dims).value(),
        .pixdim = std::vector<double>(f.pixdim.begin() + 1, f.pixdim.begin() + 1 + f.dim[0]),
        .scl_slope = scaling->slope,
        .scl_inter = scaling->inter,
        .qform_code = f.qform_code,
        .sform_code = f.sform_code,
        .vox_offset = *vox_offset,
        .data_bytes = *data_bytes,
    };
    return Parsed{std::move(header), f};
}

// ---- the affine ---------------------------------------------------------------------------

Affine sform_affine(const Fields& f) {
    Affine affine = Affine::Identity();
    affine.topRows<3>() = f.srow;
    return affine;
}

// nibabel's get_qform: the quaternion's rotation, scaled by the zooms, the third one flipped
// by qfac (pixdim[0]).
Result<Affine> qform_affine(const Fields& f, Version version) {
    // nibabel tolerates 3 epsilon of the stored precision as rounding.
    const double tolerance =
        3.0 * (version == Version::nifti1 ? std::numeric_limits<float>::epsilon()
                                          : std::numeric_limits<double>::epsilon());
    const std::optional<Eigen::Matrix3d> rotation =
        detail::rotation_from_quaternion(f.quatern, tolerance);
    if (!rotation) {
        return make_error("the qform quaternion (" + number_text(f.quatern[0]) + ", " +
                          number_text(f.quatern[1]) + ", " + number_text(f.quatern[2]) +
                          ") is not part of a unit quaternion; the orientation is corrupt");
    }
    const Eigen::Vector3d zooms(f.pixdim[1], f.pixdim[2], f.pixdim[3] * f.pixdim[0]);
    Affine affine = Affine::Identity();
    affine.topLeftCorner<3, 3>() = *rotation * zooms.asDiagonal();
    affine.topRightCorner<3, 1>() = Eigen::Vector3d(f.qoffset[0], f.qoffset[1], f.qoffset[2]);
    return affine;
}

// nibabel's shape_zoom_affine with x flipped: the image centred on the origin, radiological
// x. Fewer than three dimensions are padded with size 1 and zoom 1.
Affine fallback_affine(const Fields& f) {
    Affine affine = Affine::Identity();
    for (std::size_t axis = 0; axis < 3; ++axis) {
        const bool present = static_cast<std::int64_t>(axis) < f.dim[0];
        const double size = present ? static_cast<double>(f.dim[axis + 1]) : 1.0;
        const double zoom = (present ? f.pixdim[axis + 1] : 1.0) * (axis == 0 ? -1.0 : 1.0);
        const auto i = static_cast<Eigen::Index>(axis);
        affine(i, i) = zoom;
        affine(i, 3) = -(size - 1.0) / 2.0 * zoom;
    }
    return affine;
}

Result<Affine> finite(const Affine& affine, const char* source) {
    if (affine.allFinite()) return affine;
    return make_error(std::string("the affine (from the ") + source + ") has non-finite entries");
}

// nibabel's get_best_affine, with codes already repaired to 0..5.
Result<Affine> best_affine(const Fields& f, Version version) {
    if (f.sform_code != 0) return finite(sform_affine(f), "sform");
    if (f.qform_code == 0) return finite(fallback_affine(f), "pixdim");
    const Result<Affine> qform = qform_affine(f, version);
    return qform ? finite(*qform, "qform") : qform;
}

// ---- the voxels ---------------------------------------------------------------------------

// float32 is the storage type (see Volume); a double beyond its range becomes an infinity
// explicitly, since a narrowing conversion out of range is undefined behaviour in C++.
float to_float(double value) {
    constexpr double kMax = std::numeric_limits<float>::max();
    if (value > kMax) return std::numeric_limits<float>::infinity();
    if (value < -kMax) return -std::numeric_limits<float>::infinity();
    return static_cast<float>(value);
}

bool host_byte_order(bool big_endian) {
    return big_endian == (std::endian::native == std::endian::big);
}

bool unscaled(Scaling scaling) { return scaling.slope == 1.0 && scaling.inter == 0.0; }

// nibabel scales in float64 (get_fdata); rounding that result once to float32 loses no more.
// Unscaled voxels skip the arithmetic, as nibabel's apply_read_scaling does (so -0.0 stays
// -0.0): each value is the stored number rounded once to float32, and float32 stored in the
// host's byte order is copied as it is.
template <class T>
void decode_voxels(const std::uint8_t* source, bool big_endian, Scaling scaling,
                   std::span<float> out) {
    if (unscaled(scaling)) {
        if constexpr (std::is_same_v<T, float>) {
            if (host_byte_order(big_endian)) {
                std::memcpy(out.data(), source, out.size_bytes());
                return;
            }
        }
        for (std::size_t i = 0; i < out.size(); ++i) {
            out[i] =
                to_float(static_cast<double>(detail::load<T>(source + i * sizeof(T), big_endian)));
        }
        return;
    }
    for (std::size_t i = 0; i < out.size(); ++i) {
        const auto raw = static_cast<double>(detail::load<T>(source + i * sizeof(T), big_endian));
        out[i] = to_float(raw * scaling.slope + scaling.inter);
    }
}

// The zero-filled first volume. Axes beyond dim[0] have size 1; axes beyond the third count
// as volumes, of which only the first is kept: dims 5 to 7 included, since x-fastest order
// puts that first volume at the start whatever the higher axes mean.
Volume first_volume_grid(const Header& header, const Fields& f, const Affine& affine) {
    const std::size_t rank = header.dims.size();
    const auto extent = [&](std::size_t axis) { return axis < rank ? header.dims[axis] : 1; };
    Volume volume(Dims{extent(0), extent(1), extent(2)}, affine);
    std::int64_t volumes = 1;
    for (std::size_t axis = 3; axis < rank; ++axis) volumes *= header.dims[axis];
    volume.set_source_volumes(volumes);
    // The header's voxel sizes (as nibabel reports them), not the affine's column norms: the
    // two disagree when a tool edited one without the other.
    std::array<double, 3> spacing{1.0, 1.0, 1.0};
    for (std::size_t axis = 0; axis < 3 && axis < rank; ++axis) spacing[axis] = f.pixdim[axis + 1];
    volume.set_spacing(spacing);
    return volume;
}

// The whole declared data, every volume, must be present: a short file is damaged even when
// the first volume happens to be complete. Checked before the volume is allocated, so a
// header declaring terabytes costs nothing.
Status check_data_present(const Parsed& parsed, std::size_t file_size) {
    const Header& header = parsed.header;
    if (header.vox_offset > static_cast<std::int64_t>(file_size)) {
        return make_error("vox_offset " + std::to_string(header.vox_offset) +
                          " lies beyond the end of the file (" + std::to_string(file_size) +
                          " bytes): the file is truncated or its header damaged");
    }
    const std::int64_t available = static_cast<std::int64_t>(file_size) - header.vox_offset;
    if (header.data_bytes > available) {
        return make_error("truncated: " + declared_text(header.dims, header.datatype) + " (" +
                          std::to_string(header.data_bytes) + " bytes) from offset " +
                          std::to_string(header.vox_offset) + " but the file has " +
                          std::to_string(available) + " bytes of data");
    }
    return Done{};
}

struct Volumes {
    Header header;
    std::vector<Volume> volumes;
};

// The header's image with its first volume's grid, storage allocated, values not yet read.
Result<Image> image_grid(const Parsed& parsed) {
    const Result<Affine> affine = best_affine(parsed.fields, parsed.header.version);
    if (!affine) return affine.error();
    return Image{parsed.header, first_volume_grid(parsed.header, parsed.fields, *affine)};
}

// The first `wanted` volumes (at least one) of a whole uncompressed .nii.
Result<Volumes> read_some_volumes(std::span<const std::uint8_t> bytes, std::int64_t wanted) {
    Result<Parsed> parsed = parse(bytes);
    if (!parsed) return parsed.error();
    if (Status present = check_data_present(*parsed, bytes.size()); !present) {
        return present.error();
    }
    Result<Image> grid = image_grid(*parsed);
    if (!grid) return grid.error();
    const Header& header = grid->header;
    Volume& first = grid->volume;
    const std::int64_t count = std::clamp<std::int64_t>(wanted, 1, first.source_volumes());
    const Scaling scaling{header.scl_slope, header.scl_inter};
    const std::size_t voxels = first.voxel_count();
    Volumes out{header, {}};
    out.volumes.reserve(static_cast<std::size_t>(count));
    for (std::int64_t v = 0; v < count; ++v) {
        Volume volume = v + 1 == count ? std::move(first) : first;
        detail::visit(header.datatype, [&](auto sample) {
            using T = decltype(sample);
            const std::uint8_t* data =
                bytes.data() + header.vox_offset + static_cast<std::size_t>(v) * voxels * sizeof(T);
            decode_voxels<T>(data, header.big_endian, scaling, volume.values());
        });
        out.volumes.push_back(std::move(volume));
    }
    return out;
}

}  // namespace

std::string datatype_name(std::int16_t code) {
    const std::optional<std::string_view> name = detail::supported_name(code);
    return name ? std::string(*name) : "code " + std::to_string(code);
}

std::string datatype_name(DataType type) { return datatype_name(static_cast<std::int16_t>(type)); }

Result<Header> read_header(std::span<const std::uint8_t> bytes) {
    Result<Parsed> parsed = parse(bytes);
    if (!parsed) return parsed.error();
    return std::move(parsed->header);
}

Result<Image> read(std::span<const std::uint8_t> bytes) {
    auto volumes = read_some_volumes(bytes, 1);
    if (!volumes) return volumes.error();
    return Image{std::move(volumes->header), std::move(volumes->volumes.front())};
}

Result<Image> read_grid(std::span<const std::uint8_t> header_bytes, std::size_t file_size) {
    Result<Parsed> parsed = parse(header_bytes);
    if (!parsed) return parsed.error();
    if (Status present = check_data_present(*parsed, file_size); !present) {
        return present.error();
    }
    return image_grid(*parsed);
}

bool voxels_are_values(const Header& header) {
    return header.datatype == DataType::float32 && host_byte_order(header.big_endian) &&
           unscaled({header.scl_slope, header.scl_inter});
}

Result<std::vector<Volume>> read_volumes(std::span<const std::uint8_t> bytes) {
    auto volumes = read_some_volumes(bytes, std::numeric_limits<std::int64_t>::max());
    if (!volumes) return volumes.error();
    return std::move(volumes->volumes);
}

}  // namespace cls::nifti
