#include "tensorgraph/serve/server.hpp"

#include <sys/socket.h>
#include <algorithm>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "http_connection.hpp"
#include "tensorgraph/core/build_info.hpp"
#include "tensorgraph/core/error.hpp"
#include "tensorgraph/serve/batcher.hpp"

namespace tensorgraph::serve {
namespace {

using detail::Connection;

constexpr std::size_t kSpareWorkers = 4;  // /health, /metrics and 429s when requests hold the rest
constexpr std::size_t kOverflowQueue = 256;
constexpr std::string_view kEndpoints =
    "POST /predict, POST /tokenize, GET /health, GET /info, GET /metrics";

// Printable ASCII only, at most 200 bytes: request paths and methods go into logs.
std::string printable(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 200)) out.push_back(c >= 0x20 && c < 0x7f ? c : '?');
  if (s.size() > 200) out += "...";
  return out;
}

std::string_view expected_method(Route route) {
  return route == Route::Predict || route == Route::Tokenize ? "POST" : "GET";
}

bool is_chunked(const httplib::Request& req) {
  return req.get_header_value("Transfer-Encoding").find("chunked") != std::string::npos;
}

bool has_body(const httplib::Request& req) {
  return is_chunked(req) || req.get_header_value<std::uint64_t>("Content-Length") > 0;
}

void set_error(httplib::Response& res, const ApiError& e) {
  res.status = e.status();
  res.set_content(error_json(e), "application/json");
  if (e.status() == 429) res.set_header("Retry-After", "1");
}

long long millis(double seconds) {
  return static_cast<long long>(seconds * 1000 + 0.5);
}

}  // namespace

void ServerOptions::validate() const {
  auto range = [](std::string_view name, double value, double low, double high) {
    TG_CHECK(value >= low && value <= high, "--{} must be between {} and {}, got {}", name, low,
             high, value);
  };
  TG_CHECK(!host.empty(), "--host must not be empty");
  range("port", port, 0, 65535);
  range("max-batch", static_cast<double>(max_batch), 1, 4096);
  range("max-wait-ms", max_wait_ms, 0, 60000);
  range("max-input-chars", static_cast<double>(max_input_chars), 1, 100'000'000);
  range("max-request-bytes", static_cast<double>(max_request_bytes), 64, 1e9);
  range("max-concurrent-requests", static_cast<double>(max_concurrent_requests), 1, 4096);
  range("max-client-batch-size", static_cast<double>(max_client_batch_size), 1, 1'000'000);
  range("timeout-s", timeout_s, 0.01, 3600);
  range("keep-alive-s", keep_alive_s, 0, 3600);
}

