// A Session as JSON, for the tests and the page's console (`window.cls.state()`): the cases
// and their files, loading, messages, settings, the live calibration, the model and its
// inference, validation, kept calibrations and what is lesion. Never polled per frame: the
// bridge has small getters for what the page polls.
#pragma once

#include <nlohmann/json.hpp>

#include "session.hpp"

namespace cls::app {

[[nodiscard]] nlohmann::json session_state(Session& session);

}  // namespace cls::app
