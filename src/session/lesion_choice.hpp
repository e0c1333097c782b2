// What is lesion in the files a user drops, asked once and kept for the session: the lesion
// channels of a multi-channel probability map and the lesion classes of a multi-class label
// (cls::LesionDefinition, the rule the CLI applies too). The first such file pauses loading and
// raises a question (the app's picker, src/app/lesion_picker.hpp, shows it); the answer reads
// that file and every later one, and the exported certificate records it, so `cls apply` reads
// new maps the same way.
// [X] channels (sum or max), label classes typed or "every non-zero value", from the picker or
//     the bridge
// [X] changing the choice clears the cases it was applied to (they were read by it)
// [ ] a choice per model output (models give one lesion map, read as it is)
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cls/lesion_definition.hpp"
#include "cls/result.hpp"

namespace cls::app {

class LesionChoice {
public:
    struct Question {
        enum class Kind { channels, labels };
        Kind kind = Kind::channels;
        std::string path;                // the file that raised it
        std::int64_t channel_count = 0;  // Kind::channels
        std::vector<int> label_values;   // Kind::labels: the non-zero values found, ascending
    };

    [[nodiscard]] const LesionDefinition& definition() const { return definition_; }
    [[nodiscard]] const std::optional<Question>& question() const { return question_; }
    // Whether a choice was made this session (so the cases panel can show it).
    [[nodiscard]] bool chosen() const { return definition_ != LesionDefinition{}; }

    // The question a map with `channel_count` channels raises, if the session has no channel
    // choice yet.
    [[nodiscard]] bool needs_channels(std::int64_t channel_count) const {
        return channel_count > 1 && definition_.channels.single();
    }
    // The question a label raises when the session reads labels as binary: whole numbers with
    // several non-zero values, or one that is not 1 or 255 (one class of a multi-class label?).
    // Other bad labels are refused as ever.
    [[nodiscard]] std::optional<std::vector<int>> label_classes_to_ask(
        const std::vector<float>& label) const;
    void ask(Question question);

    // Answers; each closes the question. Refused when the answer does not fit the question.
    Status choose_channels(const LesionChannels& channels);
    Status choose_labels(const LesionLabels& labels);
    // A definition a file records (a case score's): taken when the session has no choice yet,
    // refused when it differs from the session's. `file` names it in the error.
    Status adopt(const LesionDefinition& recorded, const std::string& file);
    void skip() { question_.reset(); }
    void reset() {
        definition_ = {};
        question_.reset();
    }

    // Changes with every question asked, so a picker knows when to start afresh.
    [[nodiscard]] std::uint64_t question_serial() const { return question_serial_; }

private:
    LesionDefinition definition_;
    std::optional<Question> question_;
    std::uint64_t question_serial_ = 0;
};

}  // namespace cls::app
