#include "cls/io/case_score_file.hpp"

#include <fstream>
#include <system_error>
#include <vector>

#include "cls/io/file.hpp"

namespace cls::io {
namespace fs = std::filesystem;

Result<CaseScore> load_case_score(const fs::path& path, ScoreParts parts) {
    const std::string name = path.string();
    std::error_code ec;
    const auto status = fs::status(path, ec);
    if (ec || !fs::exists(status)) return make_error("no such file").in(name);
    if (fs::is_directory(status)) return make_error("is a folder, not a file").in(name);
    const std::uintmax_t file_bytes = fs::file_size(path, ec);
    if (ec) return make_error("cannot tell its size: " + ec.message()).in(name);
    std::ifstream in(path, std::ios::binary);
    if (!in) return make_error("cannot be opened for reading (permissions?)").in(name);

    // The preamble, then the header, then the sections the task needs: three reads at most.
    std::vector<std::uint8_t> prefix;
    std::size_t wanted = kCaseScorePreambleBytes;
    while (true) {
        const std::size_t target = std::min<std::uintmax_t>(wanted, file_bytes);
        if (target > prefix.size()) {
            const std::size_t had = prefix.size();
            prefix.resize(target);
            in.read(reinterpret_cast<char*>(prefix.data() + had),
                    static_cast<std::streamsize>(target - had));
            if (static_cast<std::size_t>(in.gcount()) != target - had) {
                return make_error("read failed after " + std::to_string(had + in.gcount()) +
                                  " of " + std::to_string(file_bytes) + " bytes")
                    .in(name);
            }
        }
        auto needed = case_score_bytes_needed(prefix, file_bytes, parts);
        if (!needed) return needed.error().in(name);
        if (*needed <= prefix.size()) break;
        wanted = *needed;
    }
    auto score = parse_case_score(prefix, file_bytes, parts);
    if (!score) return score.error().in(name);
    return score;
}

Result<std::vector<std::string>> list_case_score_files(const fs::path& dir) {
    return list_files(dir, [](std::string_view file) {
        return is_case_score_name(file);
    });
}

}  // namespace cls::io
