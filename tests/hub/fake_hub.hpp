#pragma once
// An HTTP server of our own on 127.0.0.1 (ephemeral port, in a thread) for the download tests,
// laid out like the HuggingFace hub: GET /{repo}/resolve/{revision}/{file}, plus any plain path
// (data set archives). Its behaviour can be changed between requests: announce a sha256 (right
// or wrong, as X-Linked-Etag or ETag, or a git SHA-1 ETag), honour or ignore Range, redirect
// through a "CDN" path, cut a transfer after N bytes, stall, demand a token, fail with a status.
// Every request is recorded.
#include <atomic>
#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace httplib {
class Server;
}

namespace tensorgraph::testing {

class FakeHub {
 public:
  enum class ShaHeader { None, LinkedEtag, Etag, GitSha1 };

  struct Behaviour {
    ShaHeader sha_header = ShaHeader::LinkedEtag;
    bool wrong_sha = false;    // announce the sha256 of something else
    bool honour_range = true;  // false: answer 200 with the whole file to a Range request
    bool redirect = false;     // 302 to /cdn/... (sha256 and size headers on the 302 only)
    std::optional<std::size_t> cut_after;  // close the connection after this many body bytes
    int stall_ms = 0;                      // wait this long before sending the body
    int status = 0;                        // nonzero: answer every request with this status
    std::string required_token;            // nonempty: 401 unless "Authorization: Bearer <token>"
    std::optional<std::string> redirect_host;  // redirect to this host name (default 127.0.0.1)
    // Like the real hub: files of 1 MiB or more get X-Linked-Etag/Size on a 302 to the CDN,
    // smaller ones a 200 with a git SHA-1 ETag (overrides sha_header and redirect).
    bool hub_like = false;
    // Answer a Range request from this many bytes further than asked (and say so in
    // Content-Range), as a broken server or proxy might.
    std::size_t range_shift = 0;
  };

  struct Request {
    std::string path;
    std::string range;          // the Range header, "" if none
    std::string authorization;  // the Authorization header, "" if none
    int status = 0;             // what was answered
  };

  FakeHub();
  ~FakeHub();
  FakeHub(const FakeHub&) = delete;
  FakeHub& operator=(const FakeHub&) = delete;

  // http://127.0.0.1:PORT
  std::string endpoint() const;
  int port() const { return port_; }

  void add_file(const std::string& repo, const std::string& revision, const std::string& name,
                std::string content);
  // Serves ../shared/fixtures/distilbert-tiny/{model.safetensors,config.json,vocab.txt,
  // tokenizer_config.json} under `repo` at revision main. Returns false if the fixture is missing.
  bool add_fixture_model(const std::string& repo);
  // Serves `content` at an exact path ("/files/5976036").
  void add_path(const std::string& path, std::string content);

  void set_behaviour(const Behaviour& b);
  std::vector<Request> requests() const;
  void clear_requests();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
  std::thread thread_;
};

}  // namespace tensorgraph::testing
