#include "tensorgraph/hub/models.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <system_error>

#include <fmt/format.h>

#include "tensorgraph/core/error.hpp"

namespace tensorgraph::hub {
namespace {

bool unreserved(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' ||
         c == '~';
}

std::string percent_encode(std::string_view text, bool keep_slash) {
  std::string out;
  for (char c : text) {
    if (unreserved(c) || (keep_slash && c == '/'))
      out += c;
    else
      out += fmt::format("%{:02X}", static_cast<unsigned char>(c));
  }
  return out;
}

bool repo_name_ok(std::string_view part) {
  if (part.empty() || part == "." || part == "..") return false;
  for (char c : part)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.'))
      return false;
  return true;
}

}  // namespace

bool env_flag(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr) return false;
  std::string v(value);
  for (char& c : v) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return v == "1" || v == "true" || v == "yes" || v == "on";
}

HubConfig HubConfig::from_environment() {
  HubConfig c;
  if (const char* e = std::getenv("HF_ENDPOINT"); e && *e) c.endpoint = e;
  while (!c.endpoint.empty() && c.endpoint.back() == '/') c.endpoint.pop_back();
  if (const char* t = std::getenv("HF_TOKEN"); t && *t) c.token = t;
  c.offline = env_flag("HF_HUB_OFFLINE");
  return c;
}

void check_repo_id(std::string_view repo) {
  const auto slash = repo.find('/');
  const bool ok = slash == std::string_view::npos
                      ? repo_name_ok(repo)
                      : repo_name_ok(repo.substr(0, slash)) && repo_name_ok(repo.substr(slash + 1));
  TG_CHECK(ok,
           "invalid repository id '{}': expected NAME or OWNER/NAME (letters, digits, '-', '_', "
           "'.'), e.g. distilbert-base-uncased-finetuned-sst-2-english",
           repo);
}

void check_repo_file(std::string_view file) {
  bool ok = !file.empty() && file.front() != '/' && file.find('\\') == std::string_view::npos;
  std::size_t start = 0;
  while (ok && start <= file.size()) {
    const auto end = std::min(file.find('/', start), file.size());
    const auto part = file.substr(start, end - start);
    if (part.empty() || part == "." || part == "..") ok = false;
    start = end + 1;
  }
  TG_CHECK(ok, "invalid file name '{}': expected a path inside the repository such as config.json",
           file);
}

std::string hub_file_url(std::string_view endpoint, std::string_view repo,
                         std::string_view revision, std::string_view file) {
  while (!endpoint.empty() && endpoint.back() == '/') endpoint.remove_suffix(1);
  return fmt::format("{}/{}/resolve/{}/{}", endpoint, repo, percent_encode(revision, false),
                     percent_encode(file, true));
}

const std::vector<std::string>& model_files() {
  static const std::vector<std::string> files = {"model.safetensors", "config.json", "vocab.txt",
                                                 "tokenizer_config.json"};
  return files;
}

bool model_present(const std::filesystem::path& dir) {
  std::error_code ec;
  for (const auto& f : model_files())
    if (!std::filesystem::is_regular_file(dir / f, ec)) return false;
  return true;
}

std::vector<DownloadResult> download_model(std::string_view repo, const std::filesystem::path& dir,
                                           const ModelDownloadOptions& options) {
  check_repo_id(repo);
  TG_CHECK(!options.revision.empty(), "empty revision: give a branch, tag or commit");
  std::vector<std::string> files = model_files();
  for (const auto& extra : options.extra_files) {
    check_repo_file(extra);
    if (std::find(files.begin(), files.end(), extra) == files.end()) files.push_back(extra);
  }
  DownloadOptions d;
  d.force = options.force;
  d.progress = options.progress;
  d.transfer.connect_timeout_s = options.connect_timeout_s;
  d.transfer.read_timeout_s = options.read_timeout_s;
  d.transfer.bearer_token = options.hub.token;
  d.transfer.offline = options.hub.offline;
  std::vector<DownloadResult> results;
  for (const auto& file : files) {
    d.display_name = file;
    const auto url = hub_file_url(options.hub.endpoint, repo, options.revision, file);
    results.push_back(download_file(url, dir / file, d));
    if (options.on_file) options.on_file(results.back());
  }
  return results;
}

std::filesystem::path ensure_model(std::string_view repo, const std::filesystem::path& dir,
                                   const ModelDownloadOptions& options) {
  if (model_present(dir)) return dir;
  std::string missing;
  std::error_code ec;
  for (const auto& f : model_files())
    if (!std::filesystem::is_regular_file(dir / f, ec))
      missing += (missing.empty() ? "" : ", ") + f;
  try {
    download_model(repo, dir, options);
  } catch (const Error& e) {
    fail("model not found: {} lacks {}, and downloading {} failed: {}", dir.string(), missing, repo,
         e.what());
  }
  return dir;
}

}  // namespace tensorgraph::hub
