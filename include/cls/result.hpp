// The one error scheme of the core: functions that can fail on outside input return
// `Result<T>`, a value or an `Error` whose message names the input and the problem.
// No exception is thrown for bad input, so nothing ever has to cross into JavaScript;
// programmer errors are asserts. Callers add context with `Error::in(name)`.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace cls {

struct Error {
    std::string message;

    // Prefixes the message with the input it concerns, e.g. "case_003.nii.gz: truncated ...".
    [[nodiscard]] Error in(const std::string& input) const {
        return Error{input.empty() ? message : input + ": " + message};
    }
};

template <class T>
class [[nodiscard]] Result {
public:
    Result(T value) : state_(std::move(value)) {}      // NOLINT: implicit by design
    Result(Error error) : state_(std::move(error)) {}  // NOLINT: implicit by design

    [[nodiscard]] bool ok() const { return state_.index() == 0; }
    explicit operator bool() const { return ok(); }

    T& value() & {
        assert(ok());
        return std::get<0>(state_);
    }
    const T& value() const& {
        assert(ok());
        return std::get<0>(state_);
    }
    T&& value() && {
        assert(ok());
        return std::get<0>(std::move(state_));
    }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }

    [[nodiscard]] const Error& error() const {
        assert(!ok());
        return std::get<1>(state_);
    }

private:
    std::variant<T, Error> state_;
};

// For operations that produce nothing but can fail.
struct Done {};
using Status = Result<Done>;

inline Error make_error(std::string message) { return Error{std::move(message)}; }

}  // namespace cls

// In a function returning a Result or Status: assigns the value of `expression` (a Result)
// to `target`, or returns its error. Readers of outside data use it field after field.
#define CLS_TRY_ASSIGN(target, expression)            \
    do {                                              \
        auto cls_result_ = (expression);              \
        if (!cls_result_) return cls_result_.error(); \
        target = std::move(*cls_result_);             \
    } while (false)
