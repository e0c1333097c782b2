#include "cls/io/npz.hpp"

#include <zip.h>

#include <limits>
#include <memory>

#include "cls/case_pairing.hpp"
#include "cls/nnunet_probabilities.hpp"
#include "cls/npy.hpp"
#include "cls/sha256.hpp"

namespace cls::io {
namespace {

// Room for a .npy header (numpy caps it at 10000 bytes) beside the data.
constexpr std::size_t kNpyHeaderAllowance = 16 << 10;

struct ArchiveCloser {
    void operator()(zip_t* archive) const { zip_discard(archive); }
};
struct FileCloser {
    void operator()(zip_file_t* file) const { zip_fclose(file); }
};

std::string error_text(zip_error_t* error) {
    const char* text = zip_error_strerror(error);
    return text != nullptr ? text : "unknown error";
}

std::string member_list(zip_t* archive) {
    const zip_int64_t count = zip_get_num_entries(archive, 0);
    std::string names;
    for (zip_int64_t i = 0; i < count; ++i) {
        const char* name = zip_get_name(archive, static_cast<zip_uint64_t>(i), ZIP_FL_ENC_RAW);
        if (name == nullptr) continue;
        if (!names.empty()) names += ", ";
        names += name;
    }
    return names.empty() ? "none" : names;
}

}  // namespace

Result<Bytes> read_npz_member(std::span<const std::uint8_t> npz, std::string_view member,
                              std::size_t max_bytes) {
    zip_error_t error;
    zip_error_init(&error);
    // The buffer is borrowed (freep 0): it outlives the archive, which is discarded below.
    zip_source_t* source = zip_source_buffer_create(npz.data(), npz.size(), 0, &error);
    if (source == nullptr) {
        const std::string text = error_text(&error);
        zip_error_fini(&error);
        return make_error("cannot read the archive: " + text);
    }
    std::unique_ptr<zip_t, ArchiveCloser> archive(zip_open_from_source(source, ZIP_RDONLY, &error));
    if (!archive) {
        zip_source_free(source);  // zip_open_from_source takes it only on success
        const std::string text = error_text(&error);
        zip_error_fini(&error);
        return make_error("not a readable .npz (zip) archive: " + text);
    }
    zip_error_fini(&error);

    const std::string name(member);
    const zip_int64_t index = zip_name_locate(archive.get(), name.c_str(), 0);
    if (index < 0) {
        return make_error("the archive has no member '" + name +
                          "'; its members are: " + member_list(archive.get()));
    }
    const auto at = static_cast<zip_uint64_t>(index);
    zip_stat_t stat;
    zip_stat_init(&stat);
    if (zip_stat_index(archive.get(), at, 0, &stat) != 0 || (stat.valid & ZIP_STAT_SIZE) == 0) {
        return make_error("cannot tell the size of the member '" + name +
                          "': " + error_text(zip_get_error(archive.get())));
    }
    if ((stat.valid & ZIP_STAT_ENCRYPTION_METHOD) != 0 && stat.encryption_method != ZIP_EM_NONE) {
        return make_error("the member '" + name + "' is encrypted, which .npz files never are");
    }
    if (stat.size > max_bytes) {
        return make_error("the member '" + name + "' declares " + std::to_string(stat.size) +
                          " bytes uncompressed, more than the " + std::to_string(max_bytes) +
                          " it may hold here; refusing it unread (a zip bomb?)");
    }
    std::unique_ptr<zip_file_t, FileCloser> file(zip_fopen_index(archive.get(), at, 0));
    if (!file) {
        return make_error("cannot open the member '" + name +
                          "': " + error_text(zip_get_error(archive.get())));
    }
    Bytes bytes(static_cast<std::size_t>(stat.size));
    std::size_t filled = 0;
    while (filled < bytes.size()) {
        const zip_int64_t n = zip_fread(file.get(), bytes.data() + filled, bytes.size() - filled);
        if (n < 0) {
            return make_error("the member '" + name +
                              "' is corrupt: " + error_text(zip_file_get_error(file.get())));
        }
        if (n == 0) break;
        filled += static_cast<std::size_t>(n);
    }
    if (filled != bytes.size()) {
        return make_error("the member '" + name + "' declares " + std::to_string(bytes.size()) +
                          " bytes but holds only " + std::to_string(filled));
    }
    std::uint8_t extra = 0;
    const zip_int64_t more = zip_fread(file.get(), &extra, 1);
    if (more != 0) {
        return make_error(
            "the member '" + name + "' holds more than the " + std::to_string(bytes.size()) +
            " bytes it declares" +
            (more < 0 ? " (" + error_text(zip_file_get_error(file.get())) + ")" : std::string()));
    }
    return bytes;
}

namespace {

struct NpyMember {
    Bytes npy;           // probabilities.npy, inflated
    std::string sha256;  // of the .npz as stored
};

// nnU-Net's probabilities.npy from `path`, refused unread when it declares more than
// kMaxNnunetClasses float64 channels of the reference's voxels could take.
Result<NpyMember> read_probabilities_member(const std::filesystem::path& path,
                                            const Volume& reference) {
    auto bytes = read_file(path);
    if (!bytes) return bytes.error();
    std::string digest = sha256_hex(*bytes);
    std::size_t limit = std::numeric_limits<std::size_t>::max();
    const std::size_t voxels = reference.voxel_count();
    if (voxels <= (limit - kNpyHeaderAllowance) / (kMaxNnunetClasses * sizeof(double))) {
        limit = kNpyHeaderAllowance + voxels * kMaxNnunetClasses * sizeof(double);
    }
    auto member = read_npz_member(*bytes, "probabilities.npy", limit);
    if (!member) return member.error().in(path.string());
    return NpyMember{std::move(*member), std::move(digest)};
}

// The grid the .npz at `path` lies on, by the plans.json nnUNetv2_predict wrote beside it;
// without one, the file's own grid, as nnU-Net's default readers save it.
Result<NnunetArrayGrid> nnunet_grid_beside(const std::filesystem::path& path) {
    const std::filesystem::path plans = nnunet_plans_path(path.string());
    std::error_code error;
    if (!std::filesystem::exists(plans, error)) return NnunetArrayGrid::file;
    auto bytes = read_file(plans);
    if (!bytes) return bytes.error();
    auto grid = read_nnunet_plans(*bytes);
    if (!grid) return grid.error().in(plans.string());
    return grid;
}

}  // namespace

Result<LoadedProbabilities> load_nnunet_npz(const std::filesystem::path& path,
                                            const Volume& reference) {
    auto grid = nnunet_grid_beside(path);
    if (!grid) return grid.error();
    auto member = read_probabilities_member(path, reference);
    if (!member) return member.error();
    const std::string where = path.string();
    auto array = npy::read(member->npy);
    if (!array) return array.error().in(where + " (probabilities.npy)");
    auto channels = nnunet_probability_channels(*array, reference, *grid);
    if (!channels) return channels.error().in(where);
    return LoadedProbabilities{std::move(*channels), std::move(member->sha256)};
}

Result<LoadedNifti> load_case_probability_map(const std::filesystem::path& path,
                                              const LesionChannels& choice,
                                              const Volume* reference) {
    if (!is_npz_name(path.filename().string())) return load_probability_map(path, choice);
    if (reference == nullptr) {
        return make_error(
                   "is nnU-Net's probabilities, which hold no grid or affine; give the case's "
                   "image or label as well (--reference for cls apply)")
            .in(path.string());
    }
    auto grid = nnunet_grid_beside(path);
    if (!grid) return grid.error();
    auto member = read_probabilities_member(path, *reference);
    if (!member) return member.error();
    auto map = read_nnunet_probability_map(member->npy, *reference, choice, *grid);
    if (!map) return map.error().in(path.string());
    LoadedNifti loaded;
    loaded.image.volume = std::move(*map);
    loaded.sha256 = std::move(member->sha256);
    return loaded;
}

}  // namespace cls::io
