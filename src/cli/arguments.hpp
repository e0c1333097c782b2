// Command-line options of one `cls` subcommand: "--name value" options, "--flag" switches and
// positional arguments, checked against what the subcommand declares so that a typo is an
// error naming the option, not a silently ignored word.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "cls/result.hpp"

namespace cls::cli {

struct OptionSpec {
    std::set<std::string> valued;    // "--epsilon" takes a value
    std::set<std::string> switches;  // "--json" does not
};

class Arguments {
public:
    static Result<Arguments> parse(std::span<const std::string> words, const OptionSpec& spec);

    [[nodiscard]] bool has(const std::string& name) const;
    [[nodiscard]] const std::vector<std::string>& positional() const { return positional_; }

    [[nodiscard]] Result<std::string> text(const std::string& name) const;  // required
    [[nodiscard]] std::string text_or(const std::string& name, std::string fallback) const;
    [[nodiscard]] Result<double> number(const std::string& name) const;  // required
    [[nodiscard]] Result<double> number_or(const std::string& name, double fallback) const;
    [[nodiscard]] Result<long long> integer(const std::string& name) const;  // required

private:
    std::map<std::string, std::string> values_;
    std::set<std::string> switches_;
    std::vector<std::string> positional_;
};

}  // namespace cls::cli
