#include "cli/terminal.hpp"

#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>

namespace reel::cli {

namespace {

// The terminal's settings while the echo is off, for the signal handler to
// put back: a signal handler can reach nothing else.
struct termios g_saved_terminal {};
volatile std::sig_atomic_t g_echo_off = 0;

void restore_terminal_and_die(int signo) {
  if (g_echo_off != 0) {
    ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &g_saved_terminal);
    static const char newline = '\n';
    [[maybe_unused]] auto ignored = ::write(STDERR_FILENO, &newline, 1);
  }
  std::signal(signo, SIG_DFL);
  std::raise(signo);
}

// One line from stdin, read byte by byte so nothing after it is consumed.
std::optional<std::string> read_line() {
  std::string line;
  for (;;) {
    char c = 0;
    ssize_t n = ::read(STDIN_FILENO, &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (line.empty()) return std::nullopt;
      break;
    }
    if (c == '\n') break;
    line.push_back(c);
  }
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

void show_prompt(const std::string& prompt) {
  std::fputs(prompt.c_str(), stderr);
  std::fflush(stderr);
}

}  // namespace

bool stdin_is_terminal() { return ::isatty(STDIN_FILENO) == 1; }

std::optional<std::string> prompt_line(const std::string& prompt) {
  show_prompt(prompt);
  return read_line();
}

std::optional<std::string> prompt_secret(const std::string& prompt) {
  struct termios quiet {};
  if (::tcgetattr(STDIN_FILENO, &g_saved_terminal) != 0) return prompt_line(prompt);
  quiet = g_saved_terminal;
  quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
  quiet.c_lflag |= ECHONL;  // the Enter still moves to the next line
  struct sigaction on_signal {
  }, old_int{}, old_term{}, old_hup{};
  on_signal.sa_handler = restore_terminal_and_die;
  sigemptyset(&on_signal.sa_mask);
  ::sigaction(SIGINT, &on_signal, &old_int);
  ::sigaction(SIGTERM, &on_signal, &old_term);
  ::sigaction(SIGHUP, &on_signal, &old_hup);
  g_echo_off = 1;
  // The echo goes off before the prompt shows: whatever is typed after
  // the prompt appears is never echoed (what was typed before is dropped).
  ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
  show_prompt(prompt);
  auto line = read_line();
  ::tcsetattr(STDIN_FILENO, TCSANOW, &g_saved_terminal);
  g_echo_off = 0;
  ::sigaction(SIGINT, &old_int, nullptr);
  ::sigaction(SIGTERM, &old_term, nullptr);
  ::sigaction(SIGHUP, &old_hup, nullptr);
  return line;
}

std::optional<std::string> read_stdin_secret() {
  std::string all;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    all.append(buf, static_cast<std::size_t>(n));
    if (all.size() > 64 * 1024) break;  // nobody's password; stop reading
  }
  if (!all.empty() && all.back() == '\n') all.pop_back();
  if (!all.empty() && all.back() == '\r') all.pop_back();
  if (all.empty()) return std::nullopt;
  return all;
}

}  // namespace reel::cli
