#include "api/playback_access.hpp"

#include "api/guard.hpp"

namespace reel::api {

std::optional<std::string> playback_token(const http::context& ctx) {
  if (auto t = ctx.query("token")) return t;
  std::string_view target = ctx.req.target();
  auto q = target.find('?');
  if (q == std::string_view::npos) return std::nullopt;
  std::string query = "&" + std::string(target.substr(q + 1));
  if (query.find("&token=") != std::string::npos) return std::string("\x01");
  return std::nullopt;
}

domain::viewer_access viewer_access_of(const http::context& ctx, const std::optional<std::string>& token) {
  domain::viewer_access a;
  a.who = ctx.principal.get();
  a.named_org = named_org(ctx);
  if (token) a.token = *token;
  return a;
}

}  // namespace reel::api
