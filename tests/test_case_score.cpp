// Case scores (cls/case_score.hpp): a round trip keeps every number evaluation and calibration
// read; the encoding of hand-worked values; calibration's partial read; and every damage a
// file can suffer refused with its reason. (The CLI test checks the bytes against an
// independent Python writer, tests/reference/case_score.py.)
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cls/case_score.hpp"
#include "cls/sha256.hpp"

namespace cls {
namespace {

using Bytes = std::vector<std::uint8_t>;
using nlohmann::json;

const std::string kHashA(64, 'a');
const std::string kHashB(64, 'b');

// A 6x5x4 case with two lesions, repeated values, 0 and 1, and a quantised background.
CaseScore sample_score() {
    Volume probabilities({6, 5, 4}, Affine::Identity()), labels({6, 5, 4}, Affine::Identity());
    for (std::size_t i = 0; i < probabilities.voxel_count(); ++i) {
        probabilities.data()[i] = static_cast<float>(i % 7) / 8.0f;  // 0 to 0.75, repeated
    }
    const auto at = [&](int x, int y, int z) {
        return static_cast<std::size_t>(x + 6 * (y + 5 * z));
    };
    for (const std::size_t i : {at(0, 0, 0), at(1, 0, 0), at(1, 1, 0), at(4, 4, 3), at(5, 4, 3)}) {
        labels.data()[i] = 1.0f;
    }
    probabilities.data()[at(1, 1, 0)] = 1.0f;
    probabilities.data()[at(4, 4, 3)] = 0.3f;
    auto scores = collect_evaluation_case("case_007", probabilities, labels);
    EXPECT_TRUE(scores) << scores.error().message;
    LesionDefinition lesion;
    lesion.channels.channels = {1, 2};
    lesion.labels.kind = LesionLabels::Kind::classes;
    lesion.labels.classes = {1, 4};
    return CaseScore{std::move(*scores),     {kHashA, kHashB}, lesion, "test",
                     RegionOfInterest::none, std::nullopt};
}

// The file's JSON header, and the file rebuilt around an edited header with its sections.
json header_of(const Bytes& file) {
    const std::uint32_t length = file[8] | file[9] << 8 | file[10] << 16 | file[11] << 24;
    return json::parse(file.begin() + 12, file.begin() + 12 + length);
}

Bytes with_header(const json& header, const Bytes& sections) {
    const std::string text = header.dump();
    Bytes out = {'C', 'L', 'S', 'S', 'C', 'O', 'R', 'E'};
    for (int shift = 0; shift < 32; shift += 8)
        out.push_back(static_cast<std::uint8_t>(text.size() >> shift));
    out.insert(out.end(), text.begin(), text.end());
    out.insert(out.end(), sections.begin(), sections.end());
    return out;
}

Bytes sections_of(const Bytes& file) {
    const std::uint32_t length = file[8] | file[9] << 8 | file[10] << 16 | file[11] << 24;
    return Bytes(file.begin() + 12 + length, file.end());
}

// A one-section-changed file whose hashes and sizes agree, so only the decoder can refuse it.
Bytes with_lesion_section(const Bytes& file, const Bytes& lesion, std::size_t count) {
    json header = header_of(file);
    const Bytes old_sections = sections_of(file);
    const auto old_bytes = header["sections"][0]["bytes"].get<std::size_t>();
    Bytes sections = lesion;
    sections.insert(sections.end(), old_sections.begin() + static_cast<std::ptrdiff_t>(old_bytes),
                    old_sections.end());
    header["sections"][0]["bytes"] = lesion.size();
    header["sections"][0]["count"] = count;
    header["sections"][0]["sha256"] = sha256_hex(lesion);
    header["sections"][2]["count"] = header["voxels"].get<std::size_t>() - count;
    return with_header(header, sections);
}

std::string refusal(const Bytes& file, ScoreParts parts = ScoreParts::evaluation) {
    auto parsed = parse_case_score(file, parts);
    return parsed ? std::string("(parsed)") : parsed.error().message;
}

TEST(CaseScore, RoundTripKeepsEveryNumberEvaluationReads) {
    const CaseScore original = sample_score();
    const Bytes file = encode_case_score(original);
    auto parsed = parse_case_score(file);
    ASSERT_TRUE(parsed) << parsed.error().message;
    const EvaluationCase& a = original.scores;
    const EvaluationCase& b = parsed->scores;
    EXPECT_EQ(b.name(), "case_007");
    EXPECT_EQ(b.voxels(), 120u);
    EXPECT_EQ(b.lesion.sorted_lesion_probabilities, a.lesion.sorted_lesion_probabilities);
    EXPECT_EQ(b.sorted_lesion_maxima, a.sorted_lesion_maxima);
    EXPECT_EQ(b.lesions(), 2u);
    EXPECT_EQ(b.background.size(), 115u);
    EXPECT_TRUE(b.background.run_length_coded());
    for (const double t : {0.0, 0.1, 0.125, 0.3, 0.5, 0.75, 0.76, 1.0, 1.5}) {
        const CaseOutcome x = outcome_at(a, t), y = outcome_at(b, t);
        EXPECT_EQ(x.true_positives, y.true_positives) << t;
        EXPECT_EQ(x.false_positives, y.false_positives) << t;
        EXPECT_EQ(x.lesions_detected, y.lesions_detected) << t;
    }
    EXPECT_EQ(parsed->inputs.probabilities_sha256, kHashA);
    EXPECT_EQ(parsed->inputs.label_sha256, kHashB);
    EXPECT_EQ(parsed->lesion, original.lesion);
    EXPECT_EQ(parsed->tool_version, "test");
    EXPECT_EQ(encode_case_score(*parsed), file);  // canonical: one file per score
}

TEST(CaseScore, AnEmptyMaskHasEmptyLesionSections) {
    CaseScore score = sample_score();
    Volume probabilities({3, 1, 1}, Affine::Identity()), labels({3, 1, 1}, Affine::Identity());
    probabilities.data()[1] = 0.5f;
    auto scores = collect_evaluation_case("empty", probabilities, labels);
    ASSERT_TRUE(scores);
    score.scores = std::move(*scores);
    auto parsed = parse_case_score(encode_case_score(score));
    ASSERT_TRUE(parsed) << parsed.error().message;
    EXPECT_TRUE(parsed->scores.empty_mask());
    EXPECT_EQ(parsed->scores.lesions(), 0u);
    EXPECT_EQ(parsed->scores.background.size(), 3u);
}

// The values {0, 0, 0.5, 1}, encoded by hand from docs/case_score.md: a run of two zeros is
// token (0 << 1 | 1) = 0x01 and count - 2 = 0x00; 0.5 (bits 0x3F000000) is the gap
// 0x3EFFFFFF, token 0x7DFFFFFE = LEB128 FE FF FF EF 07; 1 (bits 0x3F800000) the gap 0x7FFFFF,
// token 0xFFFFFE = FE FF FF 07.
TEST(CaseScore, SectionsHoldTheDocumentedEncoding) {
    CaseScore score = sample_score();
    score.scores.lesion.sorted_lesion_probabilities = {0.0f, 0.0f, 0.5f, 1.0f};
    score.scores.sorted_lesion_maxima = {1.0f};
    score.scores.background = SortedProbabilities({0.25f});
    score.scores.lesion.voxel_count = 5;
    const Bytes file = encode_case_score(score);
    const json header = header_of(file);
    const Bytes expected_lesion = {0x01, 0x00, 0xFE, 0xFF, 0xFF, 0xEF,
                                   0x07, 0xFE, 0xFF, 0xFF, 0x07};
    const Bytes sections = sections_of(file);
    EXPECT_EQ(Bytes(sections.begin(), sections.begin() + 11), expected_lesion);
    EXPECT_EQ(header["sections"][0]["bytes"], 11);
    EXPECT_EQ(header["sections"][0]["count"], 4);
    EXPECT_EQ(header["sections"][0]["sha256"], sha256_hex(expected_lesion));
    EXPECT_EQ(header["sections"][0]["encoding"], "sorted-float32-delta-varint");
    EXPECT_EQ(header["format"], "cls-case-score");
    EXPECT_EQ(header["format_version"], 2);
    EXPECT_EQ(header["lesion_channels"], json::parse(R"({"channels": [1, 2], "combine": "sum"})"));
    EXPECT_EQ(header["lesion_labels"], json::parse("[1, 4]"));
    auto parsed = parse_case_score(file);
    ASSERT_TRUE(parsed) << parsed.error().message;
    EXPECT_EQ(parsed->scores.lesion.sorted_lesion_probabilities,
              (std::vector<float>{0.0f, 0.0f, 0.5f, 1.0f}));
}

TEST(CaseScore, CalibrationReadsTheHeaderAndTheLesionSectionOnly) {
    const Bytes file = encode_case_score(sample_score());
    std::size_t have = 0;
    std::size_t rounds = 0;
    for (;; ++rounds) {
        auto needed = case_score_bytes_needed(std::span(file).first(have), file.size(),
                                              ScoreParts::calibration);
        ASSERT_TRUE(needed) << needed.error().message;
        if (*needed <= have) break;
        have = *needed;
    }
    EXPECT_EQ(rounds, 3u);  // the preamble, the header, the lesion section
    const std::size_t header_end = file.size() - sections_of(file).size();
    EXPECT_EQ(have, header_end + header_of(file)["sections"][0]["bytes"].get<std::size_t>());
    EXPECT_LT(have, file.size());
    auto parsed =
        parse_case_score(std::span(file).first(have), file.size(), ScoreParts::calibration);
    ASSERT_TRUE(parsed) << parsed.error().message;
    EXPECT_EQ(parsed->scores.lesion.sorted_lesion_probabilities,
              sample_score().scores.lesion.sorted_lesion_probabilities);
    EXPECT_EQ(parsed->scores.background.size(), 0u);
    // A file shorter than its header says is refused even though the lesion section is whole.
    EXPECT_FALSE(
        parse_case_score(std::span(file).first(have), file.size() - 1, ScoreParts::calibration));
}

TEST(CaseScore, EveryTruncationIsRefused) {
    const Bytes file = encode_case_score(sample_score());
    for (std::size_t size = 0; size < file.size(); ++size) {
        const Bytes cut(file.begin(), file.begin() + static_cast<std::ptrdiff_t>(size));
        for (const ScoreParts parts : {ScoreParts::calibration, ScoreParts::evaluation}) {
            const std::string message = refusal(cut, parts);
            EXPECT_NE(message.find("truncated"), std::string::npos) << size << ": " << message;
        }
    }
    EXPECT_EQ(refusal(Bytes(file.begin(), file.begin() + 5)),
              "truncated: 5 bytes, too short for a case score's 12-byte preamble");
    EXPECT_EQ(refusal(Bytes(file.begin(), file.end() - 1)),
              "truncated: its header declares " + std::to_string(file.size()) +
                  " bytes but the file has " + std::to_string(file.size() - 1));
    Bytes longer = file;
    longer.push_back(0);
    EXPECT_EQ(refusal(longer), "has " + std::to_string(longer.size()) +
                                   " bytes but its header declares " + std::to_string(file.size()) +
                                   " (bytes after its last section)");
}

TEST(CaseScore, AChangedSectionFailsItsHash) {
    const Bytes file = encode_case_score(sample_score());
    const std::size_t sections_start = file.size() - sections_of(file).size();
    const json header = header_of(file);
    std::size_t start = sections_start;
    for (std::size_t s = 0; s < 3; ++s) {
        Bytes damaged = file;
        damaged[start] ^= 0x01;
        const std::string name = header["sections"][s]["name"];
        EXPECT_EQ(refusal(damaged), "section " + name +
                                        " does not match its SHA-256: the file changed after cls "
                                        "score wrote it");
        start += header["sections"][s]["bytes"].get<std::size_t>();
    }
    // Calibration does not read the background, so its damage does not stop calibration.
    Bytes damaged = file;
    damaged.back() ^= 0x01;
    EXPECT_TRUE(parse_case_score(damaged, ScoreParts::calibration));
}

TEST(CaseScore, RoundTripsTheRegionAndTheProfile) {
    CaseScore score = sample_score();
    score.region = RegionOfInterest::mask;
    score.profile = CaseProfile{
        .voxel_mm3 = 0.5,
        .region_voxels = 100,
        .predicted_voxels = 7,
        .uncertain_voxels = 9,
        .intensity_percentiles = std::array<float, 7>{0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f, 0.7f}};
    auto parsed = parse_case_score(encode_case_score(score));
    ASSERT_TRUE(parsed) << parsed.error().message;
    EXPECT_EQ(parsed->region, RegionOfInterest::mask);
    EXPECT_EQ(parsed->profile, score.profile);
    score.profile.reset();
    EXPECT_FALSE(parse_case_score(encode_case_score(score))->profile);
}

TEST(CaseScore, RefusesOtherFilesVersionsAndHeaders) {
    const Bytes file = encode_case_score(sample_score());
    const Bytes sections = sections_of(file);
    Bytes other = file;
    other[0] = 'X';
    EXPECT_EQ(refusal(other),
              "not a case score (it does not start with 'CLSSCORE', as the files cls score "
              "writes do)");
    const auto refused_with = [&](const std::string& key, const json& value) {
        json header = header_of(file);
        if (value.is_discarded()) {
            header.erase(key);
        } else {
            header[key] = value;
        }
        return refusal(with_header(header, sections));
    };
    EXPECT_EQ(refused_with("format_version", 3),
              "format_version 3 is newer than this tool reads (2); use a newer cls");
    EXPECT_EQ(refused_with("format_version", 0), "field 'format_version' must be 1 to 2");
    EXPECT_EQ(refused_with("format_version", json(json::value_t::discarded)),
              "field 'format_version' must be 1 to 2");
    EXPECT_EQ(refused_with("profile", json(json::value_t::discarded)),
              "its header must have the fields 'region_of_interest' and 'profile'");
    EXPECT_EQ(refused_with("region_of_interest", "brain"),
              "unknown region of interest 'brain' (expected none, nonzero or mask)");
    // Version 1 had neither field: such a file reads as made without a region, unprofiled.
    json version_1 = header_of(file);
    version_1["format_version"] = 1;
    EXPECT_EQ(refusal(with_header(version_1, sections)), "unknown field 'profile' in its header");
    version_1.erase("profile");
    version_1.erase("region_of_interest");
    auto old = parse_case_score(with_header(version_1, sections));
    ASSERT_TRUE(old) << old.error().message;
    EXPECT_EQ(old->region, RegionOfInterest::none);
    EXPECT_FALSE(old->profile);
    EXPECT_EQ(refused_with("format", "cls-calibration-certificate"),
              "not a case score (field 'format' is not 'cls-case-score')");
    EXPECT_EQ(refused_with("extra", 1), "unknown field 'extra' in its header");
    EXPECT_EQ(refused_with("label_sha256", "abc"),
              "field 'label_sha256' must be a SHA-256 in 64 lower-case hex digits");
    EXPECT_EQ(refused_with("name", "../x"),
              "field 'name' must be a case name (not empty, no '/', '\\' or control characters)");
    EXPECT_EQ(refused_with("voxels", 121),
              "its sections count 5 lesion and 115 background voxels, but 'voxels' is 121");
    EXPECT_EQ(refused_with("lesion_labels", json(json::value_t::discarded)),
              "its header must have the fields 'lesion_channels' and 'lesion_labels'");
    EXPECT_EQ(refused_with("lesion_labels", "all"),
              "field 'lesion_labels' must be \"binary\", \"nonzero\" or a list of classes, got "
              "'all'");
    json header = header_of(file);
    header["sections"][1]["count"] = 0;
    EXPECT_EQ(refusal(with_header(header, sections)), "it counts 0 lesions for 5 lesion voxels");
    header = header_of(file);
    header["sections"][2]["encoding"] = "float32";
    EXPECT_EQ(refusal(with_header(header, sections)),
              "section background_probabilities has encoding 'float32'; this tool reads "
              "'sorted-float32-delta-varint'");
    Bytes not_json = with_header(header_of(file), sections);
    not_json[12] = '[';
    EXPECT_EQ(refusal(not_json), "its header is not a JSON object");
    Bytes huge = file;
    huge[11] = 0x7F;  // a header length of about 2 GiB
    EXPECT_EQ(refusal(huge),
              "its header length is " +
                  std::to_string(file[8] | file[9] << 8 | file[10] << 16 | 0x7F << 24) +
                  " bytes; a case score's header has 2 to 1048576");
}

TEST(CaseScore, RefusesSectionsThatDecodeBadly) {
    const Bytes file = encode_case_score(sample_score());
    const auto message = [&](const Bytes& lesion, std::size_t count) {
        return refusal(with_lesion_section(file, lesion, count));
    };
    // The value 0.5, over-long: the token 0x7DFFFFFE with a needless zero byte.
    EXPECT_EQ(message({0xFE, 0xFF, 0xFF, 0xEF, 0x87, 0x00}, 2),
              "section lesion_probabilities: has an over-long or oversized number ending at "
              "byte 6");
    EXPECT_EQ(message({0xFE, 0xFF, 0xFF}, 2),
              "section lesion_probabilities: ends inside a number at byte 3");
    // The bits 0x7F000000 (token 0xFE000000), far above 1's 0x3F800000.
    EXPECT_EQ(message({0x80, 0x80, 0x80, 0xF0, 0x0F}, 2),
              "section lesion_probabilities: holds a value above 1 ending at byte 5");
    EXPECT_EQ(message({0x01, 0x05}, 5),  // a run of 7 zeros for 5 voxels
              "section lesion_probabilities: holds more values than its count 5");
    EXPECT_EQ(message({0x00, 0x00}, 5),  // 0, then the next float up: 2 values
              "section lesion_probabilities: holds 2 values but its count is 5");
}

TEST(CaseScore, RefusesMoreVoxelsThanTheLimitBeforeDecoding) {
    const Bytes file = encode_case_score(sample_score());
    auto parsed = parse_case_score(file, file.size(), ScoreParts::evaluation, 100);
    ASSERT_FALSE(parsed);
    EXPECT_EQ(parsed.error().message, "field 'voxels' is 120; a case score holds 1 to 100 voxels");
}

}  // namespace
}  // namespace cls
