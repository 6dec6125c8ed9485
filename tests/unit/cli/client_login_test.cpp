#include "cli/client_login.hpp"

#include "cli/args.hpp"

#include <gtest/gtest.h>

using reel::cli::credential;
using reel::cli::credential_kind;
using reel::cli::login_overrides;
using reel::cli::normalize_server;
using reel::cli::not_logged_in;
using reel::cli::resolve_login;
using reel::cli::usage_error;

namespace {

const credential k_stored{"http://a.example:8080", "stored-token", credential_kind::session, "org_a",
                          "ann@example.com"};

}  // namespace

TEST(cli_login, server_urls_are_normalized_and_checked) {
  EXPECT_EQ(normalize_server("http://localhost:8080/"), "http://localhost:8080");
  EXPECT_EQ(normalize_server("https://v.example/reel//"), "https://v.example/reel");
  EXPECT_THROW(normalize_server("localhost:8080"), usage_error);
  EXPECT_THROW(normalize_server("ftp://x"), usage_error);
  EXPECT_THROW(normalize_server("http://host:port"), usage_error);
}

TEST(cli_login, the_stored_login_is_used_when_nothing_overrides_it) {
  auto l = resolve_login({}, {}, k_stored, "/c/reel/credentials");
  EXPECT_EQ(l.server, "http://a.example:8080");
  EXPECT_EQ(l.token, "stored-token");
  EXPECT_EQ(l.organization_id, "org_a");
  EXPECT_EQ(l.source, "/c/reel/credentials");
  auto h = reel::cli::auth_headers(l);
  EXPECT_EQ(h.at("Authorization"), "Bearer stored-token");
  EXPECT_EQ(h.at("X-Organization-Id"), "org_a");
  // Naming the same server (spelt with a slash) keeps it.
  EXPECT_EQ(resolve_login({"http://a.example:8080/", {}, {}}, {}, k_stored, "f").token, "stored-token");
}

TEST(cli_login, the_environment_overrides_the_file) {
  auto l = resolve_login({}, {{"REEL_TOKEN", "env-token"}, {"REEL_SERVER", "http://b.example"}}, k_stored, "f");
  EXPECT_EQ(l.server, "http://b.example");
  EXPECT_EQ(l.token, "env-token");
  EXPECT_EQ(l.source, "REEL_TOKEN");
  EXPECT_EQ(l.organization_id, "");  // the stored organization belongs to the stored login
  EXPECT_EQ(l.kind, credential_kind::session);
  auto o = resolve_login({}, {{"REEL_ORG", "org_b"}}, k_stored, "f");
  EXPECT_EQ(o.organization_id, "org_b");
  EXPECT_EQ(o.token, "stored-token");
  // REEL_TOKEN alone goes to the stored server; an API key is told by its prefix.
  auto k = resolve_login({}, {{"REEL_TOKEN", "reel_sk_xyz"}}, k_stored, "f");
  EXPECT_EQ(k.server, "http://a.example:8080");
  EXPECT_EQ(k.kind, credential_kind::api_key);
  EXPECT_EQ(reel::cli::auth_headers(k).count("X-Organization-Id"), 0u);
  // Empty variables count as unset.
  EXPECT_EQ(resolve_login({}, {{"REEL_TOKEN", ""}, {"REEL_SERVER", ""}}, k_stored, "f").token, "stored-token");
}

TEST(cli_login, flags_override_the_environment) {
  auto l = resolve_login({"http://c.example", "flag-token", "org_c"},
                         {{"REEL_TOKEN", "env-token"}, {"REEL_SERVER", "http://b.example"}, {"REEL_ORG", "org_b"}},
                         k_stored, "f");
  EXPECT_EQ(l.server, "http://c.example");
  EXPECT_EQ(l.token, "flag-token");
  EXPECT_EQ(l.source, "--token");
  EXPECT_EQ(l.organization_id, "org_c");
}

TEST(cli_login, a_stored_token_is_never_sent_to_another_server) {
  EXPECT_THROW(resolve_login({"http://evil.example", {}, {}}, {}, k_stored, "f"), not_logged_in);
  EXPECT_THROW(resolve_login({}, {{"REEL_SERVER", "http://evil.example"}}, k_stored, "f"), not_logged_in);
}

TEST(cli_login, nothing_to_go_on_says_to_log_in) {
  try {
    resolve_login({}, {}, std::nullopt, "f");
    FAIL();
  } catch (const not_logged_in& e) {
    EXPECT_NE(std::string(e.what()).find("reel login"), std::string::npos);
  }
  EXPECT_THROW(resolve_login({"http://a.example", {}, {}}, {}, std::nullopt, "f"), not_logged_in);
  // A token without any server is bad usage (the message keeps `reel upload`'s old wording).
  try {
    resolve_login({{}, "t", {}}, {}, std::nullopt, "f");
    FAIL();
  } catch (const usage_error& e) {
    EXPECT_NE(std::string(e.what()).find("--server is required"), std::string::npos);
  }
  EXPECT_THROW(resolve_login({"not a url", "t", {}}, {}, std::nullopt, "f"), usage_error);
}
