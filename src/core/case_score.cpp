#include "cls/case_score.hpp"

#include <algorithm>
#include <array>
#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>

#include "case_profile_json.hpp"
#include "cls/sha256.hpp"
#include "lesion_definition_json.hpp"
#include "sorted_float_codec.hpp"

namespace cls {
namespace {

using nlohmann::json;

constexpr std::string_view kMagic = "CLSSCORE";
constexpr std::string_view kFormat = "cls-case-score";
constexpr std::string_view kEncoding = "sorted-float32-delta-varint";

// The sections in the order they are stored: calibration reads only the first.
enum Section : std::size_t { kLesion = 0, kLesionMaxima = 1, kBackground = 2 };
constexpr std::array<std::string_view, 3> kSectionNames = {"lesion_probabilities", "lesion_maxima",
                                                           "background_probabilities"};

struct SectionEntry {
    std::uint64_t count = 0;
    std::uint64_t bytes = 0;
    std::string sha256;
};

// What the header says, before any section is read.
struct Header {
    CaseScore score;  // every field but the sorted sections
    std::array<SectionEntry, 3> sections;
    std::size_t header_end = 0;  // the preamble and the JSON header
    std::uint64_t file_bytes = 0;

    [[nodiscard]] std::uint64_t section_start(std::size_t s) const {
        std::uint64_t start = header_end;
        for (std::size_t i = 0; i < s; ++i) start += sections[i].bytes;
        return start;
    }
    [[nodiscard]] std::uint64_t bytes_needed(ScoreParts parts) const {
        return parts == ScoreParts::calibration ? section_start(kLesion + 1) : file_bytes;
    }
};

std::string count_text(std::uint64_t n) { return std::to_string(n); }

Error truncated(std::uint64_t declared, std::uint64_t has) {
    return make_error("truncated: its header declares " + count_text(declared) +
                      " bytes but the file has " + count_text(has));
}

std::uint32_t read_u32_le(std::span<const std::uint8_t> bytes) {
    return static_cast<std::uint32_t>(bytes[0]) | static_cast<std::uint32_t>(bytes[1]) << 8 |
           static_cast<std::uint32_t>(bytes[2]) << 16 | static_cast<std::uint32_t>(bytes[3]) << 24;
}

bool is_sha256_hex(const std::string& text) {
    return text.size() == 64 && std::all_of(text.begin(), text.end(), [](char c) {
               return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
           });
}

// Field readers that never throw (exceptions are off in WebAssembly) and refuse what a
// version-1 writer never writes.
class Fields {
public:
    explicit Fields(const json& object) : object_(object) {}

