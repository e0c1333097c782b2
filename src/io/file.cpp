#include "cls/io/file.hpp"

#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <limits>
#include <optional>
#include <system_error>

#include "cls/case_pairing.hpp"
#include "cls/io/gzip.hpp"
#include "cls/sha256.hpp"

namespace cls::io {
namespace fs = std::filesystem;

namespace {

// A NIfTI-2 header (the larger) plus the 4-byte extension flag covers every header we read.
constexpr std::size_t kHeaderPrefixBytes = 544;
// Tools sometimes leave padding after the voxel data; more than this is not a NIfTI file.
constexpr std::uint64_t kTrailingSlackBytes = std::uint64_t{1} << 20;

std::string quoted(const fs::path& path) { return path.string(); }

// Inflates a .nii.gz no further than its header says the file can be, so that a small
// compressed stream cannot exhaust memory.
Result<Bytes> inflate_nifti(std::span<const std::uint8_t> compressed) {
    auto prefix = gunzip_prefix(compressed, kHeaderPrefixBytes);
    if (!prefix) return prefix.error();
    auto header = nifti::read_header(*prefix);
    if (!header) return header.error();
    // The parser has checked that vox_offset + data_bytes does not overflow.
    const auto declared = static_cast<std::uint64_t>(header->file_bytes());
    if (declared > std::numeric_limits<std::size_t>::max() - kTrailingSlackBytes) {
        return make_error("header declares a data size that cannot be held in memory");
    }
    return gunzip(compressed, static_cast<std::size_t>(declared + kTrailingSlackBytes));
}

}  // namespace

Result<Bytes> read_file(const fs::path& path) {
    std::error_code ec;
    const auto status = fs::status(path, ec);
    if (ec || !fs::exists(status)) return make_error("no such file").in(quoted(path));
    if (fs::is_directory(status)) return make_error("is a folder, not a file").in(quoted(path));
    std::ifstream in(path, std::ios::binary);
    if (!in) return make_error("cannot be opened for reading (permissions?)").in(quoted(path));
    const std::uintmax_t size = fs::file_size(path, ec);
    if (ec) return make_error("cannot tell its size: " + ec.message()).in(quoted(path));
    Bytes bytes(static_cast<std::size_t>(size));
    in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    if (static_cast<std::size_t>(in.gcount()) != bytes.size()) {
        return make_error("read failed after " + std::to_string(in.gcount()) + " of " +
                          std::to_string(size) + " bytes")
            .in(quoted(path));
    }
    return bytes;
}

Status write_file_atomic(const fs::path& path, const Bytes& bytes) {
    fs::path temporary = path;
    temporary += ".tmp-" + std::to_string(::getpid());
    {
        std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
        if (!out) {
            return make_error("cannot be written (does the folder exist, is it writable?)")
                .in(quoted(path));
        }
        out.write(reinterpret_cast<const char*>(bytes.data()),
                  static_cast<std::streamsize>(bytes.size()));
        out.close();
        if (!out) {
            std::error_code ignored;
            fs::remove(temporary, ignored);
            return make_error("write failed (disk full?)").in(quoted(path));
        }
    }
    std::error_code ec;
    fs::rename(temporary, path, ec);
    if (ec) {
        std::error_code ignored;
        fs::remove(temporary, ignored);
        return make_error("cannot be replaced: " + ec.message()).in(quoted(path));
    }
    return Done{};
}

Result<std::vector<std::string>> list_nifti_files(const fs::path& dir) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) return make_error("is not a folder").in(quoted(dir));
    std::vector<std::string> names;
    for (const fs::directory_entry& entry : fs::directory_iterator(dir, ec)) {
        const std::string name = entry.path().filename().string();
        if (is_nifti_name(name) && entry.is_regular_file(ec)) names.push_back(name);
    }
    if (ec) return make_error("cannot be listed: " + ec.message()).in(quoted(dir));
    std::sort(names.begin(), names.end());
    return names;
}

Result<nifti::Image> parse_nifti_file(std::span<const std::uint8_t> bytes) {
    if (!is_gzip(bytes)) return nifti::read(bytes);
    auto inflated = inflate_nifti(bytes);
    if (!inflated) return inflated.error();
    return nifti::read(*inflated);
}

Result<LoadedNifti> load_nifti(const fs::path& path) {
    auto bytes = read_file(path);
    if (!bytes) return bytes.error();
    std::string digest = sha256_hex(*bytes);
    auto image = parse_nifti_file(*bytes);
    if (!image) return image.error().in(quoted(path));
    return LoadedNifti{std::move(*image), std::move(digest)};
}

namespace {

// Reads a file and hands `parse` its uncompressed .nii bytes; the result keeps the SHA-256 of
// the bytes as stored.
template <class Parse>
Result<LoadedNifti> load_parsed(const fs::path& path, Parse parse) {
    auto bytes = read_file(path);
    if (!bytes) return bytes.error();
    std::string digest = sha256_hex(*bytes);
    Result<nifti::Image> image = make_error("");
    if (is_gzip(*bytes)) {
        auto inflated = inflate_nifti(*bytes);
        if (!inflated) return inflated.error().in(quoted(path));
        image = parse(std::span<const std::uint8_t>(*inflated));
    } else {
        image = parse(std::span<const std::uint8_t>(*bytes));
    }
    if (!image) return image.error().in(quoted(path));
    return LoadedNifti{std::move(*image), std::move(digest)};
}

}  // namespace

Result<LoadedNifti> load_probability_map(const fs::path& path, const LesionChannels& choice) {
    return load_parsed(
        path, [&](std::span<const std::uint8_t> nii) { return read_probability_map(nii, choice); });
}

Result<LoadedNifti> load_label(const fs::path& path, const LesionLabels& lesion) {
    return load_parsed(path,
                       [&](std::span<const std::uint8_t> nii) { return read_label(nii, lesion); });
}

Status save_nifti(const fs::path& path, const Volume& volume, const nifti::WriteOptions& options) {
    Bytes bytes = nifti::write(volume, options);
    if (path.extension() == ".gz") bytes = gzip(bytes);
    return write_file_atomic(path, bytes);
}

Result<Certificate> load_certificate(const fs::path& path) {
    auto bytes = read_file(path);
    if (!bytes) return bytes.error();
    const std::string_view text(reinterpret_cast<const char*>(bytes->data()), bytes->size());
    auto certificate = parse_certificate(text);
    if (!certificate) return certificate.error().in(quoted(path));
    return certificate;
}

}  // namespace cls::io
