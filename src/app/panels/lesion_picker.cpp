#include "lesion_picker.hpp"

#include <imgui.h>

#include <algorithm>

namespace cls::app {

void LesionPicker::prepare(const LesionChoice::Question& question) {
    if (question.kind == LesionChoice::Question::Kind::channels) {
        // A softmax's channel 0 is its background: every other one ticked to start with.
        ticked_.assign(static_cast<std::size_t>(question.channel_count), true);
        ticked_[0] = false;
    } else {
        std::string classes;
        for (int v : question.label_values) {
            classes += (classes.empty() ? "" : ",") + std::to_string(v);
        }
        classes_text_.assign(classes.begin(), classes.end());
        classes_text_.resize(std::max<std::size_t>(classes_text_.size() + 1, 64), '\0');
        all_nonzero_ = false;
    }
    combine_ = 0;
    answer_error_.clear();
}

void LesionPicker::draw(Session& session, PanelContext& ui) {
    const auto& question = session.lesion().question();
    if (!question) return;
    if (session.lesion().question_serial() != serial_) {
        serial_ = session.lesion().question_serial();
        prepare(*question);
    }
    constexpr const char* kTitle = "What is lesion?";
    if (!ImGui::IsPopupOpen(kTitle)) ImGui::OpenPopup(kTitle);
    ImGui::SetNextWindowSize({420, 0});
    if (!ImGui::BeginPopupModal(kTitle, nullptr, ImGuiWindowFlags_AlwaysAutoResize)) return;
    const LesionChoice::Question q = *question;  // answering closes it
    const bool channels = q.kind == LesionChoice::Question::Kind::channels;
    if (channels) {
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
    }
    if (!answer_error_.empty()) ImGui::TextColored({1, 0.5f, 0.4f, 1}, "%s", answer_error_.c_str());
    ImGui::TextDisabled("Kept for this session; the certificate records it.");
    const bool any = !channels || std::find(ticked_.begin(), ticked_.end(), true) != ticked_.end();
    ImGui::BeginDisabled(!any);
    const bool use = ImGui::Button("Use");
    ui.rects.remember("lesion_use");
    ImGui::EndDisabled();
    bool answered = false;
    if (use) {
        Status chosen = Done{};
        if (channels) {
            LesionChannels choice{{}, combine_ == 0 ? ChannelCombine::sum : ChannelCombine::max};
            for (std::size_t c = 0; c < ticked_.size(); ++c)
                if (ticked_[c]) choice.channels.push_back(static_cast<int>(c));
            chosen = session.set_lesion_channels(choice);
        } else if (auto labels =
                       parse_lesion_labels(all_nonzero_ ? "nonzero" : classes_text_.data())) {
            chosen = session.set_lesion_labels(*labels);
        } else {
            chosen = labels.error();
        }
        answered = chosen.ok();
        if (!chosen) answer_error_ = chosen.error().message;
    }
    ImGui::SameLine();
    if (ImGui::Button("Skip this file")) {
        session.skip_lesion_question();
        answered = true;
    }
    if (answered) ImGui::CloseCurrentPopup();
    ImGui::EndPopup();
}

}  // namespace cls::app
