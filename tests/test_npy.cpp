// The .npy parser. Files are built here byte by byte from numpy's format description
// (numpy/lib/format.py: magic, version, little-endian header length, a Python dict literal
// padded with spaces to a multiple of 64 bytes and ended by a newline, then the data), with
// values whose encodings are written out by hand, so a wrong conversion in the module cannot
// be mirrored by the test. numpy-written files are read in test_nnunet_npz.cpp.

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "cls/npy.hpp"

namespace {

using Bytes = std::vector<std::uint8_t>;

// What std::bit_cast does; Emscripten 3.1.6's libc++ has no std::bit_cast.
template <class To, class From>
To bits_as(From from) {
    static_assert(sizeof(To) == sizeof(From));
    To to;
    std::memcpy(&to, &from, sizeof(To));
    return to;
}

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

// A .npy file of format `major`.0 with `dict` as its header text and `data` after it. The
// dict is padded as numpy pads it unless `pad` is false (then it is used verbatim).
Bytes npy_file(const std::string& dict, const Bytes& data, int major = 1, bool pad = true) {
    std::string header = dict;
    const std::size_t prefix = major == 1 ? 10 : 12;
    if (pad) {
        while ((prefix + header.size() + 1) % 64 != 0) header += ' ';
        header += '\n';
    }
    Bytes out{0x93, 'N', 'U', 'M', 'P', 'Y', static_cast<std::uint8_t>(major), 0};
    const std::size_t n = header.size();
    out.push_back(static_cast<std::uint8_t>(n & 0xff));
    out.push_back(static_cast<std::uint8_t>((n >> 8) & 0xff));
    if (major != 1) {
        out.push_back(static_cast<std::uint8_t>((n >> 16) & 0xff));
        out.push_back(static_cast<std::uint8_t>((n >> 24) & 0xff));
    }
    out.insert(out.end(), header.begin(), header.end());
    out.insert(out.end(), data.begin(), data.end());
    return out;
}

std::string dict_for(const std::string& descr, const std::string& shape, bool fortran = false) {
    return "{'descr': '" + descr + "', 'fortran_order': " + (fortran ? "True" : "False") +
           ", 'shape': " + shape + ", }";
}

// Appends `bits` (an encoding written out by hand) in `bytes` bytes of the given byte order.
void put(Bytes& out, std::uint64_t bits, std::size_t bytes, bool big_endian) {
    for (std::size_t i = 0; i < bytes; ++i) {
        const std::size_t shift = big_endian ? bytes - 1 - i : i;
        out.push_back(static_cast<std::uint8_t>((bits >> (8 * shift)) & 0xff));
    }
}

// The same five values in each float width: 1, -2, 0.5, 65504 (float16's largest), -0.
struct Encoded {
    std::string type;  // "f2", "f4", "f8"
    std::size_t bytes;
    std::vector<std::uint64_t> bits;
};
const std::vector<Encoded> kFloats = {
    {"f2", 2, {0x3c00, 0xc000, 0x3800, 0x7bff, 0x8000}},
    {"f4", 4, {0x3f800000, 0xc0000000, 0x3f000000, 0x477fe000, 0x80000000}},
    {"f8",
     8,
     {0x3ff0000000000000, 0xc000000000000000, 0x3fe0000000000000, 0x40effc0000000000,
      0x8000000000000000}},
};
const std::vector<float> kExpected = {1.0f, -2.0f, 0.5f, 65504.0f, -0.0f};

TEST(Npy, ReadsEveryFloatTypeInBothByteOrders) {
    for (const Encoded& type : kFloats) {
        for (const bool big : {false, true}) {
            const std::string descr = std::string(big ? ">" : "<") + type.type;
            Bytes data;
            for (const std::uint64_t bits : type.bits) put(data, bits, type.bytes, big);
            const auto array = cls::npy::read(npy_file(dict_for(descr, "(5,)"), data));
            ASSERT_TRUE(array) << descr << ": " << array.error().message;
            EXPECT_EQ(array->shape, std::vector<std::int64_t>{5});
            ASSERT_EQ(array->values.size(), kExpected.size());
            for (std::size_t i = 0; i < kExpected.size(); ++i) {
                EXPECT_EQ(array->values[i], kExpected[i]) << descr << " value " << i;
                EXPECT_EQ(std::signbit(array->values[i]), std::signbit(kExpected[i]));
            }
        }
    }
}

TEST(Npy, ReadsFloat16SpecialValues) {
    // Smallest subnormal 2^-24, largest subnormal, +inf, -inf, a NaN.
    Bytes data;
    for (const std::uint64_t bits : {0x0001, 0x03ff, 0x7c00, 0xfc00, 0x7e00})
        put(data, bits, 2, false);
    const auto array = cls::npy::read(npy_file(dict_for("<f2", "(5,)"), data));
    ASSERT_TRUE(array) << array.error().message;
    EXPECT_EQ(array->values[0], std::ldexp(1.0f, -24));
    EXPECT_EQ(array->values[1], std::ldexp(1023.0f, -24));
    EXPECT_EQ(array->values[2], std::numeric_limits<float>::infinity());
    EXPECT_EQ(array->values[3], -std::numeric_limits<float>::infinity());
    EXPECT_TRUE(std::isnan(array->values[4]));
}

TEST(Npy, ReadsUint8) {
    const auto array = cls::npy::read(npy_file(dict_for("|u1", "(2, 2)"), Bytes{0, 1, 128, 255}));
    ASSERT_TRUE(array) << array.error().message;
    EXPECT_EQ(array->shape, (std::vector<std::int64_t>{2, 2}));
    EXPECT_EQ(array->values, (std::vector<float>{0, 1, 128, 255}));
}

TEST(Npy, ReadsFloat64RoundedToFloat32) {
    Bytes data;
    put(data, bits_as<std::uint64_t>(0.1), 8, false);
    const auto array = cls::npy::read(npy_file(dict_for("<f8", "(1,)"), data));
    ASSERT_TRUE(array) << array.error().message;
    EXPECT_EQ(array->values[0], 0.1f);
}

// Element (a, b, c) of a 2x3x4 array has the value 100a + 10b + c.
float element_value(int a, int b, int c) { return static_cast<float>(100 * a + 10 * b + c); }

TEST(Npy, ReordersFortranOrderToCOrder) {
    Bytes data;
    // Fortran order: the first index fastest.
    for (int c = 0; c < 4; ++c) {
        for (int b = 0; b < 3; ++b) {
            for (int a = 0; a < 2; ++a) {
                put(data, bits_as<std::uint32_t>(element_value(a, b, c)), 4, false);
            }
        }
    }
    const auto array = cls::npy::read(npy_file(dict_for("<f4", "(2, 3, 4)", true), data));
    ASSERT_TRUE(array) << array.error().message;
    EXPECT_EQ(array->shape, (std::vector<std::int64_t>{2, 3, 4}));
    std::size_t i = 0;
    for (int a = 0; a < 2; ++a) {
        for (int b = 0; b < 3; ++b) {
            for (int c = 0; c < 4; ++c, ++i) {
                EXPECT_EQ(array->values[i], element_value(a, b, c)) << a << "," << b << "," << c;
            }
        }
    }
}

TEST(Npy, COrderIsKeptAsItIs) {
    Bytes data;
    for (int a = 0; a < 2; ++a) {
        for (int b = 0; b < 3; ++b) {
            for (int c = 0; c < 4; ++c) {
                put(data, bits_as<std::uint32_t>(element_value(a, b, c)), 4, true);
            }
        }
    }
    const auto array = cls::npy::read(npy_file(dict_for(">f4", "(2, 3, 4)"), data));
    ASSERT_TRUE(array) << array.error().message;
    for (std::size_t i = 0; i < 24; ++i) {
        const int a = static_cast<int>(i / 12), b = static_cast<int>(i / 4 % 3),
                  c = static_cast<int>(i % 4);
        EXPECT_EQ(array->values[i], element_value(a, b, c));
    }
}

TEST(Npy, ReadsVersions2And3AndReportsTheHeader) {
    for (const int major : {1, 2, 3}) {
        const Bytes file = npy_file(dict_for("<f4", "(1, 2)"), Bytes(8, 0), major);
        const auto header = cls::npy::read_header(file);
        ASSERT_TRUE(header) << major << ": " << header.error().message;
        EXPECT_EQ(header->major_version, major);
        EXPECT_EQ(header->descr, "<f4");
        EXPECT_EQ(header->item_bytes, 4u);
        EXPECT_EQ(header->data_bytes, 8u);
        EXPECT_EQ(header->data_offset % 64, 0u) << "numpy aligns the data to 64 bytes";
        EXPECT_TRUE(cls::npy::read(file)) << major;
    }
}

TEST(Npy, AcceptsTheLiteralSpellingsNumpyAndPythonUse) {
    const std::vector<std::string> dicts = {
        "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }",  // numpy >= 1.?
        "{'descr': '<f4', 'fortran_order': False, 'shape': (2,)}",    // no trailing comma
        "{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": (2,)}",
        "{'shape': (2,), 'fortran_order': False, 'descr': '<f4'}",  // any key order
        "{'descr':'<f4','fortran_order':False,'shape':(2 ,)}",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2, ), }",
    };
    for (const std::string& dict : dicts) {
        const auto array = cls::npy::read(npy_file(dict, Bytes(8, 0)));
        EXPECT_TRUE(array) << dict << ": " << (array ? "" : array.error().message);
    }
    const auto scalar = cls::npy::read(npy_file(dict_for("<f4", "()"), Bytes(4, 0)));
    ASSERT_TRUE(scalar) << scalar.error().message;
    EXPECT_TRUE(scalar->shape.empty());
    EXPECT_EQ(scalar->values.size(), 1u);
    const auto empty = cls::npy::read(npy_file(dict_for("<f4", "(3, 0)"), Bytes{}));
    ASSERT_TRUE(empty) << empty.error().message;
    EXPECT_TRUE(empty->values.empty());
}

