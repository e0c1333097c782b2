// `Sha256` where the build has no OpenSSL (WebAssembly): the hand-written implementation.
#include "cls/sha256.hpp"

namespace cls {

struct Sha256::State {
    PortableSha256 hasher;
};

Sha256::Sha256() : state_(std::make_unique<State>()) {}
Sha256::~Sha256() = default;
Sha256::Sha256(Sha256&&) noexcept = default;
Sha256& Sha256::operator=(Sha256&&) noexcept = default;

void Sha256::update(std::span<const std::uint8_t> bytes) { state_->hasher.update(bytes); }

Sha256Digest Sha256::finish() { return state_->hasher.finish(); }

}  // namespace cls
