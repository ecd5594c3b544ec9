// `serve --config FILE.toml`: keys, spellings, tables, errors, precedence.
#include "tensorgraph/serve/config.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "support/shared_data.hpp"

namespace tensorgraph::serve {
namespace {

using ::testing::HasSubstr;

std::string error_of(std::string_view toml) {
  try {
    parse_serve_config(toml, "serve.toml");
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

TEST(ServeConfig, EveryKey) {
  const ServeConfig c = parse_serve_config(R"(
model = "lexicon"
model_dir = "models/x"
lexicon = "data/lexicon/mvp.txt"
host = "0.0.0.0"
port = 9000
max_batch = 16
max_wait_ms = 2.5
max_input_chars = 1000
max_request_bytes = 65536
max_concurrent_requests = 8
max_client_batch_size = 4
timeout_s = 3
log_inputs = true
)",
                                           "serve.toml");
  EXPECT_EQ(c.model, "lexicon");
  EXPECT_EQ(c.model_dir, "models/x");
  EXPECT_EQ(c.lexicon, "data/lexicon/mvp.txt");
  EXPECT_EQ(c.host, "0.0.0.0");
  EXPECT_EQ(c.port, 9000);
  EXPECT_EQ(c.max_batch, 16);
  EXPECT_EQ(c.max_wait_ms, 2.5);
  EXPECT_EQ(c.max_input_chars, 1000);
  EXPECT_EQ(c.max_request_bytes, 65536);
  EXPECT_EQ(c.max_concurrent_requests, 8);
  EXPECT_EQ(c.max_client_batch_size, 4);
  EXPECT_EQ(c.timeout_s, 3.0);  // an integer where a number is expected
  EXPECT_EQ(c.log_inputs, true);

  const ServerOptions o = server_options(c);
  EXPECT_EQ(o.host, "0.0.0.0");
  EXPECT_EQ(o.port, 9000);
  EXPECT_EQ(o.max_batch, 16u);
  EXPECT_EQ(o.max_wait_ms, 2.5);
  EXPECT_EQ(o.max_input_chars, 1000u);
  EXPECT_EQ(o.max_request_bytes, 65536u);
  EXPECT_EQ(o.max_concurrent_requests, 8u);
  EXPECT_EQ(o.max_client_batch_size, 4u);
  EXPECT_EQ(o.timeout_s, 3.0);
  EXPECT_TRUE(o.log_inputs);
}

TEST(ServeConfig, DashesAndTheServerTable) {
  const ServeConfig c = parse_serve_config(R"(
max-batch = 8
[server]
host = "::1"
max-wait-ms = 1
)",
                                           "serve.toml");
  EXPECT_EQ(c.max_batch, 8);
  EXPECT_EQ(c.host, "::1");
  EXPECT_EQ(c.max_wait_ms, 1.0);
}

TEST(ServeConfig, DefaultsWhenEmpty) {
  const ServerOptions o = server_options(parse_serve_config("", "serve.toml"));
  const ServerOptions d;
  EXPECT_EQ(o.host, "127.0.0.1");
  EXPECT_EQ(o.port, 8080);
  EXPECT_EQ(o.max_batch, d.max_batch);
  EXPECT_EQ(o.max_request_bytes, 2'000'000u);
}

TEST(ServeConfig, ErrorsNameTheFileLineAndKey) {
  EXPECT_THAT(error_of("\nmax_batchsize = 3"),
              HasSubstr("serve.toml:2: unknown key `max_batchsize` (known keys: model, "));
  EXPECT_EQ(error_of("port = \"8080\""), "serve.toml:1: `port` must be an integer, not a string");
  EXPECT_EQ(error_of("max_wait_ms = true"),
            "serve.toml:1: `max_wait_ms` must be a number, not a boolean");
  EXPECT_EQ(error_of("log_inputs = 1"),
            "serve.toml:1: `log_inputs` must be true or false, not an integer");
  EXPECT_EQ(error_of("host = 1"), "serve.toml:1: `host` must be a string, not an integer");
  EXPECT_THAT(error_of("[other]\nx = 1"), HasSubstr("unknown key `other`"));
  EXPECT_THAT(error_of("port = "), HasSubstr("serve.toml:1: "));
}

TEST(ServeConfig, OutOfRangeValues) {
  auto options_error = [](ServeConfig c) {
    try {
      server_options(c);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  ServeConfig c;
  c.max_batch = 0;
  EXPECT_EQ(options_error(c), "--max-batch must be between 1 and 4096, got 0");
  c = {};
  c.port = 70000;
  EXPECT_EQ(options_error(c), "--port must be between 0 and 65535, got 70000");
  c = {};
  c.max_request_bytes = -1;
  EXPECT_EQ(options_error(c), "--max-request-bytes must not be negative, got -1");
  c = {};
  c.timeout_s = 0;
  EXPECT_THAT(options_error(c), HasSubstr("--timeout-s must be between"));
  c = {};
  c.host = "";
  EXPECT_EQ(options_error(c), "--host must not be empty");
}

TEST(ServeConfig, CommandLineOverridesTheFile) {
  ServeConfig file = parse_serve_config("port = 9000\nmax_batch = 8\nlog_inputs = true", "f");
  ServeConfig cli;
  cli.max_batch = 16;
  const ServeConfig merged = merge(file, cli);
  EXPECT_EQ(merged.port, 9000);
  EXPECT_EQ(merged.max_batch, 16);
  EXPECT_EQ(merged.log_inputs, true);
}

TEST(ServeConfig, ReadsAFile) {
  tensorgraph::testing::TempDir dir;
  const auto path = dir / "serve.toml";
  std::ofstream(path) << "port = 1234\n";
  EXPECT_EQ(read_serve_config(path).port, 1234);
  EXPECT_THAT(
      [&] {
        try {
          read_serve_config(dir / "missing.toml");
        } catch (const Error& e) {
          return std::string(e.what());
        }
        return std::string();
      }(),
      HasSubstr("missing.toml: cannot open the configuration file"));
}

}  // namespace
}  // namespace tensorgraph::serve
