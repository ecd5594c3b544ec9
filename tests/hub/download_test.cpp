#include "tensorgraph/hub/download.hpp"

#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "fake_hub.hpp"
#include "hub_test_util.hpp"
#include "support/shared_data.hpp"
#include "tensorgraph/core/error.hpp"
#include "tensorgraph/hub/models.hpp"
#include "tensorgraph/hub/sha256.hpp"

namespace tensorgraph::hub {
namespace {

namespace fs = std::filesystem;
using testing::error_of;
using testing::FakeHub;
using ::testing::HasSubstr;
using testing::read_file;
using testing::shared_path;
using testing::TempDir;
using testing::write_file;

fs::path fixture(const std::string& name) {
  return shared_path("fixtures/distilbert-tiny/" + name);
}

#define REQUIRE_FIXTURE_MODEL() TG_REQUIRE_SHARED_FILE(fixture("model.safetensors"))

// Options that talk to the fake hub quickly and never read the environment.
ModelDownloadOptions hub_options(const FakeHub& hub) {
  ModelDownloadOptions o;
  o.hub = HubConfig{};
  o.hub.endpoint = hub.endpoint();
  o.connect_timeout_s = 5;
  o.read_timeout_s = 5;
  return o;
}

DownloadOptions file_options() {
  DownloadOptions o;
  o.transfer.connect_timeout_s = 5;
  o.transfer.read_timeout_s = 5;
  return o;
}

// ---- sha256 -------------------------------------------------------------------------------

TEST(Sha256, KnownVectors) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  Sha256 h;  // incremental == one shot
  h.update("a");
  h.update("bc");
  EXPECT_EQ(h.hex_digest(), sha256_hex("abc"));
  EXPECT_EQ(h.hex_digest(), sha256_hex(""));  // starts over after a digest
}

TEST(Sha256, FilesAndGzip) {
  TempDir dir;
  write_file(dir / "plain.txt", "hello\n");
  EXPECT_EQ(sha256_file(dir / "plain.txt"), sha256_hex("hello\n"));
  {
    gzFile gz = gzopen((dir / "x.gz").c_str(), "wb");
    ASSERT_NE(gz, nullptr);
    gzwrite(gz, "hello\n", 6);
    gzclose(gz);
  }
  EXPECT_EQ(sha256_gunzipped_file(dir / "x.gz"), sha256_hex("hello\n"));
  EXPECT_THAT(error_of([&] { sha256_gunzipped_file(dir / "plain.txt"); }), HasSubstr("not a gzip"));
  const std::string gz = read_file(dir / "x.gz");
  write_file(dir / "cut.gz", gz.substr(0, gz.size() - 6));
  EXPECT_THAT(error_of([&] { sha256_gunzipped_file(dir / "cut.gz"); }), HasSubstr("gzip"));
  EXPECT_THAT(error_of([&] { sha256_file(dir / "missing"); }), HasSubstr("missing"));
  EXPECT_TRUE(is_sha256_hex(sha256_hex("x")));
  EXPECT_FALSE(is_sha256_hex("abc"));
}

// ---- header logic -------------------------------------------------------------------------

detail::ResponseHeaders hop(int status,
                            std::initializer_list<std::pair<std::string, std::string>> f) {
  detail::ResponseHeaders h;
  h.status = status;
  for (const auto& [k, v] : f) h.fields.emplace(k, v);
  return h;
}

TEST(Announced, LinkedEtagOfTheFirstHopWinsOverTheCdnEtag) {
  const std::string sha = sha256_hex("model");
  const std::string other = sha256_hex("cdn");
  auto a = detail::announced_integrity(
      {hop(302, {{"x-linked-etag", "\"" + sha + "\""},
                 {"x-linked-size", "1234"},
                 {"etag", "\"" + sha + "\""}}),
       hop(200, {{"etag", "\"" + other + "\""}, {"content-length", "1234"}})});
  ASSERT_TRUE(a.sha256);
  EXPECT_EQ(*a.sha256, sha);
  EXPECT_EQ(a.sha256_source, "X-Linked-Etag");
  EXPECT_EQ(a.linked_size, 1234);
}

TEST(Announced, EtagKinds) {
  const std::string sha = sha256_hex("x");
  std::string upper = sha;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  auto a = detail::announced_integrity({hop(200, {{"etag", "W/\"" + upper + "\""}})});
  ASSERT_TRUE(a.sha256);
  EXPECT_EQ(*a.sha256, sha);  // W/ and quotes stripped, lower-cased
  EXPECT_EQ(a.sha256_source, "ETag");

  a = detail::announced_integrity({hop(200, {{"etag", "\"" + sha.substr(0, 40) + "\""}})});
  EXPECT_FALSE(a.sha256);
  EXPECT_EQ(a.etag_kind, "git-sha1");

  a = detail::announced_integrity({hop(200, {{"etag", "\"5f1-abc\""}})});
  EXPECT_FALSE(a.sha256);
  EXPECT_EQ(a.etag_kind, "other");

  a = detail::announced_integrity({hop(200, {})});
  EXPECT_FALSE(a.sha256);
  EXPECT_EQ(a.etag_kind, "none");

  // Only the first response's ETag counts: a later hop's is the CDN's.
  a = detail::announced_integrity({hop(302, {}), hop(200, {{"etag", "\"" + sha + "\""}})});
  EXPECT_FALSE(a.sha256);
  EXPECT_EQ(detail::strip_etag("W/\"abc\""), "abc");
}

TEST(Announced, ContentRange) {
  auto r = detail::parse_content_range("bytes 100-199/1000");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->first, 100);
  EXPECT_EQ(r->last, 199);
  EXPECT_EQ(r->total, 1000);
  r = detail::parse_content_range("bytes 0-9/*");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->total, -1);
  EXPECT_FALSE(detail::parse_content_range("bytes */1000"));
  EXPECT_FALSE(detail::parse_content_range("bytes 10-5/100"));
  EXPECT_FALSE(detail::parse_content_range("bytes 0-99/50"));
  EXPECT_FALSE(detail::parse_content_range("items 0-1/2"));
}

