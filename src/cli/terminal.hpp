// Talking to the person at the terminal: prompts on stderr (stdout stays
// for results), answers read from stdin, secrets read without echo.
#pragma once

#include <optional>
#include <string>

namespace reel::cli {

// True when stdin is a terminal (a person may be asked).
bool stdin_is_terminal();

// Writes `prompt` to stderr and reads one line from stdin, without its line
// end. nullopt at end of input.
std::optional<std::string> prompt_line(const std::string& prompt);

// As prompt_line, with the terminal's echo off while the line is typed
// (restored afterwards, and also when Ctrl-C or a termination signal
// arrives meanwhile). For passwords and API keys. stdin must be a terminal.
std::optional<std::string> prompt_secret(const std::string& prompt);

// All of stdin with one trailing line end removed (`--password-stdin`:
// `echo "$PW" | reel login ...`). nullopt when stdin is empty.
std::optional<std::string> read_stdin_secret();

}  // namespace reel::cli
