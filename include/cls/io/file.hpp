// The native file edge: whole-file reads, writes that never destroy, directory listings that
// follow links, and NIfTI files with transparent gzip.
// The core never touches files; the CLI (and native tools) go through here.
// [X] outputs to new paths, regular files, links to regular files, "-", FIFOs and devices
// [X] inputs through links to files and folders; a dangling link is an error naming it
// [X] NIfTI loads at disk speed: a .nii of float32 values read straight into the volume kept
//     (nifti::read_grid), any other file into a buffer that is not zero-filled; each hashed
//     piece by piece as it is read; .nii.gz inflated in one call (libdeflate)
// [ ] SIGPIPE: a reader that leaves a FIFO or pipe early ends the process, as for any tool
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cls/certificate.hpp"
#include "cls/lesion_definition.hpp"
#include "cls/nifti.hpp"
#include "cls/result.hpp"

namespace cls::io {

using Bytes = std::vector<std::uint8_t>;

[[nodiscard]] Result<Bytes> read_file(const std::filesystem::path& path);
// Writes `bytes` as the path's kind asks, and on failure leaves what was there untouched:
// - a new path or a regular file: written to "<name>.tmp-<pid>" beside it, then renamed over
//   it, so readers never see half a file; no temporary is left behind on failure;
// - a link to a regular file: the same beside the link's final target, which is replaced
//   (the link stays a link);
// - "-", "/dev/stdout", "/dev/stderr", "/dev/fd/N": written to that descriptor of this process;
// - an existing FIFO, character or block device (/dev/null): opened and written through, no
//   temporary and no rename (a FIFO blocks until a reader opens it);
// - a folder, or a link whose target is missing: refused, with a message naming the path.
[[nodiscard]] Status write_file_atomic(const std::filesystem::path& path, const Bytes& bytes);
// Names of the .nii / .nii.gz files directly inside `dir` (itself possibly a link), sorted;
// links to files are listed under the link's name. A dangling link is an error naming it and
// its target.
[[nodiscard]] Result<std::vector<std::string>> list_nifti_files(const std::filesystem::path& dir);
// The same for the files whose names `wanted` accepts.
[[nodiscard]] Result<std::vector<std::string>> list_files(
    const std::filesystem::path& dir, const std::function<bool(std::string_view)>& wanted);
// The same for a folder of probability maps: .nii, .nii.gz and nnU-Net's .npz.
[[nodiscard]] Result<std::vector<std::string>> list_probability_files(
    const std::filesystem::path& dir);

struct LoadedNifti {
    nifti::Image image;
    std::string sha256;  // of the file's bytes as stored (compressed or not)
};

// Parses a .nii or .nii.gz held in memory: gunzips when the bytes are gzip (by magic), inflating
// no further than the header says the file can be, then parses. Errors do not name a file.
[[nodiscard]] Result<nifti::Image> parse_nifti_file(std::span<const std::uint8_t> bytes);
// Reads, gunzips when the bytes are gzip (by magic, not by name), parses. Errors name the file.
[[nodiscard]] Result<LoadedNifti> load_nifti(const std::filesystem::path& path);
// A probability map read by the core's rule (cls::read_probability_map): its lesion channels
// chosen and combined, values checked to lie in [0, 1]. Errors name the file.
[[nodiscard]] Result<LoadedNifti> load_probability_map(const std::filesystem::path& path,
                                                       const LesionChannels& choice);
// A label read by the core's rule (cls::read_label): checked against `lesion`, rewritten as 0/1.
[[nodiscard]] Result<LoadedNifti> load_label(const std::filesystem::path& path,
                                             const LesionLabels& lesion);
// Writes a NIfTI, gzip-compressed when the name ends in .gz, atomically.
[[nodiscard]] Status save_nifti(const std::filesystem::path& path, const Volume& volume,
                                const nifti::WriteOptions& options);

// Reads and checks a calibration certificate. Errors name the file.
[[nodiscard]] Result<Certificate> load_certificate(const std::filesystem::path& path);

}  // namespace cls::io
