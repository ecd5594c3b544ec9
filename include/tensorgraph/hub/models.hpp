#pragma once
// Models from the HuggingFace hub (or a mirror): the files a model folder needs, downloading
// them, and finding a model that may need downloading first.
//
//   URL      {endpoint}/{repo}/resolve/{revision}/{file}
//   endpoint $HF_ENDPOINT, default https://huggingface.co
//   token    $HF_TOKEN, sent as a bearer token (to the hub only, never to the CDN it redirects to)
//   offline  $HF_HUB_OFFLINE=1: no network at all; a missing file is an error
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tensorgraph/hub/download.hpp"

namespace tensorgraph::hub {

struct HubConfig {
  std::string endpoint = "https://huggingface.co";
  std::optional<std::string> token;
  bool offline = false;
  // From HF_ENDPOINT, HF_TOKEN and HF_HUB_OFFLINE (1/true/yes/on).
  static HubConfig from_environment();
};

// True for "1", "true", "yes", "on" (any case): how HF_HUB_OFFLINE is read.
bool env_flag(const char* name);

// {endpoint}/{repo}/resolve/{revision}/{file}, revision and file percent-encoded.
std::string hub_file_url(std::string_view endpoint, std::string_view repo,
                         std::string_view revision, std::string_view file);
// Throws Error unless `repo` is NAME or OWNER/NAME (letters, digits, '-', '_', '.').
void check_repo_id(std::string_view repo);
// Throws Error unless `file` is a relative path inside the repository (no "..", not absolute).
void check_repo_file(std::string_view file);

// The files a model folder holds: model.safetensors, config.json, vocab.txt,
// tokenizer_config.json.
const std::vector<std::string>& model_files();
// True when `dir` holds every file of model_files().
bool model_present(const std::filesystem::path& dir);

struct ModelDownloadOptions {
  std::string revision = "main";
  std::vector<std::string> extra_files;  // downloaded after model_files()
  bool force = false;
  HubConfig hub = HubConfig::from_environment();
  long connect_timeout_s = 30;
  long read_timeout_s = 60;
  ProgressCallback progress;
  // Called after each file (downloaded or already present), e.g. to print a summary line.
  std::function<void(const DownloadResult&)> on_file;
};

// Downloads model_files() + extra_files of `repo` into `dir` (files already there are kept
// unless `force`). Stops at the first failure (Error naming the URL and the cause).
std::vector<DownloadResult> download_model(std::string_view repo, const std::filesystem::path& dir,
                                           const ModelDownloadOptions& options = {});

// Returns `dir` when the model is complete there; otherwise downloads what is missing first.
// This is how commands find their model ("downloads automatically when missing").
std::filesystem::path ensure_model(std::string_view repo, const std::filesystem::path& dir,
                                   const ModelDownloadOptions& options = {});

}  // namespace tensorgraph::hub
