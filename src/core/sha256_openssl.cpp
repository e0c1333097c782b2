// The native `Sha256`: OpenSSL's EVP digest interface, which picks the fastest code the CPU
// allows (SHA extensions, AVX2) at run time.
#include <openssl/evp.h>

#include <cstdio>
#include <cstdlib>

#include "cls/sha256.hpp"

namespace cls {
namespace {

// Fetched once and kept for the process: handing EVP_DigestInit_ex the legacy EVP_sha256()
// would look the algorithm up again for every file.
const EVP_MD* sha256_algorithm() {
    static const EVP_MD* const algorithm = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    return algorithm;
}

// SHA-256 on bytes in memory has no failure an input can cause: only a libcrypto without the
// algorithm (a broken installation or configuration) or no memory. Neither can be worked
// around, and a wrong digest must never be written, so the process stops and says why.
[[noreturn]] void fail(const char* step) {
    std::fprintf(stderr,
                 "cls: OpenSSL's SHA-256 failed in %s (is libcrypto installed and "
                 "configured?)\n",
                 step);
    std::abort();
}

}  // namespace

struct Sha256::State {
    EVP_MD_CTX* context = EVP_MD_CTX_new();
    ~State() { EVP_MD_CTX_free(context); }
};

Sha256::Sha256() : state_(std::make_unique<State>()) {
    if (state_->context == nullptr) fail("EVP_MD_CTX_new");
    const EVP_MD* algorithm = sha256_algorithm();
    if (algorithm == nullptr) fail("EVP_MD_fetch");
    if (EVP_DigestInit_ex(state_->context, algorithm, nullptr) != 1) fail("EVP_DigestInit_ex");
}

Sha256::~Sha256() = default;
Sha256::Sha256(Sha256&&) noexcept = default;
Sha256& Sha256::operator=(Sha256&&) noexcept = default;

void Sha256::update(std::span<const std::uint8_t> bytes) {
    if (bytes.empty()) return;
    if (EVP_DigestUpdate(state_->context, bytes.data(), bytes.size()) != 1) {
        fail("EVP_DigestUpdate");
    }
}

Sha256Digest Sha256::finish() {
    Sha256Digest digest{};
    unsigned int length = 0;
    if (EVP_DigestFinal_ex(state_->context, digest.data(), &length) != 1 ||
        length != digest.size()) {
        fail("EVP_DigestFinal_ex");
    }
    return digest;
}

}  // namespace cls
