// A progress bar on stderr for long runs: redrawn in place on a terminal, a line every tenth
// of the work otherwise (logs and CI), nothing at all for runs of a single item.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

namespace cls::cli {

class Progress {
public:
    Progress(std::string task, std::size_t total);
    ~Progress();
    Progress(const Progress&) = delete;
    Progress& operator=(const Progress&) = delete;

    // Marks one more item done; `item` names it (e.g. the case being finished).
    void advance(const std::string& item);

private:
    void draw(const std::string& item);

    std::string task_;
    std::size_t total_;
    std::size_t done_ = 0;
    std::size_t last_tenth_ = 0;
    bool terminal_;
    std::chrono::steady_clock::time_point start_;
};

}  // namespace cls::cli
