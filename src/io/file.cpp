#include "cls/io/file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
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

// "-", "/dev/stdout", "/dev/stderr", "/dev/fd/N" and "/proc/self/fd/N" name a descriptor this
// process already holds. Writing to it, not to a fresh open of the path, keeps its offset:
// reopening "/dev/stdout" redirected to a file would write from the file's start.
std::optional<int> open_descriptor_of(const fs::path& path) {
    const std::string text = path.string();
    if (text == "-" || text == "/dev/stdout") return STDOUT_FILENO;
    if (text == "/dev/stderr") return STDERR_FILENO;
    for (const std::string_view prefix : {"/dev/fd/", "/proc/self/fd/"}) {
        if (!text.starts_with(prefix) || text.size() == prefix.size()) continue;
        const std::string digits = text.substr(prefix.size());
        if (!std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
            return std::nullopt;
        if (digits.size() > 9) return std::nullopt;
        const int fd = std::stoi(digits);
        return ::fcntl(fd, F_GETFD) == -1 ? std::nullopt : std::optional<int>(fd);
    }
    return std::nullopt;
}

Status write_to_descriptor(int fd, const fs::path& path, const Bytes& bytes) {
    if (fd == STDOUT_FILENO) std::fflush(stdout);  // what printf holds goes first
    if (fd == STDERR_FILENO) std::fflush(stderr);
    std::size_t done = 0;
    while (done < bytes.size()) {
        const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            return make_error("write failed after " + std::to_string(done) + " of " +
                              std::to_string(bytes.size()) +
                              " bytes: " + std::strerror(n < 0 ? errno : EIO))
                .in(quoted(path));
        }
        done += static_cast<std::size_t>(n);
    }
    return Done{};
}

// A link whose target is missing is an error naming both, never skipped or written over.
Status check_link_target(const fs::path& link) {
    std::error_code ec;
    if (fs::exists(fs::status(link, ec))) return Done{};
    const fs::path target = fs::read_symlink(link, ec);
    return make_error("is a link to " +
                      (ec ? std::string("a path it cannot read") : quoted(target)) +
                      ", which does not exist")
        .in(quoted(link));
}

// Writes "<target>.tmp-<pid>" beside `target` and renames it over `target`: readers never see
// half a file, and on any failure `target` keeps its bytes and no temporary stays. `path` is
// the name the user gave, for messages.
Status write_by_rename(const fs::path& path, const fs::path& target, const Bytes& bytes) {
    fs::path temporary = target;
    temporary += ".tmp-" + std::to_string(::getpid());
    const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0) {
        return make_error("cannot be written (does the folder exist, is it writable?)")
            .in(quoted(path));
    }
    Status written = write_to_descriptor(fd, path, bytes);
    if (::close(fd) != 0 && written) {
        written = make_error("write failed (disk full?)").in(quoted(path));
    }
    std::error_code ec;
    if (written) {
        // A replaced file keeps its permissions.
        const fs::file_status old = fs::status(target, ec);
        if (fs::is_regular_file(old)) fs::permissions(temporary, old.permissions(), ec);
        fs::rename(temporary, target, ec);
        if (ec) written = make_error("cannot be replaced: " + ec.message()).in(quoted(path));
    }
    if (!written) fs::remove(temporary, ec);
    return written;
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
    if (auto descriptor = open_descriptor_of(path))
        return write_to_descriptor(*descriptor, path, bytes);
    std::error_code ec;
    const fs::file_status link = fs::symlink_status(path, ec);
    if (fs::is_symlink(link)) {
        if (Status target = check_link_target(path); !target) return target;
    }
    const fs::file_status status = fs::status(path, ec);
    if (!fs::exists(status)) {
        if (ec && status.type() == fs::file_type::none) {
            return make_error("cannot be looked at: " + ec.message()).in(quoted(path));
        }
        return write_by_rename(path, path, bytes);
    }
    if (fs::is_directory(status)) {
        return make_error("is a folder, not a file to write to").in(quoted(path));
    }
    if (fs::is_regular_file(status)) {
        // Replace the file the link points to, never the link itself.
        const fs::path target = fs::is_symlink(link) ? fs::canonical(path, ec) : path;
        if (ec) return make_error("cannot follow the link: " + ec.message()).in(quoted(path));
        return write_by_rename(path, target, bytes);
    }
    // A FIFO, a device or a socket: there is no file to replace, and renaming over it would
    // destroy it (as root, "/dev/null" became a regular file).
    const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
        return make_error(std::string("cannot be opened for writing: ") + std::strerror(errno))
            .in(quoted(path));
    }
    Status written = write_to_descriptor(fd, path, bytes);
    if (::close(fd) != 0 && written) {
        return make_error(std::string("write failed: ") + std::strerror(errno)).in(quoted(path));
    }
    return written;
}

Result<std::vector<std::string>> list_nifti_files(const fs::path& dir) {
    return list_files(dir, [](std::string_view name) { return is_nifti_name(name); });
}

Result<std::vector<std::string>> list_files(const fs::path& dir,
                                            const std::function<bool(std::string_view)>& wanted) {
    std::error_code ec;
    if (fs::is_symlink(fs::symlink_status(dir, ec))) {
        if (Status target = check_link_target(dir); !target) return target.error();
    }
    if (!fs::is_directory(dir, ec)) return make_error("is not a folder").in(quoted(dir));
    std::vector<std::string> names;
    for (const fs::directory_entry& entry : fs::directory_iterator(dir, ec)) {
        const std::string name = entry.path().filename().string();
        if (!wanted(name)) continue;
        std::error_code entry_ec;
        if (entry.is_symlink(entry_ec)) {
            if (Status target = check_link_target(entry.path()); !target) return target.error();
        }
        // is_regular_file follows links, so a link to a file lists under the link's name.
        if (entry.is_regular_file(entry_ec)) names.push_back(name);
    }
    if (ec) return make_error("cannot be listed: " + ec.message()).in(quoted(dir));
    std::sort(names.begin(), names.end());
    return names;
}

Result<std::vector<std::string>> list_probability_files(const fs::path& dir) {
    return list_files(dir,
                      [](std::string_view name) { return is_nifti_name(name) || is_npz_name(name); });
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
