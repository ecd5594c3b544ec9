#pragma once
// The HTTP plumbing under serve::Server, on cpp-httplib 0.11 (Debian's compiled library), which
// out of the box has 8 worker threads, an unbounded task queue, a listen backlog of 5, no limit
// on the size of a chunked or gzip-compressed body, no limit on the number of headers, and only
// per-recv() timeouts (a client sending one byte every few seconds holds a thread forever).
//
// What this file adds, through httplib's extension points:
//   - HttpServer overrides Server::process_and_close_socket (virtual) to run each connection
//     itself: its own keep-alive loop (idle timeout, requests per connection, prompt close of
//     idle connections at shutdown) over a Connection stream that gives every request a
//     deadline and a byte budget (headers 64 KiB; the body what the handler allows), buffers
//     writes into one send per response (no Nagle stalls), and closes with a lingering read so
//     that an early answer (413, 429) reaches a client still sending its body;
//   - BoundedTaskQueue (new_task_queue): N workers and a bounded queue of accepted connections;
//     connections beyond it go to one "rejecter" thread that answers 429 at once (without
//     waiting for the request) and closes; only when that queue is full too does the accept
//     loop wait (and the kernel's backlog fills);
//   - the listen backlog is raised after bind (Linux applies a second listen() to the socket).
#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <httplib.h>

namespace tensorgraph::serve::detail {

using Clock = std::chrono::steady_clock;

struct ConnectionLimits {
  std::chrono::milliseconds request_timeout{30000};  // receive a request / send a response
  std::chrono::milliseconds keep_alive{5000};        // idle time between two requests
  std::chrono::milliseconds linger{500};             // reading what a client still sends at close
  std::chrono::milliseconds reject_linger{100};      // the same for connections refused with 429
  std::size_t header_bytes = 64 * 1024;              // request line and headers
  std::size_t keep_alive_max = 1000;                 // requests per connection
};

// One client connection. Handlers reach the one being served on their thread through current().
class Connection final : public httplib::Stream {
 public:
  Connection(int fd, const ConnectionLimits& limits);
  ~Connection() override;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  bool is_readable() const override;
  bool is_writable() const override;
  ssize_t read(char* ptr, size_t size) override;
  ssize_t write(const char* ptr, size_t size) override;
  void get_remote_ip_and_port(std::string& ip, int& port) const override;
  void get_local_ip_and_port(std::string& ip, int& port) const override;
  int socket() const override { return fd_; }

  // Waits for the first byte of the next request: false on timeout, end of stream, or (unless
  // bytes are already there) when `stopping` is set.
  bool wait_for_request(std::chrono::milliseconds timeout, const std::atomic<bool>& stopping);
  // A new request: new deadline, header budget, per-request state cleared.
  void begin_request();
  // The body may take `bytes` more bytes (chunk framing included).
  void allow_body(std::size_t bytes) { budget_ = used_ + bytes; }
  // Sends what write() buffered. False if the client is gone or too slow.
  bool flush();
  // Ends the connection (lingering when a body may be left unread).
  void close();
  // Sends `bytes` now (the rejecter's 429, before any request is read).
  bool send_now(std::string_view bytes);

  // The client closed (or reset) the connection: nothing more to read, no one to answer. A
  // half-close (shutdown of its sending side) counts too, as nginx counts it.
  bool peer_closed() const;
  bool timed_out() const { return timed_out_; }
  bool over_budget() const { return over_budget_; }
  bool broken() const { return broken_; }

  // Per request, for the handlers and the logger.
  bool close_after = false;  // a body is left unread: close after this response
  bool reject = false;       // the connection came from the overflow queue: answer 429
  bool in_flight = false;    // counted in the in-flight gauge (routed, not yet logged)
  Clock::time_point started;
  std::size_t batch_size = 0;
  std::size_t inputs = 0;
  std::vector<std::string> texts;  // only with --log-inputs

  static Connection* current();
  static void set_current(Connection* c);

 private:
  int wait(short events, Clock::time_point deadline) const;  // poll: 1 ready, 0 timeout, -1 error

  int fd_;
  ConnectionLimits limits_;
  std::string remote_ip_;
  int remote_port_ = 0;
  std::vector<char> in_;
  std::size_t in_pos_ = 0, in_end_ = 0;
  std::string out_;
  std::size_t used_ = 0, budget_ = 0;
  Clock::time_point read_deadline_, write_deadline_;
  bool writing_ = false;
  bool timed_out_ = false;
  bool over_budget_ = false;
  bool broken_ = false;
  bool closed_ = false;
};

class BoundedTaskQueue final : public httplib::TaskQueue {
 public:
  BoundedTaskQueue(std::size_t workers, std::size_t capacity, std::size_t overflow_capacity);
  ~BoundedTaskQueue() override;
  void enqueue(std::function<void()> fn) override;
  void shutdown() override;
  // True on the rejecter thread while it runs a connection.
  static bool rejecting();

 private:
  void work(bool rejecter);

  std::size_t capacity_, overflow_capacity_;
  std::mutex mutex_;
  std::condition_variable work_, overflow_work_, space_;
  std::deque<std::function<void()>> jobs_, overflow_;
  std::vector<std::thread> threads_;
  bool shutdown_ = false;
};

class HttpServer final : public httplib::Server {
 public:
  explicit HttpServer(const ConnectionLimits& limits) : limits_(limits) {}
  // A longer listen queue than httplib's 5 (after bind_to_port).
  bool set_backlog(int backlog);
  // Stops accepting: closes the listening socket (also before listen_after_bind runs, unlike
  // Server::stop), and makes connections close after their current request.
  void stop_accepting();
  bool stopping() const { return stopping_.load(); }
  // Called for each connection refused with 429 by the rejecter thread.
  std::function<void(const std::string& remote)> on_reject;

 private:
  void reject(Connection& connection);

  bool process_and_close_socket(socket_t sock) override;

  ConnectionLimits limits_;
  std::atomic<bool> stopping_{false};
};

}  // namespace tensorgraph::serve::detail
