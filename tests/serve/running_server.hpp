#pragma once
// Test helpers: a serve::Server running on its own thread on an ephemeral loopback port, and raw
// sockets for what an HTTP client library would not send.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include <gtest/gtest.h>
#include <httplib.h>

#include "tensorgraph/serve/server.hpp"

namespace tensorgraph::serve {

// A server running on its own thread; stopped and joined at destruction.
class Running {
 public:
  explicit Running(std::unique_ptr<ServedModel> model, ServerOptions options = {}) {
    options.host = "127.0.0.1";
    options.port = 0;
    server_ = std::make_unique<Server>(std::move(model), std::move(options));
    port_ = server_->bind();
    thread_ = std::thread([this] { server_->run(); });
  }
  ~Running() { stop(); }
  void stop() {
    server_->stop();
    if (thread_.joinable()) thread_.join();
  }
  Server& server() { return *server_; }
  int port() const { return port_; }
  std::unique_ptr<httplib::Client> client() const {
    auto c = std::make_unique<httplib::Client>("127.0.0.1", port_);
    c->set_read_timeout(20, 0);
    c->set_keep_alive(true);
    return c;
  }
  httplib::Result post(const std::string& path, const std::string& body) const {
    return client()->Post(path.c_str(), body, "application/json");
  }
  httplib::Result get(const std::string& path) const { return client()->Get(path.c_str()); }

 private:
  std::unique_ptr<Server> server_;
  int port_ = 0;
  std::thread thread_;
};

// ---- raw sockets, for what an HTTP client library would not send ----

inline int connect_to(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

inline void send_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0) return;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
}

// Reads until the server closes the connection (or `timeout_ms` pass: then `closed` is false).
inline std::string read_until_closed(int fd, bool& closed, int timeout_ms = 10000) {
  std::string out;
  char buf[4096];
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  closed = false;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                          deadline - std::chrono::steady_clock::now())
                          .count();
    if (left <= 0) return out;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left)) <= 0) return out;
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) {
      closed = true;
      return out;
    }
    out.append(buf, static_cast<std::size_t>(n));
  }
}

inline std::string raw_exchange(int port, std::string_view request, bool* closed_out = nullptr) {
  const int fd = connect_to(port);
  EXPECT_GE(fd, 0);
  send_all(fd, request);
  bool closed = false;
  std::string response = read_until_closed(fd, closed);
  ::close(fd);
  if (closed_out) *closed_out = closed;
  return response;
}

inline std::string body_of(const std::string& response) {
  const auto p = response.find("\r\n\r\n");
  return p == std::string::npos ? "" : response.substr(p + 4);
}

}  // namespace tensorgraph::serve
