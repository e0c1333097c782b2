#include "nnunet_plans_book.hpp"

#include "cls/case_pairing.hpp"

namespace cls {

void NnunetPlansBook::announce(const std::vector<std::string>& paths) {
    for (const std::string& path : paths) {
        if (is_nnunet_plans_name(path)) awaited_.insert(path);  // a new drop brings its own
    }
}

Status NnunetPlansBook::read(const std::string& path, std::span<const std::uint8_t> bytes) {
    awaited_.erase(path);
    auto grid = read_nnunet_plans(bytes);
    if (!grid) {
        read_[path] = std::nullopt;
        return grid.error().in(path);
    }
    read_[path] = *grid;
    return Done{};
}

bool NnunetPlansBook::awaits_plans(const std::string& npz_path) const {
    return awaited_.contains(nnunet_plans_path(npz_path));
}

Result<NnunetArrayGrid> NnunetPlansBook::grid_of(const std::string& npz_path) const {
    const std::string plans = nnunet_plans_path(npz_path);
    const auto known = read_.find(plans);
    if (known == read_.end()) return NnunetArrayGrid::file;
    if (!known->second) {
        return make_error("not read: the plans.json beside it (" + plans +
                          ") is not nnU-Net's plans, and they say which grid the array lies on");
    }
    return *known->second;
}

std::vector<std::string> NnunetPlansBook::stop_awaiting() {
    std::vector<std::string> never(awaited_.begin(), awaited_.end());
    awaited_.clear();
    return never;
}

}  // namespace cls