Server::Server(std::unique_ptr<ServedModel> model, ServerOptions options)
    : model_(std::move(model)), options_(std::move(options)) {
  TG_CHECK(model_ != nullptr, "serve: no model");
  options_.validate();
  limits_.max_client_batch_size = options_.max_client_batch_size;
  limits_.max_input_chars = options_.max_input_chars;

  const auto& info = model_->info();
  metrics_.set_info(info.model_id, info.kind, build_info().version);

  BatcherOptions batching;
  batching.max_batch = options_.max_batch;
  batching.max_wait =
      std::chrono::microseconds(static_cast<std::int64_t>(options_.max_wait_ms * 1000));
  batching.max_queued_requests = options_.max_concurrent_requests;
  batcher_ = std::make_unique<Batcher>(*model_, batching, &metrics_);

  detail::ConnectionLimits connection;
  connection.request_timeout =
      std::chrono::milliseconds(static_cast<std::int64_t>(options_.timeout_s * 1000));
  connection.keep_alive =
      std::chrono::milliseconds(static_cast<std::int64_t>(options_.keep_alive_s * 1000));
  http_ = std::make_unique<detail::HttpServer>(connection);
  const std::size_t workers = http_workers();
  http_->new_task_queue = [workers] {
    return new detail::BoundedTaskQueue(workers, workers, kOverflowQueue);
  };
  const auto timeout_s = static_cast<time_t>(options_.timeout_s);
  const auto timeout_us =
      static_cast<time_t>((options_.timeout_s - static_cast<double>(timeout_s)) * 1e6);
  http_->set_read_timeout(timeout_s, timeout_us);
  http_->set_write_timeout(timeout_s, timeout_us);
  http_->set_keep_alive_timeout(static_cast<time_t>(options_.keep_alive_s));
  http_->set_keep_alive_max_count(connection.keep_alive_max);
  http_->set_payload_max_length(options_.max_request_bytes);
  http_->set_tcp_nodelay(true);
  // httplib's default sets SO_REUSEPORT too, which lets a second server bind the same port and
  // silently take half of the connections: reuse TIME_WAIT addresses only.
  http_->set_socket_options([](socket_t sock) {
    const int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  http_->on_reject = [this](const std::string& remote) {
    metrics_.request_done(Route::Other, 429, 0);
    if (!options_.logger) return;
    RequestLog log;
    log.method = "-";
    log.path = "-";
    log.status = 429;
    log.remote = remote;
    options_.logger(log);
  };
  setup_routes();
}

Server::~Server() {
  stop();
  if (batcher_) batcher_->stop();
}

std::size_t Server::http_workers() const {
  return options_.max_concurrent_requests + kSpareWorkers;
}

int Server::bind() {
  if (bound_) return port_;
  errno = 0;
  if (options_.port == 0) {
    port_ = http_->bind_to_any_port(options_.host);
  } else {
    port_ = http_->bind_to_port(options_.host, options_.port) ? options_.port : -1;
  }
  if (port_ < 0) {
    const int err = errno;
    fail("cannot listen on {}:{}: {}", options_.host, options_.port,
         err ? std::strerror(err) : "not an address of this machine");
  }
  // Room for bursts of connections beyond the workers (the kernel caps it at somaxconn).
  const int backlog =
      static_cast<int>(std::clamp<std::size_t>(4 * options_.max_concurrent_requests, 128, 4096));
  http_->set_backlog(backlog);
  bound_ = true;
  return port_;
}

void Server::run() {
  if (!bound_) bind();
  http_->listen_after_bind();  // returns once stopped and every connection is closed
  batcher_->stop();
}

void Server::stop() {
  stopping_.store(true);
  if (http_) http_->stop_accepting();
  if (batcher_) batcher_->hurry();
}

std::string Server::info_json() const {
  const auto& info = model_->info();
  nlohmann::json id2label = nlohmann::json::object(), label2id = nlohmann::json::object();
  for (std::size_t i = 0; i < info.labels.size(); ++i) {
    id2label[std::to_string(i)] = info.labels[i];
    label2id[info.labels[i]] = i;
  }
  const auto& build = build_info();
  nlohmann::json max_length = nullptr, max_tokens = nullptr;
  if (info.max_input_length) {
    max_length = info.max_input_length;
    max_tokens = info.max_input_length * options_.max_batch;
  }
  nlohmann::json j = {
      {"model_id", info.model_id},
      {"model_sha", nullptr},
      {"model_dtype", info.dtype},
      {"model_type", {{"classifier", {{"id2label", id2label}, {"label2id", label2id}}}}},
      {"max_concurrent_requests", options_.max_concurrent_requests},
      {"max_input_length", max_length},
      {"max_batch_tokens", max_tokens},
      {"max_batch_requests", options_.max_batch},
      {"max_client_batch_size", options_.max_client_batch_size},
      {"auto_truncate", false},
      {"tokenization_workers", http_workers()},
      {"version", build.version},
      {"sha", build.git_commit},
      {"docker_label", nullptr},
      // Ours, beyond TEI's fields.
      {"model_kind", info.kind},
      {"model_description", info.description},
      {"max_batch", options_.max_batch},
      {"max_wait_ms", options_.max_wait_ms},
      {"max_input_chars", options_.max_input_chars},
      {"max_request_bytes", options_.max_request_bytes},
  };
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void Server::setup_routes() {
  auto& http = *http_;

  // Before the body is read: the overflow answer, unknown routes, wrong methods, declared
  // bodies over the limit. Whatever is answered here leaves any body unread, so the connection
  // closes after the answer.
  auto precheck = [this](const httplib::Request& req, httplib::Response& res) {
    Connection* conn = Connection::current();
    auto answer = [&](const ApiError& e) {
      set_error(res, e);
      if (conn && (has_body(req) || e.status() == 429)) conn->close_after = true;
      return true;
    };
    const Route route = route_of(req.path);
    if (route == Route::Other)
      return answer(ApiError(404, ErrorType::NotFound,
                             fmt::format("no such endpoint: {} {} (the endpoints are {})",
                                         printable(req.method), printable(req.path), kEndpoints)));
    if (req.method != expected_method(route)) {
      res.set_header("Allow", std::string(expected_method(route)));
      return answer(ApiError(405, ErrorType::MethodNotAllowed,
                             fmt::format("{} takes {}, not {}", route_path(route),
                                         expected_method(route), printable(req.method))));
    }
    if (req.method == "POST") {
      const auto declared = req.get_header_value<std::uint64_t>("Content-Length");
      if (declared > options_.max_request_bytes)
        return answer(ApiError(413, ErrorType::Validation,
                               fmt::format("the request body has {} bytes, more than the limit of "
                                           "{} (--max-request-bytes)",
                                           declared, options_.max_request_bytes)));
    }
    return false;
  };

  http.set_pre_routing_handler(
      [this, precheck](const httplib::Request& req, httplib::Response& res) {
        if (Connection* conn = Connection::current()) {
          conn->started = detail::Clock::now();
          conn->in_flight = true;
          metrics_.add_in_flight(1);
        }
        return precheck(req, res) ? httplib::Server::HandlerResponse::Handled
                                  : httplib::Server::HandlerResponse::Unhandled;
      });
  // "Expect: 100-continue" (curl sends it for large bodies): refuse before the body comes.
  http.set_expect_100_continue_handler(
      [precheck](const httplib::Request& req, httplib::Response& res) {
        return precheck(req, res) ? res.status : 100;
      });

  // Errors httplib answers itself (malformed requests, a body it could not read): a JSON body,
  // and the connection closes (its state is unknown).
  http.set_error_handler(
      httplib::Server::HandlerWithResponse([this](const httplib::Request&, httplib::Response& res) {
        if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;  // ours
        Connection* conn = Connection::current();
        std::string message = fmt::format("HTTP error {}", res.status);
        if (conn) {
          conn->close_after = true;
          if (conn->over_budget()) {
            res.status = 431;
            message = "the request line and headers are larger than 64 KiB";
          } else if (conn->timed_out()) {
            res.status = 408;
            message = fmt::format("the request did not arrive within {} s", options_.timeout_s);
          }
        }
        if (res.status == 400) message = "malformed HTTP request";
        if (res.status == 414) message = "the request line is too long";
        res.set_content(error_json(message, ErrorType::Validation), "application/json");
        return httplib::Server::HandlerResponse::Handled;
      }));
  http.set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
        std::string what = "internal error";
        try {
          if (ep) std::rethrow_exception(ep);
        } catch (const std::exception& e) {
          what = e.what();
        } catch (...) {
        }
        res.status = 500;
        res.set_content(error_json(what, ErrorType::Backend), "application/json");
      });

  http.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
    Connection* conn = Connection::current();
    const auto now = detail::Clock::now();
    const double seconds = conn ? std::chrono::duration<double>(now - conn->started).count() : 0.0;
    const Route route = route_of(req.path);
    metrics_.request_done(route, res.status, seconds);
    if (conn && conn->in_flight) {
      conn->in_flight = false;
      metrics_.add_in_flight(-1);
    }
    if (!options_.logger) return;
    RequestLog log;
    log.method = printable(req.method);
    log.path = printable(req.path);
    log.status = res.status;
    log.seconds = seconds;
    if (conn) {
      log.batch_size = conn->batch_size;
      log.inputs = conn->inputs;
      log.texts = std::move(conn->texts);
    }
    log.remote = fmt::format("{}:{}", req.remote_addr, req.remote_port);
    options_.logger(log);
  });

  // Reads the body within the limits; the connection closes after the answer if it could not.
  auto read_body = [this](const httplib::Request& req, httplib::Response& res,
                          const httplib::ContentReader& reader) {
    std::string body;
    Connection* conn = Connection::current();
    // Without Content-Length or chunked encoding a request has no body (httplib would read
    // until the connection closes).
    if (!is_chunked(req) && !req.has_header("Content-Length")) return body;
    const std::size_t limit = options_.max_request_bytes;
    if (conn) conn->allow_body(2 * limit + 64 * 1024);  // chunk framing included
    body.reserve(
        std::min<std::size_t>(req.get_header_value<std::uint64_t>("Content-Length"), limit));
    bool too_large = false;
    const bool ok = reader([&](const char* data, std::size_t n) {
      if (body.size() + n > limit) {
        too_large = true;
        return false;
      }
      body.append(data, n);
      return true;
    });
    if (ok) return body;
    if (conn) conn->close_after = true;
    if (too_large || res.status == 413 || (conn && conn->over_budget()))
      throw ApiError(413, ErrorType::Validation,
                     fmt::format("the request body is larger than the limit of {} bytes "
                                 "(--max-request-bytes)",
                                 limit));
    if (conn && conn->timed_out())
      throw ApiError(
          408, ErrorType::Validation,
          fmt::format("the request body did not arrive within {} s", options_.timeout_s));
    if (res.status == 415)
      throw ApiError(415, ErrorType::Validation,
                     "unsupported Content-Encoding: send gzip, deflate, br or no encoding");
    throw ApiError(400, ErrorType::Validation,
                   "could not read the request body (malformed chunked or compressed data, or the "
                   "connection ended)");
  };

  // Runs a handler, turning errors into TEI's JSON errors.
  auto respond = [](httplib::Response& res, const std::function<std::string()>& body) {
    try {
      res.set_content(body(), "application/json");
      res.status = 200;
    } catch (const ApiError& e) {
      set_error(res, e);
    } catch (const std::bad_alloc&) {
      set_error(res, ApiError(503, ErrorType::Overloaded, "out of memory"));
    } catch (const std::exception& e) {
      set_error(res, ApiError(500, ErrorType::Backend, e.what()));
    }
  };

  http.Post("/predict", [this, read_body, respond](const httplib::Request& req,
                                                   httplib::Response& res,
                                                   const httplib::ContentReader& reader) {
    respond(res, [&] {
      PredictRequest request = parse_predict_request(read_body(req, res, reader), limits_);
      Connection* conn = Connection::current();
      const std::size_t n = request.inputs.size();
      if (conn) {
        conn->inputs = n;
        if (options_.log_inputs) conn->texts = request.inputs;
      }
      const std::size_t max_length = model_->info().max_input_length;
      std::vector<std::uint32_t> tokens(n);
      std::size_t chars = 0, total_tokens = 0;
      for (std::size_t i = 0; i < n; ++i) {
        const std::string& text = request.inputs[i];
        chars += count_code_points(text);
        TokenCount count;
        try {
          count = model_->count_tokens(text, max_length);
        } catch (const Error& e) {
          throw ApiError(422, ErrorType::Tokenizer, fmt::format("tokenizer error: {}", e.what()));
        }
        if (count.over_limit && !request.truncate) {
          const std::size_t all = model_->count_tokens(text, 0).tokens;
          throw ApiError(413, ErrorType::Validation,
                         fmt::format("{} has {} tokens, more than the model's maximum of {}: send "
                                     "\"truncate\": true to cut it",
                                     request.batch ? fmt::format("`inputs[{}]`", i) : "`inputs`",
                                     all, max_length));
        }
        tokens[i] = static_cast<std::uint32_t>(count.tokens);
        total_tokens += count.tokens;
      }
      std::function<bool()> abandoned;
      if (conn) abandoned = [conn] { return conn->peer_closed(); };
      BatchResult result =
          batcher_->classify(std::move(request.inputs), std::move(tokens), abandoned);
      if (conn) conn->batch_size = result.batch_size;
      std::string body = predict_response_json(result.predictions, model_->info().labels,
                                               request.batch, request.raw_scores);
      res.set_header("x-compute-characters", std::to_string(chars));
      res.set_header("x-compute-tokens", std::to_string(total_tokens));
      res.set_header("x-queue-time", std::to_string(millis(result.queue_seconds)));
      if (conn)
        res.set_header(
            "x-compute-time",
            std::to_string(millis(
                std::chrono::duration<double>(detail::Clock::now() - conn->started).count())));
      return body;
    });
  });

  http.Post("/tokenize", [this, read_body, respond](const httplib::Request& req,
                                                    httplib::Response& res,
                                                    const httplib::ContentReader& reader) {
    respond(res, [&] {
      const TokenizeRequest request = parse_tokenize_request(read_body(req, res, reader), limits_);
      Connection* conn = Connection::current();
      if (conn) {
        conn->inputs = request.inputs.size();
        if (options_.log_inputs) conn->texts = request.inputs;
      }
      std::vector<std::vector<ApiToken>> tokens;
      tokens.reserve(request.inputs.size());
      for (const std::string& text : request.inputs) {
        try {
          tokens.push_back(model_->tokenize(text, request.add_special_tokens));
        } catch (const Error& e) {
          throw ApiError(422, ErrorType::Tokenizer, fmt::format("tokenizer error: {}", e.what()));
        }
      }
      return tokenize_response_json(tokens);
    });
  });

  http.Get("/health", [this](const httplib::Request&, httplib::Response& res) {
    if (stopping_.load() || !batcher_->running()) {
      set_error(res, ApiError(503, ErrorType::Unhealthy, "unhealthy"));
      return;
    }
    res.status = 200;
  });
  http.Get("/info", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(info_json(), "application/json");
  });
  http.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(metrics_.render(), "text/plain; version=0.0.4; charset=utf-8");
  });
}

}  // namespace tensorgraph::serve
