#pragma once
// `tensorgraph serve --config FILE.toml`: the options of the command as TOML keys, at the top
// level or in a [server] table, spelled with '-' or '_':
//
//   model = "lexicon"            # auto | distilbert | lexicon
//   model_dir = "models/distilbert-sentiment"
//   lexicon = "data/lexicon/sst2-learned.tsv"
//   host = "0.0.0.0"
//   port = 8080
//   max_batch = 32
//   max_wait_ms = 5
//   max_input_chars = 20000
//   max_request_bytes = 2000000
//   max_concurrent_requests = 128
//   max_client_batch_size = 256
//   timeout_s = 30
//   log_inputs = false
//
// Options given on the command line override the file. Unknown keys and wrong types are errors
// naming the file and the key (a typo must not silently fall back to a default).
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "tensorgraph/serve/server.hpp"

namespace tensorgraph::serve {

struct ServeConfig {
  std::optional<std::string> model, model_dir, lexicon, host;
  std::optional<std::int64_t> port, max_batch, max_input_chars, max_request_bytes,
      max_concurrent_requests, max_client_batch_size;
  std::optional<double> max_wait_ms, timeout_s;
  std::optional<bool> log_inputs;
};

ServeConfig read_serve_config(const std::filesystem::path& path);
ServeConfig parse_serve_config(std::string_view toml, const std::string& name);

// Each field of `over` that is set replaces the one of `base`.
ServeConfig merge(ServeConfig base, const ServeConfig& over);

// The server options of a configuration: its values over ServerOptions' defaults, checked
// (ServerOptions::validate). Negative numbers are errors.
ServerOptions server_options(const ServeConfig& config);

}  // namespace tensorgraph::serve