TEST(Npy, RefusesEveryTruncationOfAValidFile) {
    Bytes data;
    for (int i = 0; i < 6; ++i) put(data, bits_as<std::uint32_t>(0.25f * i), 4, false);
    for (const int major : {1, 2, 3}) {
        const Bytes file = npy_file(dict_for("<f4", "(2, 3)"), data, major);
        ASSERT_TRUE(cls::npy::read(file));
        for (std::size_t n = 0; n < file.size(); ++n) {
            const auto array = cls::npy::read(std::span(file.data(), n));
            EXPECT_FALSE(array) << "version " << major << ", first " << n << " bytes";
        }
    }
}

TEST(Npy, TruncationMessagesSayWhatIsMissing) {
    const Bytes file = npy_file(dict_for("<f4", "(2, 3)"), Bytes(24, 0));
    const auto data_cut = cls::npy::read(std::span(file.data(), file.size() - 1));
    ASSERT_FALSE(data_cut);
    EXPECT_EQ(data_cut.error().message,
              "truncated .npy file: a 2x3 '<f4' array needs 24 bytes of data but 23 follow the "
              "header");
    const auto header_cut = cls::npy::read(std::span(file.data(), 20));
    ASSERT_FALSE(header_cut);
    EXPECT_EQ(header_cut.error().message,
              "truncated .npy file: its header declares 118 bytes but only 10 follow");
}

