// One set of field helpers for every JSON document the project reads: certificates, model
// manifests, the app's persisted settings and kept calibrations. Reading never throws
// (exceptions are off in the WebAssembly build): every value is type-checked before it is read,
// and every refusal says the same thing the same way, "<prefix> 'key' is missing" or
// "<prefix> 'key' must be <kind>", with the prefix the document uses ("field", "manifest field").
// Optional fields come in two kinds: `optional_text` gives "" when absent, and `read_if` leaves
// the target as it was when the field is absent or of another type (settings stored by an older
// version keep their defaults).
#pragma once

#include <array>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <type_traits>

#include "cls/result.hpp"

namespace cls {

class FieldReader {
public:
    explicit FieldReader(const nlohmann::json& object, std::string prefix = "field")
        : object_(object), prefix_(std::move(prefix)) {}

    [[nodiscard]] Result<const nlohmann::json*> member(const std::string& key) const;
    [[nodiscard]] Result<const nlohmann::json*> object(const std::string& key) const;
    [[nodiscard]] Result<double> number(const std::string& key) const;
    // A number, or null for +inf (JSON has no infinity): a threshold that predicts nothing.
    [[nodiscard]] Result<double> threshold(const std::string& key) const;
    [[nodiscard]] Result<std::size_t> count(const std::string& key) const;
    // An integer in [lo, hi], the message giving the range and the value found.
    [[nodiscard]] Result<std::int64_t> integer(const std::string& key, std::int64_t lo,
                                               std::int64_t hi) const;
    [[nodiscard]] Result<std::string> text(const std::string& key) const;
    [[nodiscard]] std::string optional_text(const std::string& key) const;
    // Three integers (T integral) or numbers.
    template <class T>
    [[nodiscard]] Result<std::array<T, 3>> triple(const std::string& key) const;

    template <class T>
    void read_if(const std::string& key, T& target) const;

    // "<prefix> 'key' <problem>": for the checks a document makes beyond types.
    [[nodiscard]] Error error(const std::string& key, const std::string& problem) const {
        return make_error(prefix_ + " '" + key + "' " + problem);
    }

private:
    const nlohmann::json& object_;
    std::string prefix_;
};

template <class T>
Result<std::array<T, 3>> FieldReader::triple(const std::string& key) const {
    auto value = member(key);
    if (!value) return value.error();
    const nlohmann::json& list = **value;
    if (!list.is_array() || list.size() != 3) return error(key, "must be a list of 3");
    std::array<T, 3> out{};
    for (std::size_t i = 0; i < 3; ++i) {
        if constexpr (std::is_integral_v<T>) {
            if (!list[i].is_number_integer()) return error(key, "must hold integers");
        } else {
            if (!list[i].is_number()) return error(key, "must hold numbers");
        }
        out[i] = list[i].get<T>();
    }
    return out;
}

template <class T>
void FieldReader::read_if(const std::string& key, T& target) const {
    auto it = object_.find(key);
    if (it == object_.end()) return;
    if constexpr (std::is_same_v<T, bool>) {
        if (it->is_boolean()) target = it->get<bool>();
    } else if constexpr (std::is_same_v<T, std::string>) {
        if (it->is_string()) target = it->get<std::string>();
    } else {
        static_assert(std::is_arithmetic_v<T>);
        if (it->is_number()) target = it->get<T>();
    }
}

}  // namespace cls
