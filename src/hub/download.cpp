#include "tensorgraph/hub/download.hpp"

#include <curl/curl.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <exception>
#include <mutex>
#include <system_error>

#include <fmt/format.h>

#include "tensorgraph/core/build_info.hpp"
#include "tensorgraph/core/error.hpp"
#include "tensorgraph/hub/sha256.hpp"

namespace tensorgraph::hub {

namespace detail {

std::optional<std::string> ResponseHeaders::get(const std::string& lower_name) const {
  auto it = fields.find(lower_name);
  if (it == fields.end()) return std::nullopt;
  return it->second;
}

std::string strip_etag(std::string_view etag) {
  if (etag.size() >= 2 && (etag[0] == 'W' || etag[0] == 'w') && etag[1] == '/')
    etag.remove_prefix(2);
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"')
    etag = etag.substr(1, etag.size() - 2);
  return std::string(etag);
}

namespace {

bool all_hex(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); });
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::optional<std::int64_t> parse_int(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || end != s.data() + s.size() || value < 0) return std::nullopt;
  return value;
}

}  // namespace

Announced announced_integrity(const std::vector<ResponseHeaders>& hops) {
  Announced a;
  a.etag_kind = "none";
  // The hub puts the sha256 of a large (LFS) file on its own first response, a redirect to a
  // CDN whose ETag means something else: X-Linked-Etag wins wherever it appears.
  for (const auto& hop : hops) {
    if (auto linked = hop.get("x-linked-etag")) {
      const std::string value = strip_etag(*linked);
      if (is_sha256_hex(value)) {
        a.sha256 = lower(value);
        a.sha256_source = "X-Linked-Etag";
        a.etag_kind = "sha256";
      }
      break;
    }
  }
  for (const auto& hop : hops) {
    if (auto size = hop.get("x-linked-size")) {
      a.linked_size = parse_int(*size);
      break;
    }
  }
  if (a.sha256 || hops.empty()) return a;
  // Otherwise the ETag of the first response (the hub's, or the plain server's).
  if (auto etag = hops.front().get("etag")) {
    const std::string value = strip_etag(*etag);
    if (is_sha256_hex(value)) {
      a.sha256 = lower(value);
      a.sha256_source = "ETag";
      a.etag_kind = "sha256";
    } else if (value.size() == 40 && all_hex(value)) {
      a.etag_kind = "git-sha1";
    } else {
      a.etag_kind = "other";
    }
  }
  return a;
}

std::optional<ContentRange> parse_content_range(std::string_view value) {
  // bytes FIRST-LAST/TOTAL
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  if (value.substr(0, 6) != "bytes ") return std::nullopt;
  value.remove_prefix(6);
  const auto dash = value.find('-');
  const auto slash = value.find('/');
  if (dash == std::string_view::npos || slash == std::string_view::npos || dash > slash)
    return std::nullopt;
  auto first = parse_int(value.substr(0, dash));
  auto last = parse_int(value.substr(dash + 1, slash - dash - 1));
  if (!first || !last || *last < *first) return std::nullopt;
  ContentRange r{*first, *last, -1};
  const auto total_text = value.substr(slash + 1);
  if (total_text != "*") {
    auto total = parse_int(total_text);
    if (!total || *total <= *last) return std::nullopt;
    r.total = *total;
  }
  return r;
}

}  // namespace detail

std::filesystem::path partial_path(const std::filesystem::path& dest) {
  auto p = dest;
  p += ".part";
  return p;
}

namespace {

using detail::ResponseHeaders;

void init_curl_once() {
  static std::once_flag once;
  static CURLcode rc = CURLE_OK;
  std::call_once(once, [] { rc = curl_global_init(CURL_GLOBAL_DEFAULT); });
  TG_CHECK(rc == CURLE_OK, "cannot initialise libcurl: {}", curl_easy_strerror(rc));
}

std::string trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

std::string human_size(std::int64_t bytes) {
  if (bytes < 0) return "?";
  return fmt::format("{} bytes", bytes);
}

// One request: the state shared with libcurl's callbacks (which must not throw).
struct Transfer {
  const DownloadOptions* options = nullptr;
  std::string name;
  std::filesystem::path part;
  std::int64_t start = 0;  // size of the partial file when the request was sent

