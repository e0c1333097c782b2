// The hand-written SHA-256 (FIPS 180-4), and the hex helpers both implementations share.
#include <algorithm>
#include <bit>
#include <cassert>

#include "cls/sha256.hpp"

namespace cls {
namespace {

// FIPS 180-4 section 4.2.2: first 32 bits of the fractional parts of the cube roots of the
// first 64 primes.
constexpr std::array<std::uint32_t, 64> kRoundConstants = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

// Section 5.3.3: first 32 bits of the fractional parts of the square roots of the first 8 primes.
constexpr std::array<std::uint32_t, 8> kInitialState = {
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};

constexpr std::size_t kBlockBytes = 64;

// The message is big-endian whatever the host is, so words are assembled byte by byte.
std::uint32_t load_big_endian(const std::uint8_t* bytes) {
    return std::uint32_t{bytes[0]} << 24 | std::uint32_t{bytes[1]} << 16 |
           std::uint32_t{bytes[2]} << 8 | std::uint32_t{bytes[3]};
}

}  // namespace

PortableSha256::PortableSha256() : state_(kInitialState) {}

void PortableSha256::update(std::span<const std::uint8_t> bytes) {
    total_bytes_ += bytes.size();
    // Top up a partial block first, so that whole blocks can then be hashed in place.
    if (buffered_ > 0) {
        const std::size_t take = std::min(kBlockBytes - buffered_, bytes.size());
        std::copy_n(bytes.begin(), take, buffer_.begin() + buffered_);
        buffered_ += take;
        bytes = bytes.subspan(take);
        if (buffered_ < kBlockBytes) return;
        compress(buffer_.data());
        buffered_ = 0;
    }
    for (; bytes.size() >= kBlockBytes; bytes = bytes.subspan(kBlockBytes)) compress(bytes.data());
    std::copy(bytes.begin(), bytes.end(), buffer_.begin());
    buffered_ = bytes.size();
}

Sha256Digest PortableSha256::finish() {
    // Section 5.1.1: a 1 bit, zeros up to 56 mod 64 bytes, then the length in bits, big-endian.
    const std::uint64_t bit_length = total_bytes_ * 8;
    std::array<std::uint8_t, kBlockBytes + 8> padding{0x80};
    const std::size_t length_offset = (buffered_ < 56 ? 56 : 56 + kBlockBytes) - buffered_;
    for (int i = 0; i < 8; ++i) {
        padding[length_offset + i] = static_cast<std::uint8_t>(bit_length >> (56 - 8 * i));
    }
    update(std::span(padding).first(length_offset + 8));
    assert(buffered_ == 0);

    Sha256Digest digest{};
    for (std::size_t i = 0; i < digest.size(); ++i) {
        digest[i] = static_cast<std::uint8_t>(state_[i / 4] >> (24 - 8 * (i % 4)));
    }
    return digest;
}

void PortableSha256::compress(const std::uint8_t* block) {
    // Section 6.2.2, with the message schedule kept as a 16-word ring.
    std::array<std::uint32_t, 16> w{};
    for (std::size_t t = 0; t < 16; ++t) w[t] = load_big_endian(block + 4 * t);

    auto [a, b, c, d, e, f, g, h] = state_;
    for (std::size_t t = 0; t < 64; ++t) {
        if (t >= 16) {
            const std::uint32_t w15 = w[(t - 15) % 16];
            const std::uint32_t w2 = w[(t - 2) % 16];
            const std::uint32_t sigma0 = std::rotr(w15, 7) ^ std::rotr(w15, 18) ^ (w15 >> 3);
            const std::uint32_t sigma1 = std::rotr(w2, 17) ^ std::rotr(w2, 19) ^ (w2 >> 10);
            w[t % 16] += sigma0 + w[(t - 7) % 16] + sigma1;
        }
        const std::uint32_t big_sigma1 = std::rotr(e, 6) ^ std::rotr(e, 11) ^ std::rotr(e, 25);
        const std::uint32_t choose = (e & f) ^ (~e & g);
        const std::uint32_t t1 = h + big_sigma1 + choose + kRoundConstants[t] + w[t % 16];
        const std::uint32_t big_sigma0 = std::rotr(a, 2) ^ std::rotr(a, 13) ^ std::rotr(a, 22);
        const std::uint32_t majority = (a & b) ^ (a & c) ^ (b & c);
        const std::uint32_t t2 = big_sigma0 + majority;
        h = g;
        g = f;
        f = e;
        e = d + t1;
        d = c;
        c = b;
        b = a;
        a = t1 + t2;
    }
    const std::array<std::uint32_t, 8> working = {a, b, c, d, e, f, g, h};
    for (std::size_t i = 0; i < 8; ++i) state_[i] += working[i];
}

std::string to_hex(const Sha256Digest& digest) {
    constexpr char kDigits[] = "0123456789abcdef";
    std::string hex;
    hex.reserve(2 * digest.size());
    for (const std::uint8_t byte : digest) {
        hex += kDigits[byte >> 4];
        hex += kDigits[byte & 0x0f];
    }
    return hex;
}

std::string sha256_hex(std::span<const std::uint8_t> bytes) {
    Sha256 hasher;
    hasher.update(bytes);
    return to_hex(hasher.finish());
}

}  // namespace cls
