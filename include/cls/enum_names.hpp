// An enum and its names in one constexpr table, with the lookups every enum shares: the name
// of a value, the value of a name, and parsing with one message ("unknown method 'x'
// (expected cls, crc or fixed)"). Each enum's to_string / parse_* is a line over its table.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "cls/result.hpp"

namespace cls {

template <class E>
struct EnumName {
    E value;
    std::string_view name;
};

template <class E, std::size_t N>
using EnumTable = std::array<EnumName<E>, N>;

// The name of `value`; "?" for a value the table lacks (each table's test rules that out).
template <class E, std::size_t N>
constexpr std::string_view name_of(const EnumTable<E, N>& table, E value) {
    for (const EnumName<E>& entry : table) {
        if (entry.value == value) return entry.name;
    }
    return "?";
}

template <class E, std::size_t N>
constexpr std::optional<E> value_named(const EnumTable<E, N>& table, std::string_view name) {
    for (const EnumName<E>& entry : table) {
        if (entry.name == name) return entry.value;
    }
    return std::nullopt;
}

// "a, b or c", the names in table order.
template <class E, std::size_t N>
std::string names_text(const EnumTable<E, N>& table) {
    std::string text;
    for (std::size_t i = 0; i < N; ++i) {
        if (i > 0) text += i + 1 == N ? " or " : ", ";
        text += table[i].name;
    }
    return text;
}

// The value named `text`, or "unknown <what> '<text>' (expected <names>)".
template <class E, std::size_t N>
Result<E> parse_name(const EnumTable<E, N>& table, std::string_view text, std::string_view what) {
    if (auto value = value_named(table, text)) return *value;
    return make_error("unknown " + std::string(what) + " '" + std::string(text) + "' (expected " +
                      names_text(table) + ")");
}

}  // namespace cls
