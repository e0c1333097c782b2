// gzip at the native file edge, through zlib. Decompression is bounded so that a small
// stream cannot inflate into more memory than the caller allows (a "gzip bomb").
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "cls/result.hpp"

namespace cls::io {

[[nodiscard]] bool is_gzip(std::span<const std::uint8_t> bytes);

// Inflates every member of a gzip stream; refuses corrupt or truncated streams and output
// beyond `max_output_bytes`.
[[nodiscard]] Result<std::vector<std::uint8_t>> gunzip(std::span<const std::uint8_t> bytes,
                                                       std::size_t max_output_bytes);

// The first `count` bytes of the inflated stream (fewer if it is shorter), e.g. to read a
// header and learn how large the whole file may be before inflating it.
[[nodiscard]] Result<std::vector<std::uint8_t>> gunzip_prefix(std::span<const std::uint8_t> bytes,
                                                              std::size_t count);

[[nodiscard]] std::vector<std::uint8_t> gzip(std::span<const std::uint8_t> bytes, int level = 6);

}  // namespace cls::io