TEST(HubUrls, BuildsAndChecks) {
  EXPECT_EQ(hub_file_url("https://huggingface.co/", "acme/tiny", "main", "config.json"),
            "https://huggingface.co/acme/tiny/resolve/main/config.json");
  EXPECT_EQ(hub_file_url("http://h", "m", "refs/pr/1", "onnx/model file.onnx"),
            "http://h/m/resolve/refs%2Fpr%2F1/onnx/model%20file.onnx");
  EXPECT_NO_THROW(check_repo_id("distilbert-base-uncased-finetuned-sst-2-english"));
  EXPECT_NO_THROW(check_repo_id("acme/tiny.v2_x"));
  for (const char* bad : {"", "a/b/c", "/a", "a/", "a b", "../x", "a/.."})
    EXPECT_THAT(error_of([&] { check_repo_id(bad); }), HasSubstr("invalid repository id")) << bad;
  EXPECT_NO_THROW(check_repo_file("onnx/model.onnx"));
  for (const char* bad : {"", "/etc/passwd", "../x", "a/../../b", "a//b", "a\\b"})
    EXPECT_THAT(error_of([&] { check_repo_file(bad); }), HasSubstr("invalid file name")) << bad;
}

// ---- downloads against the fake hub --------------------------------------------------------

TEST(DownloadModel, FourFilesByteIdenticalAndVerified) {
  REQUIRE_FIXTURE_MODEL();
  FakeHub hub;
  ASSERT_TRUE(hub.add_fixture_model("acme/tiny"));
  TempDir dir;
  std::vector<std::string> seen;
  auto options = hub_options(hub);
  options.on_file = [&](const DownloadResult& r) { seen.push_back(r.path.filename().string()); };
  const auto results = download_model("acme/tiny", dir.path(), options);
  ASSERT_EQ(results.size(), 4u);
  EXPECT_EQ(seen, model_files());
  for (const auto& r : results) {
    const auto name = r.path.filename().string();
    EXPECT_EQ(r.status, DownloadStatus::Downloaded);
    EXPECT_EQ(read_file(r.path), read_file(fixture(name))) << name;
    EXPECT_EQ(r.sha256, sha256_file(fixture(name)));
    EXPECT_TRUE(r.verified);
    EXPECT_EQ(r.verified_by, "X-Linked-Etag");
    EXPECT_EQ(r.size, static_cast<std::int64_t>(fs::file_size(fixture(name))));
    EXPECT_EQ(r.url, hub.endpoint() + "/acme/tiny/resolve/main/" + name);
    EXPECT_FALSE(fs::exists(partial_path(r.path)));
  }
  EXPECT_TRUE(model_present(dir.path()));
}