  std::vector<ResponseHeaders> hops;
  bool decided = false;  // what to do with the body has been decided
  bool to_file = false;  // the body goes to the partial file
  std::FILE* file = nullptr;
  Sha256 hasher;
  std::int64_t kept = 0;     // bytes kept from the partial file
  std::int64_t written = 0;  // body bytes written by this request
  std::int64_t total = -1;   // expected final size
  std::string error_body;    // first bytes of an error response
  std::string abort_reason;  // set by a callback that stopped the transfer
  bool drop_part = false;    // the partial file is unusable
  std::exception_ptr exception;

  int final_status() const { return hops.empty() ? 0 : hops.back().status; }

  void report() {
    if (options->progress) options->progress(TransferProgress{name, kept + written, total, kept});
  }

  // Called on the first body bytes (or after an empty 2xx body).
  bool decide() {
    decided = true;
    const ResponseHeaders* final_hop = hops.empty() ? nullptr : &hops.back();
    const int status = final_status();
    if (status != 200 && status != 206) return true;  // an error: the body is only a message
    const auto announced = detail::announced_integrity(hops);
    if (status == 206) {
      const auto range_text = final_hop->get("content-range");
      const auto range = range_text ? detail::parse_content_range(*range_text) : std::nullopt;
      if (!range || range->first != start) {
        abort_reason =
            fmt::format("the server answered 206 with Content-Range '{}' to 'Range: bytes={}-'",
                        range_text.value_or(""), start);
        drop_part = true;
        return false;
      }
      total = range->total;
      if (start > 0) kept = hasher.update_from_file(part);
      if (kept != start) {
        abort_reason = fmt::format("{} changed while downloading", part.string());
        drop_part = true;
        return false;
      }
    } else {
      kept = 0;  // 200: the whole file from the start (a server that ignores Range)
      if (auto length = final_hop->get("content-length")) {
        std::int64_t value = 0;
        const std::string text = trim(*length);
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
        if (ec == std::errc() && end == text.data() + text.size()) total = value;
      }
    }
    if (announced.linked_size) total = *announced.linked_size;
    file = std::fopen(part.c_str(), kept > 0 ? "ab" : "wb");
    if (file == nullptr) {
      abort_reason = fmt::format("cannot write {}: {}", part.string(), std::strerror(errno));
      return false;
    }
    to_file = true;
    report();
    return true;
  }

