// The "What is lesion?" picker: a modal that opens when the Session asks which channels of a
// multi-channel map, or which classes of a multi-class label, are lesion. Ticking channels
// (sum or max) or typing classes answers the Session, which reads the waiting file and goes
// on loading; "Skip this file" drops that file only.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "panel.hpp"

namespace cls::app {

class LesionPicker {
public:
    void draw(Session& session, PanelContext& ui);

private:
    // Starts afresh for the session's current question.
    void prepare(const LesionChoice::Question& question);

    std::uint64_t serial_ = 0;        // of the question the state below was prepared for
    std::vector<bool> ticked_;        // channels
    std::vector<char> classes_text_;  // label classes, as typed ("1,2,4")
    bool all_nonzero_ = false;
    int combine_ = 0;  // ChannelCombine
    std::string answer_error_;
};

}  // namespace cls::app
