// The tool version recorded in certificates and printed by `cls --version`.
#pragma once

namespace cls {
inline constexpr const char* kVersion = "0.1.0";
}  // namespace cls
