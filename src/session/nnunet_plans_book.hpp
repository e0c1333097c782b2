// Which grid a dropped nnU-Net .npz lies on, by the plans.json nnUNetv2_predict wrote beside it
// (cls/nnunet_probabilities.hpp): the drop's listing says which folders bring one, and an .npz
// of such a folder waits until its plans are read, whatever order the files arrive in. An .npz
// whose folder brings none is read on its file's grid, as nnU-Net's default readers save it.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "cls/nnunet_probabilities.hpp"
#include "cls/result.hpp"

namespace cls {

class NnunetPlansBook {
public:
    // A drop's paths: the plans.json among them are awaited.
    void announce(const std::vector<std::string>& paths);
    // A plans.json has arrived; the error (not nnU-Net's plans) names it, and the .npz beside
    // it are then refused rather than read on a grid guessed.
    Status read(const std::string& path, std::span<const std::uint8_t> bytes);
    // Whether the .npz at `npz_path` must wait for its plans.
    [[nodiscard]] bool awaits_plans(const std::string& npz_path) const;
    // The grid of the .npz at `npz_path` (not awaiting its plans).
    [[nodiscard]] Result<NnunetArrayGrid> grid_of(const std::string& npz_path) const;
    // The drop is over: plans announced but never read (the page could not read the file) are
    // no longer awaited; returns their paths.
    std::vector<std::string> stop_awaiting();

private:
    std::set<std::string> awaited_;
    std::map<std::string, std::optional<NnunetArrayGrid>> read_;  // nullopt: not nnU-Net's plans
};

}  // namespace cls