TEST(Npy, RefusesTrailingBytes) {
    const auto array = cls::npy::read(npy_file(dict_for("<f4", "(1,)"), Bytes(5, 0)));
    ASSERT_FALSE(array);
    EXPECT_TRUE(contains(array.error().message, ".npy file too long")) << array.error().message;
}

TEST(Npy, RefusesBadMagicAndVersions) {
    Bytes file = npy_file(dict_for("<f4", "(1,)"), Bytes(4, 0));
    Bytes bad = file;
    bad[1] = 'n';
    EXPECT_EQ(cls::npy::read(bad).error().message,
              "not a .npy array (it does not start with \\x93NUMPY)");
    for (const auto& [major, minor] : {std::pair{0, 0}, std::pair{4, 0}, std::pair{1, 1}}) {
        bad = file;
        bad[6] = static_cast<std::uint8_t>(major);
        bad[7] = static_cast<std::uint8_t>(minor);
        const auto array = cls::npy::read(bad);
        ASSERT_FALSE(array);
        EXPECT_EQ(array.error().message, ".npy format version " + std::to_string(major) + "." +
                                             std::to_string(minor) +
                                             " is not supported (1.0, 2.0 and 3.0 are)");
    }
}

TEST(Npy, RefusesMalformedHeaderDicts) {
    struct Case {
        std::string dict;
        std::string message_part;
    };
    const std::vector<Case> cases = {
        {"", "expected a header dict starting with '{'"},
        {"[1, 2]", "expected a header dict starting with '{'"},
        {"{'descr': '<f4', 'fortran_order': False}", "lacks the key(s) 'shape'"},
        {"{}", "lacks the key(s) 'descr' 'fortran_order' 'shape'"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'extra': 1}",
         "unexpected key 'extra'"},
        {"{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (1,)}",
         "has the key 'descr' twice"},
        {"{'descr': '<f4', 'fortran_order': false, 'shape': (1,)}",
         "expected True or False for 'fortran_order' at character 34, found \"false, 'shape'"},
        {"{'descr': '<f4', 'fortran_order': 0, 'shape': (1,)}", "True or False"},
        {"{'descr': '<f4', 'fortran_order': Falsey, 'shape': (1,)}", "True or False"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': [1]}", "a tuple such as (2, 3)"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (1)}",
         "'shape' is (1) without a comma"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (-1,)}",
         "a non-negative integer or ')'"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (1.5,)}", "',' or ')' in 'shape'"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,,)}", "a non-negative integer"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,)}",
         "dimension too large"},
        {"{'descr': <f4, 'fortran_order': False, 'shape': (1,)}", "expected a quoted string"},
        {"{'descr': '<f4, 'fortran_order': False, 'shape': (1,)}",
         "expected ',' or '}' after the value of 'descr' at character 17, found \"fortran_order'"},
        {"{'descr' '<f4', 'fortran_order': False, 'shape': (1,)}", "expected ':' after the key"},
        {"{'descr': '<f4' 'fortran_order': False, 'shape': (1,)}", "',' or '}' after the value"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,)",
         "expected ',' or '}' after the value of 'shape'"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,)} x", "only spaces and a final"},
        {"{'descr': '\\x3cf4', 'fortran_order': False, 'shape': (1,)}", "no escapes"},
        {"{descr: '<f4'}", "expected a quoted string at character 1"},
    };
    for (const Case& c : cases) {
        const auto array = cls::npy::read(npy_file(c.dict, Bytes(4, 0)));
        ASSERT_FALSE(array) << c.dict;
        EXPECT_TRUE(contains(array.error().message, c.message_part))
            << c.dict << " gave: " << array.error().message;
    }
}

