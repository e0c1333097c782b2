#include "case_store.hpp"

#include <algorithm>
#include <cctype>

#include "cls/case_pairing.hpp"

namespace cls::app {
namespace {

std::string lower(std::string_view text) {
    std::string out(text);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

std::string_view base_name(std::string_view path) {
    const std::size_t slash = path.find_last_of("/\\");
    return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

struct RoleWord {
    const char* word;
    Role role;
};
// Folder names used by nnU-Net, Medical Decathlon, BraTS-style sets and this project's synth.
constexpr RoleWord kFolderWords[] = {
    {"labels", Role::label},
    {"labelstr", Role::label},
    {"labelsts", Role::label},
    {"label", Role::label},
    {"masks", Role::label},
    {"gt", Role::label},
    {"segmentations", Role::label},
    {"probs", Role::probability},
    {"probabilities", Role::probability},
    {"probability", Role::probability},
    {"predictions", Role::probability},
    {"images", Role::image},
    {"imagestr", Role::image},
    {"imagests", Role::image},
    {"image", Role::image},
};
constexpr RoleWord kSuffixWords[] = {
    {"_label", Role::label},      {"_seg", Role::label},        {"_mask", Role::label},
    {"_gt", Role::label},         {"_prob", Role::probability}, {"_probs", Role::probability},
    {"_pred", Role::probability}, {"_image", Role::image},
};

std::optional<Role> role_from_suffix(std::string_view stem) {
    const std::string low = lower(stem);
    for (const RoleWord& w : kSuffixWords) {
        const std::string_view word = w.word;
        if (low.size() > word.size() && low.ends_with(word)) return w.role;
    }
    return std::nullopt;
}

}  // namespace

const char* role_name(Role role) {
    switch (role) {
        case Role::image:
            return "image";
        case Role::label:
            return "label";
        case Role::probability:
            return "probability map";
    }
    return "?";
}

std::string case_name_of(std::string_view path) {
    const std::string stem = case_name(base_name(path), /*strip_channel=*/true);
    const std::string low = lower(stem);
    for (const RoleWord& w : kSuffixWords) {
        const std::string_view word = w.word;
        if (low.size() > word.size() && low.ends_with(word)) {
            return stem.substr(0, stem.size() - word.size());
        }
    }
    return stem;
}

Role guess_role(std::string_view path, const Volume& volume) {
    const std::string stem = case_name(base_name(path));
    if (auto role = role_from_suffix(stem)) return *role;
    if (case_name(base_name(path), true) != stem) return Role::image;  // nnU-Net "_0000"
    // The innermost folder with a known name decides.
    std::string_view rest = path.substr(0, path.size() - base_name(path).size());
    while (!rest.empty()) {
        if (rest.back() == '/' || rest.back() == '\\') rest.remove_suffix(1);
        const std::string folder = lower(base_name(rest));
        for (const RoleWord& w : kFolderWords) {
            if (folder == w.word) return w.role;
        }
        rest.remove_suffix(base_name(rest).size());
    }
    const auto& v = volume.values();
    if (std::all_of(v.begin(), v.end(), [](float x) { return x == 0.0f || x == 1.0f; }))
        return Role::label;
    if (std::all_of(v.begin(), v.end(), [](float x) { return x >= 0.0f && x <= 1.0f; })) {
        return Role::probability;
    }
    return Role::image;
}

Result<std::string> CaseStore::add(const std::string& path, Role role, Volume volume,
                                   std::string sha256) {
    const std::string name = case_name_of(path);
    auto it =
        std::lower_bound(cases_.begin(), cases_.end(), name,
                         [](const LoadedCase& c, const std::string& n) { return c.name < n; });
    const int slot = static_cast<int>(role);
    if (it != cases_.end() && it->name == name) {
        if (it->volumes[slot]) {
            return make_error("case '" + name + "' already has a " + role_name(role) + " (" +
                              it->files[slot] + "); remove it first or rename one")
                .in(path);
        }
        for (Role other : kRoles) {
            const Volume* existing = it->volume(other);
            if (!existing) continue;
            const std::string& other_file = it->files[static_cast<int>(other)];
            if (Status grid = check_same_grid(
                    volume, *existing,
                    "its case's " + std::string(role_name(other)) + " " + other_file);
                !grid) {
                return grid.error().in(path);
            }
        }
    }
    if (role == Role::probability) {
        if (Status valid = check_probabilities(volume.values()); !valid)
            return valid.error().in(path);
    }
    if (role == Role::label) {
        if (Status valid = check_label(volume.values()); !valid) return valid.error().in(path);
    }
    if (it == cases_.end() || it->name != name) {
        it = cases_.insert(it, LoadedCase{});
        it->name = name;
    }
    it->volumes[slot] = std::move(volume);
    it->files[slot] = path;
    it->sha256[slot] = std::move(sha256);
    ++generation_;
    const Volume* label = it->volume(Role::label);
    const Volume* probability = it->volume(Role::probability);
    if (label && probability) {
        auto scores = collect_lesion_scores(name, probability->values(), label->values());
        if (!scores) return scores.error().in(path);  // not reachable: checked above
        it->scores = std::move(*scores);
    }
    return name;
}

const LoadedCase* CaseStore::find(std::string_view name) const {
    for (const LoadedCase& c : cases_) {
        if (c.name == name) return &c;
    }
    return nullptr;
}

std::vector<LesionScores> CaseStore::calibration_scores() const {
    std::vector<LesionScores> scores;
    for (const LoadedCase& c : cases_) {
        if (c.scores) scores.push_back(*c.scores);
    }
    return scores;
}

std::size_t CaseStore::labelled_count() const {
    return static_cast<std::size_t>(std::count_if(
        cases_.begin(), cases_.end(), [](const LoadedCase& c) { return c.labelled(); }));
}

}  // namespace cls::app
