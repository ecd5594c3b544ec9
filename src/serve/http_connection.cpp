#include "http_connection.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace tensorgraph::serve::detail {
namespace {

thread_local Connection* t_current = nullptr;
thread_local bool t_rejecting = false;

constexpr std::size_t kReadBuffer = 16 * 1024;
constexpr std::size_t kFlushAt = 64 * 1024;
constexpr std::size_t kLingerBytes = 1 << 20;

void address_of(const sockaddr_storage& addr, std::string& ip, int& port) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (addr.ss_family == AF_INET) {
    const auto* a = reinterpret_cast<const sockaddr_in*>(&addr);
    ::inet_ntop(AF_INET, &a->sin_addr, buf, sizeof buf);
    port = ntohs(a->sin_port);
  } else if (addr.ss_family == AF_INET6) {
    const auto* a = reinterpret_cast<const sockaddr_in6*>(&addr);
    ::inet_ntop(AF_INET6, &a->sin6_addr, buf, sizeof buf);
    port = ntohs(a->sin6_port);
  }
  ip = buf;
}

int millis_until(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return static_cast<int>(std::clamp<std::int64_t>(left.count(), 0, 1 << 30));
}

}  // namespace

// ---- Connection --------------------------------------------------------------------------------

Connection::Connection(int fd, const ConnectionLimits& limits)
    : fd_(fd), limits_(limits), in_(kReadBuffer) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (::getpeername(fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
    address_of(addr, remote_ip_, remote_port_);
  begin_request();
}

Connection::~Connection() {
  close();
}

Connection* Connection::current() {
  return t_current;
}
void Connection::set_current(Connection* c) {
  t_current = c;
}

int Connection::wait(short events, Clock::time_point deadline) const {
  for (;;) {
    pollfd p{fd_, events, 0};
    const int r = ::poll(&p, 1, millis_until(deadline));
    if (r > 0) return 1;
    if (r == 0) return 0;
    if (errno != EINTR) return -1;
  }
}

void Connection::begin_request() {
  started = Clock::now();
  read_deadline_ = started + limits_.request_timeout;
  used_ = 0;
  budget_ = limits_.header_bytes;
  writing_ = false;
  timed_out_ = false;
  over_budget_ = false;
  close_after = false;
  batch_size = 0;
  inputs = 0;
  texts.clear();
}

bool Connection::wait_for_request(std::chrono::milliseconds timeout,
                                  const std::atomic<bool>& stopping) {
  if (!flush()) return false;
  if (in_pos_ < in_end_) return true;
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    const bool stop = stopping.load();
    // Short polls, so that a shutdown closes idle connections promptly.
    const auto step =
        stop ? Clock::now() : std::min(deadline, Clock::now() + std::chrono::milliseconds(50));
    const int r = wait(POLLIN, step);
    if (r != 0) return r > 0;  // readable (data, or the end of the stream for read() to find)
    if (stop || Clock::now() >= deadline) return false;
  }
}

bool Connection::peer_closed() const {
  if (in_pos_ < in_end_) return false;  // a pipelined request: still there
  pollfd p{fd_, static_cast<short>(POLLIN | POLLRDHUP), 0};
  if (::poll(&p, 1, 0) <= 0) return false;
  if (p.revents & (POLLHUP | POLLERR | POLLRDHUP)) return true;
  char byte;
  return ::recv(fd_, &byte, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
}

bool Connection::is_readable() const {
  return in_pos_ < in_end_ || wait(POLLIN, read_deadline_) > 0;
}

bool Connection::is_writable() const {
  return !broken_ &&
         wait(POLLOUT, writing_ ? write_deadline_ : Clock::now() + limits_.request_timeout) > 0;
}

ssize_t Connection::read(char* ptr, size_t size) {
  if (!flush()) return -1;  // e.g. "100 Continue" must reach the client before we wait for more
  if (used_ >= budget_) {
    over_budget_ = true;
    return -1;
  }
  size = std::min(size, budget_ - used_);
  if (in_pos_ == in_end_) {
    in_pos_ = in_end_ = 0;
    for (;;) {
      const int ready = wait(POLLIN, read_deadline_);
      if (ready == 0) {
        timed_out_ = true;
        return -1;
      }
      if (ready < 0) return -1;
      const ssize_t n = ::recv(fd_, in_.data(), in_.size(), 0);
      if (n > 0) {
        in_end_ = static_cast<std::size_t>(n);
        break;
      }
      if (n == 0) return 0;
      if (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK) return -1;
    }
  }
  const std::size_t n = std::min(size, in_end_ - in_pos_);
  std::memcpy(ptr, in_.data() + in_pos_, n);
  in_pos_ += n;
  used_ += n;
  return static_cast<ssize_t>(n);
}

ssize_t Connection::write(const char* ptr, size_t size) {
  if (broken_) return -1;
  if (!writing_) {
    writing_ = true;
    write_deadline_ = Clock::now() + limits_.request_timeout;
  }
  out_.append(ptr, size);
  if (out_.size() >= kFlushAt && !flush()) return -1;
  return static_cast<ssize_t>(size);
}

bool Connection::flush() {
  if (broken_) return false;
  std::size_t sent = 0;
  while (sent < out_.size()) {
    const int ready = wait(POLLOUT, write_deadline_);
    if (ready <= 0) {
      broken_ = true;
      break;
    }
    const ssize_t n = ::send(fd_, out_.data() + sent, out_.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<std::size_t>(n);
    } else if (n < 0 && errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK) {
      broken_ = true;
      break;
    }
  }
  out_.clear();
  return !broken_;
}

void Connection::get_remote_ip_and_port(std::string& ip, int& port) const {
  ip = remote_ip_;
  port = remote_port_;
}

void Connection::get_local_ip_and_port(std::string& ip, int& port) const {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0) address_of(addr, ip, port);
}

