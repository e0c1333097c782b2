#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <span>
#include <string_view>
#include <vector>

#include "cls/sha256.hpp"

namespace {

std::span<const std::uint8_t> bytes_of(std::string_view text) {
    return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

// Every test runs through both implementations: the build's `Sha256` (OpenSSL natively) and
// the hand-written `PortableSha256` that WebAssembly uses.
template <class Hasher>
class Sha256Test : public testing::Test {
protected:
    static std::string hex(std::span<const std::uint8_t> bytes) {
        Hasher hasher;
        hasher.update(bytes);
        return cls::to_hex(hasher.finish());
    }
};
using Implementations = testing::Types<cls::Sha256, cls::PortableSha256>;
TYPED_TEST_SUITE(Sha256Test, Implementations);

// Expected digests: the NIST example messages for SHA-256 (csrc.nist.gov, "Examples with
// Intermediate Values"), which Python's hashlib reproduces.
TYPED_TEST(Sha256Test, EmptyMessage) {
    EXPECT_EQ(this->hex({}), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TYPED_TEST(Sha256Test, Abc) {
    EXPECT_EQ(this->hex(bytes_of("abc")),
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TYPED_TEST(Sha256Test, TwoBlockMessage448Bits) {
    EXPECT_EQ(this->hex(bytes_of("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TYPED_TEST(Sha256Test, Message896Bits) {
    EXPECT_EQ(this->hex(bytes_of("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
                                 "hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu")),
              "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}

TYPED_TEST(Sha256Test, OneMillionA) {
    const std::vector<std::uint8_t> message(1'000'000, 'a');
    EXPECT_EQ(this->hex(message),
              "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

// Lengths around the padding boundaries (55/56/63/64 bytes) and many blocks, cut at random
// points: the streamed digest must not depend on how the bytes arrive.
TYPED_TEST(Sha256Test, ChunkingDoesNotChangeDigest) {
    std::mt19937 rng(20251017);
    for (const std::size_t length : {1, 55, 56, 63, 64, 65, 119, 120, 128, 1000, 4099}) {
        std::vector<std::uint8_t> message(length);
        for (auto& byte : message) byte = static_cast<std::uint8_t>(rng());
        TypeParam whole;
        whole.update(message);
        const auto expected = whole.finish();

        for (int trial = 0; trial < 20; ++trial) {
            TypeParam chunked;
            std::span<const std::uint8_t> rest(message);
            while (!rest.empty()) {
                // Mostly short pieces, sometimes empty ones, sometimes more than a block.
                const std::size_t piece = std::min<std::size_t>(rng() % 150, rest.size());
                chunked.update(rest.first(piece));
                rest = rest.subspan(piece);
            }
            EXPECT_EQ(chunked.finish(), expected) << "length " << length << ", trial " << trial;
        }
    }
}

// The helper every caller uses gives the same hex as the hasher it wraps.
TEST(Sha256Hex, IsTheBuildsHasherInHex) {
    EXPECT_EQ(cls::sha256_hex(bytes_of("abc")),
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

}  // namespace
