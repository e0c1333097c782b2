#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "cls/io/file.hpp"
#include "cls/io/gzip.hpp"
#include "cls/sha256.hpp"

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
Bytes copy_of(const ByteBuffer& buffer) { return {buffer.data(), buffer.data() + buffer.size()}; }

TEST(Gzip, RoundTripsAndBoundsOutput) {
    Bytes data(100000);
    for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::uint8_t>(i * 7 % 251);
    const Bytes packed = gzip(data);
    EXPECT_TRUE(is_gzip(packed));
    auto unpacked = gunzip(packed, data.size());
    ASSERT_TRUE(unpacked) << unpacked.error().message;
    EXPECT_EQ(copy_of(*unpacked), data);
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
    EXPECT_EQ(std::string(out->data(), out->data() + out->size()), "first second");
}

// Zero padding after the last member is read as the end (as gzip itself does); anything else
// there is a corrupt stream.
TEST(Gzip, TrailingZerosEndTheStreamAndOtherBytesAreRefused) {
    Bytes padded = gzip(text_bytes("body"));
    padded.resize(padded.size() + 512, 0);
    auto out = gunzip(padded, 100);
    ASSERT_TRUE(out) << out.error().message;
    EXPECT_EQ(copy_of(*out), text_bytes("body"));
    padded.back() = 0x17;
    auto junk = gunzip(padded, 100);
    ASSERT_FALSE(junk);
    EXPECT_NE(junk.error().message.find("gzip stream is"), std::string::npos);
}

