// Inflating takes two inflaters: libdeflate for whole files, since a NIfTI header says how large
// the file is (2 to 3 times zlib's speed, bench/cli_bench.py), and zlib for the rest: a
// header's first bytes, and the exact reason when libdeflate refuses a stream.
#include "cls/io/gzip.hpp"

#include <libdeflate.h>
#include <zlib.h>

#include <algorithm>
#include <cassert>
#include <cstring>
#include <limits>
#include <memory>
#include <optional>
#include <utility>

namespace cls::io {
namespace {

// zlib counts in uInt: hand it at most this much input or output per call.
constexpr std::size_t kMaxPerCall = std::size_t{1} << 30;
constexpr std::size_t kOutputChunk = std::size_t{4} << 20;
// Output grows from this size, doubling up to kOutputChunk: a small file (or a header prefix)
// then costs kilobytes, not a zero-filled 4 MiB buffer.
constexpr std::size_t kFirstOutputChunk = std::size_t{64} << 10;

bool only_zeros(std::span<const std::uint8_t> bytes) {
    return std::all_of(bytes.begin(), bytes.end(), [](std::uint8_t b) { return b == 0; });
}

}  // namespace

bool is_gzip(std::span<const std::uint8_t> bytes) {
    return bytes.size() >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b;
}

namespace {

// Inflates every member of a gzip stream, stopping once `limit` bytes are out.
Result<std::vector<std::uint8_t>> inflate_gzip(std::span<const std::uint8_t> bytes,
                                               std::size_t limit) {
    z_stream stream{};
    // 15 + 16: a gzip wrapper (not raw deflate, not zlib) with the largest window.
    if (inflateInit2(&stream, 15 + 16) != Z_OK) return make_error("cannot start the gzip decoder");
    struct Closer {
        z_stream* s;
        ~Closer() { inflateEnd(s); }
    } closer{&stream};

    std::vector<std::uint8_t> out;
    std::size_t consumed = 0;  // input bytes handed to zlib so far
    std::size_t produced = 0;  // output bytes zlib has written
    while (true) {
        if (stream.avail_in == 0 && consumed < bytes.size()) {
            const std::size_t n = std::min(bytes.size() - consumed, kMaxPerCall);
            stream.next_in =
                const_cast<Bytef*>(bytes.data() + consumed);  // zlib is not const-correct
            stream.avail_in = static_cast<uInt>(n);
            consumed += n;
        }
        if (produced == out.size()) {
            if (produced == limit) break;
            const std::size_t grow = std::clamp(produced, kFirstOutputChunk, kOutputChunk);
            out.resize(std::min(limit, produced + grow));
        }
        stream.next_out = out.data() + produced;
        stream.avail_out = static_cast<uInt>(out.size() - produced);
        const uInt room = stream.avail_out;
        const int status = inflate(&stream, Z_NO_FLUSH);
        produced += room - stream.avail_out;

        if (status == Z_STREAM_END) {
            // Concatenated gzip members form one file (RFC 1952); trailing zero padding is fine.
            const std::size_t rest = bytes.size() - consumed + stream.avail_in;
            if (rest == 0 || only_zeros(bytes.last(rest))) break;
            inflateReset(&stream);
            continue;
        }
        if (status == Z_BUF_ERROR && stream.avail_in == 0 && consumed == bytes.size()) {
            return make_error("gzip stream is truncated (it ends before its end marker)");
        }
        if (status != Z_OK && status != Z_BUF_ERROR) {
            return make_error(std::string("gzip stream is corrupt (") +
                              (stream.msg ? stream.msg : "invalid data") + ")");
        }
    }
    out.resize(produced);
    return out;
}

// DEFLATE's largest ratio: a 258-byte match coded in 2 bits gives 1032 bytes per input byte.
// No stream of n bytes inflates past 1032 n (plus a little for tiny inputs), so a header that
// declares more than its stream can hold does not make us allocate what it declares.
constexpr std::size_t kMaxDeflateRatio = 1032;
constexpr std::size_t kSmallStreamSlack = 1 << 16;

struct DecompressorFree {
    void operator()(libdeflate_decompressor* d) const { libdeflate_free_decompressor(d); }
};

// Every member inflated in one call each by libdeflate, straight into a buffer of `capacity`
// bytes; nothing when libdeflate refuses the stream (corrupt, truncated, larger than
// `capacity`) or the memory is not there, and the caller asks zlib why.
std::optional<ByteBuffer> inflate_whole(std::span<const std::uint8_t> bytes, std::size_t capacity) {
    const std::unique_ptr<libdeflate_decompressor, DecompressorFree> decompressor(
        libdeflate_alloc_decompressor());
    if (!decompressor) return std::nullopt;
    ByteBuffer out = ByteBuffer::try_allocate(capacity);
    if (!out.allocated()) return std::nullopt;
    std::size_t consumed = 0;
    std::size_t produced = 0;
    do {
        std::size_t member_in = 0;
        std::size_t member_out = 0;
        const libdeflate_result result = libdeflate_gzip_decompress_ex(
            decompressor.get(), bytes.data() + consumed, bytes.size() - consumed,
            out.data() + produced, out.size() - produced, &member_in, &member_out);
        if (result != LIBDEFLATE_SUCCESS) return std::nullopt;
        consumed += member_in;
        produced += member_out;
        // Concatenated members form one file (RFC 1952); trailing zero padding is fine.
    } while (consumed < bytes.size() && !only_zeros(bytes.subspan(consumed)));
    out.shrink_to(produced);
    return out;
}

}  // namespace

Result<ByteBuffer> gunzip(std::span<const std::uint8_t> bytes, std::size_t max_output_bytes) {
    const std::size_t most_possible =
        bytes.size() >
                (std::numeric_limits<std::size_t>::max() - kSmallStreamSlack) / kMaxDeflateRatio
            ? std::numeric_limits<std::size_t>::max()
            : bytes.size() * kMaxDeflateRatio + kSmallStreamSlack;
    if (auto whole = inflate_whole(bytes, std::min(max_output_bytes, most_possible))) {
        return std::move(*whole);
    }
    // Refused, or too large to allocate at once: zlib inflates in chunks, within the limit,
    // and words the reason (truncated, corrupt, or larger than the limit: a "gzip bomb").
    // One byte past the limit tells "exactly at the limit" from "beyond it".
    auto streamed = inflate_gzip(bytes, max_output_bytes + 1);
    if (!streamed) return streamed.error();
    if (streamed->size() > max_output_bytes) {
        return make_error("gzip stream inflates past " + std::to_string(max_output_bytes) +
                          " bytes, more than this file may hold; refusing it");
    }
    // zlib took a stream libdeflate did not: rare, and zlib's reading stands, as it always did.
    ByteBuffer out(streamed->size());
    std::copy(streamed->begin(), streamed->end(), out.data());
    return out;
}

Result<std::vector<std::uint8_t>> gunzip_prefix(std::span<const std::uint8_t> bytes,
                                                std::size_t count) {
    return inflate_gzip(bytes, count);
}

std::vector<std::uint8_t> gzip(std::span<const std::uint8_t> bytes, int level) {
    z_stream stream{};
    [[maybe_unused]] const int init =
        deflateInit2(&stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
    assert(init == Z_OK);
    std::vector<std::uint8_t> out;
    std::size_t consumed = 0;
    std::size_t produced = 0;
    int status = Z_OK;
    while (status != Z_STREAM_END) {
        if (stream.avail_in == 0 && consumed < bytes.size()) {
            const std::size_t n = std::min(bytes.size() - consumed, kMaxPerCall);
            stream.next_in = const_cast<Bytef*>(bytes.data() + consumed);
            stream.avail_in = static_cast<uInt>(n);
            consumed += n;
        }
        if (produced == out.size()) {
            // The first chunk fits the whole stream when the input comes in one call.
            const uLong bound = deflateBound(
                &stream, static_cast<uLong>(bytes.size() - consumed + stream.avail_in));
            out.resize(produced +
                       (out.empty() ? std::min<std::size_t>(bound, kOutputChunk) : kOutputChunk));
        }
        stream.next_out = out.data() + produced;
        stream.avail_out = static_cast<uInt>(out.size() - produced);
        const uInt room = stream.avail_out;
        status = deflate(&stream, consumed == bytes.size() ? Z_FINISH : Z_NO_FLUSH);
        assert(status == Z_OK || status == Z_STREAM_END || status == Z_BUF_ERROR);
        produced += room - stream.avail_out;
    }
    deflateEnd(&stream);
    out.resize(produced);
    return out;
}

}  // namespace cls::io
