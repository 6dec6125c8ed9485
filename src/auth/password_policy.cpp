#include "auth/password_policy.hpp"

#include "auth/passwords.hpp"

#include <crack.h>
#include <cstddef>  // crack.h uses size_t without including it

#include <unistd.h>
#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace reel::auth {

namespace {

bool is_space(unsigned char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

std::string_view trimmed(std::string_view s) {
  while (!s.empty() && is_space(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && is_space(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::size_t utf8_chars(std::string_view s) {
  return static_cast<std::size_t>(
      std::count_if(s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

// "P@ssw0rd" → "password": the substitutions guessers undo first.
std::string unleet(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '@':
      case '4':
        out += 'a';
        break;
      case '0':
        out += 'o';
        break;
      case '1':
      case '!':
        out += 'i';
        break;
      case '3':
        out += 'e';
        break;
      case '$':
      case '5':
        out += 's';
        break;
      case '7':
        out += 't';
        break;
      default:
        out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
  }
  return out;
}

// "sunshine2020!" → "sunshine": the word inside digits and symbols.
std::string_view core_word(std::string_view s) {
  auto affix = [](char c) { return !std::isalpha(static_cast<unsigned char>(c)); };
  while (!s.empty() && affix(s.front())) s.remove_prefix(1);
  while (!s.empty() && affix(s.back())) s.remove_suffix(1);
  return s;
}

std::string local_part(std::string_view email) {
  auto at = email.find('@');
  return std::string(at == std::string_view::npos ? email : email.substr(0, at));
}

}  // namespace

std::optional<std::string> shape_problem(std::string_view password) {
  if (trimmed(password).empty()) return "must not be only spaces";
  if (utf8_chars(trimmed(password)) < k_min_password_length)
    return "must be at least " + std::to_string(k_min_password_length) +
           " characters long, not counting spaces at either end";
  if (utf8_chars(password) > k_max_password_length)
    return "must be at most " + std::to_string(k_max_password_length) + " characters long";
  return std::nullopt;
}

password_policy::password_policy(std::string dictionary)
    : dictionary_(dictionary.empty() ? std::string(GetDefaultCracklibDict()) : std::move(dictionary)) {}

void password_policy::check_dictionary() const {
  for (const char* suffix : {".pwd", ".pwi", ".hwm"})
    if (::access((dictionary_ + suffix).c_str(), R_OK) != 0)
      throw std::runtime_error("the password dictionary " + dictionary_ + suffix +
                               " cannot be read (install cracklib-runtime, or set REEL_PASSWORD_DICTIONARY)");
}

std::optional<std::string> password_policy::weakness(std::string_view password, std::string_view email,
                                                     std::string_view name) const {
  if (auto shape = shape_problem(password)) return "it " + *shape;
  std::string pw(trimmed(password));
  std::string user = local_part(email);
  std::string gecos(name);
  if (user.empty()) user = "-";  // cracklib otherwise checks the server's own Unix account
  std::lock_guard lock(mutex_);
  auto check = [&](const std::string& candidate) -> std::optional<std::string> {
    const char* why = FascistCheckUser(candidate.c_str(), dictionary_.c_str(), user.c_str(), gecos.c_str());
    if (!why) return std::nullopt;
    std::string reason(why);
    if (reason.starts_with("error loading dictionary")) throw std::runtime_error(reason);
    return reason;
  };
  if (auto why = check(pw)) return why;
  // What is left once the usual disguises are undone must not be a word a
  // guesser tries first either; only its being a dictionary word or a
  // simple sequence counts (it may well be short: "sunshine").
  std::string plain = unleet(pw);
  for (std::string candidate : {plain, std::string(core_word(pw)), std::string(core_word(plain))}) {
    if (candidate.size() < 4 || candidate == pw) continue;
    auto why = check(candidate);
    if (why && (why->find("dictionary word") != std::string::npos || why->find("simplistic") != std::string::npos ||
                why->find("username") != std::string::npos || why->find("password entry") != std::string::npos))
      return *why + " (once digits, symbols and look-alike characters are set aside)";
  }
  return std::nullopt;
}

}  // namespace reel::auth
