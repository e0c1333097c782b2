// Command-line options of one `cls` subcommand, parsed by CLI11 (Debian's libcli11-dev) from a
// declaration that also writes the subcommand's --help: its options with what each does, and
// an example. A typo stays an error naming the option ("unknown option --epsilonn"), not a
// silently ignored word; values are read and checked by the subcommand, which words the
// message for its user ("option --epsilon needs a number, got 'x'").
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
    std::string name;        // "--epsilon"
    std::string value_name;  // "E" for an option with a value; empty for a switch ("--json")
    std::string help;        // one line: what it does, its default
};

struct CommandSpec {
    std::string name;     // "calibrate"
    std::string summary;  // what the subcommand does, a sentence or two
    std::vector<OptionSpec> options;
    std::string positional;  // "FILE" when the subcommand takes positional words, else empty
    std::string example;     // a command line that works, shown under --help

    // Appends options several commands share, after the command's own.
    void add(std::vector<OptionSpec> shared) {
        for (OptionSpec& option : shared) options.push_back(std::move(option));
    }
};

class Arguments {
public:
    // Parses `words` (the words after the subcommand's name). `--help` and `-h` give arguments
    // whose help_requested() is true; unknown options and missing values are errors.
    static Result<Arguments> parse(std::span<const std::string> words, const CommandSpec& spec);

    [[nodiscard]] bool help_requested() const { return !help_.empty(); }
    [[nodiscard]] const std::string& help() const { return help_; }

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
    std::string help_;
};

// Prints a subcommand's --help to stdout; returns the exit code for it (0).
int print_help(const Arguments& args);

}  // namespace cls::cli
