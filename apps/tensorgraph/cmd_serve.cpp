// `tensorgraph serve`: the sentiment model behind an HTTP API compatible with HuggingFace
// text-embeddings-inference (POST /predict, /tokenize; GET /health, /info, /metrics), with dynamic
// batching. The service itself is the library's serve::Server; this file reads the options (and
// --config), loads the model, prints the access log and turns SIGTERM/SIGINT into a graceful stop.
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "command.hpp"
#include "model_choice.hpp"
#include "tensorgraph/core/error.hpp"
#include "tensorgraph/nn/distilbert_classifier.hpp"
#include "tensorgraph/serve/api.hpp"
#include "tensorgraph/serve/config.hpp"
#include "tensorgraph/serve/server.hpp"

namespace tensorgraph::cli {
namespace {

constexpr double kDistilBertPassTokens = 16;

struct ServeArgs {
  ModelOptions model;
  std::optional<std::string> config;
  serve::ServeConfig options;  // what the command line sets
  bool log_inputs = false;
  bool json = false;
};

// One line to stderr in a single write, so that lines from several threads never interleave.
void write_line(std::string line) {
  line.push_back('\n');
  const char* p = line.data();
  std::size_t left = line.size();
  while (left > 0) {
    const ssize_t n = ::write(STDERR_FILENO, p, left);
    if (n <= 0) return;
    p += n;
    left -= static_cast<std::size_t>(n);
  }
}

std::string utc_now() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
}

void log_request(const serve::RequestLog& r, bool json) {
  if (json) {
    nlohmann::json j = {{"time", utc_now()},      {"method", r.method},
                        {"path", r.path},         {"status", r.status},
                        {"ms", r.seconds * 1000}, {"batch_size", r.batch_size},
                        {"inputs", r.inputs},     {"remote", r.remote}};
    if (!r.texts.empty()) j["texts"] = r.texts;
    write_line(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    return;
  }
  std::string line =
      fmt::format("{} {} {} {} {:.1f}ms batch={} inputs={} {}", utc_now(), r.method, r.path,
                  r.status, r.seconds * 1000, r.batch_size, r.inputs, r.remote);
  if (!r.texts.empty()) {
    line += " texts=[";
    for (std::size_t i = 0; i < r.texts.size(); ++i) {
      if (i) line.push_back(',');
      serve::append_json_string(line, r.texts[i]);
    }
    line.push_back(']');
  }
  write_line(std::move(line));
}

void note(const std::string& message, bool json) {
  if (json)
    write_line(nlohmann::json{{"time", utc_now()}, {"event", "note"}, {"message", message}}.dump());
  else
    write_line("tensorgraph serve: " + message);
}

std::unique_ptr<serve::ServedModel> load_model(const ServeArgs& args,
                                               const serve::ServeConfig& config,
                                               const serve::ServerOptions& options) {
  ModelOptions model = args.model;
  // The command line wins; `--model auto` is its default, so a file's model counts over it.
  if (model.model == "auto" && config.model) model.model = *config.model;
  if (!model.lexicon && config.lexicon) model.lexicon = config.lexicon;
  if (!model.model_dir && config.model_dir) model.model_dir = config.model_dir;
  // The server forms the batches: the classifier runs each one as one forward pass.
  model.batch_size = static_cast<std::int64_t>(options.max_batch);
  std::unique_ptr<nn::SentimentClassifier> classifier = load_classifier(model);
  if (auto* bert = dynamic_cast<nn::DistilBertClassifier*>(classifier.get())) {
    std::unique_ptr<nn::DistilBertClassifier> owned(bert);
    classifier.release();
    serve::ModelInfo info;
    // One more forward pass costs about as much as this many padded tokens (streaming the
    // weights once more; measured on DistilBERT-base, see benchmarks/serve/RESULTS.md).
    info.batch_overhead_tokens = kDistilBertPassTokens;
    return serve::make_distilbert_model(std::move(owned), info);
  }
  return serve::make_word_model(std::move(classifier));
}

// Signals: SIGINT and SIGTERM are blocked in every thread and taken by one waiting thread.
std::atomic<serve::Server*> g_server{nullptr};
std::atomic<bool> g_finished{false};

int run_serve(const ServeArgs& args) {
  serve::ServeConfig config;
  if (args.config) config = serve::read_serve_config(*args.config);
  serve::ServeConfig cli = args.options;
  if (args.log_inputs) cli.log_inputs = true;
  config = serve::merge(config, cli);
  serve::ServerOptions options = serve::server_options(config);
  const bool json = args.json;
  options.logger = [json](const serve::RequestLog& r) { log_request(r, json); };

  // A handler (never run: the signals stay blocked) so that signals ignored by the parent, as
  // SIGINT is for background jobs of a shell script, still reach sigwait.
  struct sigaction action {};
  action.sa_handler = [](int) {};
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::thread waiter([signals, json] {
    for (;;) {
      int sig = 0;
      if (sigwait(&signals, &sig) != 0 || g_finished.load()) return;
      serve::Server* server = g_server.load();
      if (server == nullptr) std::_Exit(128 + sig);  // still loading: nothing to finish
      if (server->stopping()) {
        note("second signal: exiting without finishing the requests in flight", json);
        std::_Exit(128 + sig);
      }
      note(fmt::format("{}: finishing the requests in flight, then exiting (again to exit now)",
                       sig == SIGINT ? "SIGINT" : "SIGTERM"),
           json);
      server->stop();
    }
  });
  struct JoinWaiter {
    std::thread& t;
    ~JoinWaiter() {
      g_finished.store(true);
      g_server.store(nullptr);
      pthread_kill(t.native_handle(), SIGTERM);
      t.join();
    }
  } join_waiter{waiter};

  serve::Server server(load_model(args, config, options), options);
  const int port = server.bind();
  g_server.store(&server);
  const auto& info = server.model().info();
  const std::string url = fmt::format("http://{}:{}", options.host, port);
  if (json) {
    write_line(nlohmann::json{{"time", utc_now()},
                              {"event", "listening"},
                              {"url", url},
                              {"port", port},
                              {"model", info.model_id},
                              {"max_batch", options.max_batch},
                              {"max_wait_ms", options.max_wait_ms},
                              {"http_workers", server.http_workers()}}
                   .dump());
  } else {
    note(fmt::format("{} ({}) listening on {}; max batch {}, max wait {} ms, {} HTTP workers; "
                     "SIGTERM or Ctrl-C stops",
                     info.model_id, info.description, url, options.max_batch, options.max_wait_ms,
                     server.http_workers()),
         json);
  }
  server.run();
  g_server.store(nullptr);
  g_finished.store(true);
  note("stopped", json);
  return 0;
}

const Registrar kServe{
    {"serve",
     "Serve the sentiment model over HTTP (text-embeddings-inference API, dynamic batching)",
     [](Options& o) {
       auto args = std::make_shared<ServeArgs>();
       declare_model_options(o, args->model);
       o.option("--config", &args->config,
                "TOML file with the options below as keys (max_batch = 32, ...); the command line "
                "overrides it");
       o.option("--host", &args->options.host,
                "Address to listen on (default 127.0.0.1; 0.0.0.0 for every interface)");
       o.option("--port", &args->options.port, "TCP port (default 8080; 0: any free port)");
       o.option("--max-batch", &args->options.max_batch,
                "Texts per forward pass at most (default 32)");
       o.option("--max-wait-ms", &args->options.max_wait_ms,
                "How long the first queued text waits for others to batch with (default 5)");
       o.option("--max-input-chars", &args->options.max_input_chars,
                "Characters per text at most; longer: 413 (default 20000)");
       o.option("--max-request-bytes", &args->options.max_request_bytes,
                "Request body size limit in bytes; larger: 413 (default 2000000)");
       o.option("--max-concurrent-requests", &args->options.max_concurrent_requests,
                "Requests queued or running at most; more: 429 with Retry-After. Also the number "
                "of HTTP workers (+4) (default 128)");
       o.option("--max-client-batch-size", &args->options.max_client_batch_size,
                "Texts per request at most; more: 413 (default 256)");
       o.option("--timeout-s", &args->options.timeout_s,
                "Seconds a client has to send a request or read a response (default 30)");
       o.flag("--log-inputs", &args->log_inputs,
              "Put the texts in the access log (never done otherwise)");
       o.flag("--json", &args->json, "Log lines (access log and events) as JSON objects");
       o.footer(
           "API (JSON, as HuggingFace text-embeddings-inference):\n"
           "  POST /predict   {\"inputs\": \"text\" | [\"a\", \"b\"], \"raw_scores\": false, "
           "\"truncate\": false}\n"
           "                  -> [{\"score\": 0.99, \"label\": \"POSITIVE\"}, ...] per text, "
           "highest first\n"
           "  POST /tokenize  {\"inputs\": \"text\" | [...], \"add_special_tokens\": true}\n"
           "  GET  /health    200, or 503 while stopping\n"
           "  GET  /info      model, limits, version\n"
           "  GET  /metrics   Prometheus: requests, latencies, batch sizes, queue depth, tokens/s\n"
           "Errors: {\"error\": \"...\", \"error_type\": \"Validation\"} with 400, 413, 422, 429 "
           "(Retry-After), 503.\n"
           "One log line per request on stderr (method, path, status, time, batch size); texts "
           "only with --log-inputs.\n"
           "SIGTERM or Ctrl-C: stop accepting, answer the requests in flight, exit 0.\n"
           "The model options are those of classify; the server forms the batches, so --max-batch\n"
           "replaces --batch-size.\n\n"
           "Examples:\n"
           "  tensorgraph serve --model lexicon --port 8080\n"
           "  tensorgraph serve --model distilbert --model-dir models/distilbert-sentiment\n"
           "  curl -s localhost:8080/predict -d '{\"inputs\": [\"I love it\", \"I hate it\"]}'\n"
           "  tensorgraph serve --config serve.toml --host 0.0.0.0 --max-batch 16\n"
           "  tensorgraph serve --port 0 --json 2> access.log");
       return [args] { return run_serve(*args); };
     }}};

}  // namespace
}  // namespace tensorgraph::cli
