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

TEST(config, metrics_access_and_the_thumbnail_cache) {
  auto c = load_config({}, {});
  EXPECT_TRUE(c.metrics_token.empty());
  EXPECT_EQ(c.metrics_port, 0);
  EXPECT_EQ(c.thumbnail_cache_bytes, 256ULL << 20);
  c = load_config({{"REEL_METRICS_ADDRESS", "127.0.0.1:9464"}, {"REEL_METRICS_TOKEN", "0123456789abcdef"}},
                  {"--thumbnail-cache-bytes", "1048576"});
  EXPECT_EQ(c.metrics_host, "127.0.0.1");
  EXPECT_EQ(c.metrics_port, 9464);
  EXPECT_EQ(c.metrics_token, "0123456789abcdef");
  EXPECT_EQ(c.thumbnail_cache_bytes, 1048576u);
  c = load_config({}, {"--metrics-address", "[::1]:9100"});
  EXPECT_EQ(c.metrics_host, "::1");
  for (const char* bad : {"9464", ":9464", "host:", "host:0", "host:70000", "a b:1", "127.0.0.1:x"})
    EXPECT_NE(failure({{"REEL_METRICS_ADDRESS", bad}}, {}).find("REEL_METRICS_ADDRESS must be host:port"),
              std::string::npos)
        << bad;
  for (const char* bad : {"short", "with a space in the token", ""}) {
    auto why = failure({{"REEL_METRICS_TOKEN", bad}}, {});
    EXPECT_NE(why.find("16 to 256 characters"), std::string::npos) << bad;
    if (*bad) {
      EXPECT_EQ(why.find(bad), std::string::npos) << "the token must not be echoed";
    }
  }
  EXPECT_NE(failure({}, {"--thumbnail-cache-bytes", "10"}).find("--thumbnail-cache-bytes"), std::string::npos);
}
