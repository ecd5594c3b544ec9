#pragma once
// One verified, resumable, atomic HTTP(S) download (libcurl).
//
//   * The body goes to DEST.part. When DEST.part exists from an interrupted run, the request
//     carries `Range: bytes=N-`; a `206` whose Content-Range starts at N is appended, a `200`
//     restarts from zero, a `416` drops the partial file and starts over.
//   * DEST appears only by an atomic rename, after the size check (X-Linked-Size, else
//     Content-Length / Content-Range) and the sha256 check.
//   * Integrity: a sha256 announced by the server (a 64-hex X-Linked-Etag, as the HuggingFace hub
//     sends on the first response of a redirect chain, else a 64-hex ETag of that first
//     response), or one the caller knows, must match. A 40-hex git SHA-1 ETag or no header: the
//     file is accepted and its sha256 reported as unverified.
//   * Redirects are followed; the headers of every hop are kept. Connect and read timeouts
//     (no byte for `read_timeout_s` aborts). A bearer token is sent to the first host only.
//   * Failure throws Error: one line "cannot download URL: cause". A partial file is kept for
//     resuming only when the transfer was cut; a file that failed verification is deleted.
// The library never prints: progress is reported through a callback.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tensorgraph::hub {

struct TransferProgress {
  std::string_view name;          // what is being downloaded (file name)
  std::int64_t done = 0;          // bytes in the file so far, resumed bytes included
  std::int64_t total = -1;        // expected size, -1 when unknown
  std::int64_t resumed_from = 0;  // bytes that were already there when this transfer began
};
using ProgressCallback = std::function<void(const TransferProgress&)>;

struct TransferOptions {
  long connect_timeout_s = 30;
  long read_timeout_s = 60;                 // abort when no byte arrives for this long
  std::optional<std::string> bearer_token;  // "Authorization: Bearer ..." (first host only)
  bool offline = false;                     // no network at all: fail unless DEST exists
};

struct DownloadOptions {
  TransferOptions transfer;
  bool force = false;  // download again even when DEST exists (replaced only once verified)
  std::optional<std::string> expected_sha256;  // known in advance, checked like an announced one
  // Called with DEST.part and its sha256 before the rename: returns true when it verified the
  // content, false to accept it unverified; throws Error to reject it (the part is deleted).
  std::function<bool(const std::filesystem::path& part, const std::string& sha256)> verify;
  ProgressCallback progress;
  std::string display_name;  // for progress; default: DEST's file name
};

enum class DownloadStatus { Downloaded, AlreadyPresent };

struct DownloadResult {
  std::string url;
  std::filesystem::path path;
  DownloadStatus status = DownloadStatus::Downloaded;
  std::int64_t size = 0;
  std::string sha256;       // empty when already present
  bool verified = false;    // sha256 checked against a known value
  std::string verified_by;  // "X-Linked-Etag", "ETag", "expected", "verify", or why unverified
  std::int64_t resumed_from = 0;  // bytes kept from an earlier partial download
  int http_status = 0;            // of the final response
};

DownloadResult download_file(const std::string& url, const std::filesystem::path& dest,
                             const DownloadOptions& options = {});

// The partial file of DEST: DEST.part.
std::filesystem::path partial_path(const std::filesystem::path& dest);

namespace detail {

// The headers of one HTTP response of a redirect chain (names lower-cased).
struct ResponseHeaders {
  int status = 0;
  std::string reason;
  std::multimap<std::string, std::string> fields;
  std::optional<std::string> get(const std::string& lower_name) const;
};

// An ETag value with W/ and quotes removed.
std::string strip_etag(std::string_view etag);

// What the server announced about the file, from the headers of every hop.
struct Announced {
  std::optional<std::string> sha256;  // lower-case hex
  std::string sha256_source;          // "X-Linked-Etag" / "ETag"
  std::string etag_kind;  // "git-sha1", "sha256", "other", "none" (for the unverified reason)
  std::optional<std::int64_t> linked_size;  // X-Linked-Size
};
Announced announced_integrity(const std::vector<ResponseHeaders>& hops);

// "bytes 100-199/1000" -> {100, 199, 1000}; total -1 for "*".
struct ContentRange {
  std::int64_t first = 0;
  std::int64_t last = 0;
  std::int64_t total = -1;
};
std::optional<ContentRange> parse_content_range(std::string_view value);

}  // namespace detail
}  // namespace tensorgraph::hub
