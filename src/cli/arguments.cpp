#include "arguments.hpp"

#include <charconv>
#include <cmath>

namespace cls::cli {

Result<Arguments> Arguments::parse(std::span<const std::string> words, const OptionSpec& spec) {
    Arguments args;
    for (std::size_t i = 0; i < words.size(); ++i) {
        const std::string& word = words[i];
        if (word.rfind("--", 0) != 0 || word == "--") {
            args.positional_.push_back(word);
            continue;
        }
        // Accept both "--epsilon 0.1" and "--epsilon=0.1".
        const std::size_t equals = word.find('=');
        const std::string name = word.substr(0, equals);
        if (spec.switches.contains(name) && equals == std::string::npos) {
            args.switches_.insert(name);
        } else if (spec.valued.contains(name)) {
            if (equals != std::string::npos) {
                args.values_[name] = word.substr(equals + 1);
            } else if (i + 1 < words.size()) {
                args.values_[name] = words[++i];
            } else {
                return make_error("option " + name + " needs a value");
            }
        } else {
            return make_error("unknown option " + name);
        }
    }
    return args;
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
