// Case score files at the native edge: reading one as far as a task needs (calibration reads
// the header and the lesion section only, so reducing thousands of scores reads kilobytes a
// case, not the background), and listing a folder of them. Writing is io::write_file_atomic
// of cls::encode_case_score. The format and its checks are the core's (cls/case_score.hpp).
// [X] partial reads with the file's real size checked against its header (truncation named)
// [ ] memory-mapped reads (the reads here are a few calls per file)
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "cls/case_score.hpp"
#include "cls/result.hpp"

namespace cls::io {

// Reads and checks a score file for `parts`. Errors name the file.
[[nodiscard]] Result<CaseScore> load_case_score(const std::filesystem::path& path,
                                                ScoreParts parts);
// Names of the *.score files directly inside `dir` (links followed, as list_nifti_files), sorted.
[[nodiscard]] Result<std::vector<std::string>> list_case_score_files(
    const std::filesystem::path& dir);

}  // namespace cls::io