bool Connection::send_now(std::string_view bytes) {
  if (!writing_) {
    writing_ = true;
    write_deadline_ = Clock::now() + limits_.request_timeout;
  }
  out_.append(bytes);
  return flush();
}

void Connection::close() {
  if (closed_) return;
  closed_ = true;
  flush();
  if (!broken_ && (close_after || reject)) {
    // The client may still be sending a body we did not read: closing now would answer its
    // bytes with a reset, which can destroy our response before the client reads it. Stop
    // writing, then read and drop what comes for a moment.
    ::shutdown(fd_, SHUT_WR);
    const auto deadline = Clock::now() + (reject ? limits_.reject_linger : limits_.linger);
    std::size_t drained = 0;
    char scratch[4096];
    while (drained < kLingerBytes && wait(POLLIN, deadline) > 0) {
      const ssize_t n = ::recv(fd_, scratch, sizeof scratch, 0);
      if (n <= 0 && !(n < 0 && errno == EINTR)) break;
      if (n > 0) drained += static_cast<std::size_t>(n);
    }
  }
  ::shutdown(fd_, SHUT_RDWR);
  ::close(fd_);
}

// ---- BoundedTaskQueue --------------------------------------------------------------------------

BoundedTaskQueue::BoundedTaskQueue(std::size_t workers, std::size_t capacity,
                                   std::size_t overflow_capacity)
    : capacity_(capacity), overflow_capacity_(overflow_capacity) {
  threads_.reserve(workers + 1);
  for (std::size_t i = 0; i < workers; ++i) threads_.emplace_back([this] { work(false); });
  threads_.emplace_back([this] { work(true); });
}

BoundedTaskQueue::~BoundedTaskQueue() {
  shutdown();
}

bool BoundedTaskQueue::rejecting() {
  return t_rejecting;
}

void BoundedTaskQueue::enqueue(std::function<void()> fn) {
  std::unique_lock lock(mutex_);
  space_.wait(lock, [&] {
    return shutdown_ || jobs_.size() < capacity_ || overflow_.size() < overflow_capacity_;
  });
  if (jobs_.size() < capacity_ || shutdown_) {
    jobs_.push_back(std::move(fn));
    work_.notify_one();
  } else {
    overflow_.push_back(std::move(fn));
    overflow_work_.notify_one();
  }
}

void BoundedTaskQueue::work(bool rejecter) {
  t_rejecting = rejecter;
  auto& queue = rejecter ? overflow_ : jobs_;
  auto& signal = rejecter ? overflow_work_ : work_;
  for (;;) {
    std::function<void()> fn;
    {
      std::unique_lock lock(mutex_);
      signal.wait(lock, [&] { return shutdown_ || !queue.empty(); });
      if (queue.empty()) return;  // shut down and drained
      fn = std::move(queue.front());
      queue.pop_front();
    }
    space_.notify_one();
    fn();
  }
}

void BoundedTaskQueue::shutdown() {
  {
    std::lock_guard lock(mutex_);
    if (shutdown_ && threads_.empty()) return;
    shutdown_ = true;
  }
  work_.notify_all();
  overflow_work_.notify_all();
  space_.notify_all();
  for (auto& t : threads_)
    if (t.joinable()) t.join();
  threads_.clear();
}

// ---- HttpServer --------------------------------------------------------------------------------

bool HttpServer::set_backlog(int backlog) {
  const socket_t sock = svr_sock_.load();
  return sock != INVALID_SOCKET && ::listen(sock, backlog) == 0;
}

void HttpServer::stop_accepting() {
  stopping_.store(true);
  const socket_t sock = svr_sock_.exchange(INVALID_SOCKET);
  if (sock != INVALID_SOCKET) {
    ::shutdown(sock, SHUT_RDWR);  // wakes the accept() of listen_after_bind
    ::close(sock);
  }
}

void HttpServer::reject(Connection& connection) {
  // Answered before the request is read: the rejecter must not wait on slow or idle clients.
  static constexpr std::string_view kBody =
      R"({"error":"Model is overloaded","error_type":"Overloaded"})";
  const std::string response =
      "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 1\r\n"
      "Content-Type: application/json\r\nConnection: close\r\n"
      "Content-Length: " +
      std::to_string(kBody.size()) + "\r\n\r\n" + std::string(kBody);
  connection.send_now(response);
  if (on_reject) {
    std::string ip;
    int port = 0;
    connection.get_remote_ip_and_port(ip, port);
    on_reject(ip + ":" + std::to_string(port));
  }
}

bool HttpServer::process_and_close_socket(socket_t sock) {
  const int one = 1;
  ::setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  Connection connection(sock, limits_);
  if (BoundedTaskQueue::rejecting()) {
    connection.reject = true;
    reject(connection);
    return true;  // ~Connection closes, lingering briefly
  }
  Connection::set_current(&connection);
  for (std::size_t served = 0;; ++served) {
    const auto wait = served == 0 ? limits_.request_timeout : limits_.keep_alive;
    if (!connection.wait_for_request(wait, stopping_)) break;
    connection.begin_request();
    const bool last = stopping_.load() || served + 1 >= limits_.keep_alive_max;
    bool closed_by_client = false;
    const bool ok = process_request(connection, last, closed_by_client, nullptr);
    if (!connection.flush() || !ok || last || closed_by_client || connection.close_after) break;
  }
  Connection::set_current(nullptr);
  connection.close();
  return true;
}

}  // namespace tensorgraph::serve::detail