TEST(Npy, RefusesAHeaderWithoutItsNewline) {
    const std::string dict = dict_for("<f4", "(1,)");
    const auto array = cls::npy::read(npy_file(dict + "   ", Bytes(4, 0), 1, false));
    ASSERT_FALSE(array);
    EXPECT_TRUE(contains(array.error().message, "only spaces and a final newline"))
        << array.error().message;
    EXPECT_TRUE(cls::npy::read(npy_file(dict + "   \n", Bytes(4, 0), 1, false)));
}

TEST(Npy, RefusesUnsupportedDtypesByName) {
    for (const std::string descr : {"<i4", "<u2", "|b1", "=f4", "<c8", "|O", "<f16", "f4"}) {
        const auto array = cls::npy::read(npy_file(dict_for(descr, "(1,)"), Bytes(4, 0)));
        ASSERT_FALSE(array) << descr;
        EXPECT_EQ(array.error().message,
                  "array dtype '" + descr +
                      "' is not supported (float16, float32, float64 in either byte order, or "
                      "uint8: '<f2', '<f4', '<f8', '>f4', '|u1', ...)");
    }
    // A structured dtype is a list, not a string.
    const auto structured = cls::npy::read(
        npy_file("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,)}", Bytes(4, 0)));
    ASSERT_FALSE(structured);
    EXPECT_TRUE(contains(structured.error().message, "expected a quoted string"));
}

TEST(Npy, RefusesSizesThatOverflowBeforeAllocating) {
    // Counts are size_t: 64 bits natively, 32 in wasm32, where the same files overflow sooner.
    const bool wide = sizeof(std::size_t) == 8;
    // 2^32 * 2^32 elements overflow either count.
    const auto elements =
        cls::npy::read(npy_file(dict_for("<f4", "(4294967296, 4294967296, 16)"), Bytes(4, 0)));
    ASSERT_FALSE(elements);
    EXPECT_TRUE(contains(elements.error().message, "more elements than can be counted"))
        << elements.error().message;
    // Countable elements whose float32 bytes are not: 2^62 (64-bit), 2^30 (32-bit).
    const std::string countable = wide ? "(4611686018427387904,)" : "(1073741824,)";
    const auto bytes = cls::npy::read(npy_file(dict_for("<f4", countable), {}));
    ASSERT_FALSE(bytes);
    EXPECT_TRUE(contains(bytes.error().message, "more bytes than can be counted"))
        << bytes.error().message;
    // Huge but countable: refused for want of bytes, without allocating.
    const std::string huge_shape = wide ? "(100000, 100000, 1000)" : "(100000, 1000)";
    const auto huge = cls::npy::read(npy_file(dict_for("<f8", huge_shape), {}));
    ASSERT_FALSE(huge);
    EXPECT_TRUE(contains(huge.error().message, "truncated .npy file")) << huge.error().message;
}

TEST(Npy, RefusesOverlongHeadersAndNonAscii) {
    const auto long_header = cls::npy::read(npy_file(std::string(20000, ' '), {}, 2));
    ASSERT_FALSE(long_header);
    EXPECT_TRUE(contains(long_header.error().message, "more than the 10000"))
        << long_header.error().message;
    const auto utf8 = cls::npy::read(npy_file(
        "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), '\xc3\xa9': 1}", Bytes(4, 0), 3));
    ASSERT_FALSE(utf8);
    EXPECT_TRUE(contains(utf8.error().message, "non-ASCII")) << utf8.error().message;
}

TEST(Npy, ShapeText) {
    EXPECT_EQ(cls::npy::shape_text({}), "scalar");
    EXPECT_EQ(cls::npy::shape_text({5}), "5");
    EXPECT_EQ(cls::npy::shape_text({2, 181, 218, 182}), "2x181x218x182");
}

}  // namespace
