#include "auth/roles.hpp"

namespace reel::auth {

std::optional<role> parse_role(std::string_view text) noexcept {
  if (text == "owner") return role::owner;
  if (text == "admin") return role::admin;
  if (text == "member") return role::member;
  if (text == "viewer") return role::viewer;
  return std::nullopt;
}

std::string_view role_name(role r) noexcept {
  switch (r) {
    case role::owner:
      return "owner";
    case role::admin:
      return "admin";
    case role::member:
      return "member";
    case role::viewer:
      return "viewer";
  }
  return "viewer";
}

}  // namespace reel::auth
