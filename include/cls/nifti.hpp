// NIfTI-1 and NIfTI-2 single-file (.nii) reading and writing on byte spans.
// Files and gzip belong to the callers' edges (see cls/io/); this module only parses bytes.
// [X] datatypes uint8, int8, int16, uint16, int32, float32, float64; others refused by name
// [X] little- and big-endian headers and data
// [X] scl_slope / scl_inter applied as nibabel does (slope 0 or non-finite: unscaled)
// [X] affine chosen as nibabel's get_best_affine: sform if sform_code > 0, else qform if
//     qform_code > 0, else the pixdim fallback (x flipped, centred)
// [X] 4D files: `read` keeps the first volume (`Volume::source_volumes()` tells how many there
//     were); `read_volumes` returns every one, e.g. the channels of a softmax map
// [X] the header-declared data size is checked against the byte count before any allocation
// [X] reading in two steps (`read_grid`, then the voxels), so an edge that reads files itself
//     can read float32 voxels straight into the volume it keeps
// [ ] .hdr/.img pairs, extensions' contents (skipped), datatypes beyond the seven above
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cls/result.hpp"
#include "cls/volume.hpp"

namespace cls::nifti {

// NIfTI datatype codes (nifti1.h) for the types this module supports.
enum class DataType : std::int16_t {
    uint8 = 2,
    int16 = 4,
    int32 = 8,
    float32 = 16,
    float64 = 64,
    int8 = 256,
    uint16 = 512,
};

enum class Version { nifti1, nifti2 };

// The header facts a user asks about (`cls info`), beside the volume itself.
struct Header {
    Version version = Version::nifti1;
    DataType datatype = DataType::float32;
    bool big_endian = false;
    std::vector<std::int64_t> dims;  // dim[1..dim[0]]
    std::vector<double> pixdim;      // pixdim[1..dim[0]]
    double scl_slope = 1.0;          // as applied (1 when the file says "unscaled")
    double scl_inter = 0.0;
    int qform_code = 0;
    int sform_code = 0;
    std::int64_t vox_offset = 0;
    std::int64_t data_bytes = 0;  // voxel data the header declares, every volume included

    // Bytes the whole file must hold: how far a .nii.gz may inflate before it is refused.
    [[nodiscard]] std::int64_t file_bytes() const { return vox_offset + data_bytes; }
};

struct Image {
    Header header;
    Volume volume;
};

// "uint8", "float32", ...; "code N" for a code this module does not support.
[[nodiscard]] std::string datatype_name(std::int16_t code);
[[nodiscard]] std::string datatype_name(DataType type);

// Parses the header only; no voxel data is touched or allocated.
[[nodiscard]] Result<Header> read_header(std::span<const std::uint8_t> bytes);

// Parses a whole uncompressed .nii. Errors name the problem but not the file: callers add
// the file name with `Error::in`.
[[nodiscard]] Result<Image> read(std::span<const std::uint8_t> bytes);

// Parses a whole uncompressed .nii into every 3D volume it holds, in file order (the volumes
// along dims 4 to 7, x-fastest as stored): the channels of a (x, y, z, C) or (x, y, z, 1, C) map.
[[nodiscard]] Result<std::vector<Volume>> read_volumes(std::span<const std::uint8_t> bytes);

// Reading in two steps, for an edge that reads a file itself (cls::io) and wants the voxel
// data to land once, straight in the volume it keeps, with no whole-file buffer and no copy:
// `read_grid` parses the header from the file's first bytes (kHeaderBytes, or the whole file if
// it is shorter), checks that a file of `file_size` bytes holds the data it declares (before
// allocating anything, with `read`'s message), and returns the image with its first volume's
// grid, allocated (zero-filled) but not read. When `voxels_are_values(header)`, that volume's
// bytes, at `vox_offset`, are its float32 values on this host, to be read into `volume.data()`
// as they are; otherwise the voxels need decoding, and the caller reads the file and calls
// `read`.
inline constexpr std::size_t kHeaderBytes = 544;  // a NIfTI-2 header and its extension flag
[[nodiscard]] Result<Image> read_grid(std::span<const std::uint8_t> header_bytes,
                                      std::size_t file_size);
[[nodiscard]] bool voxels_are_values(const Header& header);

struct WriteOptions {
    DataType datatype = DataType::float32;
    Version version = Version::nifti1;
};

// Serialises a volume as a little-endian single-file NIfTI with its affine in both sform
// (exactly) and qform (the nearest rotation, as nibabel does), codes 1 (scanner).
// Values are converted to the datatype by rounding and clamping to its range. A volume with a
// dimension over 32767 is written as NIfTI-2 whatever `version` says: NIfTI-1 cannot hold it.
[[nodiscard]] std::vector<std::uint8_t> write(const Volume& volume, const WriteOptions& options);

}  // namespace cls::nifti
