#include "case_store.hpp"

#include <algorithm>

#include "cls/case_pairing.hpp"

namespace cls::app {

std::string case_name_of(std::string_view path) { return name_file(path).case_name; }

Role guess_role(std::string_view path, const Volume& volume) {
    if (auto role = name_file(path).role) return *role;
    const auto& v = volume.values();
    if (std::all_of(v.begin(), v.end(), [](float x) { return x == 0.0f || x == 1.0f; }))
        return Role::label;
    if (std::all_of(v.begin(), v.end(), [](float x) { return x >= 0.0f && x <= 1.0f; })) {
        return Role::probability;
    }
    return Role::image;
}

namespace {

// Whether `path` is an image of another modality than every image `c` has: its naming gives a
// modality ("0001", "T1") none of theirs gives.
bool another_modality(const std::string& path, const LoadedCase& c) {
    const std::string modality = name_file(path, Role::image).modality;
    if (modality.empty()) return false;
    auto same = [&](const std::string& file) {
        return name_file(file, Role::image).modality == modality;
    };
    if (same(c.files[static_cast<int>(Role::image)])) return false;
    return std::none_of(c.more_images.begin(), c.more_images.end(),
                        [&](const ChannelImage& image) { return same(image.file); });
}

}  // namespace

std::vector<LoadedCase>::iterator CaseStore::slot_of(const std::string& name) {
    return std::lower_bound(cases_.begin(), cases_.end(), name,
                            [](const LoadedCase& c, const std::string& n) { return c.name < n; });
}

std::vector<LoadedCase>::iterator CaseStore::insert_case(std::vector<LoadedCase>::iterator slot,
                                                         const std::string& name) {
    const auto it = cases_.insert(slot, LoadedCase{});
    it->id = ++last_id_;
    it->name = name;
    it->set_aside = set_aside_.contains(name);
    return it;
}

Result<std::string> CaseStore::add(const std::string& path, Role role, Volume volume,
                                   std::string sha256) {
    const std::string name = name_file(path, role).case_name;
    auto it = slot_of(name);
    const int slot = static_cast<int>(role);
    if (it != cases_.end() && it->name == name) {
        if (it->scored) {
            return make_error("case '" + name + "' already has a score (" + it->scored->file +
                              "); a case comes as its score or as its volumes, not both")
                .in(path);
        }
        if (role == Role::image && it->volumes[slot] &&
            another_modality(path, *it)) {  // a further channel
            if (Status grid = check_same_grid(volume, *it->volume(Role::image),
                                              "its case's image " + it->files[slot]);
                !grid) {
                return grid.error().in(path);
            }
            it->more_images.push_back({path, std::move(sha256), std::move(volume)});
            it->revision = generation_ + 1;
            ++generation_;
            return name;
        }
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
        it = insert_case(it, name);
    }
    it->revision = generation_ + 1;
    it->volumes[slot] = std::move(volume);
    it->files[slot] = path;
    it->sha256[slot] = std::move(sha256);
    ++generation_;
    derive(*it);
    return name;
}

Result<std::string> CaseStore::add_scored(ScoredCase scored) {
    const std::string name = scored.scores.name;
    auto it = slot_of(name);
    if (it != cases_.end() && it->name == name) {
        const std::string other = it->scored ? it->scored->file : [&] {
            for (Role role : kRoles) {
                if (it->volume(role)) return it->files[static_cast<int>(role)];
            }
            return std::string("a file");
        }();
        return make_error("is a score of case '" + name + "', which " + other +
                          " already gives; a case comes as its score or as its volumes, not both")
            .in(scored.file);
    }
    it = insert_case(it, name);
    it->revision = generation_ + 1;
    it->scored = std::move(scored);
    ++generation_;
    derive(*it);
    return name;
}

bool CaseStore::has_scored_cases() const {
    return std::any_of(cases_.begin(), cases_.end(),
                       [](const LoadedCase& c) { return c.scored.has_value(); });
}

Result<const Volume*> CaseStore::map_for_calibration(const LoadedCase& c,
                                                     std::optional<Volume>& scratch) const {
    const Volume* probability = c.volume(Role::probability);
    if (probability == nullptr) return make_error("no probability map");
    if (region_ == RegionOfInterest::none) return probability;
    const Role source = *region_source(region_);
    const Volume* region = c.volume(source);
    if (region == nullptr) {
        return make_error("no " + std::string(role_name(source)) + " for the region of interest (" +
                          std::string(to_string(region_)) + ")");
    }
    scratch = *probability;
    if (Status applied = restrict_to_region(*scratch, *region,
                                            "its region, its " + std::string(role_name(source)) +
                                                " " + c.files[static_cast<int>(source)]);
        !applied) {
        scratch.reset();
        return applied.error();
    }
    return &*scratch;
}

const Volume* CaseStore::calibration_map(const LoadedCase& c,
                                         std::optional<Volume>& scratch) const {
    auto map = map_for_calibration(c, scratch);
    return map ? *map : nullptr;
}

void CaseStore::derive(LoadedCase& c) const {
    c.scores.reset();
    c.profile.reset();
    c.region_problem.clear();
    if (c.scored) {
        if (c.scored->region != region_) {
            c.region_problem = "its score was made with region of interest '" +
                               std::string(to_string(c.scored->region)) + "', not '" +
                               std::string(to_string(region_)) + "'";
            return;
        }
        c.scores = c.scored->scores;
        c.profile = c.scored->profile;
        return;
    }
    if (c.volume(Role::probability) == nullptr) return;
    std::optional<Volume> scratch;  // the restricted copy, freed on return
    auto map = map_for_calibration(c, scratch);
    if (!map) {
        c.region_problem = map.error().message;
        return;
    }
    c.profile = profile_case(**map, c.region_volume(region_), c.volume(Role::image));
    if (const Volume* label = c.volume(Role::label)) {
        // Checked on arrival (probabilities in [0, 1], a binary label), so this cannot fail.
        auto scores = collect_lesion_scores(c.name, (*map)->values(), label->values());
        if (scores) c.scores = std::move(*scores);
    }
}

void CaseStore::set_region(RegionOfInterest region) {
    if (region == region_) return;
    region_ = region;
    for (LoadedCase& c : cases_) {
        derive(c);
        c.revision = generation_ + 1;
    }
    ++generation_;
}

const LoadedCase* CaseStore::find(CaseId id) const {
    for (const LoadedCase& c : cases_) {
        if (c.id == id) return &c;
    }
    return nullptr;
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
        if (c.calibrates()) scores.push_back(*c.scores);
    }
    return scores;
}