    Result<std::string> text(const char* key) const {
        auto it = object_.find(key);
        if (it == object_.end() || !it->is_string()) return wrong(key, "a string");
        return it->get<std::string>();
    }
    Result<std::string> sha256(const char* key) const {
        auto value = text(key);
        if (!value) return value;
        if (!is_sha256_hex(*value)) return wrong(key, "a SHA-256 in 64 lower-case hex digits");
        return value;
    }
    Result<std::uint64_t> count(const char* key) const {
        auto it = object_.find(key);
        if (it == object_.end() || !it->is_number_unsigned()) return wrong(key, "a count");
        return it->get<std::uint64_t>();
    }
    // Refuses keys other than `known`: a version-1 file holds exactly these.
    Status only(std::initializer_list<std::string_view> known, const char* where) const {
        for (const auto& item : object_.items()) {
            if (std::find(known.begin(), known.end(), item.key()) == known.end()) {
                return make_error("unknown field '" + item.key() + "' in " + where);
            }
        }
        return Done{};
    }

private:
    static Error wrong(const char* key, const char* kind) {
        return make_error(std::string("field '") + key + "' must be " + kind);
    }
    const json& object_;
};

Status check_name(const std::string& name) {
    const bool plain = !name.empty() && std::none_of(name.begin(), name.end(), [](char c) {
        return c == '/' || c == '\\' || static_cast<unsigned char>(c) < 0x20;
    });
    if (plain) return Done{};
    return make_error(
        "field 'name' must be a case name (not empty, no '/', '\\' or control "
        "characters)");
}

Result<std::array<SectionEntry, 3>> parse_sections(const json& document) {
    auto list = document.find("sections");
    if (list == document.end() || !list->is_array() || list->size() != kSectionNames.size()) {
        return make_error(
            "field 'sections' must list the 3 sections lesion_probabilities, "
            "lesion_maxima, background_probabilities");
    }
    std::array<SectionEntry, 3> sections;
    for (std::size_t s = 0; s < kSectionNames.size(); ++s) {
        const json& item = (*list)[s];
        const std::string where = "section " + std::to_string(s + 1);
        if (!item.is_object()) return make_error(where + " must be an object");
        Fields f(item);
        if (Status known = f.only({"name", "encoding", "count", "bytes", "sha256"}, where.c_str());
            !known) {
            return known.error();
        }
        std::string name;
        CLS_TRY_ASSIGN(name, f.text("name"));
        if (name != kSectionNames[s]) {
            return make_error(where + " must be " + std::string(kSectionNames[s]) + ", not '" +
                              name + "'");
        }
        std::string encoding;
        CLS_TRY_ASSIGN(encoding, f.text("encoding"));
        if (encoding != kEncoding) {
            return make_error("section " + name + " has encoding '" + encoding +
                              "'; this tool reads '" + std::string(kEncoding) + "'");
        }
        CLS_TRY_ASSIGN(sections[s].count, f.count("count"));
        CLS_TRY_ASSIGN(sections[s].bytes, f.count("bytes"));
        CLS_TRY_ASSIGN(sections[s].sha256, f.sha256("sha256"));
    }
    return sections;
}

// The counts must describe one case: every voxel lesion or background, lesion maxima iff
// lesion voxels (each lesion has at least one voxel).
Status check_counts(const std::array<SectionEntry, 3>& s, std::uint64_t voxels,
                    std::uint64_t max_voxels) {
    if (voxels == 0 || voxels > max_voxels) {
        return make_error("field 'voxels' is " + count_text(voxels) + "; a case score holds 1 to " +
                          count_text(max_voxels) + " voxels");
    }
    if (s[kLesion].count > voxels || s[kBackground].count != voxels - s[kLesion].count) {
        return make_error("its sections count " + count_text(s[kLesion].count) + " lesion and " +
                          count_text(s[kBackground].count) +
                          " background voxels, but 'voxels' is " + count_text(voxels));
    }
    if (s[kLesionMaxima].count > s[kLesion].count ||
        (s[kLesionMaxima].count == 0) != (s[kLesion].count == 0)) {
        return make_error("it counts " + count_text(s[kLesionMaxima].count) + " lesions for " +
                          count_text(s[kLesion].count) + " lesion voxels");
    }
    return Done{};
}

Result<Header> parse_header_json(std::string_view text, std::uint64_t max_voxels) {
    const json document = json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (document.is_discarded() || !document.is_object()) {
        return make_error("its header is not a JSON object");
    }
    Fields f(document);
    auto format = f.text("format");
    if (!format || *format != kFormat) {
        return make_error("not a case score (field 'format' is not '" + std::string(kFormat) +
                          "')");
    }
    auto version = f.count("format_version");
    if (version && *version > static_cast<std::uint64_t>(kCaseScoreFormatVersion)) {
        return make_error("format_version " + count_text(*version) +
                          " is newer than this tool reads (" +
                          std::to_string(kCaseScoreFormatVersion) + "); use a newer cls");
    }
    if (!version || *version == 0) {
        return make_error("field 'format_version' must be 1 to " +
                          std::to_string(kCaseScoreFormatVersion));
    }
    // Version 2 added the region of interest and the case's profile; version 1 files were made
    // without a region and read as such, with no profile.
    const bool with_profile = *version >= 2;
    if (Status known =
            with_profile
                ? f.only({"format", "format_version", "tool_version", "name",
                          "probabilities_sha256", "label_sha256", "lesion_channels",
                          "lesion_labels", "region_of_interest", "profile", "voxels", "sections"},
                         "its header")
                : f.only(
                      {"format", "format_version", "tool_version", "name", "probabilities_sha256",
                       "label_sha256", "lesion_channels", "lesion_labels", "voxels", "sections"},
                      "its header");
        !known) {
        return known.error();
    }
    if (!document.contains("lesion_channels") || !document.contains("lesion_labels")) {
        return make_error("its header must have the fields 'lesion_channels' and 'lesion_labels'");
    }
    if (with_profile &&
        (!document.contains("region_of_interest") || !document.contains("profile"))) {
        return make_error("its header must have the fields 'region_of_interest' and 'profile'");
    }
    Header h;
    CaseScore& score = h.score;
    CLS_TRY_ASSIGN(score.tool_version, f.text("tool_version"));
    std::string name;
    CLS_TRY_ASSIGN(name, f.text("name"));
    if (Status valid = check_name(name); !valid) return valid.error();
    score.scores.lesion.name = std::move(name);
    CLS_TRY_ASSIGN(score.inputs.probabilities_sha256, f.sha256("probabilities_sha256"));
    CLS_TRY_ASSIGN(score.inputs.label_sha256, f.sha256("label_sha256"));
    CLS_TRY_ASSIGN(score.lesion, detail::parse_lesion_definition(document));
    CLS_TRY_ASSIGN(score.region, detail::parse_region_field(document));
    if (auto recorded = document.find("profile"); with_profile && !recorded->is_null()) {
        CLS_TRY_ASSIGN(score.profile, detail::parse_case_profile(*recorded));
    }
    std::uint64_t voxels = 0;
    CLS_TRY_ASSIGN(voxels, f.count("voxels"));
    CLS_TRY_ASSIGN(h.sections, parse_sections(document));
    if (Status counts = check_counts(h.sections, voxels, max_voxels); !counts) {
        return counts.error();
    }
    score.scores.lesion.voxel_count = static_cast<std::size_t>(voxels);
    return h;
}

Error not_a_score() {
    return make_error("not a case score (it does not start with '" + std::string(kMagic) +
                      "', as the files cls score writes do)");
}

// The header once `head` holds it; until then, how many leading bytes to read for it.
struct HeaderOrMore {
    std::optional<Header> header;
    std::size_t more = 0;
};

Result<HeaderOrMore> read_header(std::span<const std::uint8_t> head, std::uint64_t file_bytes,
                                 std::uint64_t max_voxels) {
    const std::size_t magic_seen = std::min(head.size(), kMagic.size());
    if (!std::equal(head.begin(), head.begin() + static_cast<std::ptrdiff_t>(magic_seen),
                    kMagic.begin())) {
        return not_a_score();
    }
    if (file_bytes < kCaseScorePreambleBytes) {
        if (head.size() < file_bytes) return HeaderOrMore{{}, static_cast<std::size_t>(file_bytes)};
        return make_error("truncated: " + count_text(file_bytes) + " bytes, too short for a case " +
                          "score's " + std::to_string(kCaseScorePreambleBytes) + "-byte preamble");
    }
    if (head.size() < kCaseScorePreambleBytes) return HeaderOrMore{{}, kCaseScorePreambleBytes};
    const std::uint32_t json_bytes = read_u32_le(head.subspan(kMagic.size(), 4));
    if (json_bytes < 2 || json_bytes > kMaxCaseScoreHeaderBytes) {
        return make_error("its header length is " + count_text(json_bytes) +
                          " bytes; a case score's header has 2 to " +
                          count_text(kMaxCaseScoreHeaderBytes));
    }
    const std::size_t header_end = kCaseScorePreambleBytes + json_bytes;
    if (file_bytes < header_end) {
        return make_error("truncated: its header needs " + count_text(json_bytes) +
                          " bytes after the preamble but the file has " +
                          count_text(file_bytes - kCaseScorePreambleBytes));
    }
    if (head.size() < header_end) return HeaderOrMore{{}, header_end};
    const std::string_view text(
        reinterpret_cast<const char*>(head.data()) + kCaseScorePreambleBytes, json_bytes);
    auto header = parse_header_json(text, max_voxels);
    if (!header) return header.error();
    header->header_end = header_end;
    // Each section's byte count is checked against what is left, so the sum cannot overflow.
    std::uint64_t total = header_end;
    for (const SectionEntry& s : header->sections) {
        if (s.bytes > file_bytes - total) return truncated(total + s.bytes, file_bytes);
        total += s.bytes;
    }
    if (total != file_bytes) {
        return make_error("has " + count_text(file_bytes) + " bytes but its header declares " +
                          count_text(total) + " (bytes after its last section)");
    }
    header->file_bytes = total;
    return HeaderOrMore{std::move(*header), 0};
}

Result<std::vector<float>> read_section(const Header& h, std::span<const std::uint8_t> prefix,
                                        std::size_t s) {
    const SectionEntry& entry = h.sections[s];
    const auto start = static_cast<std::size_t>(h.section_start(s));
    const auto bytes = prefix.subspan(start, static_cast<std::size_t>(entry.bytes));
    const std::string name(kSectionNames[s]);
    if (sha256_hex(bytes) != entry.sha256) {
        return make_error("section " + name +
                          " does not match its SHA-256: the file changed after cls score wrote it");
    }
    auto values = detail::decode_sorted_floats(bytes, static_cast<std::size_t>(entry.count));
    if (!values) return values.error().in("section " + name);
    return values;
}

json section_json(std::size_t s, std::size_t count, const std::vector<std::uint8_t>& bytes) {
    return {{"name", kSectionNames[s]},
            {"encoding", kEncoding},
            {"count", count},
            {"bytes", bytes.size()},
            {"sha256", sha256_hex(bytes)}};
}

}  // namespace

std::vector<std::uint8_t> encode_case_score(const CaseScore& score) {
    const EvaluationCase& c = score.scores;
    std::array<std::vector<std::uint8_t>, 3> sections;
    sections[kLesion] = detail::encode_sorted_floats(c.lesion.sorted_lesion_probabilities);
    sections[kLesionMaxima] = detail::encode_sorted_floats(c.sorted_lesion_maxima);
    detail::SortedFloatEncoder background(sections[kBackground]);
    c.background.for_each_run(
        [&](float value, std::size_t count) { background.add(value, count); });
    background.finish();

    const json header = {
        {"format", kFormat},
        {"format_version", kCaseScoreFormatVersion},
        {"tool_version", score.tool_version},
        {"name", c.name()},
        {"probabilities_sha256", score.inputs.probabilities_sha256},
        {"label_sha256", score.inputs.label_sha256},
        {"lesion_channels", detail::lesion_channels_to_json(score.lesion.channels)},
        {"lesion_labels", detail::lesion_labels_to_json(score.lesion.labels)},
        {"region_of_interest", to_string(score.region)},
        {"profile", score.profile ? detail::case_profile_to_json(*score.profile) : json(nullptr)},
        {"voxels", c.voxels()},
        {"sections",
         json::array({section_json(kLesion, c.lesion_voxels(), sections[kLesion]),
                      section_json(kLesionMaxima, c.lesions(), sections[kLesionMaxima]),
                      section_json(kBackground, c.background.size(), sections[kBackground])})},
    };
    // Compact, keys sorted (nlohmann's objects are ordered maps): one text per header.
    const std::string text = header.dump();
    std::vector<std::uint8_t> out(kMagic.begin(), kMagic.end());
    const auto length = static_cast<std::uint32_t>(text.size());
    for (int shift = 0; shift < 32; shift += 8)
        out.push_back(static_cast<std::uint8_t>(length >> shift));
    out.insert(out.end(), text.begin(), text.end());
    for (const auto& section : sections) out.insert(out.end(), section.begin(), section.end());
    return out;
}

Result<std::size_t> case_score_bytes_needed(std::span<const std::uint8_t> head,
                                            std::uint64_t file_bytes, ScoreParts parts,
                                            std::uint64_t max_voxels) {
    auto read = read_header(head, file_bytes, max_voxels);
    if (!read) return read.error();
    if (!read->header) return read->more;
    return static_cast<std::size_t>(read->header->bytes_needed(parts));
}

Result<CaseScore> parse_case_score(std::span<const std::uint8_t> prefix, std::uint64_t file_bytes,
                                   ScoreParts parts, std::uint64_t max_voxels) {
    auto read = read_header(prefix, file_bytes, max_voxels);
    if (!read) return read.error();
    if (!read->header) return truncated(read->more, prefix.size());
    const Header& header = *read->header;
    if (prefix.size() < header.bytes_needed(parts)) {
        return truncated(header.bytes_needed(parts), prefix.size());
    }
    CaseScore score = header.score;
    EvaluationCase& c = score.scores;
    CLS_TRY_ASSIGN(c.lesion.sorted_lesion_probabilities, read_section(header, prefix, kLesion));
    if (parts == ScoreParts::calibration) return score;
    CLS_TRY_ASSIGN(c.sorted_lesion_maxima, read_section(header, prefix, kLesionMaxima));
    auto background = read_section(header, prefix, kBackground);
    if (!background) return background.error();
    c.background = SortedProbabilities(std::move(*background));
    return score;
}

}  // namespace cls
