// SHA-256 (FIPS 180-4), used to bind a calibration certificate to the exact files it was
// computed from. Platform-free so the browser build hashes the same way as the CLI.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>

namespace cls {

class Sha256 {
public:
    Sha256();
    void update(std::span<const std::uint8_t> bytes);
    [[nodiscard]] std::array<std::uint8_t, 32> finish();

private:
    void compress(const std::uint8_t* block);

    std::array<std::uint32_t, 8> state_;
    std::array<std::uint8_t, 64> buffer_{};
    std::size_t buffered_ = 0;
    std::uint64_t total_bytes_ = 0;
};

// Lower-case hex digest of `bytes`.
[[nodiscard]] std::string sha256_hex(std::span<const std::uint8_t> bytes);

}  // namespace cls
