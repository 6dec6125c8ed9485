// The string forms of the model's enums: only the database and the JSON
// boundaries use them.
#include "model/accounts.hpp"
#include "model/videos.hpp"

#include <array>
#include <utility>

namespace reel::model {

namespace {

template <class E, std::size_t N>
std::optional<E> parse(const std::array<std::pair<E, std::string_view>, N>& names, std::string_view text) noexcept {
  for (const auto& [value, name] : names)
    if (name == text) return value;
  return std::nullopt;
}

template <class E, std::size_t N>
std::string_view name_of(const std::array<std::pair<E, std::string_view>, N>& names, E e) noexcept {
  for (const auto& [value, name] : names)
    if (value == e) return name;
  return "unknown";
}

constexpr std::array<std::pair<role, std::string_view>, 4> k_roles{
    {{role::owner, "owner"}, {role::admin, "admin"}, {role::member, "member"}, {role::viewer, "viewer"}}};
constexpr std::array<std::pair<video_status, std::string_view>, 5> k_statuses{{{video_status::uploading, "uploading"},
                                                                               {video_status::queued, "queued"},
                                                                               {video_status::processing, "processing"},
                                                                               {video_status::ready, "ready"},
                                                                               {video_status::failed, "failed"}}};
constexpr std::array<std::pair<job_state, std::string_view>, 5> k_states{{{job_state::queued, "queued"},
                                                                          {job_state::running, "running"},
                                                                          {job_state::succeeded, "succeeded"},
                                                                          {job_state::failed, "failed"},
                                                                          {job_state::cancelled, "cancelled"}}};
constexpr std::array<std::pair<visibility, std::string_view>, 3> k_visibilities{
    {{visibility::private_, "private"}, {visibility::unlisted, "unlisted"}, {visibility::public_, "public"}}};

}  // namespace

std::optional<role> parse_role(std::string_view text) noexcept { return parse(k_roles, text); }
std::string_view role_name(role r) noexcept { return name_of(k_roles, r); }
std::optional<video_status> parse_video_status(std::string_view text) noexcept { return parse(k_statuses, text); }
std::string_view status_name(video_status s) noexcept { return name_of(k_statuses, s); }
std::optional<job_state> parse_job_state(std::string_view text) noexcept { return parse(k_states, text); }
std::string_view state_name(job_state s) noexcept { return name_of(k_states, s); }
std::optional<visibility> parse_visibility(std::string_view text) noexcept { return parse(k_visibilities, text); }
std::string_view visibility_name(visibility v) noexcept { return name_of(k_visibilities, v); }

}  // namespace reel::model
