// Writing produces the one form every reader accepts: little-endian, single file, no
// extensions, the affine in the sform exactly and its nearest rigid form in the qform.

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstdint>
#include <limits>
#include <span>
#include <type_traits>
#include <vector>

#include "cls/nifti.hpp"
#include "nifti_layout.hpp"
#include "nifti_qform.hpp"

namespace cls::nifti {
namespace {

using detail::Fields;
using detail::Layout;

constexpr int kXformScanner = 1;     // NIFTI_XFORM_SCANNER_ANAT
constexpr int kUnitsMillimetre = 2;  // NIFTI_UNITS_MM

// NIfTI-1 stores each dimension as an int16.
bool fits_nifti1(const Volume& volume) {
    return std::all_of(volume.dims().begin(), volume.dims().end(), [](std::int64_t d) {
        return d <= std::numeric_limits<std::int16_t>::max();
    });
}

Fields fields_for(const Volume& volume, DataType type, const Layout& layout) {
    assert(layout.version == Version::nifti2 || fits_nifti1(volume));
    Fields f;
    f.datatype = static_cast<std::int16_t>(type);
    f.bitpix = static_cast<std::int16_t>(8 * detail::bytes_per_voxel(type));
    f.dim = {3, volume.dims()[0], volume.dims()[1], volume.dims()[2], 1, 1, 1, 1};

    const detail::Qform qform = detail::qform_from_affine(volume.affine());
    // The zooms are the affine's column norms, as the qform needs; unused pixdims are 1, as
    // nibabel writes them.
    f.pixdim = {qform.qfac, qform.zooms[0], qform.zooms[1], qform.zooms[2], 1, 1, 1, 1};
    f.quatern = qform.quatern;
    f.qoffset = qform.qoffset;
    f.srow = volume.affine().topRows<3>();
    f.qform_code = kXformScanner;
    f.sform_code = kXformScanner;
    f.vox_offset = static_cast<double>(layout.min_vox_offset);
    f.scl_slope = 1.0;
    f.scl_inter = 0.0;
    f.xyzt_units = kUnitsMillimetre;
    return f;
}

// Integer types get the nearest value in range (ties to even, like numpy's rint); NaN, which
// no integer holds, becomes 0. Clamping first also keeps the conversion defined.
template <class T>
T convert(float value) {
    if constexpr (std::is_floating_point_v<T>) {
        return static_cast<T>(value);
    } else {
        if (std::isnan(value)) return T{0};
        const double rounded = std::nearbyint(static_cast<double>(value));
        constexpr auto kLowest = static_cast<double>(std::numeric_limits<T>::lowest());
        constexpr auto kMax = static_cast<double>(std::numeric_limits<T>::max());
        return static_cast<T>(std::clamp(rounded, kLowest, kMax));
    }
}

template <class T>
void encode_voxels(std::span<const float> values, std::uint8_t* out) {
    for (std::size_t i = 0; i < values.size(); ++i) {
        detail::store_little(out + i * sizeof(T), convert<T>(values[i]));
    }
}

}  // namespace

std::vector<std::uint8_t> write(const Volume& volume, const WriteOptions& options) {
    const bool nifti1 = options.version == Version::nifti1 && fits_nifti1(volume);
    const Layout& layout = nifti1 ? detail::kNifti1 : detail::kNifti2;
    const auto header_size = static_cast<std::size_t>(layout.min_vox_offset);
    const std::size_t data_size = volume.voxel_count() * detail::bytes_per_voxel(options.datatype);
    // Zero-filled, which also writes the 4-byte "no extensions" flag after the header.
    std::vector<std::uint8_t> bytes(header_size + data_size, 0);
    detail::encode(fields_for(volume, options.datatype, layout), layout,
                   std::span(bytes).first(header_size));
    detail::visit(options.datatype, [&](auto sample) {
        encode_voxels<decltype(sample)>(volume.values(), bytes.data() + header_size);
    });
    return bytes;
}

}  // namespace cls::nifti