TEST(DownloadModel, HubLikeRedirectAndGitSha1Etags) {
  REQUIRE_FIXTURE_MODEL();
  FakeHub hub;
  ASSERT_TRUE(hub.add_fixture_model("acme/tiny"));
  FakeHub::Behaviour b;
  b.hub_like = true;
  hub.set_behaviour(b);
  TempDir dir;
  const auto results = download_model("acme/tiny", dir.path(), hub_options(hub));
  ASSERT_EQ(results.size(), 4u);
  // model.safetensors (8 MB): verified through the 302's X-Linked-Etag although the CDN's ETag
  // is another 64-hex value.
  EXPECT_TRUE(results[0].verified);
  EXPECT_EQ(results[0].verified_by, "X-Linked-Etag");
  EXPECT_EQ(read_file(results[0].path), read_file(fixture("model.safetensors")));
  for (std::size_t i = 1; i < results.size(); ++i) {
    EXPECT_FALSE(results[i].verified);
    EXPECT_EQ(results[i].verified_by, "git SHA-1 ETag only");
    EXPECT_EQ(results[i].sha256, sha256_file(fixture(model_files()[i])));
  }
  const auto requests = hub.requests();
  ASSERT_GE(requests.size(), 2u);
  EXPECT_EQ(requests[0].path, "/acme/tiny/resolve/main/model.safetensors");
  EXPECT_EQ(requests[0].status, 302);
  EXPECT_EQ(requests[1].path, "/cdn/acme/tiny/resolve/main/model.safetensors");
}

TEST(DownloadFile, ResumesWithRangeAfterACutTransfer) {
  REQUIRE_FIXTURE_MODEL();
  FakeHub hub;
  ASSERT_TRUE(hub.add_fixture_model("acme/tiny"));
  const std::string url = hub.endpoint() + "/acme/tiny/resolve/main/model.safetensors";
  TempDir dir;
  const auto dest = dir / "model.safetensors";
  constexpr std::size_t kCut = 3'000'000;

  FakeHub::Behaviour cut;
  cut.cut_after = kCut;
  hub.set_behaviour(cut);
  const std::string message = error_of([&] { download_file(url, dest, file_options()); });
  EXPECT_THAT(message, HasSubstr(url));
  EXPECT_THAT(message, HasSubstr("closed after 3000000 bytes"));
  EXPECT_THAT(message, HasSubstr("resume"));
  EXPECT_FALSE(fs::exists(dest));
  ASSERT_TRUE(fs::exists(partial_path(dest)));
  EXPECT_EQ(fs::file_size(partial_path(dest)), kCut);

  hub.set_behaviour({});
  hub.clear_requests();
  std::vector<TransferProgress> progress;
  auto options = file_options();
  options.progress = [&](const TransferProgress& p) { progress.push_back(p); };
  const auto r = download_file(url, dest, options);
  const auto requests = hub.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].range, "bytes=3000000-");
  EXPECT_EQ(r.http_status, 206);
  EXPECT_EQ(r.resumed_from, static_cast<std::int64_t>(kCut));
  EXPECT_TRUE(r.verified);
  EXPECT_EQ(r.sha256, sha256_file(fixture("model.safetensors")));
  EXPECT_EQ(read_file(dest), read_file(fixture("model.safetensors")));
  EXPECT_FALSE(fs::exists(partial_path(dest)));
  ASSERT_FALSE(progress.empty());
  EXPECT_EQ(progress.front().resumed_from, static_cast<std::int64_t>(kCut));
  EXPECT_EQ(progress.back().done, r.size);
  EXPECT_EQ(progress.back().total, r.size);
}

