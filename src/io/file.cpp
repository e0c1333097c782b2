#include "cls/io/file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cassert>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <functional>
#include <limits>
#include <optional>
#include <system_error>
#include <utility>

#include "cls/case_pairing.hpp"
#include "cls/io/byte_buffer.hpp"
#include "cls/io/gzip.hpp"
#include "cls/sha256.hpp"

namespace cls::io {
namespace fs = std::filesystem;

namespace {

// Tools sometimes leave padding after the voxel data; more than this is not a NIfTI file.
constexpr std::uint64_t kTrailingSlackBytes = std::uint64_t{1} << 20;

std::string quoted(const fs::path& path) { return path.string(); }

// Inflates a .nii.gz no further than its header says the file can be, so that a small
// compressed stream cannot exhaust memory.
Result<ByteBuffer> inflate_nifti(std::span<const std::uint8_t> compressed) {
    auto prefix = gunzip_prefix(compressed, nifti::kHeaderBytes);
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

// A file open for reading, closed on every path; reads name it in their errors.
class InputFile {
public:
    static Result<InputFile> open(const fs::path& path) {
        std::error_code ec;
        const auto status = fs::status(path, ec);
        if (ec || !fs::exists(status)) return make_error("no such file").in(quoted(path));
        if (fs::is_directory(status)) return make_error("is a folder, not a file").in(quoted(path));
        InputFile file(path, ::open(path.c_str(), O_RDONLY | O_CLOEXEC));
        if (file.fd_ < 0) {
            return make_error("cannot be opened for reading (permissions?)").in(quoted(path));
        }
        struct stat facts {};
        if (::fstat(file.fd_, &facts) != 0) {
            return make_error(std::string("cannot tell its size: ") + std::strerror(errno))
                .in(quoted(path));
        }
        file.size_ = static_cast<std::uint64_t>(facts.st_size);
        return file;
    }
    InputFile(InputFile&& other) noexcept
        : path_(std::move(other.path_)), fd_(std::exchange(other.fd_, -1)), size_(other.size_) {}
    InputFile& operator=(InputFile&&) = delete;
    ~InputFile() {
        if (fd_ >= 0) ::close(fd_);
    }

    [[nodiscard]] std::uint64_t size() const { return size_; }

    // Exactly `out.size()` bytes from `offset`, straight into `out`.
    [[nodiscard]] Status read_at(std::uint64_t offset, std::span<std::uint8_t> out) const {
        std::size_t done = 0;
        while (done < out.size()) {
            // Linux moves at most about 2 GiB per call.
            const std::size_t want = std::min<std::size_t>(out.size() - done, std::size_t{1} << 30);
            const ssize_t n =
                ::pread(fd_, out.data() + done, want, static_cast<off_t>(offset + done));
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) {
                return make_error("read failed after " + std::to_string(offset + done) + " of " +
                                  std::to_string(size_) + " bytes" +
                                  (n < 0 ? std::string(": ") + std::strerror(errno) : ""))
                    .in(quoted(path_));
            }
            done += static_cast<std::size_t>(n);
        }
        return Done{};
    }

    // The same, hashing each piece as it lands, while it is still in the cache: hashing the
    // whole buffer afterwards would read it from memory a second time.
    [[nodiscard]] Status read_hashed(std::uint64_t offset, std::span<std::uint8_t> out,
                                     Sha256& hasher) const {
        constexpr std::size_t kPiece = std::size_t{256} << 10;
        for (std::size_t done = 0; done < out.size(); done += kPiece) {
            const std::span<std::uint8_t> piece =
                out.subspan(done, std::min(kPiece, out.size() - done));
            if (Status read = read_at(offset + done, piece); !read) return read;
            hasher.update(piece);
        }
        return Done{};
    }

private:
    InputFile(fs::path path, int fd) : path_(std::move(path)), fd_(fd) {}

    fs::path path_;
    int fd_ = -1;
    std::uint64_t size_ = 0;
};

struct HashedBytes {
    ByteBuffer bytes;
    std::string sha256;
};

Result<HashedBytes> read_whole_hashed(const InputFile& file) {
    ByteBuffer bytes(static_cast<std::size_t>(file.size()));
    Sha256 hasher;
    if (Status read = file.read_hashed(0, bytes.bytes(), hasher); !read) return read.error();
    return HashedBytes{std::move(bytes), to_hex(hasher.finish())};
}

}  // namespace

Result<Bytes> read_file(const fs::path& path) {
    auto file = InputFile::open(path);
    if (!file) return file.error();
    Bytes bytes(static_cast<std::size_t>(file->size()));
    if (Status read = file->read_at(0, bytes); !read) return read.error();
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
    return list_files(
        dir, [](std::string_view name) { return is_nifti_name(name) || is_npz_name(name); });
}

Result<nifti::Image> parse_nifti_file(std::span<const std::uint8_t> bytes) {
    if (!is_gzip(bytes)) return nifti::read(bytes);
    auto inflated = inflate_nifti(bytes);
    if (!inflated) return inflated.error();
    return nifti::read(*inflated);
}

namespace {

// How the core reads one kind of NIfTI file, by its rule: from the whole uncompressed file, or
// from the image of a file with one volume, already read straight into its grid.
struct NiftiRule {
    std::function<Result<nifti::Image>(std::span<const std::uint8_t>)> from_bytes;
    std::function<Result<nifti::Image>(nifti::Image)> from_image;
};

// The common case read with one copy: an uncompressed file holding one volume of float32 values
// in this host's byte order goes from the page cache straight into the volume kept, and is
// hashed there, region by region in file order (so the digest is the whole file's). Nothing
// when the file is not such a file, or is damaged: the whole-file path then reads it, and
// words any error.
std::optional<Result<LoadedNifti>> read_in_place(const InputFile& file,
                                                 std::span<const std::uint8_t> head,
                                                 const NiftiRule& rule, const fs::path& path) {
    // The header alone decides, before a voxel is allocated.
    const auto facts = nifti::read_header(head);
    if (!facts || !nifti::voxels_are_values(*facts)) return std::nullopt;
    const std::vector<std::int64_t>& dims = facts->dims;
    if (!std::all_of(dims.begin() + std::min<std::size_t>(dims.size(), 3), dims.end(),
                     [](std::int64_t d) { return d == 1; })) {
        return std::nullopt;  // several volumes or channels
    }
    auto image = nifti::read_grid(head, static_cast<std::size_t>(file.size()));
    if (!image) return std::nullopt;
    const nifti::Header& header = image->header;
    const auto vox_offset = static_cast<std::size_t>(header.vox_offset);
    const std::uint64_t data_end = static_cast<std::uint64_t>(header.file_bytes());
    Sha256 hasher;
    // Before the voxels: the header (already read) and any extensions.
    hasher.update(head.first(std::min(vox_offset, head.size())));
    if (vox_offset > head.size()) {
        ByteBuffer extensions(vox_offset - head.size());
        if (Status read = file.read_at(head.size(), extensions.bytes()); !read) return read.error();
        hasher.update(extensions);
    }
    std::span<std::uint8_t> voxels(reinterpret_cast<std::uint8_t*>(image->volume.data()),
                                   image->volume.voxel_count() * sizeof(float));
    assert(voxels.size() == static_cast<std::size_t>(header.data_bytes));
    if (Status read = file.read_hashed(vox_offset, voxels, hasher); !read) return read.error();
    // After them: padding some tools leave, hashed in pieces.
    ByteBuffer piece(std::min<std::uint64_t>(file.size() - data_end, std::uint64_t{1} << 20));
    for (std::uint64_t offset = data_end; offset < file.size(); offset += piece.size()) {
        const auto n =
            static_cast<std::size_t>(std::min<std::uint64_t>(piece.size(), file.size() - offset));
        if (Status read = file.read_at(offset, piece.bytes().first(n)); !read) return read.error();
        hasher.update(piece.bytes().first(n));
    }
    std::string digest = to_hex(hasher.finish());
    auto checked = rule.from_image(std::move(*image));
    if (!checked) return checked.error().in(quoted(path));
    return LoadedNifti{std::move(*checked), std::move(digest)};
}

// Reads a .nii or .nii.gz (gzip by magic, not by name) by `rule`, with the SHA-256 of the bytes
// as stored. Errors name the file.
Result<LoadedNifti> load_by_rule(const fs::path& path, const NiftiRule& rule) {
    auto file = InputFile::open(path);
    if (!file) return file.error();
    std::array<std::uint8_t, nifti::kHeaderBytes> head_bytes{};
    const std::span<std::uint8_t> head =
        std::span(head_bytes)
            .first(
                static_cast<std::size_t>(std::min<std::uint64_t>(file->size(), head_bytes.size())));
    if (Status read = file->read_at(0, head); !read) return read.error();
    if (!is_gzip(head)) {
        if (auto in_place = read_in_place(*file, head, rule, path)) return std::move(*in_place);
    }
    auto read = read_whole_hashed(*file);
    if (!read) return read.error();
    const ByteBuffer& bytes = read->bytes;
    Result<nifti::Image> image = make_error("");
    if (is_gzip(bytes)) {
        auto inflated = inflate_nifti(bytes);
        if (!inflated) return inflated.error().in(quoted(path));
        image = rule.from_bytes(*inflated);
    } else {
        image = rule.from_bytes(bytes);
    }
    if (!image) return image.error().in(quoted(path));
    return LoadedNifti{std::move(*image), std::move(read->sha256)};
}

}  // namespace

Result<LoadedNifti> load_nifti(const fs::path& path) {
    return load_by_rule(path, {[](std::span<const std::uint8_t> nii) { return nifti::read(nii); },
                               [](nifti::Image image) -> Result<nifti::Image> { return image; }});
}

Result<LoadedNifti> load_probability_map(const fs::path& path, const LesionChannels& choice) {
    return load_by_rule(
        path,
        {[&](std::span<const std::uint8_t> nii) { return read_probability_map(nii, choice); },
         [&](nifti::Image image) { return checked_probability_map(std::move(image), choice); }});
}

Result<LoadedNifti> load_label(const fs::path& path, const LesionLabels& lesion) {
    return load_by_rule(
        path, {[&](std::span<const std::uint8_t> nii) { return read_label(nii, lesion); },
               [&](nifti::Image image) { return checked_label(std::move(image), lesion); }});
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
