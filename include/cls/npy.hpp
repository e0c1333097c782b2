// NumPy's .npy format (numpy/lib/format.py, "NEP 1") parsed from bytes, strictly: the arrays
// nnU-Net v2 saves as probabilities (see cls/nnunet_probabilities.hpp) and little else. The
// parser never allocates before the header's declared data size has been checked, with
// overflow checks, against the bytes it was given. Errors say what was found but name no file:
// callers add it with `Error::in`.
// [X] format versions 1.0, 2.0 and 3.0 (UTF-8 header)
// [X] the header dict exactly as numpy writes it: the keys 'descr', 'fortran_order' and
//     'shape', each once, in any order, Python literal syntax, with or without a trailing
//     comma, padded with spaces and ended by a newline
// [X] dtypes float16, float32, float64 in either byte order ('<f2', '>f4', ...) and uint8
//     ('|u1'), returned as float32 (float64 is rounded)
// [X] Fortran-ordered arrays, reordered to C order
// [ ] other dtypes (integers wider than a byte, bool, complex, structured, object/pickled
//     arrays): refused by name
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "cls/result.hpp"

namespace cls::npy {

// The header's facts, before any data is read.
struct Header {
    int major_version = 1;
    int minor_version = 0;
    std::string descr;  // as written, e.g. "<f4"
    bool fortran_order = false;
    std::vector<std::int64_t> shape;
    std::size_t item_bytes = 0;   // 1, 2, 4 or 8
    std::size_t data_offset = 0;  // where the data begins: magic + version + length + header
    std::size_t data_bytes = 0;   // product(shape) * item_bytes, checked not to overflow
};

// An array in C (row-major) order: the last index varies fastest, as in numpy's default.
struct Array {
    std::vector<std::int64_t> shape;
    std::vector<float> values;
};

// "2x181x218x182": a shape as messages show it ("scalar" for shape ()).
[[nodiscard]] std::string shape_text(const std::vector<std::int64_t>& shape);

// Parses the magic, version and header dict; touches no data.
[[nodiscard]] Result<Header> read_header(std::span<const std::uint8_t> bytes);

// Parses a whole .npy file. Bytes after the data are refused: a .npy holds one array.
[[nodiscard]] Result<Array> read(std::span<const std::uint8_t> bytes);

}  // namespace cls::npy
