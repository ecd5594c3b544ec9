#include "fake_hub.hpp"

#include <httplib.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "support/shared_data.hpp"
#include "tensorgraph/hub/models.hpp"
#include "tensorgraph/hub/sha256.hpp"

namespace tensorgraph::testing {

struct FakeHub::Impl {
  httplib::Server server;
  mutable std::mutex mutex;
  std::map<std::string, std::string> files;  // path -> content
  Behaviour behaviour;
  std::vector<Request> requests;
  std::atomic<bool> stopping{false};

  void record(const httplib::Request& req, int status) {
    std::lock_guard lock(mutex);
    requests.push_back(
        {req.path, req.get_header_value("Range"), req.get_header_value("Authorization"), status});
  }

  void serve(const httplib::Request& req, httplib::Response& res) {
    Behaviour b;
    std::shared_ptr<const std::string> content;
    bool is_cdn = req.path.rfind("/cdn/", 0) == 0;
    const std::string key = is_cdn ? req.path.substr(4) : req.path;
    {
      std::lock_guard lock(mutex);
      b = behaviour;
      auto it = files.find(key);
      if (it != files.end()) content = std::make_shared<const std::string>(it->second);
    }
    if (b.status != 0) {
      res.status = b.status;
      res.set_header("X-Error-Message", "Injected failure");
      res.set_content("injected failure\n", "text/plain");
      record(req, res.status);
      return;
    }
    if (!b.required_token.empty() && !is_cdn &&
        req.get_header_value("Authorization") != "Bearer " + b.required_token) {
      res.status = 401;
      res.set_content("unauthorized\n", "text/plain");
      record(req, 401);
      return;
    }
    if (!content) {
      res.status = 404;
      res.set_header("X-Error-Message", "Entry not found");
      res.set_content("not found\n", "text/plain");
      record(req, 404);
      return;
    }
    if (b.hub_like) {
      const bool large = content->size() >= (1u << 20);
      b.sha_header = large ? ShaHeader::LinkedEtag : ShaHeader::GitSha1;
      b.redirect = large;
    }
    const std::string sha = hub::sha256_hex(*content);
    const std::string announced = b.wrong_sha ? hub::sha256_hex(*content + "x") : sha;
    const bool announce_here = !is_cdn;  // the hub's own response carries the hash
    if (announce_here) {
      switch (b.sha_header) {
        case ShaHeader::LinkedEtag:
          res.set_header("X-Linked-Etag", "\"" + announced + "\"");
          res.set_header("X-Linked-Size", std::to_string(content->size()));
          break;
        case ShaHeader::Etag:
          res.set_header("ETag", "\"" + announced + "\"");
          break;
        case ShaHeader::GitSha1:
          res.set_header("ETag", "\"" + announced.substr(0, 40) + "\"");
          break;
        case ShaHeader::None:
          break;
      }
    }
    if (b.redirect && !is_cdn) {
      res.status = 302;
      res.set_header("Location", "http://" + b.redirect_host.value_or("127.0.0.1") + ":" +
                                     std::to_string(port) + "/cdn" + key);
      record(req, 302);
      return;
    }
    if (is_cdn) res.set_header("ETag", "\"" + hub::sha256_hex("a CDN's own etag") + "\"");
    // Ranges are handled here, not by httplib, so that every case can be produced.
    const_cast<httplib::Request&>(req).ranges.clear();
    std::size_t start = 0;
    const std::string range = req.get_header_value("Range");
    if (b.honour_range && range.rfind("bytes=", 0) == 0 && range.back() == '-') {
      start = std::stoull(range.substr(6, range.size() - 7)) + b.range_shift;
      if (start >= content->size()) {
        res.status = 416;
        res.set_header("Content-Range", "bytes */" + std::to_string(content->size()));
        record(req, 416);
        return;
      }
      res.status = 206;
      res.set_header("Content-Range", "bytes " + std::to_string(start) + "-" +
                                          std::to_string(content->size() - 1) + "/" +
                                          std::to_string(content->size()));
    } else {
      res.status = 200;
    }
    record(req, res.status);
    if (content->empty()) {
      res.set_content("", "application/octet-stream");
      return;
    }
    auto cut = b.cut_after;
    const int stall_ms = b.stall_ms;
    std::atomic<bool>* stop = &stopping;
    res.set_content_provider(
        content->size() - start, "application/octet-stream",
        [content, start, cut, stall_ms, stop, sent = std::size_t{0}](
            std::size_t offset, std::size_t length, httplib::DataSink& sink) mutable {
          for (int waited = 0; waited < stall_ms && !stop->load(); waited += 10)
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
          if (stop->load()) return false;
          std::size_t n = std::min<std::size_t>(length, 64 * 1024);
          if (cut) {
            if (sent >= *cut) return false;  // drop the connection
            n = std::min(n, *cut - sent);
          }
          if (!sink.write(content->data() + start + offset, n)) return false;
          sent += n;
          return true;
        });
  }
  int port = 0;
};

FakeHub::FakeHub() : impl_(std::make_unique<Impl>()) {
  impl_->server.Get(".*", [this](const httplib::Request& req, httplib::Response& res) {
    impl_->serve(req, res);
  });
  port_ = impl_->server.bind_to_any_port("127.0.0.1");
  if (port_ <= 0) throw std::runtime_error("FakeHub: cannot bind to 127.0.0.1");
  impl_->port = port_;
  thread_ = std::thread([this] { impl_->server.listen_after_bind(); });
  for (int i = 0; i < 500 && !impl_->server.is_running(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
}

FakeHub::~FakeHub() {
  impl_->stopping = true;
  impl_->server.stop();
  if (thread_.joinable()) thread_.join();
}

std::string FakeHub::endpoint() const {
  return "http://127.0.0.1:" + std::to_string(port_);
}

void FakeHub::add_file(const std::string& repo, const std::string& revision,
                       const std::string& name, std::string content) {
  add_path("/" + repo + "/resolve/" + revision + "/" + name, std::move(content));
}

bool FakeHub::add_fixture_model(const std::string& repo) {
  for (const auto& name : hub::model_files()) {
    const auto path = shared_path("fixtures/distilbert-tiny/" + name);
    std::ifstream in(path, std::ios::binary);
    if (!in) return false;
    std::ostringstream ss;
    ss << in.rdbuf();
    add_file(repo, "main", name, ss.str());
  }
  return true;
}

void FakeHub::add_path(const std::string& path, std::string content) {
  std::lock_guard lock(impl_->mutex);
  impl_->files[path] = std::move(content);
}

void FakeHub::set_behaviour(const Behaviour& b) {
  std::lock_guard lock(impl_->mutex);
  impl_->behaviour = b;
}

std::vector<FakeHub::Request> FakeHub::requests() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->requests;
}

void FakeHub::clear_requests() {
  std::lock_guard lock(impl_->mutex);
  impl_->requests.clear();
}

}  // namespace tensorgraph::testing
