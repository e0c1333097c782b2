#include "cls/case_pairing.hpp"

#include <algorithm>
#include <cctype>
#include <iterator>
#include <map>
#include <set>

namespace cls {
namespace {

char lower_char(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }

std::string lower(std::string_view text) {
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(), lower_char);
    return out;
}

bool ends_with_ignoring_case(std::string_view text, std::string_view suffix) {
    if (text.size() < suffix.size()) return false;
    return std::equal(suffix.begin(), suffix.end(),
                      text.end() - static_cast<std::ptrdiff_t>(suffix.size()),
                      [](char a, char b) { return lower_char(a) == lower_char(b); });
}

bool starts_with_ignoring_case(std::string_view text, std::string_view prefix) {
    return text.size() >= prefix.size() && lower(text.substr(0, prefix.size())) == prefix;
}

std::string_view base_name(std::string_view path) {
    const std::size_t slash = path.find_last_of("/\\");
    return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

std::string_view without_extension(std::string_view name) {
    if (ends_with_ignoring_case(name, ".nii.gz"))
        name.remove_suffix(7);
    else if (ends_with_ignoring_case(name, ".nii") || ends_with_ignoring_case(name, ".npz"))
        name.remove_suffix(4);
    return name;
}

struct RoleWord {
    std::string_view word;  // lower case
    FileRole role;
};
// Folder names used by nnU-Net, Medical Decathlon, BraTS-style sets and this project's synth.
constexpr RoleWord kFolderWords[] = {
    {"labels", FileRole::label},
    {"labelstr", FileRole::label},
    {"labelsts", FileRole::label},
    {"label", FileRole::label},
    {"masks", FileRole::label},
    {"gt", FileRole::label},
    {"segmentations", FileRole::label},
    {"probs", FileRole::probability},
    {"probabilities", FileRole::probability},
    {"probability", FileRole::probability},
    {"predictions", FileRole::probability},
    {"images", FileRole::image},
    {"imagestr", FileRole::image},
    {"imagests", FileRole::image},
    {"image", FileRole::image},
    {"brainmasks", FileRole::mask},
    {"brainmask", FileRole::mask},
    {"brain_masks", FileRole::mask},
    {"rois", FileRole::mask},
    {"roi", FileRole::mask},
};
// Name suffixes after the case name; BIDS suffixes are these without the underscore, plus
// its own "dseg" (a discrete segmentation) and "probseg" (a probabilistic one).
// The first that fits wins, so "_brain_mask" comes before "_mask".
constexpr RoleWord kSuffixWords[] = {
    {"_brainmask", FileRole::mask},   {"_brain_mask", FileRole::mask},
    {"_roi", FileRole::mask},         {"_label", FileRole::label},
    {"_seg", FileRole::label},        {"_mask", FileRole::label},
    {"_gt", FileRole::label},         {"_dseg", FileRole::label},
    {"_prob", FileRole::probability}, {"_probs", FileRole::probability},
    {"_pred", FileRole::probability}, {"_probseg", FileRole::probability},
    {"_image", FileRole::image},
};

// The innermost folder of `path` with a known name decides.
std::optional<FileRole> role_from_folders(std::string_view path) {
    std::string_view rest = path.substr(0, path.size() - base_name(path).size());
    while (!rest.empty()) {
        while (!rest.empty() && (rest.back() == '/' || rest.back() == '\\')) rest.remove_suffix(1);
        const std::string folder = lower(base_name(rest));
        for (const RoleWord& w : kFolderWords) {
            if (folder == w.word) return w.role;
        }
        rest.remove_suffix(base_name(rest).size());
    }
    return std::nullopt;
}

// A BIDS name: "sub-<label>" first, then "key-value" entities, then an optional suffix.
// Only sub and ses name the case, so an image, its derivatives and its maps pair.
std::optional<FileNaming> bids_naming(std::string_view stem) {
    std::vector<std::string_view> parts;
    for (std::size_t start = 0;;) {
        const std::size_t end = stem.find('_', start);
        parts.push_back(stem.substr(start, end == std::string_view::npos ? end : end - start));
        if (end == std::string_view::npos) break;
        start = end + 1;
    }
    if (!starts_with_ignoring_case(parts[0], "sub-") || parts[0].size() <= 4) return std::nullopt;
    FileNaming naming{std::string(parts[0]), std::nullopt, ""};
    bool brain = false;  // "desc-brain": fMRIPrep's and ANTs' brain masks are "desc-brain_mask"
    for (std::size_t i = 1; i < parts.size(); ++i) {
        const std::string_view part = parts[i];
        const std::size_t dash = part.find('-');
        const bool entity = dash != std::string_view::npos && dash > 0 && dash + 1 < part.size();
        if (entity) {
            const std::string key = lower(part.substr(0, dash));
            if (key == "ses") {
                naming.case_name += '_';
                naming.case_name += part;
            }
            brain = brain || (key == "desc" && lower(part.substr(dash + 1)) == "brain");
        } else if (i + 1 == parts.size() && !part.empty()) {
            naming.role = FileRole::image;
            naming.modality = std::string(part);
            const std::string suffix = lower(part);
            for (const RoleWord& w : kSuffixWords) {
                if (w.word.substr(1) == suffix) {  // the word without its '_'
                    naming.role = w.role;
                    naming.modality.clear();
                }
            }
            if (brain && suffix == "mask") naming.role = FileRole::mask;
        } else {
            return std::nullopt;  // "sub-01_something_else": not BIDS after all
        }
    }
    return naming;
}

// nnU-Net's channel suffix: "_" and four digits.
bool has_channel(std::string_view stem) {
    return stem.size() > 5 && stem[stem.size() - 5] == '_' &&
           std::all_of(stem.end() - 4, stem.end(),
                       [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; });
}

}  // namespace

// Case name -> file name; the first duplicate found is reported.
Result<std::map<std::string, std::string>> files_by_case(const std::vector<std::string>& files,
                                                         FileRole role) {
    std::map<std::string, std::string> by_case;
    for (const std::string& file : files) {
        auto [it, inserted] = by_case.emplace(name_file(file, role).case_name, file);
        if (!inserted) {
            return make_error("two " + std::string(role_name(role)) + " files belong to case '" +
                              it->first + "': " + it->second + " and " + file);
        }
    }
    return by_case;
}

namespace {

std::string list_some(const std::vector<std::string>& names) {
    constexpr std::size_t kShown = 5;
    std::string text;
    for (std::size_t i = 0; i < names.size() && i < kShown; ++i) text += (i ? ", " : "") + names[i];
    if (names.size() > kShown) text += " and " + std::to_string(names.size() - kShown) + " more";
    return text;
}

}  // namespace

const char* role_name(FileRole role) {
    constexpr const char* kNames[] = {"image", "label", "probability map",
                                      "region mask"};  // by FileRole
    static_assert(std::size(kNames) == kFileRoles.size());
    return kNames[static_cast<std::size_t>(role)];
}

bool is_nifti_name(std::string_view file_name) {
    return ends_with_ignoring_case(file_name, ".nii") ||
           ends_with_ignoring_case(file_name, ".nii.gz");
}

bool is_npz_name(std::string_view file_name) { return ends_with_ignoring_case(file_name, ".npz"); }

std::string nnunet_plans_path(std::string_view npz_path) {
    const std::string_view name = base_name(npz_path);
    return std::string(npz_path.substr(0, npz_path.size() - name.size())) + "plans.json";
}

bool is_nnunet_plans_name(std::string_view path) { return base_name(path) == "plans.json"; }

bool is_nnunet_prediction_record(std::string_view path) {
    const std::string_view name = base_name(path);
    return name == "dataset.json" || name == "predict_from_raw_data_args.json" ||
           ends_with_ignoring_case(name, ".pkl");
}

std::string_view file_stem(std::string_view path) { return without_extension(base_name(path)); }

FileNaming name_file(std::string_view path, std::optional<FileRole> known_role) {
    // nnU-Net's .npz files hold class probabilities, whatever their folder or name says.
    if (!known_role && is_npz_name(path)) known_role = FileRole::probability;
    std::string_view stem = file_stem(path);
    if (auto bids = bids_naming(stem)) {
        if (!bids->role) bids->role = role_from_folders(path);
        if (known_role) bids->role = known_role;
        return *std::move(bids);
    }
    FileNaming naming;
    for (const RoleWord& w : kSuffixWords) {
        if (stem.size() > w.word.size() && ends_with_ignoring_case(stem, w.word)) {
            naming.role = w.role;
            stem.remove_suffix(w.word.size());
            break;
        }
    }
    if (!naming.role) naming.role = role_from_folders(path);
    const std::optional<FileRole> role = known_role ? known_role : naming.role;
    if ((!role || *role == FileRole::image) && has_channel(stem)) {
        naming.modality = std::string(stem.substr(stem.size() - 4));
        stem.remove_suffix(5);
        naming.role = FileRole::image;
    }
    if (known_role) naming.role = known_role;
    naming.case_name = std::string(stem);
    return naming;
}

ProbabilityFiles set_aside_nnunet_segmentations(std::vector<std::string> paths) {
    std::set<std::string> npz_stems;
    for (const std::string& path : paths) {
        if (is_npz_name(path)) npz_stems.insert(lower(path.substr(0, path.size() - 4)));
    }
    ProbabilityFiles files;
    for (std::string& path : paths) {
        const bool segmentation =
            is_nifti_name(path) && npz_stems.contains(lower(without_extension(path)));
        (segmentation ? files.set_aside : files.maps).push_back(std::move(path));
    }
    return files;
}

Result<std::vector<CasePair>> pair_cases(const std::vector<std::string>& first, FileRole first_role,
                                         const std::vector<std::string>& second,
                                         FileRole second_role) {
    auto first_cases = files_by_case(first, first_role);
    if (!first_cases) return first_cases.error();
    auto second_cases = files_by_case(second, second_role);
    if (!second_cases) return second_cases.error();

    std::vector<CasePair> pairs;
    std::vector<std::string> only_first, only_second;
    for (const auto& [name, file] : *first_cases) {
        auto match = second_cases->find(name);
        if (match == second_cases->end()) {
            only_first.push_back(file);
        } else {
            pairs.push_back({name, file, match->second});
        }
    }
    for (const auto& [name, file] : *second_cases) {
        if (!first_cases->contains(name)) only_second.push_back(file);
    }
    if (!only_first.empty() || !only_second.empty()) {
        std::string message = "cases are not paired by name:";
        if (!only_first.empty()) {
            message += " no " + std::string(role_name(second_role)) + " for " +
                       list_some(only_first) + ";";
        }
        if (!only_second.empty()) {
            message += " no " + std::string(role_name(first_role)) + " for " +
                       list_some(only_second) + ";";
        }
        message.pop_back();
        return make_error(message);
    }
    return pairs;
}

}  // namespace cls
