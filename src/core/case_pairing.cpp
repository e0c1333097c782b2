#include "cls/case_pairing.hpp"

#include <algorithm>
#include <cctype>
#include <map>

namespace cls {
namespace {

bool ends_with_ignoring_case(std::string_view text, std::string_view suffix) {
    if (text.size() < suffix.size()) return false;
    return std::equal(suffix.begin(), suffix.end(),
                      text.end() - static_cast<std::ptrdiff_t>(suffix.size()), [](char a, char b) {
                          return std::tolower(static_cast<unsigned char>(a)) ==
                                 std::tolower(static_cast<unsigned char>(b));
                      });
}

// Case name -> file name; the first duplicate found is reported.
Result<std::map<std::string, std::string>> index_by_case(const std::vector<std::string>& files,
                                                         std::string_view role) {
    std::map<std::string, std::string> by_case;
    for (const std::string& file : files) {
        auto [it, inserted] = by_case.emplace(case_name(file, false), file);
        if (!inserted) {
            return make_error("two " + std::string(role) + " files belong to case '" + it->first +
                              "': " + it->second + " and " + file);
        }
    }
    return by_case;
}

std::string list_some(const std::vector<std::string>& names) {
    constexpr std::size_t kShown = 5;
    std::string text;
    for (std::size_t i = 0; i < names.size() && i < kShown; ++i) text += (i ? ", " : "") + names[i];
    if (names.size() > kShown) text += " and " + std::to_string(names.size() - kShown) + " more";
    return text;
}

}  // namespace

bool is_nifti_name(std::string_view file_name) {
    return ends_with_ignoring_case(file_name, ".nii") ||
           ends_with_ignoring_case(file_name, ".nii.gz");
}

std::string case_name(std::string_view file_name, bool strip_channel) {
    std::string_view name = file_name;
    if (ends_with_ignoring_case(name, ".nii.gz")) {
        name.remove_suffix(7);
    } else if (ends_with_ignoring_case(name, ".nii")) {
        name.remove_suffix(4);
    }
    const bool has_channel = name.size() > 5 && name[name.size() - 5] == '_' &&
                             std::all_of(name.end() - 4, name.end(), [](char c) {
                                 return std::isdigit(static_cast<unsigned char>(c)) != 0;
                             });
    if (strip_channel && has_channel) name.remove_suffix(5);
    return std::string(name);
}

Result<std::vector<CasePair>> pair_cases(const std::vector<std::string>& first,
                                         std::string_view first_role,
                                         const std::vector<std::string>& second,
                                         std::string_view second_role) {
    auto first_cases = index_by_case(first, first_role);
    if (!first_cases) return first_cases.error();
    auto second_cases = index_by_case(second, second_role);
    if (!second_cases) return second_cases.error();

    std::vector<CasePair> pairs;
    std::vector<std::string> only_first, only_second;
    for (const auto& [name, file] : *first_cases) {
        auto match = second_cases->find(name);
        if (match == second_cases->end()) {
            only_first.push_back(file);
        } else {
            pairs.push_back({name, file, match->second});
        }
    }
    for (const auto& [name, file] : *second_cases) {
        if (!first_cases->contains(name)) only_second.push_back(file);
    }
    if (!only_first.empty() || !only_second.empty()) {
        std::string message = "cases are not paired by name:";
        if (!only_first.empty()) {
            message += " no " + std::string(second_role) + " for " + list_some(only_first) + ";";
        }
        if (!only_second.empty()) {
            message += " no " + std::string(first_role) + " for " + list_some(only_second) + ";";
        }
        message.pop_back();
        return make_error(message);
    }
    return pairs;
}

}  // namespace cls