TEST(DownloadFile, RangeIgnoredRestartsFromZero) {
  REQUIRE_FIXTURE_MODEL();
  FakeHub hub;
  ASSERT_TRUE(hub.add_fixture_model("acme/tiny"));
  const std::string url = hub.endpoint() + "/acme/tiny/resolve/main/model.safetensors";
  TempDir dir;
  const auto dest = dir / "model.safetensors";
  FakeHub::Behaviour b;
  b.cut_after = 1'000'000;
  hub.set_behaviour(b);
  EXPECT_THROW(download_file(url, dest, file_options()), Error);
  ASSERT_EQ(fs::file_size(partial_path(dest)), 1'000'000u);

  b = {};
  b.honour_range = false;
  hub.set_behaviour(b);
  hub.clear_requests();
  const auto r = download_file(url, dest, file_options());
  const auto requests = hub.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].range, "bytes=1000000-");  // asked, but the answer was the whole file
  EXPECT_EQ(r.http_status, 200);
  EXPECT_EQ(r.resumed_from, 0);
  EXPECT_TRUE(r.verified);
  EXPECT_EQ(read_file(dest), read_file(fixture("model.safetensors")));
}

TEST(DownloadFile, WrongContentRangeIsRejected) {
  FakeHub hub;
  hub.add_path("/f", std::string(1000, 'a') + std::string(1000, 'b'));
  TempDir dir;
  write_file(partial_path(dir / "f"), std::string(1000, 'a'));
  FakeHub::Behaviour b;
  b.range_shift = 10;
  b.sha_header = FakeHub::ShaHeader::None;
  hub.set_behaviour(b);
  const std::string message =
      error_of([&] { download_file(hub.endpoint() + "/f", dir / "f", file_options()); });
  EXPECT_THAT(message, HasSubstr("Content-Range 'bytes 1010-1999/2000' to 'Range: bytes=1000-'"));
  EXPECT_FALSE(fs::exists(dir / "f"));
  EXPECT_FALSE(fs::exists(partial_path(dir / "f")));  // unusable: the next run starts over
}

