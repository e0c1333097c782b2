#include "lesion_choice.hpp"

#include <imgui.h>

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
    if (question_->kind == Question::Kind::channels) {
        // A softmax's channel 0 is its background: every other one ticked to start with.
        ticked_.assign(static_cast<std::size_t>(question_->channel_count), true);
        ticked_[0] = false;
    } else {
        std::string classes;
        for (int v : question_->label_values) {
            classes += (classes.empty() ? "" : ",") + std::to_string(v);
        }
        classes_text_.assign(classes.begin(), classes.end());
        classes_text_.resize(std::max<std::size_t>(classes_text_.size() + 1, 64), '\0');
        all_nonzero_ = false;
        answer_error_.clear();
    }
    combine_ = 0;
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

bool LesionChoice::draw(bool& skipped) {
    skipped = false;
    if (!question_) return false;
    constexpr const char* kTitle = "What is lesion?";
    if (!ImGui::IsPopupOpen(kTitle)) ImGui::OpenPopup(kTitle);
    bool answered = false;
    ImGui::SetNextWindowSize({420, 0});
    if (!ImGui::BeginPopupModal(kTitle, nullptr, ImGuiWindowFlags_AlwaysAutoResize)) return false;
    const Question q = *question_;
    if (q.kind == Question::Kind::channels) {
        ImGui::TextWrapped(
            "%s holds %lld probability channels (a softmax over classes, or "
            "several sigmoid outputs). Which are lesion?",
            q.path.c_str(), static_cast<long long>(q.channel_count));
        for (std::size_t c = 0; c < ticked_.size(); ++c) {
            bool on = ticked_[c];
            const std::string name =
                "channel " + std::to_string(c) + (c == 0 ? " (background?)" : "");
            if (ImGui::Checkbox(name.c_str(), &on)) ticked_[c] = on;
        }
        ImGui::RadioButton("sum (classes of one softmax)", &combine_, 0);
        ImGui::RadioButton("max (independent sigmoids)", &combine_, 1);
    } else {
        std::string values;
        for (int v : q.label_values) values += (values.empty() ? "" : ", ") + std::to_string(v);
        ImGui::TextWrapped(
            "%s is a label holding %s besides 0: classes of a multi-class label, "
            "or one mask? Which values are lesion (in this and every later label)?",
            q.path.c_str(), values.c_str());
        ImGui::Checkbox("every non-zero value", &all_nonzero_);
        ImGui::BeginDisabled(all_nonzero_);
        ImGui::InputText("lesion classes", classes_text_.data(), classes_text_.size());
        ImGui::EndDisabled();
        ImGui::TextDisabled("e.g. 1,2,4 for a BraTS whole tumour");
        if (!answer_error_.empty())
            ImGui::TextColored({1, 0.5f, 0.4f, 1}, "%s", answer_error_.c_str());
    }
    ImGui::TextDisabled("Kept for this session; the certificate records it.");
    const bool any = q.kind == Question::Kind::labels ||
                     std::find(ticked_.begin(), ticked_.end(), true) != ticked_.end();
    ImGui::BeginDisabled(!any);
    const bool use = ImGui::Button("Use");
    const ImVec2 min = ImGui::GetItemRectMin(), max = ImGui::GetItemRectMax();
    use_rect_ = {min.x, min.y, max.x - min.x, max.y - min.y};
    if (use) {
        if (q.kind == Question::Kind::channels) {
            LesionChannels channels{{}, combine_ == 0 ? ChannelCombine::sum : ChannelCombine::max};
            for (std::size_t c = 0; c < ticked_.size(); ++c)
                if (ticked_[c]) channels.channels.push_back(static_cast<int>(c));
            answered = choose_channels(channels).ok();
        } else {
            auto labels = parse_lesion_labels(all_nonzero_ ? "nonzero" : classes_text_.data());
            if (labels) {
                answered = choose_labels(*labels).ok();
            } else {
                answer_error_ = labels.error().message;
            }
        }
    }
    ImGui::EndDisabled();
    ImGui::SameLine();
    if (ImGui::Button("Skip this file")) {
        skip();
        skipped = answered = true;
    }
    if (answered) ImGui::CloseCurrentPopup();
    ImGui::EndPopup();
    return answered;
}

}  // namespace cls::app