// The output buffer is sized by what the stream can hold, not by the limit alone: a limit far
// beyond memory still inflates a small stream.
TEST(Gzip, AHugeLimitDoesNotAllocateIt) {
    auto out = gunzip(gzip(text_bytes("small")), std::size_t{1} << 50);
    ASSERT_TRUE(out) << out.error().message;
    EXPECT_EQ(copy_of(*out), text_bytes("small"));
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

std::string read_text(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

std::size_t entries_in(const fs::path& dir) {
    return static_cast<std::size_t>(
        std::distance(fs::directory_iterator(dir), fs::directory_iterator()));
}

TEST_F(TempDir, AFifoIsWrittenThroughAndStaysAFifo) {
    const fs::path fifo = dir_ / "out.fifo";
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    std::string received;
    std::thread reader([&] { received = read_text(fifo); });
    const Status written = write_file_atomic(fifo, text_bytes("certificate bytes"));
    reader.join();
    ASSERT_TRUE(written) << written.error().message;
    EXPECT_EQ(received, "certificate bytes");
    EXPECT_TRUE(fs::is_fifo(fs::symlink_status(fifo)));
    EXPECT_EQ(entries_in(dir_), 1u);  // no temporary beside it
}

TEST_F(TempDir, ALinkToAFileStaysALinkAndItsTargetIsReplaced) {
    fs::create_directories(dir_ / "real");
    std::ofstream(dir_ / "real" / "cert.json") << "old";
    fs::create_symlink("real/cert.json", dir_ / "cert.json");
    ASSERT_TRUE(write_file_atomic(dir_ / "cert.json", text_bytes("new")));
    EXPECT_TRUE(fs::is_symlink(fs::symlink_status(dir_ / "cert.json")));
    EXPECT_EQ(fs::read_symlink(dir_ / "cert.json"), "real/cert.json");
    EXPECT_EQ(read_text(dir_ / "real" / "cert.json"), "new");
    EXPECT_EQ(entries_in(dir_), 2u);
    EXPECT_EQ(entries_in(dir_ / "real"), 1u);
}

TEST_F(TempDir, AFailedWriteLeavesTheEarlierOutputByteForByte) {
    const fs::path target = dir_ / "keep.bin";
    const std::string old_bytes = std::string("old\0bytes\n", 10);
    std::ofstream(target, std::ios::binary) << old_bytes;
    // A folder where the temporary must go makes the write fail, even as root.
    const fs::path blocker = dir_ / ("keep.bin.tmp-" + std::to_string(::getpid()));
    fs::create_directory(blocker);
    auto failed = write_file_atomic(target, text_bytes("new bytes"));
    ASSERT_FALSE(failed);
    EXPECT_NE(failed.error().message.find("keep.bin: cannot be written"), std::string::npos);
    EXPECT_EQ(read_text(target), old_bytes);
    fs::remove(blocker);
    EXPECT_EQ(entries_in(dir_), 1u);
}

TEST_F(TempDir, AReadOnlyFolderKeepsTheEarlierOutput) {
    if (::geteuid() == 0) GTEST_SKIP() << "root writes into read-only folders";
    const fs::path target = dir_ / "keep.bin";
    std::ofstream(target, std::ios::binary) << "old";
    fs::permissions(dir_, fs::perms::owner_read | fs::perms::owner_exec);
    auto read_only = write_file_atomic(target, text_bytes("new bytes"));
    fs::permissions(dir_, fs::perms::owner_all);
    ASSERT_FALSE(read_only);
    EXPECT_NE(read_only.error().message.find("keep.bin: cannot be written"), std::string::npos);
    EXPECT_EQ(read_text(target), "old");
    EXPECT_EQ(entries_in(dir_), 1u);
}

TEST_F(TempDir, FoldersAndDanglingLinksAreRefusedByName) {
    auto folder = write_file_atomic(dir_, text_bytes("x"));
    ASSERT_FALSE(folder);
    EXPECT_EQ(folder.error().message, dir_.string() + ": is a folder, not a file to write to");
    fs::create_symlink("missing.json", dir_ / "dangling.json");
    auto dangling = write_file_atomic(dir_ / "dangling.json", text_bytes("x"));
    ASSERT_FALSE(dangling);
    EXPECT_EQ(dangling.error().message, (dir_ / "dangling.json").string() +
                                            ": is a link to missing.json, which does not exist");
    EXPECT_TRUE(fs::is_symlink(fs::symlink_status(dir_ / "dangling.json")));
    EXPECT_EQ(entries_in(dir_), 1u);
}

TEST_F(TempDir, DescriptorsAndStandardOutputAreWrittenThrough) {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    ASSERT_TRUE(write_file_atomic("/dev/fd/" + std::to_string(fds[1]), text_bytes("piped")));
    ::close(fds[1]);
    char buffer[16] = {};
    EXPECT_EQ(::read(fds[0], buffer, sizeof buffer), 5);
    ::close(fds[0]);
    EXPECT_EQ(std::string(buffer), "piped");
    ::testing::internal::CaptureStdout();
    std::printf("before ");
    const Status dash = write_file_atomic("-", text_bytes("to stdout"));
    const std::string out = ::testing::internal::GetCapturedStdout();
    ASSERT_TRUE(dash);
    EXPECT_EQ(out, "before to stdout");
    if (fs::is_character_file("/dev/full")) {  // a device that always fails: ENOSPC
        auto full = write_file_atomic("/dev/full", text_bytes("x"));
        ASSERT_FALSE(full);
        EXPECT_NE(full.error().message.find("/dev/full: write failed after 0 of 1 bytes"),
                  std::string::npos);
        EXPECT_TRUE(fs::is_character_file(fs::symlink_status("/dev/full")));
    }
}

TEST_F(TempDir, ListingFollowsLinksAndNamesADanglingOne) {
    fs::create_directories(dir_ / "real");
    fs::create_directories(dir_ / "links");
    std::ofstream(dir_ / "real" / "a.nii") << "a";
    std::ofstream(dir_ / "real" / "b.nii.gz") << "b";
    fs::create_symlink("../real/a.nii", dir_ / "links" / "case_a.nii");
    fs::create_symlink(dir_ / "real" / "b.nii.gz", dir_ / "links" / "case_b.nii.gz");
    fs::create_directory_symlink("real", dir_ / "linked_folder");
    auto links = list_nifti_files(dir_ / "links");
    ASSERT_TRUE(links) << links.error().message;
    EXPECT_EQ(*links, (std::vector<std::string>{"case_a.nii", "case_b.nii.gz"}));
    auto folder = list_nifti_files(dir_ / "linked_folder");
    ASSERT_TRUE(folder) << folder.error().message;
    EXPECT_EQ(*folder, (std::vector<std::string>{"a.nii", "b.nii.gz"}));
    EXPECT_TRUE(read_file(dir_ / "links" / "case_a.nii"));
    fs::create_symlink("../real/gone.nii", dir_ / "links" / "case_c.nii");
    auto dangling = list_nifti_files(dir_ / "links");
    ASSERT_FALSE(dangling);
    EXPECT_EQ(dangling.error().message,
              (dir_ / "links" / "case_c.nii").string() +
                  ": is a link to ../real/gone.nii, which does not exist");
    fs::create_directory_symlink("nowhere", dir_ / "gone_folder");
    auto gone = list_nifti_files(dir_ / "gone_folder");
    ASSERT_FALSE(gone);
    EXPECT_EQ(gone.error().message,
              (dir_ / "gone_folder").string() + ": is a link to nowhere, which does not exist");
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

// A .nii of float32 values is read straight into its volume and hashed there, region by
// region; it must give what the whole-file path gives: the same voxels, the same digest of
// every byte, the same errors.
class InPlaceReading : public TempDir {
protected:
    // A 5x4x3 float32 map written by the core, with `extension_bytes` between the header and the
    // voxels (vox_offset moved past them) and `trailing_bytes` of padding after them.
    fs::path write_map(const std::string& name, std::size_t extension_bytes,
                       std::size_t trailing_bytes) {
        Volume v({5, 4, 3}, Affine::Identity());
        for (std::size_t i = 0; i < v.voxel_count(); ++i) {
            v.data()[i] = static_cast<float>(i) / 64.0f;
        }
        v.data()[7] = -0.0f;
        Bytes bytes = nifti::write(v, {.datatype = nifti::DataType::float32});
        constexpr std::size_t kVoxOffsetField = 108;  // NIfTI-1's vox_offset, a float32
        constexpr std::size_t kDataStart = 352;
        const float vox_offset = static_cast<float>(kDataStart + extension_bytes);
        std::memcpy(bytes.data() + kVoxOffsetField, &vox_offset, sizeof vox_offset);
        Bytes extension(extension_bytes);
        for (std::size_t i = 0; i < extension.size(); ++i)
            extension[i] = static_cast<std::uint8_t>(i);
        bytes.insert(bytes.begin() + kDataStart, extension.begin(), extension.end());
        bytes.insert(bytes.end(), trailing_bytes, 0xab);
        const fs::path path = dir_ / name;
        std::ofstream(path, std::ios::binary)
            .write(reinterpret_cast<const char*>(bytes.data()),
                   static_cast<std::streamsize>(bytes.size()));
        return path;
    }

    static void expect_same_as_whole_file(const fs::path& path) {
        auto loaded = load_nifti(path);
        ASSERT_TRUE(loaded) << loaded.error().message;
        const auto bytes = read_file(path);
        ASSERT_TRUE(bytes);
        EXPECT_EQ(loaded->sha256, sha256_hex(*bytes));
        auto parsed = parse_nifti_file(*bytes);
        ASSERT_TRUE(parsed) << parsed.error().message;
        const auto& a = loaded->image.volume.values();
        const auto& b = parsed->volume.values();
        ASSERT_EQ(a.size(), b.size());
        EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)), 0);  // -0.0 too
        EXPECT_EQ(loaded->image.volume.affine(), parsed->volume.affine());
        EXPECT_EQ(loaded->image.header.vox_offset, parsed->header.vox_offset);
    }
};

