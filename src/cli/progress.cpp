#include "progress.hpp"

#include <unistd.h>

#include <cstdio>

namespace cls::cli {

Progress::Progress(std::string task, std::size_t total)
    : task_(std::move(task)),
      total_(total),
      terminal_(::isatty(STDERR_FILENO) != 0),
      start_(std::chrono::steady_clock::now()) {}

Progress::~Progress() {
    if (terminal_ && total_ > 1) std::fputc('\n', stderr);
}

void Progress::advance(const std::string& item) {
    ++done_;
    if (total_ <= 1) return;
    const std::size_t tenth = done_ * 10 / total_;
    if (terminal_ || tenth > last_tenth_ || done_ == total_) draw(item);
    last_tenth_ = tenth;
}

void Progress::draw(const std::string& item) {
    constexpr int kWidth = 30;
    const double fraction = static_cast<double>(done_) / static_cast<double>(total_);
    const int filled = static_cast<int>(fraction * kWidth);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    std::string bar(static_cast<std::size_t>(filled), '#');
    bar.resize(kWidth, '.');
    std::fprintf(stderr, "%s%s [%s] %zu/%zu %5.1fs %s%s", terminal_ ? "\r" : "", task_.c_str(),
                 bar.c_str(), done_, total_, seconds, item.c_str(), terminal_ ? "\033[K" : "\n");
    std::fflush(stderr);
}

}  // namespace cls::cli
