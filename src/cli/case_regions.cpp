#include "case_regions.hpp"

#include <cstdio>

#include "cls/case_pairing.hpp"
#include "cls/io/file.hpp"

namespace cls::cli {
namespace fs = std::filesystem;

namespace {

const char* images_option(RegionInputKind kind) {
    return kind == RegionInputKind::folders ? "--images" : "--image";
}
const char* masks_option(RegionInputKind kind) {
    return kind == RegionInputKind::folders ? "--roi-masks" : "--roi-mask";
}

Status check_files(const RegionInputs& inputs, RegionInputKind kind) {
    const std::string region(to_string(inputs.region));
    if (inputs.region == RegionOfInterest::nonzero && inputs.images.empty()) {
        return make_error(std::string("--roi nonzero needs the images: give ") +
                          images_option(kind));
    }
    if (inputs.region == RegionOfInterest::mask && inputs.masks.empty()) {
        return make_error(std::string("--roi mask needs the region masks: give ") +
                          masks_option(kind));
    }
    if (inputs.region != RegionOfInterest::mask && !inputs.masks.empty()) {
        return make_error(std::string(masks_option(kind)) +
                          " is for --roi mask, and the region is " + region);
    }
    return Done{};
}

Result<std::map<std::string, std::string>> list_by_case(const fs::path& dir, FileRole role) {
    if (dir.empty()) return std::map<std::string, std::string>{};
    auto files = io::list_nifti_files(dir);
    if (!files) return files.error();
    auto by_case = files_by_case(*files, role);
    if (!by_case) return by_case.error().in(dir.string());
    return by_case;
}

Result<fs::path> file_of(const std::map<std::string, std::string>& files, const fs::path& dir,
                         const std::string& case_name, FileRole role) {
    if (dir.empty()) return fs::path();
    auto it = files.find(case_name);
    if (it == files.end()) {
        return make_error("holds no " + std::string(role_name(role)) + " of case '" + case_name +
                          "'")
            .in(dir.string());
    }
    return dir / it->second;
}

}  // namespace

std::vector<OptionSpec> region_options(RegionInputKind kind, bool flag) {
    const bool folders = kind == RegionInputKind::folders;
    std::vector<OptionSpec> options = {
        {"--roi", "none|nonzero|mask",
         "restrict predictions to a region: none (default), the image's non-zero voxels, or a "
         "region mask (a brain mask)"},
        {images_option(kind), folders ? "DIR" : "IMG.nii[.gz]",
         folders ? "the cases' images, paired by name: the region for --roi nonzero, and "
                   "intensity statistics for the exchangeability check"
                 : "the case's image: the region for --roi nonzero, and intensity statistics for "
                   "the exchangeability check"},
        {masks_option(kind), folders ? "DIR" : "MASK.nii[.gz]",
         folders ? "the cases' region masks (e.g. case_003_brainmask.nii.gz), for --roi mask"
                 : "the case's region mask, for --roi mask"},
    };
    if (flag) {
        options.push_back({"--flag-below", "P",
                           "flag a case whose exchangeability p-value is <= P (default 0.05)"});
    }
    return options;
}

Result<RegionInputs> read_region_inputs(const Arguments& args, RegionInputKind kind) {
    RegionInputs inputs;
    CLS_TRY_ASSIGN(inputs.region, parse_region_of_interest(args.text_or("--roi", "none")));
    inputs.images = args.text_or(images_option(kind), "");
    inputs.masks = args.text_or(masks_option(kind), "");
    if (Status valid = check_files(inputs, kind); !valid) return valid.error();
    return inputs;
}

Result<RegionInputs> recorded_region_inputs(const Arguments& args, RegionInputKind kind,
                                            RegionOfInterest recorded,
                                            const std::string& recorded_as) {
    if (args.has("--roi")) {
        auto given = parse_region_of_interest(*args.text("--roi"));
        if (!given) return given.error();
        if (*given != recorded) {
            return make_error("--roi " + std::string(to_string(*given)) + " is not " + recorded_as +
                              " (" + std::string(to_string(recorded)) +
                              "); leave it out to use the recorded region");
        }
    }
    RegionInputs inputs;
    inputs.region = recorded;
    inputs.images = args.text_or(images_option(kind), "");
    inputs.masks = args.text_or(masks_option(kind), "");
    if (Status valid = check_files(inputs, kind); !valid) {
        return make_error(recorded_as + " restricted every map to region '" +
                          std::string(to_string(recorded)) + "': " + valid.error().message);
    }
    return inputs;
}

Result<double> read_flag_level(const Arguments& args) {
    auto level = args.number_or("--flag-below", kDefaultFlagBelow);
    if (!level) return level.error();
    if (Status valid = validate_flag_level(*level); !valid) {
        return valid.error().in("--flag-below");
    }
    return level;
}

Result<CaseProfile> restrict_and_profile(Volume& probabilities, const fs::path& map_path,
                                         RegionOfInterest region, const fs::path& image,
                                         const fs::path& mask) {
    std::optional<io::LoadedNifti> loaded_image, loaded_mask;
    if (!image.empty()) {
        auto loaded = io::load_nifti(image);
        if (!loaded) return loaded.error();
        if (Status grid = check_same_grid(loaded->image.volume, probabilities,
                                          "its probability map " + map_path.string());
            !grid) {
            return grid.error().in(image.string());
        }
        loaded_image = std::move(*loaded);
    }
    if (!mask.empty()) {
        auto loaded = io::load_nifti(mask);
        if (!loaded) return loaded.error();
        loaded_mask = std::move(*loaded);
    }
    const Volume* image_volume = loaded_image ? &loaded_image->image.volume : nullptr;
    const Volume* region_volume = nullptr;
    std::string region_file;
    if (region == RegionOfInterest::nonzero) {
        region_volume = image_volume;
        region_file = image.string();
    } else if (region == RegionOfInterest::mask) {
        region_volume = &loaded_mask->image.volume;
        region_file = mask.string();
    }
    if (region_volume != nullptr) {
        if (Status restricted =
                restrict_to_region(probabilities, *region_volume, "its region " + region_file);
            !restricted) {
            return restricted.error().in(map_path.string());
        }
    }
    return profile_case(probabilities, region_volume, image_volume);
}

Result<CaseRegions> CaseRegions::open(const RegionInputs& inputs) {
    CaseRegions regions;
    regions.inputs_ = inputs;
    CLS_TRY_ASSIGN(regions.images_, list_by_case(inputs.images, FileRole::image));
    CLS_TRY_ASSIGN(regions.masks_, list_by_case(inputs.masks, FileRole::mask));
    return regions;
}

Result<CaseProfile> CaseRegions::prepare(const std::string& case_name, Volume& probabilities,
                                         const fs::path& map_path) const {
    fs::path image, mask;
    CLS_TRY_ASSIGN(image, file_of(images_, inputs_.images, case_name, FileRole::image));
    CLS_TRY_ASSIGN(mask, file_of(masks_, inputs_.masks, case_name, FileRole::mask));
    return restrict_and_profile(probabilities, map_path, inputs_.region, image, mask);
}

std::string describe_check(const ExchangeabilityCheck& check) {
    char text[200];
    std::snprintf(
        text, sizeof text, "p = %.3g against %zu calibration cases (%s statistics; furthest: %s)",
        check.p_value, check.compared_with, check.with_intensity ? "map and image" : "map",
        std::string(to_string(check.most_unlike)).c_str());
    return text;
}

nlohmann::json check_json(const std::optional<ExchangeabilityCheck>& check, double level) {
    if (!check) return nullptr;
    return {{"p_value", check->p_value},
            {"flagged", flagged(*check, level)},
            {"flag_below", level},
            {"compared_with", check->compared_with},
            {"image_statistics", check->with_intensity},
            {"furthest", to_string(check->most_unlike)}};
}

}  // namespace cls::cli
