#include "lesion_choice.hpp"

#include <algorithm>
#include <cmath>
#include <set>

namespace cls::app {
namespace {

constexpr std::size_t kMostClassesAsked = 32;  // more is not a label but an image or a map

}  // namespace

std::optional<std::vector<int>> LesionChoice::label_classes_to_ask(
    const std::vector<float>& label) const {
    if (definition_.labels.kind != LesionLabels::Kind::binary) return std::nullopt;
    std::set<float> values;
    for (float v : label) {
        if (v == 0.0f) continue;
        if (!std::isfinite(v) || v != std::nearbyint(v) || v < 1.0f || v > 1e6f)
            return std::nullopt;
        values.insert(v);
        if (values.size() > kMostClassesAsked) return std::nullopt;
    }
    // 0/1 and 0/255 are masks. One other value may be one class of several (a BraTS case with
    // edema only), so it is asked too: reading it as lesion would be a guess.
    if (values.empty() ||
        (values.size() == 1 && (*values.begin() == 1.0f || *values.begin() == 255.0f))) {
        return std::nullopt;
    }
    std::vector<int> classes;
    for (float v : values) classes.push_back(static_cast<int>(v));
    return classes;
}

void LesionChoice::ask(Question question) {
    question_ = std::move(question);
    ++question_serial_;
}

Status LesionChoice::choose_channels(const LesionChannels& channels) {
    if (channels.single()) return make_error("choose at least one lesion channel");
    if (question_ && question_->kind == Question::Kind::channels &&
        channels.channels.back() >= question_->channel_count) {
        return make_error(question_->path + " has " + std::to_string(question_->channel_count) +
                          " channels (0 to " + std::to_string(question_->channel_count - 1) +
                          "), not channel " + std::to_string(channels.channels.back()));
    }
    definition_.channels = channels;
    if (question_ && question_->kind == Question::Kind::channels) question_.reset();
    return Done{};
}

Status LesionChoice::choose_labels(const LesionLabels& labels) {
    definition_.labels = labels;
    if (question_ && question_->kind == Question::Kind::labels) question_.reset();
    return Done{};
}

Status LesionChoice::adopt(const LesionDefinition& recorded, const std::string& file) {
    if (recorded == definition_) return Done{};
    if (chosen()) {
        return make_error("was made reading lesion as " + describe(recorded) +
                          ", but this session reads it as " + describe(definition_) +
                          "; change the lesion choice (which clears the cases) or rescore")
            .in(file);
    }
    definition_ = recorded;
    return Done{};
}

}  // namespace cls::app
