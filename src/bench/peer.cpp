#include "tensorgraph/bench/peer.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>

#include <fmt/format.h>

namespace tensorgraph::bench {

namespace {

Rows rows_from_json(const nlohmann::json& j, const std::string& what) {
  TG_CHECK(j.is_array(), "{}: expected an array of rows", what);
  Rows rows;
  for (const auto& row : j) {
    TG_CHECK(row.is_array(), "{}: expected an array of rows", what);
    std::vector<double> r;
    r.reserve(row.size());
    for (const auto& x : row) {
      TG_CHECK(x.is_number(), "{}: a value is not a number: {}", what, x.dump());
      r.push_back(x.get<double>());
    }
    rows.push_back(std::move(r));
  }
  return rows;
}

}  // namespace

PeerImplementation::PeerImplementation(PeerOptions options) : options_(std::move(options)) {
  info_.name = options_.name;
  info_.type = "peer";
  info_.description = options_.description;
  info_.threads = options_.threads;
  info_.rss_scope = "peer process";
  info_.settings["command"] = quote_command(options_.command);
  if (!options_.process.set_env.empty()) info_.settings["env_set"] = options_.process.set_env;
  if (!options_.process.unset_env.empty()) info_.settings["env_unset"] = options_.process.unset_env;
}

PeerImplementation::~PeerImplementation() = default;

void PeerImplementation::peer_failed(const std::string& what) {
  std::string tail = child_ ? child_->stderr_tail() : std::string();
  std::string status;
  // A child that closed its output is exiting: wait a moment for its status.
  if (child_ && (child_->output_closed() || !child_->running()))
    status = " (" + child_->wait(2).describe() + ")";
  fail("peer '{}' {}{}{}", options_.name, what, status,
       tail.empty() ? "" : "; its standard error ends with:\n" + tail);
}

void PeerImplementation::start() {
  try {
    child_ = std::make_unique<ChildProcess>(options_.command, options_.process);
  } catch (const Error& e) {
    throw Unavailable(fmt::format("skipped: not installed ({})", e.what()));
  }
  std::optional<std::string> line;
  try {
    line = child_->read_line(options_.startup_timeout_s);
  } catch (const Error& e) {
    peer_failed(fmt::format("did not start: {}", e.what()));
  }
  const double cold =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - child_->started()).count();
  if (!line) peer_failed("exited before saying it was ready");
  nlohmann::json hello;
  try {
    hello = nlohmann::json::parse(*line);
  } catch (const nlohmann::json::exception&) {
    peer_failed(
        fmt::format("said something that is not JSON instead of ready: {}", line->substr(0, 300)));
  }
  if (!hello.is_object() || !hello.value("ready", false)) {
    const std::string error =
        hello.is_object() && hello.contains("error") && hello["error"].is_string()
            ? hello["error"].get<std::string>()
            : line->substr(0, 300);
    if (error.rfind("skipped", 0) == 0) throw Unavailable(error);
    peer_failed(fmt::format("is not ready: {}", error));
  }
  info_.cold_start_s = cold;
  if (hello.contains("load_s") && hello["load_s"].is_number())
    info_.self_load_s = hello["load_s"].get<double>();
  if (hello.contains("version") && hello["version"].is_string())
    info_.version = hello["version"].get<std::string>();
  if (hello.contains("inputs") && hello["inputs"].is_array()) {
    inputs_.clear();
    for (const auto& i : hello["inputs"])
      if (i.is_string()) inputs_.push_back(i.get<std::string>());
  }
  nlohmann::json reported = hello;
  reported.erase("ready");
  reported.erase("load_s");
  info_.settings["reported"] = reported;
}

bool PeerImplementation::supports(const Case& c) const {
  return std::find(inputs_.begin(), inputs_.end(), c.input) != inputs_.end();
}

nlohmann::json PeerImplementation::request(const nlohmann::json& message, double timeout_s) {
  TG_CHECK(child_, "peer '{}' was not started", options_.name);
  try {
    child_->write_line(message.dump());
  } catch (const Error& e) {
    peer_failed(fmt::format("stopped taking requests: {}", e.what()));
  }
  std::optional<std::string> line;
  try {
    line = child_->read_line(timeout_s);
  } catch (const Error& e) {
    peer_failed(e.what());
  }
  if (!line)
    peer_failed(fmt::format("exited instead of answering op '{}'", message.value("op", "")));
  nlohmann::json reply;
  try {
    reply = nlohmann::json::parse(*line);
  } catch (const nlohmann::json::exception&) {
    peer_failed(fmt::format("answered something that is not JSON: {}", line->substr(0, 300)));
  }
  if (!reply.is_object())
    peer_failed(fmt::format("answered a non-object: {}", line->substr(0, 300)));
  if (reply.contains("error"))
    peer_failed(fmt::format(
        "answered an error to op '{}': {}", message.value("op", ""),
        reply["error"].is_string() ? reply["error"].get<std::string>() : reply["error"].dump()));
  return reply;
}

Rows PeerImplementation::outputs(const Case& c) {
  nlohmann::json message = c.request;
  message["op"] = "logits";
  const nlohmann::json reply = request(message, options_.timeout_s);
  if (!reply.contains("logits")) peer_failed("answered op 'logits' without \"logits\"");
  try {
    return rows_from_json(reply["logits"],
                          fmt::format("peer '{}', case '{}'", options_.name, c.name));
  } catch (const Error& e) {
    peer_failed(e.what());
  }
}

std::vector<double> PeerImplementation::time(const Case& c, int warmup, int iterations) {
  nlohmann::json message = c.request;
  message["op"] = "time";
  message["warmup"] = warmup;
  message["iters"] = iterations;
  const nlohmann::json reply = request(message, options_.timeout_s);
  if (!reply.contains("times_ms") || !reply["times_ms"].is_array())
    peer_failed("answered op 'time' without a \"times_ms\" array");
  std::vector<double> times;
  for (const auto& t : reply["times_ms"]) {
    if (!t.is_number() || !std::isfinite(t.get<double>()) || t.get<double>() < 0)
      peer_failed(fmt::format("answered a time that is not a duration: {}", t.dump()));
    times.push_back(t.get<double>());
  }
  if (times.size() != static_cast<std::size_t>(iterations))
    peer_failed(fmt::format("answered {} times for {} iterations", times.size(), iterations));
  return times;
}

void PeerImplementation::stop() {
  if (!child_) return;
  if (child_->running()) {
    try {
      child_->write_line(R"({"op": "quit"})");
    } catch (const Error&) {
      // it exited already: wait() below reports how
    }
    child_->close_stdin();
  }
  const ExitStatus status = child_->wait(30);
  info_.peak_rss_mib = status.peak_rss_mib;
  if (status.exit_code != 0) info_.settings["exit"] = status.describe();
  child_.reset();
}

}  // namespace tensorgraph::bench
