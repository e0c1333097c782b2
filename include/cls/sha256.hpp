// SHA-256 (FIPS 180-4), binding a calibration certificate to the exact files it was computed
// from. One interface, two implementations chosen when the core is built:
// [X] natively, OpenSSL's EVP digest (libcrypto), which uses the CPU's SHA extensions where it
//     has them: about 8x the hand-written code on the build machine (sha256_openssl.cpp)
// [X] in WebAssembly, the hand-written `PortableSha256` (sha256_builtin.cpp): the page hashes
//     files with the browser's crypto.subtle at its edge, so only Node's batch inference and
//     the app's exported maps hash here, where no library serves
// Both give the same digest for the same bytes however they arrive; the tests run the NIST
// vectors through each.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

namespace cls {

using Sha256Digest = std::array<std::uint8_t, 32>;

// The build's SHA-256: feed bytes in pieces of any size, then `finish` once.
class Sha256 {
public:
    Sha256();
    ~Sha256();
    Sha256(Sha256&&) noexcept;
    Sha256& operator=(Sha256&&) noexcept;

    void update(std::span<const std::uint8_t> bytes);
    [[nodiscard]] Sha256Digest finish();

private:
    struct State;  // the implementation's context
    std::unique_ptr<State> state_;
};

// The hand-written implementation, with no dependency: what `Sha256` is in WebAssembly.
class PortableSha256 {
public:
    PortableSha256();
    void update(std::span<const std::uint8_t> bytes);
    [[nodiscard]] Sha256Digest finish();

private:
    void compress(const std::uint8_t* block);

    std::array<std::uint32_t, 8> state_;
    std::array<std::uint8_t, 64> buffer_{};
    std::size_t buffered_ = 0;
    std::uint64_t total_bytes_ = 0;
};

// Lower-case hex, as certificates and manifests record digests.
[[nodiscard]] std::string to_hex(const Sha256Digest& digest);
// The lower-case hex digest of `bytes`, through `Sha256`.
[[nodiscard]] std::string sha256_hex(std::span<const std::uint8_t> bytes);

}  // namespace cls
