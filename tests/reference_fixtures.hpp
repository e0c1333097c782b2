// The reference fixtures that ctest's fixture steps write (tests/reference/*.py) under
// CLS_REFERENCE_DIR, one folder per generator: where they lie, and their files read whole or as
// JSON. A missing or unreadable file fails the test that wanted it, naming the file.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cls/io/file.hpp"

namespace cls::testing {

// CLS_REFERENCE_DIR/<generator>; ./<generator> when a test binary runs outside ctest.
inline std::filesystem::path reference_folder(const std::string& generator) {
    const char* dir = std::getenv("CLS_REFERENCE_DIR");
    return std::filesystem::path(dir ? dir : ".") / generator;
}

inline std::vector<std::uint8_t> read_reference_file(const std::filesystem::path& path) {
    auto bytes = io::read_file(path);
    if (!bytes) {
        ADD_FAILURE() << bytes.error().message << " (the reference fixture step writes it)";
        return {};
    }
    return std::move(*bytes);
}

inline nlohmann::json read_reference_json(const std::filesystem::path& path) {
    const std::vector<std::uint8_t> text = read_reference_file(path);
    return text.empty() ? nlohmann::json() : nlohmann::json::parse(text.begin(), text.end());
}

}  // namespace cls::testing
