#pragma once
// The inference service behind `tensorgraph serve`: a TEI-compatible HTTP API (serve/api.hpp)
// over one ServedModel, with dynamic batching (serve/batcher.hpp), limits and metrics.
//
//   POST /predict, POST /tokenize, GET /health, GET /info, GET /metrics
//
// Threads: `max_concurrent_requests` + 4 HTTP workers (one per open connection, as cpp-httplib
// works) parse and validate requests and wait for their results; one inference thread runs the
// model; one more thread answers 429 to connections beyond what the workers and their bounded
// queue take. Limits and what exceeding them answers:
//   body over max_request_bytes (declared or received, compressed or not)  413 Validation
//   more than max_client_batch_size texts, a text over max_input_chars      413 Validation
//   more tokens than the model takes, with "truncate": false                413 Validation
//   max_concurrent_requests requests already queued or running              429 Overloaded
//   a request not fully received within timeout, or headers over 64 KiB    connection closed
// Nothing below apps prints: every answered request is reported to `logger`.
//
// Shutdown (stop(), e.g. on SIGTERM): /health answers 503, the listening socket closes (new
// connections are refused), requests already received are answered, idle keep-alive
// connections close, then the inference thread ends and run() returns.
#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "tensorgraph/serve/api.hpp"
#include "tensorgraph/serve/metrics.hpp"
#include "tensorgraph/serve/model.hpp"

namespace tensorgraph::serve {

namespace detail {
class HttpServer;
}
class Batcher;

// One answered request, for the access log.
struct RequestLog {
  std::string method;
  std::string path;  // printable ASCII, at most 200 bytes
  int status = 0;
  double seconds = 0;              // from the end of the headers to the end of the response
  std::size_t batch_size = 0;      // the largest forward pass its texts ran in (0: none)
  std::size_t inputs = 0;          // texts in the request
  std::string remote;              // "ip:port"
  std::vector<std::string> texts;  // the inputs, only with ServerOptions::log_inputs
};

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;  // 0: any free port (see Server::port())
  std::size_t max_batch = 32;
  double max_wait_ms = 5;
  std::size_t max_input_chars = 20000;
  std::size_t max_request_bytes = 2'000'000;  // TEI's default payload limit
  std::size_t max_concurrent_requests = 128;
  std::size_t max_client_batch_size = 256;
  double timeout_s = 30;    // to receive a request, and to send a response
  double keep_alive_s = 5;  // idle time between two requests on a connection
  bool log_inputs = false;  // put the texts in RequestLog::texts
  std::function<void(const RequestLog&)> logger;

  // Throws Error naming the option when a value is out of range.
  void validate() const;
};

class Server {
 public:
  // Starts the inference thread; does not bind yet.
  Server(std::unique_ptr<ServedModel> model, ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds the listening socket; returns the port. Throws Error if it cannot listen.
  int bind();
  // Serves until stop(); returns when every request is answered and the inference thread is
  // done. Binds first if bind() was not called.
  void run();
  // Graceful stop; thread-safe, idempotent, returns at once (run() returns when done).
  void stop();

  int port() const { return port_; }
  bool stopping() const { return stopping_.load(); }
  const ServedModel& model() const { return *model_; }
  const ServerOptions& options() const { return options_; }
  Metrics& metrics() { return metrics_; }
  // Workers of the HTTP thread pool.
  std::size_t http_workers() const;
  // The JSON of GET /info.
  std::string info_json() const;

 private:
  void setup_routes();

  std::unique_ptr<ServedModel> model_;
  ServerOptions options_;
  Metrics metrics_;
  std::unique_ptr<Batcher> batcher_;
  std::unique_ptr<detail::HttpServer> http_;
  RequestLimits limits_;
  int port_ = 0;
  bool bound_ = false;
  std::atomic<bool> stopping_{false};
};

}  // namespace tensorgraph::serve
