#include "api/guard.hpp"

#include "api/input.hpp"
#include "db/migrations.hpp"
#include "support/run.hpp"

#include <gtest/gtest.h>
#include <boost/json/parse.hpp>

#include <filesystem>

using namespace reel;
namespace asio = boost::asio;

namespace {

// A guard whose principal is set on the context beforehand, so the database is never asked.
class guard_test : public ::testing::Test {
 protected:
  guard_test()
      : dir_(std::filesystem::temp_directory_path() / ("reel-guard-" + std::to_string(::getpid()))),
        pool_(1),
        database_((std::filesystem::create_directories(dir_), db::open_database("", dir_.string(), 1))),
        db_(pool_, *database_),
        accounts_(db_, clock_),
        guard_(accounts_) {}
  ~guard_test() override { std::filesystem::remove_all(dir_); }

  http::context ctx_with(std::vector<std::pair<std::string, std::string>> memberships) {
    http::context ctx;
    auto p = std::make_shared<model::principal>();
    p->user.id = "u1";
    for (auto& [org, role] : memberships)
      p->memberships.push_back({{org, "Org " + org, ""}, *model::parse_role(role), ""});
    ctx.principal = p;
    return ctx;
  }

  // An action that needs exactly `min` (the guard checks actions; the domain maps them to roles).
  static domain::action action_needing(model::role min) {
    for (auto a : {domain::action::view_videos, domain::action::upload_video, domain::action::manage_members})
      if (domain::required_role(a) == min) return a;
    throw std::logic_error("no action needs that role");
  }

  std::pair<unsigned, std::string> run_org(http::context& ctx, model::role min) {
    auto h = guard_.org(action_needing(min), [](http::context&) -> asio::awaitable<http::response> {
      co_return http::empty_response(http::status::no_content);
    });
    try {
      auto res = test::run(h(ctx));
      return {res.result_int(), ctx.org ? ctx.org->id : ""};
    } catch (const error& e) {
      return {http_status_of(e.code()), ""};
    }
  }

  std::filesystem::path dir_;
  worker_pool pool_;
  manual_clock clock_;
  std::unique_ptr<db::database> database_;
  db::gateway db_;
  domain::accounts accounts_;
  api::guard guard_;
};

}  // namespace

TEST_F(guard_test, without_a_header_the_oldest_membership_is_used) {
  auto ctx = ctx_with({{"o1", "viewer"}, {"o2", "owner"}});
  EXPECT_EQ(run_org(ctx, model::role::viewer), std::make_pair(204u, std::string("o1")));
  auto ctx2 = ctx_with({{"o1", "viewer"}, {"o2", "owner"}});
  EXPECT_EQ(run_org(ctx2, model::role::member).first, 403u);
}

TEST_F(guard_test, header_selects_a_membership_or_is_forbidden) {
  auto ctx = ctx_with({{"o1", "viewer"}, {"o2", "owner"}});
  ctx.req.set("X-Organization-Id", "o2");
  EXPECT_EQ(run_org(ctx, model::role::admin), std::make_pair(204u, std::string("o2")));
  auto other = ctx_with({{"o1", "owner"}});
  other.req.set("X-Organization-Id", "o9");
  EXPECT_EQ(run_org(other, model::role::viewer).first, 403u);
}

TEST_F(guard_test, path_parameter_wins_over_the_header) {
  auto ctx = ctx_with({{"o1", "admin"}, {"o2", "viewer"}});
  ctx.req.set("X-Organization-Id", "o2");
  ctx.params.add("orgId", "o1");
  EXPECT_EQ(run_org(ctx, model::role::admin), std::make_pair(204u, std::string("o1")));
}

TEST_F(guard_test, no_membership_at_all_is_forbidden) {
  auto ctx = ctx_with({});
  EXPECT_EQ(run_org(ctx, model::role::viewer).first, 403u);
}

TEST(input, email_is_trimmed_lowercased_and_checked) {
  auto email = [](const char* v) { return api::require_email(boost::json::object{{"email", v}}); };
  EXPECT_EQ(email("  Ann@Example.COM "), "ann@example.com");
  EXPECT_THROW(email("ann"), error);
  EXPECT_THROW(email("@x.com"), error);
  EXPECT_THROW(email("a@"), error);
  EXPECT_THROW(email("a@b@c"), error);
  EXPECT_THROW(email("a b@c.d"), error);
}

TEST(input, text_length_counts_characters_not_bytes) {
  boost::json::object o{{"name", "\xc3\xa9\xc3\xa9"}};  // two characters, four bytes
  EXPECT_EQ(api::require_text(o, "name", {.min_chars = 2, .max_chars = 2}), "\xc3\xa9\xc3\xa9");
  EXPECT_THROW(api::require_text(o, "name", {.min_chars = 3, .max_chars = 10}), error);
  EXPECT_THROW(api::require_text(boost::json::object{{"name", "a\x01"}}, "name"), error);
}

TEST(input, password_needs_eight_characters) {
  EXPECT_THROW(api::require_password(boost::json::object{{"password", "1234567"}}), error);
  EXPECT_THROW(api::require_password(boost::json::object{{"password", " 1234567 "}}), error);  // 7 once trimmed
  EXPECT_THROW(api::require_password(boost::json::object{{"password", "          "}}), error);
  EXPECT_EQ(api::require_password(boost::json::object{{"password", " 12345678 "}}), " 12345678 ");  // kept as sent
}