TEST(DownloadFile, CompletePartialIsCheckedAndKept) {
  // Interrupted after the last byte but before the rename: the server answers 416 with
  // "bytes */SIZE" and the partial file only needs checking.
  FakeHub hub;
  const std::string content(50'000, 'c');
  hub.add_path("/f", content);
  FakeHub::Behaviour b;
  b.sha_header = FakeHub::ShaHeader::Etag;
  hub.set_behaviour(b);
  TempDir dir;
  write_file(partial_path(dir / "f"), content);
  const auto r = download_file(hub.endpoint() + "/f", dir / "f", file_options());
  EXPECT_EQ(r.http_status, 416);
  EXPECT_EQ(r.resumed_from, 50'000);
  EXPECT_TRUE(r.verified);
  EXPECT_EQ(read_file(dir / "f"), content);
  ASSERT_EQ(hub.requests().size(), 1u);

  // The same with a wrong partial file of the right size: the sha256 check catches it.
  write_file(partial_path(dir / "g"), std::string(50'000, 'x'));
  hub.add_path("/g", content);
  EXPECT_THAT(error_of([&] { download_file(hub.endpoint() + "/g", dir / "g", file_options()); }),
              HasSubstr("sha256 mismatch"));
  EXPECT_FALSE(fs::exists(partial_path(dir / "g")));
}

TEST(DownloadFile, PartialLongerThanTheFileStartsOver) {
  FakeHub hub;
  hub.add_file("acme/tiny", "main", "config.json", "{\"dim\": 64}\n");
  const std::string url = hub.endpoint() + "/acme/tiny/resolve/main/config.json";
  TempDir dir;
  const auto dest = dir / "config.json";
  write_file(partial_path(dest), std::string(100, 'x'));  // longer than the file: 416
  const auto r = download_file(url, dest, file_options());
  EXPECT_EQ(read_file(dest), "{\"dim\": 64}\n");
  EXPECT_EQ(r.resumed_from, 0);
  const auto requests = hub.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].range, "bytes=100-");
  EXPECT_EQ(requests[1].range, "");
}

TEST(DownloadFile, ShaMismatchFailsAndLeavesNothing) {
  FakeHub hub;
  hub.add_file("acme/tiny", "main", "model.safetensors", std::string(100'000, 'w'));
  const std::string url = hub.endpoint() + "/acme/tiny/resolve/main/model.safetensors";
  for (auto header : {FakeHub::ShaHeader::LinkedEtag, FakeHub::ShaHeader::Etag}) {
    FakeHub::Behaviour b;
    b.sha_header = header;
    b.wrong_sha = true;
    hub.set_behaviour(b);
    TempDir dir;
    const auto dest = dir / "model.safetensors";
    const std::string message = error_of([&] { download_file(url, dest, file_options()); });
    EXPECT_THAT(message, HasSubstr("cannot download " + url));
    EXPECT_THAT(message, HasSubstr("sha256 mismatch"));
    EXPECT_EQ(message.find('\n'), std::string::npos);
    EXPECT_FALSE(fs::exists(dest));
    EXPECT_FALSE(fs::exists(partial_path(dest)));
  }
}

TEST(DownloadFile, ExpectedShaAndVerifyHook) {
  FakeHub hub;
  hub.add_path("/data/x.bin", "payload");
  FakeHub::Behaviour b;
  b.sha_header = FakeHub::ShaHeader::None;
  hub.set_behaviour(b);
  TempDir dir;
  auto options = file_options();
  options.expected_sha256 = sha256_hex("payload");
  auto r = download_file(hub.endpoint() + "/data/x.bin", dir / "x.bin", options);
  EXPECT_TRUE(r.verified);
  EXPECT_EQ(r.verified_by, "expected");

  options.expected_sha256 = sha256_hex("other");
  EXPECT_THAT(
      error_of([&] { download_file(hub.endpoint() + "/data/x.bin", dir / "y.bin", options); }),
      HasSubstr("sha256 mismatch: expected"));
  EXPECT_FALSE(fs::exists(dir / "y.bin"));

  options.expected_sha256.reset();
  options.verify = [](const fs::path&, const std::string&) -> bool {
    fail("rejected by the hook");
  };
  EXPECT_THAT(
      error_of([&] { download_file(hub.endpoint() + "/data/x.bin", dir / "z.bin", options); }),
      HasSubstr("rejected by the hook"));
  EXPECT_FALSE(fs::exists(dir / "z.bin"));
  EXPECT_FALSE(fs::exists(partial_path(dir / "z.bin")));
}

TEST(DownloadFile, NotFound) {
  FakeHub hub;
  TempDir dir;
  const std::string url = hub.endpoint() + "/acme/tiny/resolve/main/model.safetensors";
  const std::string message = error_of([&] { download_file(url, dir / "m", file_options()); });
  EXPECT_THAT(message, HasSubstr("cannot download " + url + ": HTTP 404"));
  EXPECT_THAT(message, HasSubstr("Entry not found"));
  EXPECT_FALSE(fs::exists(dir / "m"));
  EXPECT_FALSE(fs::exists(partial_path(dir / "m")));
}

TEST(DownloadFile, ServerErrorStatus) {
  FakeHub hub;
  hub.add_path("/x", "x");
  FakeHub::Behaviour b;
  b.status = 503;
  hub.set_behaviour(b);
  TempDir dir;
  EXPECT_THAT(error_of([&] { download_file(hub.endpoint() + "/x", dir / "x", file_options()); }),
              HasSubstr("HTTP 503"));
}

TEST(DownloadFile, ServerDownIsConnectionRefused) {
  std::string endpoint;
  {
    FakeHub hub;
    endpoint = hub.endpoint();
  }  // stopped: nothing listens on that port any more
  TempDir dir;
  const std::string url = endpoint + "/acme/tiny/resolve/main/model.safetensors";
  const std::string message =
      error_of([&] { download_file(url, dir / "model.safetensors", file_options()); });
  EXPECT_THAT(message, HasSubstr("cannot download " + url + ": connection refused"));
  EXPECT_EQ(message.find('\n'), std::string::npos);
  EXPECT_FALSE(fs::exists(dir / "model.safetensors"));
  EXPECT_FALSE(fs::exists(partial_path(dir / "model.safetensors")));
}

TEST(DownloadFile, UnknownHost) {
  TempDir dir;
  const std::string message =
      error_of([&] { download_file("http://no-such-host.invalid/x", dir / "x", file_options()); });
  EXPECT_THAT(message, HasSubstr("cannot download http://no-such-host.invalid/x: cannot resolve"));
}

TEST(DownloadFile, ReadTimeout) {
  FakeHub hub;
  hub.add_path("/slow", "data");
  FakeHub::Behaviour b;
  b.stall_ms = 4000;
  hub.set_behaviour(b);
  TempDir dir;
  auto options = file_options();
  options.transfer.read_timeout_s = 1;
  const std::string message =
      error_of([&] { download_file(hub.endpoint() + "/slow", dir / "slow", options); });
  EXPECT_THAT(message, HasSubstr("timed out: no data received for 1 s"));
  EXPECT_FALSE(fs::exists(dir / "slow"));
}

TEST(DownloadFile, AlreadyPresentAndForce) {
  FakeHub hub;
  hub.add_path("/f", "fresh content");
  const std::string url = hub.endpoint() + "/f";
  TempDir dir;
  write_file(dir / "f", "old");
  auto r = download_file(url, dir / "f", file_options());
  EXPECT_EQ(r.status, DownloadStatus::AlreadyPresent);
  EXPECT_EQ(r.size, 3);
  EXPECT_TRUE(hub.requests().empty());
  EXPECT_EQ(read_file(dir / "f"), "old");

  auto options = file_options();
  options.force = true;
  write_file(partial_path(dir / "f"), "stale partial");
  r = download_file(url, dir / "f", options);
  EXPECT_EQ(r.status, DownloadStatus::Downloaded);
  EXPECT_EQ(read_file(dir / "f"), "fresh content");
  ASSERT_EQ(hub.requests().size(), 1u);
  EXPECT_EQ(hub.requests()[0].range, "");  // --force does not resume an old partial file
}

TEST(DownloadFile, ForceKeepsTheOldFileWhenTheNewOneFails) {
  FakeHub hub;
  hub.add_path("/f", "new");
  FakeHub::Behaviour b;
  b.sha_header = FakeHub::ShaHeader::Etag;
  b.wrong_sha = true;
  hub.set_behaviour(b);
  TempDir dir;
  write_file(dir / "f", "old");
  auto options = file_options();
  options.force = true;
  EXPECT_THROW(download_file(hub.endpoint() + "/f", dir / "f", options), Error);
  EXPECT_EQ(read_file(dir / "f"), "old");
}

TEST(DownloadFile, OfflineNeverTouchesTheNetwork) {
  FakeHub hub;
  hub.add_path("/f", "x");
  TempDir dir;
  auto options = file_options();
  options.transfer.offline = true;
  const std::string message =
      error_of([&] { download_file(hub.endpoint() + "/f", dir / "f", options); });
  EXPECT_THAT(message, HasSubstr("HF_HUB_OFFLINE"));
  EXPECT_THAT(message, HasSubstr((dir / "f").string()));
  write_file(dir / "f", "here");
  EXPECT_EQ(download_file(hub.endpoint() + "/f", dir / "f", options).status,
            DownloadStatus::AlreadyPresent);
  EXPECT_TRUE(hub.requests().empty());
}

TEST(DownloadFile, EmptyFile) {
  FakeHub hub;
  hub.add_path("/empty", "");
  TempDir dir;
  const auto r = download_file(hub.endpoint() + "/empty", dir / "sub" / "empty", file_options());
  EXPECT_EQ(r.size, 0);
  EXPECT_EQ(r.sha256, sha256_hex(""));
  EXPECT_TRUE(fs::is_regular_file(dir / "sub" / "empty"));
}

TEST(DownloadFile, BearerTokenGoesToTheHubOnly) {
  FakeHub hub;
  hub.add_file("acme/private", "main", "config.json", "{}");
  FakeHub::Behaviour b;
  b.required_token = "hf_secret";
  b.redirect = true;
  b.redirect_host = "localhost";  // another host name: the CDN
  hub.set_behaviour(b);
  const std::string url = hub.endpoint() + "/acme/private/resolve/main/config.json";
  TempDir dir;
  EXPECT_THAT(error_of([&] { download_file(url, dir / "a", file_options()); }),
              HasSubstr("HTTP 401"));
  auto options = file_options();
  options.transfer.bearer_token = "hf_secret";
  hub.clear_requests();
  const auto r = download_file(url, dir / "b", options);
  EXPECT_EQ(read_file(dir / "b"), "{}");
  EXPECT_TRUE(r.verified);
  const auto requests = hub.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].authorization, "Bearer hf_secret");
  EXPECT_EQ(requests[1].path, "/cdn/acme/private/resolve/main/config.json");
  EXPECT_EQ(requests[1].authorization, "");
}

TEST(EnsureModel, ReturnsAPresentModelWithoutNetworkAndDownloadsAMissingOne) {
  REQUIRE_FIXTURE_MODEL();
  FakeHub hub;
  ASSERT_TRUE(hub.add_fixture_model("acme/tiny"));
  TempDir dir;
  auto options = hub_options(hub);
  EXPECT_FALSE(model_present(dir.path()));
  EXPECT_EQ(ensure_model("acme/tiny", dir.path(), options), dir.path());
  EXPECT_TRUE(model_present(dir.path()));
  hub.clear_requests();
  options.hub.offline = true;
  EXPECT_EQ(ensure_model("acme/tiny", dir.path(), options), dir.path());
  EXPECT_TRUE(hub.requests().empty());

  fs::remove(dir / "vocab.txt");
  const std::string message = error_of([&] { ensure_model("acme/tiny", dir.path(), options); });
  EXPECT_THAT(message, HasSubstr("model not found: " + dir.path().string() + " lacks vocab.txt"));
  EXPECT_THAT(message, HasSubstr("HF_HUB_OFFLINE"));
}

TEST(DownloadModel, ExtraFilesAndBadNames) {
  FakeHub hub;
  for (const auto& f : model_files()) hub.add_file("acme/tiny", "v1", f, "content of " + f);
  hub.add_file("acme/tiny", "v1", "onnx/extra.bin", "extra");
  TempDir dir;
  auto options = hub_options(hub);
  options.revision = "v1";
  options.extra_files = {"onnx/extra.bin"};
  const auto results = download_model("acme/tiny", dir.path(), options);
  ASSERT_EQ(results.size(), 5u);
  EXPECT_EQ(read_file(dir / "onnx" / "extra.bin"), "extra");
  options.extra_files = {"../escape"};
  EXPECT_THAT(error_of([&] { download_model("acme/tiny", dir.path(), options); }),
              HasSubstr("invalid file name"));
  EXPECT_THAT(error_of([&] { download_model("not a repo", dir.path(), options); }),
              HasSubstr("invalid repository id"));
}

}  // namespace
}  // namespace tensorgraph::hub
