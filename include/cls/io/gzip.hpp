// gzip at the native file edge: whole streams inflated in one call by libdeflate, header
// prefixes and compression by zlib. Decompression is bounded so that a small stream cannot
// inflate into more memory than the caller allows (a "gzip bomb").
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "cls/io/byte_buffer.hpp"
#include "cls/result.hpp"

namespace cls::io {

[[nodiscard]] bool is_gzip(std::span<const std::uint8_t> bytes);

// Inflates every member of a gzip stream into one buffer, each member in one call (give the
// size expected as the limit: the buffer is allocated once, at no more than the stream can
// hold); refuses corrupt or truncated streams and output beyond `max_output_bytes`.
[[nodiscard]] Result<ByteBuffer> gunzip(std::span<const std::uint8_t> bytes,
                                        std::size_t max_output_bytes);

// The first `count` bytes of the inflated stream (fewer if it is shorter), e.g. to read a
// header and learn how large the whole file may be before inflating it. zlib, in chunks.
[[nodiscard]] Result<std::vector<std::uint8_t>> gunzip_prefix(std::span<const std::uint8_t> bytes,
                                                              std::size_t count);

[[nodiscard]] std::vector<std::uint8_t> gzip(std::span<const std::uint8_t> bytes, int level = 6);

}  // namespace cls::io
