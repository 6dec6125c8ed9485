// Organization roles, ordered: owner > admin > member > viewer.
#pragma once

#include <optional>
#include <string_view>

namespace reel::auth {

enum class role { viewer = 0, member = 1, admin = 2, owner = 3 };

std::optional<role> parse_role(std::string_view text) noexcept;
std::string_view role_name(role r) noexcept;
inline bool at_least(role have, role need) noexcept { return static_cast<int>(have) >= static_cast<int>(need); }

}  // namespace reel::auth
