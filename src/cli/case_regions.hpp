// The region of interest and the case profiles on the command line: the options that say
// which region restricts the maps (--roi none|nonzero|mask) and where each case's image and
// region mask are (folders for the commands that read many cases, files for those that read
// one), and the one step every command runs on a case's map once it is loaded: restrict it to
// the region (the core's rule, cls/region_of_interest.hpp) and profile it
// (cls/exchangeability.hpp). Images and masks pair with their cases by the core's naming rule;
// images of cases not read are ignored, a case without its image or mask is refused by name.
// [X] calibrate, score, assess, apply, evaluate; the certificate's region used by apply/assess
// [ ] the SHA-256 of each case's image and region mask in the certificate
#pragma once

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "arguments.hpp"
#include "cls/exchangeability.hpp"
#include "cls/region_of_interest.hpp"
#include "cls/result.hpp"
#include "cls/volume.hpp"

namespace cls::cli {

// Folders (calibrate, assess, evaluate: --images DIR, --roi-masks DIR) or files (score, apply:
// --image IMG, --roi-mask MASK).
enum class RegionInputKind { folders, files };

struct RegionInputs {
    RegionOfInterest region = RegionOfInterest::none;
    std::filesystem::path images;  // a folder or one file; empty: none given
    std::filesystem::path masks;   // likewise, for --roi mask
};

// --roi, --images/--image, --roi-masks/--roi-mask, and for the commands that check new cases
// against a certificate (`flag`), --flag-below.
[[nodiscard]] std::vector<OptionSpec> region_options(RegionInputKind kind, bool flag = false);
// What the options say: the region (default none) and the files. Refuses a region without the
// files it needs and masks without --roi mask.
[[nodiscard]] Result<RegionInputs> read_region_inputs(const Arguments& args, RegionInputKind kind);
// For commands that read a certificate (or scores): the recorded region, with the files the
// options give; an --roi that says otherwise is refused (a map restricted another way than
// calibration restricted them is not covered).
[[nodiscard]] Result<RegionInputs> recorded_region_inputs(const Arguments& args,
                                                          RegionInputKind kind,
                                                          RegionOfInterest recorded,
                                                          const std::string& recorded_as);
// --flag-below P, default 0.05, in (0, 1).
[[nodiscard]] Result<double> read_flag_level(const Arguments& args);

// A case's map restricted and profiled. `image` and `mask` are the case's files (empty when not
// given); the map's own path names it in errors.
[[nodiscard]] Result<CaseProfile> restrict_and_profile(Volume& probabilities,
                                                       const std::filesystem::path& map_path,
                                                       RegionOfInterest region,
                                                       const std::filesystem::path& image,
                                                       const std::filesystem::path& mask);

// The images and region masks of a folder command's cases, by case name.
class CaseRegions {
public:
    [[nodiscard]] static Result<CaseRegions> open(const RegionInputs& inputs);
    [[nodiscard]] RegionOfInterest region() const { return inputs_.region; }
    [[nodiscard]] bool with_images() const { return !inputs_.images.empty(); }
    // restrict_and_profile with the case's image and mask from their folders.
    [[nodiscard]] Result<CaseProfile> prepare(const std::string& case_name, Volume& probabilities,
                                              const std::filesystem::path& map_path) const;

private:
    RegionInputs inputs_;
    std::map<std::string, std::string> images_;  // case name -> file name in inputs_.images
    std::map<std::string, std::string> masks_;
};

// "p = 0.52 against 24 calibration cases (7 statistics; furthest: intensity_p99)".
[[nodiscard]] std::string describe_check(const ExchangeabilityCheck& check);

// A case's check for the JSON reports of apply and assess: null when the certificate has no
// profiles to compare with.
[[nodiscard]] nlohmann::json check_json(const std::optional<ExchangeabilityCheck>& check,
                                        double level);

}  // namespace cls::cli