std::vector<CaseProfile> CaseStore::calibration_profiles() const {
    std::vector<CaseProfile> profiles;
    for (const LoadedCase& c : cases_) {
        if (!c.calibrates()) continue;
        if (!c.profile) return {};  // a version 1 score: no check against an incomplete set
        profiles.push_back(*c.profile);
    }
    return profiles;
}

std::size_t CaseStore::region_missing_count() const {
    return static_cast<std::size_t>(
        std::count_if(cases_.begin(), cases_.end(), [](const LoadedCase& c) {
            return (c.scored || (c.volume(Role::label) && c.volume(Role::probability))) &&
                   !c.scores;
        }));
}

std::size_t CaseStore::calibrating_count() const {
    return static_cast<std::size_t>(std::count_if(
        cases_.begin(), cases_.end(), [](const LoadedCase& c) { return c.calibrates(); }));
}

void CaseStore::remove(CaseId id) {
    const auto it = std::find_if(cases_.begin(), cases_.end(),
                                 [id](const LoadedCase& c) { return c.id == id; });
    if (it == cases_.end()) return;
    set_aside_.erase(it->name);
    cases_.erase(it);
    ++generation_;
}

void CaseStore::set_aside(std::string_view name, bool aside) {
    if (aside) {
        set_aside_.emplace(name);
    } else if (const auto it = set_aside_.find(name); it != set_aside_.end()) {
        set_aside_.erase(it);
    }
    for (LoadedCase& c : cases_) {
        if (c.name != name || c.set_aside == aside) continue;
        c.set_aside = aside;
        c.revision = generation_ + 1;
        ++generation_;
    }
}

}  // namespace cls::app
