// NumPy .npz archives (zip files of .npy members, as np.savez / np.savez_compressed write
// them) at the native file edge, through libzip, and nnU-Net v2's `<case>.npz` probability
// files on top (cls/nnunet_probabilities.hpp says what nnU-Net writes and in which order).
// The browser reads the same archives with web/npz.js; this file is native only.
// [X] stored and deflated members, zip64 (numpy always writes zip64 local headers)
// [X] a member's declared size checked against a limit before anything is inflated (zip
//     bombs), and the bytes actually inflated checked to equal it (lying headers); CRCs are
//     checked by libzip
// [X] a missing member named, with the members present
// [ ] encrypted members (refused), multi-disk archives
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cls/io/file.hpp"
#include "cls/result.hpp"
#include "cls/volume.hpp"

namespace cls::io {

// The uncompressed bytes of `member` (e.g. "probabilities.npy") of the zip held in `npz`.
// Refuses a member that declares more than `max_bytes`, before inflating it. Errors do not
// name a file.
[[nodiscard]] Result<Bytes> read_npz_member(std::span<const std::uint8_t> npz,
                                            std::string_view member, std::size_t max_bytes);

struct LoadedProbabilities {
    std::vector<Volume> channels;  // one per class, on the reference's grid
    std::string sha256;            // of the .npz file's bytes as stored
};

// nnU-Net's largest plausible class count, times float64, times the reference's voxels, plus
// the header: how much a probabilities.npy may declare before it is refused unread.
inline constexpr std::size_t kMaxNnunetClasses = 256;

// Reads `<case>.npz` as nnU-Net v2 writes it: the member probabilities.npy, (C, z, y, x), split
// into one Volume per class with `reference`'s grid and affine, on the grid the plans.json
// beside it names (cls::read_nnunet_plans; none: the file's own). Errors name the file.
[[nodiscard]] Result<LoadedProbabilities> load_nnunet_npz(const std::filesystem::path& path,
                                                          const Volume& reference);

// A case's probability map by the one rule, whatever its format: a .nii/.nii.gz as
// load_probability_map reads it, or nnU-Net's .npz, whose classes take the grid and affine of
// `reference` (the case's label or image) and are chosen and combined by `choice`
// (cls::read_nnunet_probability_map), the plans.json beside it read as load_nnunet_npz reads
// it. `reference` may be null for a NIfTI map; a .npz without
// one is refused, saying what to give. A .npz is no NIfTI: its `image.header` is empty.
[[nodiscard]] Result<LoadedNifti> load_case_probability_map(const std::filesystem::path& path,
                                                            const LesionChannels& choice,
                                                            const Volume* reference);

}  // namespace cls::io
