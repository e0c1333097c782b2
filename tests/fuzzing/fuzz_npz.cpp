// libFuzzer target for the .npz (zip) member reader at the native edge (libzip) and the .npy
// parser behind it, as io::load_nnunet_npz uses them once the file is read: hostile central
// directories, lying sizes, zip bombs (the member limit is 1 MiB here), corrupt deflate data.
#include <cstddef>
#include <cstdint>
#include <span>

#include "cls/io/npz.hpp"
#include "cls/npy.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    constexpr std::size_t kLimit = std::size_t{1} << 20;
    const auto member =
        cls::io::read_npz_member(std::span(data, size), "probabilities.npy", kLimit);
    if (!member) return 0;
    if (member->size() > kLimit) __builtin_trap();
    (void)cls::npy::read(*member);
    return 0;
}