  // Flushes and closes the partial file; returns an error message or "".
  std::string close_file() {
    if (file == nullptr) return "";
    std::string error;
    if (std::fflush(file) != 0 || ::fsync(::fileno(file)) != 0)
      error = fmt::format("cannot write {}: {}", part.string(), std::strerror(errno));
    if (std::fclose(file) != 0 && error.empty())
      error = fmt::format("cannot write {}: {}", part.string(), std::strerror(errno));
    file = nullptr;
    return error;
  }
};

size_t on_header(char* buffer, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t bytes = size * count;
  try {
    const std::string line = trim(std::string_view(buffer, bytes));
    if (line.rfind("HTTP/", 0) == 0) {
      ResponseHeaders hop;
      const auto sp1 = line.find(' ');
      if (sp1 != std::string::npos) {
        const auto sp2 = line.find(' ', sp1 + 1);
        const std::string code =
            line.substr(sp1 + 1, sp2 == std::string::npos ? std::string::npos : sp2 - sp1 - 1);
        std::from_chars(code.data(), code.data() + code.size(), hop.status);
        if (sp2 != std::string::npos) hop.reason = line.substr(sp2 + 1);
      }
      t->hops.push_back(std::move(hop));
    } else if (!line.empty() && !t->hops.empty()) {
      const auto colon = line.find(':');
      if (colon != std::string::npos) {
        std::string name = line.substr(0, colon);
        for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        t->hops.back().fields.emplace(std::move(name), trim(line.substr(colon + 1)));
      }
    }
  } catch (...) {
    t->exception = std::current_exception();
    return 0;
  }
  return bytes;
}

size_t on_body(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t bytes = size * count;
  try {
    if (!t->decided && !t->decide()) return 0;
    if (!t->to_file) {
      if (t->error_body.size() < 300)
        t->error_body.append(data, std::min(bytes, 300 - t->error_body.size()));
      return bytes;
    }
    if (std::fwrite(data, 1, bytes, t->file) != bytes) {
      t->abort_reason = fmt::format("cannot write {}: {}", t->part.string(), std::strerror(errno));
      return 0;
    }
    t->hasher.update(data, bytes);
    t->written += static_cast<std::int64_t>(bytes);
    t->report();
  } catch (...) {
    t->exception = std::current_exception();
    return 0;
  }
  return bytes;
}

struct CurlEasy {
  CURL* handle = curl_easy_init();
  curl_slist* headers = nullptr;
  ~CurlEasy() {
    curl_slist_free_all(headers);
    if (handle) curl_easy_cleanup(handle);
  }
};

std::string curl_failure(CURLcode rc, const char* errbuf, CURL* handle, const Transfer& t,
                         const TransferOptions& options) {
  const std::string detail = (errbuf && *errbuf) ? errbuf : curl_easy_strerror(rc);
  switch (rc) {
    case CURLE_COULDNT_RESOLVE_HOST:
      return fmt::format(
          "cannot resolve the host name, DNS lookup failed ({}); check the address "
          "and your network",
          detail);
    case CURLE_COULDNT_RESOLVE_PROXY:
      return fmt::format("cannot resolve the proxy ({}); check https_proxy / http_proxy", detail);
    case CURLE_COULDNT_CONNECT: {
      long os_errno = 0;
      curl_easy_getinfo(handle, CURLINFO_OS_ERRNO, &os_errno);
      if (os_errno == ECONNREFUSED)
        return fmt::format("connection refused ({}); is the server running?", detail);
      return fmt::format("cannot connect ({})", detail);
    }
    case CURLE_OPERATION_TIMEDOUT: {
      curl_off_t connect_us = 0;
      curl_easy_getinfo(handle, CURLINFO_CONNECT_TIME_T, &connect_us);
      if (connect_us == 0 && t.hops.empty())
        return fmt::format("timed out connecting after {} s ({})", options.connect_timeout_s,
                           detail);
      return fmt::format(
          "timed out: no data received for {} s after {} ({}); run the command "
          "again to resume",
          options.read_timeout_s, human_size(t.kept + t.written), detail);
    }
    case CURLE_PARTIAL_FILE:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return fmt::format(
          "the connection was closed after {}{} ({}); run the command again to "
          "resume",
          human_size(t.kept + t.written),
          t.total >= 0 ? " of " + human_size(t.total) : std::string(), detail);
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
      return fmt::format(
          "TLS error ({}); behind a proxy or mirror with its own certificate "
          "authority set CURL_CA_BUNDLE to its certificate file",
          detail);
    case CURLE_TOO_MANY_REDIRECTS:
      return fmt::format("too many redirects ({})", detail);
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
      return fmt::format("invalid URL ({})", detail);
    default:
      return fmt::format("{} ({})", curl_easy_strerror(rc), detail);
  }
}

std::string http_failure(const Transfer& t) {
  const ResponseHeaders& hop = t.hops.back();
  std::string message = fmt::format("HTTP {}", hop.status);
  if (!hop.reason.empty()) message += " " + hop.reason;
  if (auto hub_message = hop.get("x-error-message")) message += ": " + *hub_message;
  switch (hop.status) {
    case 401:
    case 403:
      message +=
          " (the file is private or gated: set HF_TOKEN to an access token that can read it)";
      break;
    case 404:
      message += " (check the repository id, revision and file name)";
      break;
    case 429:
      message += " (rate limited: wait and run the command again)";
      break;
    default:
      if (hop.status >= 500) message += " (server error: run the command again later)";
  }
  return message;
}

void remove_quietly(const std::filesystem::path& p) {
  std::error_code ec;
  std::filesystem::remove(p, ec);
}

void sync_directory(const std::filesystem::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

}  // namespace

DownloadResult download_file(const std::string& url, const std::filesystem::path& dest,
                             const DownloadOptions& options) {
  auto failure = [&](const std::string& cause) -> Error {
    return Error(fmt::format("cannot download {}: {}", url, cause));
  };
  DownloadResult result;
  result.url = url;
  result.path = dest;
  const auto part = partial_path(dest);
  std::error_code ec;

  if (std::filesystem::is_directory(dest, ec))
    throw failure(fmt::format("{} is a directory", dest.string()));
  if (!options.force && std::filesystem::is_regular_file(dest, ec)) {
    result.status = DownloadStatus::AlreadyPresent;
    result.size = static_cast<std::int64_t>(std::filesystem::file_size(dest, ec));
    return result;
  }
  if (options.transfer.offline)
    throw failure(
        fmt::format("offline mode (HF_HUB_OFFLINE=1) and {} is not there; unset "
                    "HF_HUB_OFFLINE to download it",
                    dest.string()));
  if (!dest.parent_path().empty()) {
    std::filesystem::create_directories(dest.parent_path(), ec);
    if (ec)
      throw failure(fmt::format("cannot create {}: {}", dest.parent_path().string(), ec.message()));
  }
  if (options.force) remove_quietly(part);

  init_curl_once();
  const std::string name =
      options.display_name.empty() ? dest.filename().string() : options.display_name;

  for (int attempt = 0;; ++attempt) {
    Transfer t;
    t.options = &options;
    t.name = name;
    t.part = part;
    t.start = std::filesystem::is_regular_file(part, ec)
                  ? static_cast<std::int64_t>(std::filesystem::file_size(part, ec))
                  : 0;

    CurlEasy curl;
    TG_CHECK(curl.handle != nullptr, "cannot initialise libcurl");
    char errbuf[CURL_ERROR_SIZE] = {0};
    CURL* h = curl.handle;
    const std::string user_agent = "tensorgraph/" + build_info().version;
    curl_easy_setopt(h, CURLOPT_URL, url.c_str());
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(h, CURLOPT_MAXREDIRS, 10L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);
    curl_easy_setopt(h, CURLOPT_USERAGENT, user_agent.c_str());
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, options.transfer.connect_timeout_s);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, options.transfer.read_timeout_s);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &t);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &t);
    if (const char* ca = std::getenv("CURL_CA_BUNDLE"); ca && *ca)
      curl_easy_setopt(h, CURLOPT_CAINFO, ca);
    if (options.transfer.bearer_token && !options.transfer.bearer_token->empty()) {
      // libcurl sends it to the first host only, never to the CDN a redirect leads to.
      curl_easy_setopt(h, CURLOPT_HTTPAUTH, CURLAUTH_BEARER);
      curl_easy_setopt(h, CURLOPT_XOAUTH2_BEARER, options.transfer.bearer_token->c_str());
    }
    const std::string range = fmt::format("{}-", t.start);
    if (t.start > 0) curl_easy_setopt(h, CURLOPT_RANGE, range.c_str());

    const CURLcode rc = curl_easy_perform(h);
    const std::string close_error = t.close_file();
    if (t.exception) std::rethrow_exception(t.exception);
    if (!t.abort_reason.empty()) {
      if (t.drop_part) remove_quietly(part);
      throw failure(t.abort_reason);
    }
    if (!close_error.empty()) throw failure(close_error);
    if (rc != CURLE_OK) throw failure(curl_failure(rc, errbuf, h, t, options.transfer));

    const int status = t.final_status();
    result.http_status = status;
    bool complete_part = false;
    if (status == 416 && t.start > 0) {
      // "bytes */TOTAL": nothing left to send. When TOTAL is the size of the partial file, it
      // was complete (interrupted before the rename) and only needs checking; otherwise it is
      // not a prefix of this file (changed upstream?): start over.
      const auto unsatisfied = t.hops.back().get("content-range");
      const auto announced = detail::announced_integrity(t.hops);
      std::int64_t total = -1;
      if (unsatisfied && unsatisfied->rfind("bytes */", 0) == 0) {
        const std::string text = unsatisfied->substr(8);
        std::from_chars(text.data(), text.data() + text.size(), total);
      }
      if (announced.linked_size) total = *announced.linked_size;
      if (total == t.start) {
        t.kept = t.hasher.update_from_file(part);
        t.total = total;
        t.decided = true;
        complete_part = true;
      } else if (attempt == 0) {
        remove_quietly(part);
        continue;
      }
    }
    if (status != 200 && status != 206 && !complete_part) {
      if (t.hops.empty()) throw failure("no HTTP response");
      throw failure(http_failure(t));
    }
    if (!t.decided && !t.decide()) {  // an empty body
      t.close_file();
      if (t.drop_part) remove_quietly(part);
      throw failure(t.abort_reason);
    }
    if (const auto err = t.close_file(); !err.empty()) throw failure(err);

    const std::int64_t size = static_cast<std::int64_t>(std::filesystem::file_size(part, ec));
    if (ec) throw failure(fmt::format("cannot read {}: {}", part.string(), ec.message()));
    if (t.total >= 0 && size != t.total) {
      if (size > t.total) {
        remove_quietly(part);
        throw failure(
            fmt::format("size mismatch: the server announced {}, got {}; the partial "
                        "file was deleted",
                        human_size(t.total), human_size(size)));
      }
      throw failure(fmt::format("incomplete: got {} of {}; run the command again to resume",
                                human_size(size), human_size(t.total)));
    }

    const std::string sha = t.hasher.hex_digest();
    const auto announced = detail::announced_integrity(t.hops);
    result.verified = false;
    result.verified_by =
        announced.etag_kind == "git-sha1" ? "git SHA-1 ETag only" : "no sha256 announced";
    if (announced.sha256) {
      if (*announced.sha256 != sha) {
        remove_quietly(part);
        throw failure(
            fmt::format("sha256 mismatch: the server announced {} ({}), the downloaded "
                        "file has {}; the partial file was deleted",
                        *announced.sha256, announced.sha256_source, sha));
      }
      result.verified = true;
      result.verified_by = announced.sha256_source;
    }
    if (options.expected_sha256) {
      std::string expected = *options.expected_sha256;
      for (char& c : expected) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (expected != sha) {
        remove_quietly(part);
        throw failure(
            fmt::format("sha256 mismatch: expected {}, the downloaded file has {}; the "
                        "partial file was deleted",
                        expected, sha));
      }
      result.verified = true;
      result.verified_by = "expected";
    }
    if (options.verify) {
      bool ok = false;
      try {
        ok = options.verify(part, sha);
      } catch (const Error& e) {
        remove_quietly(part);
        throw failure(e.what());
      }
      if (ok) {
        result.verified = true;
        result.verified_by = "verify";
      }
    }

    std::filesystem::rename(part, dest, ec);
    if (ec)
      throw failure(
          fmt::format("cannot rename {} to {}: {}", part.string(), dest.string(), ec.message()));
    sync_directory(dest.parent_path().empty() ? std::filesystem::path(".") : dest.parent_path());
    result.status = DownloadStatus::Downloaded;
    result.size = size;
    result.sha256 = sha;
    result.resumed_from = t.kept;
    return result;
  }
}

}  // namespace tensorgraph::hub
