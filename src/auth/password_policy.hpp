// Which passwords reel refuses (OWASP ASVS 2.1): fewer than 8 characters
// once leading and trailing whitespace is set aside, only whitespace, and
// passwords a guesser tries first — checked with cracklib (Debian's
// `cracklib-runtime` dictionary), also after undoing l33t substitutions and
// setting aside digits and symbols around a word ("P@ssw0rd", "sunshine2020"),
// and against the person's own email and name.
#pragma once

#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace reel::auth {

// The shape rules, cheap enough for the event loop: nullopt when
// `password` passes, else why not ("must be at least 8 characters long").
std::optional<std::string> shape_problem(std::string_view password);

class password_policy {
 public:
  // `dictionary`: cracklib's dictionary path without its .pwd/.pwi/.hwm
  // suffix; empty: cracklib's default (/var/cache/cracklib/cracklib_dict).
  explicit password_policy(std::string dictionary = {});

  // Throws std::runtime_error naming the path when the dictionary cannot be read.
  void check_dictionary() const;

  // Why `password` is refused ("it is based on a dictionary word"), or
  // nullopt. `email` and `name` are the person's own. Blocking (a fraction
  // of a millisecond of file reads): call it off the event loop. Thread-safe
  // (cracklib is not: calls are serialized).
  std::optional<std::string> weakness(std::string_view password, std::string_view email = {},
                                      std::string_view name = {}) const;

  const std::string& dictionary() const noexcept { return dictionary_; }

 private:
  std::string dictionary_;
  mutable std::mutex mutex_;
};

}  // namespace reel::auth
