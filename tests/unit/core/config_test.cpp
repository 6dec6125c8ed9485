#include "core/config.hpp"

#include <gtest/gtest.h>

using reel::config_error;
using reel::load_config;

TEST(config, defaults_match_the_api_contract) {
  auto c = load_config({}, {});
  EXPECT_EQ(c.host, "0.0.0.0");
  EXPECT_EQ(c.port, 8080);
  EXPECT_EQ(c.data_dir, "./data");
  EXPECT_EQ(c.workers, 1u);
  EXPECT_EQ(c.max_upload_bytes, 10737418240ULL);
  EXPECT_EQ(c.threadpool_size, 4u);
  EXPECT_EQ(c.log_level, reel::log::level::info);
  EXPECT_TRUE(c.cors_origins.empty());
}

TEST(config, environment_is_read_and_flags_win) {
  auto c = load_config({{"REEL_PORT", "9000"}, {"REEL_THREADPOOL_SIZE", "8"}, {"PATH", "/bin"}},
                       {"--port", "9100", "--log-level=debug"});
  EXPECT_EQ(c.port, 9100);
  EXPECT_EQ(c.threadpool_size, 8u);
  EXPECT_EQ(c.log_level, reel::log::level::debug);
}

TEST(config, cors_origins_are_split_and_trimmed) {
  auto c = load_config({{"REEL_CORS_ORIGINS", "https://a.example, http://localhost:3000"}}, {});
  ASSERT_EQ(c.cors_origins.size(), 2u);
  EXPECT_EQ(c.cors_origins[1], "http://localhost:3000");
}

namespace {
std::string failure(const std::map<std::string, std::string>& env, const std::vector<std::string>& args) {
  try {
    load_config(env, args);
  } catch (const config_error& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST(config, bad_values_stop_with_a_sentence_naming_the_setting) {
  EXPECT_EQ(failure({{"REEL_PORT", "http"}}, {}),
            "The environment variable REEL_PORT must be an integer from 0 to 65535, got \"http\".");
  EXPECT_EQ(failure({}, {"--port", "70000"}), "The flag --port must be an integer from 0 to 65535, got \"70000\".");
  EXPECT_NE(failure({{"REEL_THREADPOOL_SIZE", "0"}}, {}).find("REEL_THREADPOOL_SIZE"), std::string::npos);
  EXPECT_NE(failure({{"REEL_LOG_LEVEL", "loud"}}, {}).find("one of debug, info, warn, error"), std::string::npos);
  EXPECT_NE(failure({{"REEL_CORS_ORIGINS", "*"}}, {}).find("origins"), std::string::npos);
  EXPECT_NE(failure({{"REEL_DATABASE_URL", "mysql://x"}}, {}).find("sqlite:///path"), std::string::npos);
  EXPECT_NE(failure({{"REEL_SECRET_KEY", "short"}}, {}).find("at least 32"), std::string::npos);
  EXPECT_NE(failure({{"REEL_MAX_UPLOAD_BYTES", "-1"}}, {}).find("REEL_MAX_UPLOAD_BYTES"), std::string::npos);
  EXPECT_NE(failure({{"REEL_WORKERS", "1x"}}, {}).find("REEL_WORKERS"), std::string::npos);
}

TEST(config, unknown_settings_and_missing_values_are_refused) {
  EXPECT_NE(failure({{"REEL_PROT", "1"}}, {}).find("Unknown setting REEL_PROT"), std::string::npos);
  EXPECT_NE(failure({}, {"--prot", "1"}).find("Unknown flag --prot"), std::string::npos);
  EXPECT_NE(failure({}, {"--port"}).find("needs a value"), std::string::npos);
  EXPECT_NE(failure({}, {"serve"}).find("Unexpected argument"), std::string::npos);
}

TEST(config, realtime_limits_and_trusted_proxies) {
  auto d = load_config({}, {});
  EXPECT_EQ(d.realtime_max_per_address, 64u);
  EXPECT_EQ(d.realtime_connect_timeout, std::chrono::milliseconds(45'000));
  EXPECT_TRUE(d.trusted_proxies.empty());
  auto c = load_config(
      {{"REEL_TRUSTED_PROXIES", "10.0.0.0/8, 192.168.1.7,fd00::/8"}, {"REEL_REALTIME_MAX_PER_ADDRESS", "0"}},
      {"--realtime-connect-timeout-ms", "500"});
  ASSERT_EQ(c.trusted_proxies.size(), 3u);
  EXPECT_EQ(c.trusted_proxies[0], *reel::parse_ip_network("10.0.0.0/8"));
  EXPECT_EQ(c.trusted_proxies[1].prefix, 32u);
  EXPECT_EQ(c.realtime_max_per_address, 0u);
  EXPECT_EQ(c.realtime_connect_timeout, std::chrono::milliseconds(500));
  EXPECT_EQ(failure({{"REEL_TRUSTED_PROXIES", "10.0.0.0/8,proxy.internal"}}, {}),
            "The environment variable REEL_TRUSTED_PROXIES must be a comma-separated list of IP addresses or CIDR "
            "networks like 10.0.0.0/8, got \"proxy.internal\".");
  EXPECT_NE(failure({{"REEL_REALTIME_MAX_PER_ADDRESS", "-1"}}, {}).find("REEL_REALTIME_MAX_PER_ADDRESS"),
            std::string::npos);
  EXPECT_NE(failure({}, {"--realtime-connect-timeout-ms", "5"}).find("--realtime-connect-timeout-ms"),
            std::string::npos);
}