TEST_F(InPlaceReading, GivesTheWholeFilesVoxelsAndDigest) {
    expect_same_as_whole_file(write_map("plain.nii", 0, 0));
    expect_same_as_whole_file(write_map("extension.nii", 1500, 0));  // vox_offset past 544
    expect_same_as_whole_file(write_map("padded.nii", 16, (std::size_t{3} << 20) + 5));
}

TEST_F(InPlaceReading, ATruncatedFileIsRefusedAsBefore) {
    const fs::path path = write_map("short.nii", 0, 0);
    fs::resize_file(path, fs::file_size(path) - 4);
    auto loaded = load_nifti(path);
    ASSERT_FALSE(loaded);
    const auto bytes = read_file(path);
    ASSERT_TRUE(bytes);
    EXPECT_EQ(loaded.error().message, parse_nifti_file(*bytes).error().in(path.string()).message);
}

TEST_F(InPlaceReading, MapsAndLabelsFollowTheCoresRules) {
    const fs::path path = write_map("map.nii", 0, 0);
    auto map = load_probability_map(path, {});
    ASSERT_TRUE(map) << map.error().message;
    auto channel = load_probability_map(path, {{1}, ChannelCombine::sum});
    ASSERT_FALSE(channel);
    EXPECT_EQ(channel.error().message,
              path.string() +
                  ": has 1 probability channel (0 to 0) but --lesion-channels names "
                  "channel 1");
    auto label = load_label(path, {});  // 60 distinct values: not a binary label
    ASSERT_FALSE(label);
    EXPECT_NE(label.error().message.find(path.string() + ": label is not binary"),
              std::string::npos);
}

}  // namespace
}  // namespace cls::io
