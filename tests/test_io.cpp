#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "cls/io/file.hpp"
#include "cls/io/gzip.hpp"

namespace cls::io {
namespace {
namespace fs = std::filesystem;

class TempDir : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() /
               ("cls_io_test_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
                "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(dir_);
        fs::create_directories(dir_);
    }
    void TearDown() override { fs::remove_all(dir_); }
    fs::path dir_;
};

Bytes text_bytes(const std::string& s) { return {s.begin(), s.end()}; }

TEST(Gzip, RoundTripsAndBoundsOutput) {
    Bytes data(100000);
    for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::uint8_t>(i * 7 % 251);
    const Bytes packed = gzip(data);
    EXPECT_TRUE(is_gzip(packed));
    auto unpacked = gunzip(packed, data.size());
    ASSERT_TRUE(unpacked) << unpacked.error().message;
    EXPECT_EQ(*unpacked, data);
    auto bomb = gunzip(packed, data.size() - 1);
    ASSERT_FALSE(bomb);
    EXPECT_NE(bomb.error().message.find("inflates past 99999 bytes"), std::string::npos);
    auto prefix = gunzip_prefix(packed, 10);
    ASSERT_TRUE(prefix);
    EXPECT_EQ(*prefix, Bytes(data.begin(), data.begin() + 10));
}

TEST(Gzip, RefusesTruncatedAndCorruptStreams) {
    const Bytes packed = gzip(text_bytes(std::string(5000, 'x') + "tail"));
    auto truncated = gunzip(std::span(packed).first(packed.size() / 2), 1 << 20);
    ASSERT_FALSE(truncated);
    EXPECT_NE(truncated.error().message.find("truncated"), std::string::npos);
    Bytes corrupt = packed;
    corrupt[12] ^= 0xff;
    corrupt[13] ^= 0xff;
    auto bad = gunzip(corrupt, 1 << 20);
    ASSERT_FALSE(bad);
    EXPECT_NE(bad.error().message.find("gzip stream is"), std::string::npos);
}

TEST(Gzip, ReadsConcatenatedMembers) {
    Bytes joined = gzip(text_bytes("first "));
    const Bytes second = gzip(text_bytes("second"));
    joined.insert(joined.end(), second.begin(), second.end());
    auto out = gunzip(joined, 100);
    ASSERT_TRUE(out);
    EXPECT_EQ(std::string(out->begin(), out->end()), "first second");
}

TEST_F(TempDir, AtomicWriteLeavesNoTemporaryFile) {
    const fs::path target = dir_ / "out.bin";
    ASSERT_TRUE(write_file_atomic(target, text_bytes("hello")));
    auto read = read_file(target);
    ASSERT_TRUE(read);
    EXPECT_EQ(std::string(read->begin(), read->end()), "hello");
    EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator()), 1);
    auto missing_dir = write_file_atomic(dir_ / "no" / "such" / "x.bin", text_bytes("x"));
    ASSERT_FALSE(missing_dir);
    EXPECT_NE(missing_dir.error().message.find("x.bin: cannot be written"), std::string::npos);
}

TEST_F(TempDir, ReadErrorsNameTheFile) {
    auto missing = read_file(dir_ / "nope.nii");
    ASSERT_FALSE(missing);
    EXPECT_NE(missing.error().message.find("nope.nii: no such file"), std::string::npos);
    auto folder = read_file(dir_);
    ASSERT_FALSE(folder);
    EXPECT_NE(folder.error().message.find("is a folder"), std::string::npos);
}

TEST_F(TempDir, NiftiRoundTripThroughGzipAndListing) {
    Volume v({3, 4, 5}, Affine::Identity());
    for (std::size_t i = 0; i < v.voxel_count(); ++i) v.data()[i] = static_cast<float>(i) / 60.0f;
    ASSERT_TRUE(save_nifti(dir_ / "b.nii.gz", v, {.datatype = nifti::DataType::float32}));
    ASSERT_TRUE(save_nifti(dir_ / "a.nii", v, {.datatype = nifti::DataType::float32}));
    std::ofstream(dir_ / "notes.txt") << "not an image";
    auto names = list_nifti_files(dir_);
    ASSERT_TRUE(names);
    EXPECT_EQ(*names, (std::vector<std::string>{"a.nii", "b.nii.gz"}));
    auto gz = load_nifti(dir_ / "b.nii.gz");
    ASSERT_TRUE(gz) << gz.error().message;
    EXPECT_EQ(gz->image.volume.values(), v.values());
    EXPECT_EQ(gz->sha256.size(), 64u);
}

TEST_F(TempDir, GzipBombIsRefusedBeforeInflatingIt) {
    // A valid 2x2x2 header followed by far more data than it declares.
    Volume v({2, 2, 2}, Affine::Identity());
    Bytes bytes = nifti::write(v, {.datatype = nifti::DataType::uint8});
    bytes.resize(bytes.size() + (std::size_t{8} << 20), 0x55);
    ASSERT_TRUE(write_file_atomic(dir_ / "bomb.nii.gz", gzip(bytes)));
    auto loaded = load_nifti(dir_ / "bomb.nii.gz");
    ASSERT_FALSE(loaded);
    EXPECT_NE(loaded.error().message.find("bomb.nii.gz: gzip stream inflates past"),
              std::string::npos)
        << loaded.error().message;
}

}  // namespace
}  // namespace cls::io
