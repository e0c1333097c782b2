// The `cls` subcommands. Each takes the words after its name, writes results to stdout and
// progress and errors to stderr, and returns the process exit code (see ExitCode).
#pragma once

#include <span>
#include <string>

namespace cls::cli {

enum ExitCode : int { kSuccess = 0, kFailure = 1, kUsage = 2 };

using Words = std::span<const std::string>;

int run_info(Words args);
int run_synth(Words args);
int run_calibrate(Words args);
int run_apply(Words args);
int run_assess(Words args);
int run_evaluate(Words args);
int run_score(Words args);

// Prints "cls <command>: error: <message>" to stderr and returns `code`.
int fail(const std::string& command, const std::string& message, ExitCode code = kFailure);
// Prints "cls <command>: warning: <message>" to stderr; the command goes on.
void warn(const std::string& command, const std::string& message);

}  // namespace cls::cli
