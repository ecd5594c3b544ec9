// `tensorgraph download`: a model from the HuggingFace hub (or a mirror) into models/.
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "command.hpp"
#include "download_progress.hpp"
#include "progress.hpp"
#include "tensorgraph/hub/models.hpp"
#include "tensorgraph/hub/paths.hpp"

namespace tensorgraph::cli {
namespace {

struct DownloadArgs {
  std::string repo = std::string(hub::kDefaultModelRepo);
  std::optional<std::string> dir;
  std::optional<std::string> models_dir;
  std::string revision = "main";
  std::vector<std::string> files;
  bool force = false;
  bool json = false;
};

std::string describe(const hub::DownloadResult& r) {
  if (r.status == hub::DownloadStatus::AlreadyPresent)
    return fmt::format("{:>9}  already present (use --force to download again)",
                       ProgressBar::human_bytes(static_cast<double>(r.size)));
  std::string line = fmt::format("{:>9}  sha256 {}  ",
                                 ProgressBar::human_bytes(static_cast<double>(r.size)), r.sha256);
  line += r.verified ? fmt::format("verified ({})", r.verified_by)
                     : fmt::format("unverified ({})", r.verified_by);
  if (r.resumed_from > 0)
    line += fmt::format(", resumed at {}",
                        ProgressBar::human_bytes(static_cast<double>(r.resumed_from)));
  return line;
}

nlohmann::json to_json(const hub::DownloadResult& r) {
  const bool present = r.status == hub::DownloadStatus::AlreadyPresent;
  return {{"name", r.path.filename().string()},
          {"path", r.path.string()},
          {"url", r.url},
          {"status", present ? "already present" : "downloaded"},
          {"size", r.size},
          {"sha256", present ? nlohmann::json(nullptr) : nlohmann::json(r.sha256)},
          {"verified", r.verified},
          {"verification", present ? "" : r.verified_by},
          {"resumed_from", r.resumed_from}};
}

int run_download(const DownloadArgs& a) {
  hub::check_repo_id(a.repo);
  for (const auto& f : a.files) hub::check_repo_file(f);
  hub::ModelDownloadOptions options;
  options.revision = a.revision;
  options.extra_files = a.files;
  options.force = a.force;
  const std::filesystem::path dir =
      a.dir ? std::filesystem::path(*a.dir)
            : hub::default_model_dir(
                  a.repo, a.models_dir ? std::optional<std::filesystem::path>(*a.models_dir)
                                       : std::nullopt);
  if (!a.json)
    fmt::print("{} ({}) from {}{} into {}\n", a.repo, a.revision, options.hub.endpoint,
               options.hub.offline ? " [offline: HF_HUB_OFFLINE=1]" : "", dir.string());
  std::cout.flush();

  DownloadProgress progress;
  options.progress = progress.callback();
  std::size_t width = 0;
  for (const auto& f : hub::model_files()) width = std::max(width, f.size());
  for (const auto& f : a.files) width = std::max(width, f.size());
  options.on_file = [&](const hub::DownloadResult& r) {
    progress.finish();
    if (a.json) return;
    const std::string name = std::filesystem::relative(r.path, dir).string();
    fmt::print("  {:<{}}  {}\n", name, width, describe(r));
    std::fflush(stdout);
  };
  const auto results = hub::download_model(a.repo, dir, options);

  int downloaded = 0;
  int present = 0;
  for (const auto& r : results)
    (r.status == hub::DownloadStatus::AlreadyPresent ? present : downloaded)++;
  if (a.json) {
    nlohmann::json files = nlohmann::json::array();
    for (const auto& r : results) files.push_back(to_json(r));
    const nlohmann::json out = {
        {"repo", a.repo},      {"revision", a.revision},   {"endpoint", options.hub.endpoint},
        {"dir", dir.string()}, {"downloaded", downloaded}, {"already_present", present},
        {"files", files}};
    std::cout << out.dump(2) << "\n";
  } else {
    fmt::print("{} downloaded, {} already present in {}\n", downloaded, present, dir.string());
  }
  return 0;
}

const Registrar kDownload{
    {"download", "Download a model from the HuggingFace hub (verified, resumable) into models/",
     [](Options& o) {
       auto a = std::make_shared<DownloadArgs>();
       o.positional("repo", &a->repo,
                    "Repository id (default distilbert-base-uncased-finetuned-sst-2-english)",
                    false);
       o.option("--dir", &a->dir,
                "Put the files directly in DIR (default: MODELS_DIR/<folder of the repository>)");
       o.option("--revision", &a->revision, "Branch, tag or commit");
       o.option("--file", &a->files, "Also download this file of the repository (repeatable)");
       o.option("--models-dir", &a->models_dir,
                "Models directory (default: $TG_MODELS_DIR, else the project's models/)");
       o.flag("--force", &a->force, "Download again even when the files are present");
       o.flag("--json", &a->json, "Print one JSON object describing the files");
       o.footer(
           R"(The four files model.safetensors, config.json, vocab.txt and tokenizer_config.json
(plus each --file) come from {HF_ENDPOINT}/{REPO}/resolve/{REVISION}/{FILE}. The default model
lands in models/distilbert-sentiment/, any other in models/<REPO with / replaced by -->/.
A sha256 announced by the server must match; files without one are reported "unverified".
An interrupted download resumes from FILE.part; a file appears only once complete and checked.

Examples:
  tensorgraph download                          DistilBERT SST-2 into models/distilbert-sentiment/
  tensorgraph download acme/tiny --dir /tmp/tiny
  tensorgraph download --revision main --force  download again
  tensorgraph download --file special_tokens_map.json --json

Environment:
  HF_ENDPOINT      hub or mirror URL (default https://huggingface.co)
  HF_TOKEN         access token for private or gated repositories
  HF_HUB_OFFLINE   1: no network at all; fails when a file is missing
  TG_MODELS_DIR    models directory (default: the project's models/)
  https_proxy      proxy, with no_proxy (libcurl's usual variables)
  CURL_CA_BUNDLE   certificate authorities file for a mirror or proxy with its own CA
  TG_NO_PROGRESS   1: no progress bar)");
       return [a] { return run_download(*a); };
     }}};

}  // namespace
}  // namespace tensorgraph::cli
