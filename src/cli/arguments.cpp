#include "arguments.hpp"

#include <CLI/CLI.hpp>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <memory>

namespace cls::cli {
namespace {

// CLI11 throws; this file is the boundary where its exceptions become our Result.
std::string option_of(const std::string& cli11_message) {
    const std::size_t colon = cli11_message.find(':');
    return colon == std::string::npos ? cli11_message : cli11_message.substr(0, colon);
}

}  // namespace

Result<Arguments> Arguments::parse(std::span<const std::string> words, const CommandSpec& spec) {
    CLI::App app(spec.summary, "cls " + spec.name);
    app.allow_extras(true);  // unknown options are reported by us, in our words
    app.footer("Example:\n  " + spec.example);
    app.get_formatter()->column_width(26);

    Arguments args;
    // CLI11 writes into these as it parses; they are moved into `args` once it is done.
    std::map<std::string, std::string> values;
    std::map<std::string, CLI::Option*> switches;
    std::vector<std::string> positional;
    for (const OptionSpec& option : spec.options) {
        if (option.value_name.empty()) {
            switches[option.name] = app.add_flag(option.name, option.help);
        } else {
            app.add_option(option.name, values[option.name], option.help)
                ->type_name(option.value_name)
                ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
        }
    }
    if (!spec.positional.empty()) {
        app.add_option(spec.positional, positional, "")->type_name("");
    }

    // CLI11 takes the words last-first.
    std::vector<std::string> reversed(words.rbegin(), words.rend());
    try {
        app.parse(reversed);
    } catch (const CLI::CallForHelp&) {
        args.help_ = app.help();
        return args;
    } catch (const CLI::ArgumentMismatch& error) {
        return make_error("option " + option_of(error.what()) + " needs a value");
    } catch (const CLI::ParseError& error) {
        return make_error(error.what());
    }
    for (const std::string& extra : app.remaining()) {
        if (extra.rfind("--", 0) == 0 || (extra.size() > 1 && extra[0] == '-')) {
            return make_error("unknown option " + extra.substr(0, extra.find('=')));
        }
        return make_error("unexpected word '" + extra + "'" +
                          (spec.positional.empty() ? " (this command takes only options)" : ""));
    }
    for (auto& [name, value] : values) {
        if (app.get_option(name)->count() > 0) args.values_[name] = std::move(value);
    }
    for (const auto& [name, option] : switches) {
        if (option->count() > 0) args.switches_.insert(name);
    }
    args.positional_ = std::move(positional);
    return args;
}

int print_help(const Arguments& args) {
    std::fputs(args.help().c_str(), stdout);
    return 0;
}

bool Arguments::has(const std::string& name) const {
    return values_.contains(name) || switches_.contains(name);
}

Result<std::string> Arguments::text(const std::string& name) const {
    auto it = values_.find(name);
    if (it == values_.end()) return make_error("option " + name + " is required");
    return it->second;
}

std::string Arguments::text_or(const std::string& name, std::string fallback) const {
    auto it = values_.find(name);
    return it == values_.end() ? std::move(fallback) : it->second;
}

Result<double> Arguments::number(const std::string& name) const {
    auto value = text(name);
    if (!value) return value.error();
    double parsed = 0.0;
    const auto [end, ec] = std::from_chars(value->data(), value->data() + value->size(), parsed);
    if (ec != std::errc() || end != value->data() + value->size() || !std::isfinite(parsed)) {
        return make_error("option " + name + " needs a number, got '" + *value + "'");
    }
    return parsed;
}

Result<double> Arguments::number_or(const std::string& name, double fallback) const {
    return values_.contains(name) ? number(name) : Result<double>(fallback);
}

Result<long long> Arguments::integer(const std::string& name) const {
    auto value = text(name);
    if (!value) return value.error();
    long long parsed = 0;
    const auto [end, ec] = std::from_chars(value->data(), value->data() + value->size(), parsed);
    if (ec != std::errc() || end != value->data() + value->size()) {
        return make_error("option " + name + " needs a whole number, got '" + *value + "'");
    }
    return parsed;
}

}  // namespace cls::cli
