#include "tensorgraph/serve/config.hpp"

#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <toml++/toml.h>

#include "tensorgraph/core/error.hpp"

namespace tensorgraph::serve {
namespace {

constexpr std::string_view kKeys =
    "model, model_dir, lexicon, host, port, max_batch, max_wait_ms, max_input_chars, "
    "max_request_bytes, max_concurrent_requests, max_client_batch_size, timeout_s, log_inputs";

std::string_view type_name(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a number";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::table:
      return "a table";
    case toml::node_type::array:
      return "an array";
    default:
      return "a date or time";
  }
}

class Reader {
 public:
  explicit Reader(std::string name) : name_(std::move(name)) {}

  void table(const toml::table& t, bool top) {
    for (const auto& [raw_key, node] : t) {
      std::string key(raw_key.str());
      for (char& c : key)
        if (c == '-') c = '_';
      if (top && (key == "server" || key == "serve") && node.is_table()) {
        table(*node.as_table(), false);
        continue;
      }
      value(key, node);
    }
  }

  ServeConfig config;

 private:
  [[noreturn]] void wrong(const std::string& key, const toml::node& node, std::string_view want) {
    fail("{}:{}: `{}` must be {}, not {}", name_, node.source().begin.line, key, want,
         type_name(node));
  }
  std::string text(const std::string& key, const toml::node& node) {
    if (auto v = node.value<std::string>(); v && node.is_string()) return *v;
    wrong(key, node, "a string");
  }
  std::int64_t integer(const std::string& key, const toml::node& node) {
    if (!node.is_integer()) wrong(key, node, "an integer");
    return *node.value<std::int64_t>();
  }
  double number(const std::string& key, const toml::node& node) {
    if (!node.is_number()) wrong(key, node, "a number");
    return *node.value<double>();
  }
  bool boolean(const std::string& key, const toml::node& node) {
    if (!node.is_boolean()) wrong(key, node, "true or false");
    return *node.value<bool>();
  }

  void value(const std::string& key, const toml::node& node) {
    ServeConfig& c = config;
    if (key == "model")
      c.model = text(key, node);
    else if (key == "model_dir")
      c.model_dir = text(key, node);
    else if (key == "lexicon")
      c.lexicon = text(key, node);
    else if (key == "host")
      c.host = text(key, node);
    else if (key == "port")
      c.port = integer(key, node);
    else if (key == "max_batch")
      c.max_batch = integer(key, node);
    else if (key == "max_wait_ms")
      c.max_wait_ms = number(key, node);
    else if (key == "max_input_chars")
      c.max_input_chars = integer(key, node);
    else if (key == "max_request_bytes")
      c.max_request_bytes = integer(key, node);
    else if (key == "max_concurrent_requests")
      c.max_concurrent_requests = integer(key, node);
    else if (key == "max_client_batch_size")
      c.max_client_batch_size = integer(key, node);
    else if (key == "timeout_s")
      c.timeout_s = number(key, node);
    else if (key == "log_inputs")
      c.log_inputs = boolean(key, node);
    else
      fail("{}:{}: unknown key `{}` (known keys: {})", name_, node.source().begin.line, key, kKeys);
  }

  std::string name_;
};

template <typename T>
void take(std::optional<T>& base, const std::optional<T>& over) {
  if (over) base = over;
}

std::size_t positive(std::string_view name, std::int64_t value) {
  TG_CHECK(value >= 0, "--{} must not be negative, got {}", name, value);
  return static_cast<std::size_t>(value);
}

}  // namespace

ServeConfig parse_serve_config(std::string_view toml_text, const std::string& name) {
  toml::table table;
  try {
    table = toml::parse(toml_text, name);
  } catch (const toml::parse_error& e) {
    fail("{}:{}: {}", name, e.source().begin.line, e.description());
  }
  Reader reader(name);
  reader.table(table, true);
  return reader.config;
}

ServeConfig read_serve_config(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  TG_CHECK(in.good(), "{}: cannot open the configuration file", path.string());
  std::ostringstream content;
  content << in.rdbuf();
  return parse_serve_config(content.str(), path.string());
}

ServeConfig merge(ServeConfig base, const ServeConfig& over) {
  take(base.model, over.model);
  take(base.model_dir, over.model_dir);
  take(base.lexicon, over.lexicon);
  take(base.host, over.host);
  take(base.port, over.port);
  take(base.max_batch, over.max_batch);
  take(base.max_input_chars, over.max_input_chars);
  take(base.max_request_bytes, over.max_request_bytes);
  take(base.max_concurrent_requests, over.max_concurrent_requests);
  take(base.max_client_batch_size, over.max_client_batch_size);
  take(base.max_wait_ms, over.max_wait_ms);
  take(base.timeout_s, over.timeout_s);
  take(base.log_inputs, over.log_inputs);
  return base;
}

ServerOptions server_options(const ServeConfig& c) {
  ServerOptions o;
  if (c.host) o.host = *c.host;
  if (c.port) {
    TG_CHECK(*c.port >= 0 && *c.port <= 65535, "--port must be between 0 and 65535, got {}",
             *c.port);
    o.port = static_cast<int>(*c.port);
  }
  if (c.max_batch) o.max_batch = positive("max-batch", *c.max_batch);
  if (c.max_wait_ms) o.max_wait_ms = *c.max_wait_ms;
  if (c.max_input_chars) o.max_input_chars = positive("max-input-chars", *c.max_input_chars);
  if (c.max_request_bytes)
    o.max_request_bytes = positive("max-request-bytes", *c.max_request_bytes);
  if (c.max_concurrent_requests)
    o.max_concurrent_requests = positive("max-concurrent-requests", *c.max_concurrent_requests);
  if (c.max_client_batch_size)
    o.max_client_batch_size = positive("max-client-batch-size", *c.max_client_batch_size);
  if (c.timeout_s) o.timeout_s = *c.timeout_s;
  if (c.log_inputs) o.log_inputs = *c.log_inputs;
  o.validate();
  return o;
}

}  // namespace tensorgraph::serve
