// Streams labelled cases from a folder of probability maps and a folder of labels, paired by
// file name: each case is loaded, checked (probabilities finite and in [0, 1], a binary label,
// the same grid) and handed over, then dropped, so a run holds one case's volumes at a time
// however large the set.
#pragma once

#include <filesystem>
#include <functional>
#include <string>

#include "cls/io/file.hpp"
#include "cls/result.hpp"

namespace cls::cli {

struct LabelledCase {
    std::string name;
    std::filesystem::path probabilities_path;
    std::filesystem::path label_path;
    io::LoadedNifti probabilities;
    io::LoadedNifti label;
};

// Calls `visit` for each case in name order, with progress on stderr; stops at the first
// error (from loading or from `visit`), which names the file.
Status for_each_labelled_case(const std::filesystem::path& probabilities_dir,
                              const std::filesystem::path& labels_dir, const std::string& task,
                              const std::function<Status(LabelledCase&)>& visit);

}  // namespace cls::cli
