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
  EXPECT_EQ(c.max_connections_per_address, 256u);
  EXPECT_EQ(load_config({{"REEL_MAX_CONNECTIONS_PER_ADDRESS", "0"}}, {}).max_connections_per_address, 0u);
  EXPECT_NE(failure({}, {"--max-connections-per-address", "-1"}).find("--max-connections-per-address"),
            std::string::npos);
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

TEST(config, processing_limits_default_to_4k_120_fps_6_hours_and_4096_mib) {
  auto c = load_config({}, {});
  EXPECT_EQ(c.max_video_pixels, 4096 * 2304);
  EXPECT_EQ(c.max_video_fps, 120);
  EXPECT_EQ(c.max_video_seconds, std::chrono::hours(6));
  EXPECT_EQ(c.ffmpeg_memory_mb, 4096u);
}

TEST(config, processing_limits_are_read_as_sizes_numbers_and_seconds) {
  auto c = load_config({{"REEL_MAX_VIDEO_PIXELS", "1920x1080"}, {"REEL_MAX_VIDEO_FPS", "59.94"}},
                       {"--max-video-seconds", "3600", "--ffmpeg-memory-mb=2048"});
  EXPECT_EQ(c.max_video_pixels, 1920 * 1080);
  EXPECT_DOUBLE_EQ(c.max_video_fps, 59.94);
  EXPECT_EQ(c.max_video_seconds, std::chrono::seconds(3600));
  EXPECT_EQ(c.ffmpeg_memory_mb, 2048u);
  EXPECT_EQ(load_config({{"REEL_MAX_VIDEO_PIXELS", "2073600"}}, {}).max_video_pixels, 2073600);
  EXPECT_EQ(load_config({}, {"--max-video-pixels", "640X480"}).max_video_pixels, 640 * 480);
  EXPECT_EQ(load_config({}, {"--max-video-fps", "30"}).max_video_fps, 30);
}

TEST(config, bad_processing_limits_stop_with_a_sentence) {
  for (const char* bad : {"", "x", "4096x", "x2304", "0x100", "100x0", "-1", "4096x2304x2", "4096*2304", "1e6",
                          "20000x10", "0", "4096 x 2304"})
    EXPECT_NE(failure({{"REEL_MAX_VIDEO_PIXELS", bad}}, {})
                  .find("The environment variable REEL_MAX_VIDEO_PIXELS must be a picture size like 4096x2304"),
              std::string::npos)
        << bad;
  for (const char* bad : {"", "0", "fast", "-5", "1001", "nan", "inf", "30fps", "1e2"})
    EXPECT_NE(
        failure({}, {"--max-video-fps", bad}).find("The flag --max-video-fps must be a number of frames a second"),
        std::string::npos)
        << bad;
  for (const char* bad : {"", "0", "6h", "1.5", "-1", "604801"})
    EXPECT_NE(failure({{"REEL_MAX_VIDEO_SECONDS", bad}}, {}).find("REEL_MAX_VIDEO_SECONDS must be a number of seconds"),
              std::string::npos)
        << bad;
  for (const char* bad : {"", "255", "4G", "-1"})
    EXPECT_NE(failure({{"REEL_FFMPEG_MEMORY_MB", bad}}, {}).find("REEL_FFMPEG_MEMORY_MB must be a number of MiB"),
              std::string::npos)
        << bad;
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

TEST(config, the_password_hash_cost_is_never_below_owasps_least) {
  auto c = load_config({{"REEL_PASSWORD_HASH_MEMORY_MIB", "19"}}, {"--password-hash-passes", "2"});
  EXPECT_EQ(c.password_hash_memory_mib, 19u);
  EXPECT_EQ(c.password_hash_passes, 2u);
  auto d = load_config({}, {});
  EXPECT_EQ(d.password_hash_memory_mib, 64u);
  EXPECT_EQ(d.password_hash_passes, 3u);
  EXPECT_EQ(failure({{"REEL_PASSWORD_HASH_MEMORY_MIB", "18"}}, {}),
            "The environment variable REEL_PASSWORD_HASH_MEMORY_MIB must be an integer from 19 to 4096, got \"18\".");
  EXPECT_EQ(failure({}, {"--password-hash-passes", "1"}),
            "The flag --password-hash-passes must be an integer from 2 to 16, got \"1\".");
  EXPECT_NE(failure({{"REEL_PASSWORD_HASH_MEMORY_MIB", "4097"}}, {}), "");
  EXPECT_NE(failure({{"REEL_PASSWORD_HASH_PASSES", "3x"}}, {}), "");
}
