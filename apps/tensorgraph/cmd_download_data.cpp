// `tensorgraph download-data`: public data sets into datasets/ (the layout of ../shared/data).
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
#include "tensorgraph/hub/datasets.hpp"
#include "tensorgraph/hub/paths.hpp"

namespace tensorgraph::cli {
namespace {

struct DownloadDataArgs {
  std::string name;
  std::optional<std::string> data_dir;
  bool force = false;
  bool json = false;
};

int run_download_data(const DownloadDataArgs& a) {
  std::vector<const hub::DatasetSpec*> specs;
  if (a.name == "all") {
    for (const auto& s : hub::known_datasets()) specs.push_back(&s);
  } else {
    specs.push_back(&hub::find_dataset(a.name));
  }
  const auto data_dir =
      hub::data_dir(a.data_dir ? std::optional<std::filesystem::path>(*a.data_dir) : std::nullopt);
  hub::DatasetOptions options = hub::DatasetOptions::from_environment();
  options.force = a.force;
  DownloadProgress progress;
  options.progress = progress.callback();

  nlohmann::json datasets = nlohmann::json::array();
  for (const auto* spec : specs) {
    if (!a.json) {
      fmt::print("{} -> {}\n", spec->name, (data_dir / spec->folder).string());
      std::fflush(stdout);
    }
    const auto result = hub::download_dataset(*spec, data_dir, options);
    progress.finish();
    nlohmann::json files = nlohmann::json::array();
    for (const auto& f : result.files) {
      files.push_back(
          {{"path", f.path.string()}, {"size", f.size}, {"sha256", f.sha256}, {"verified", true}});
      if (!a.json)
        fmt::print("  {:<28}{:>9}  sha256 {}  verified\n", f.path.filename().string(),
                   ProgressBar::human_bytes(static_cast<double>(f.size)), f.sha256);
    }
    if (!a.json && result.already_present)
      fmt::print("  already present (use --force to download again)\n");
    std::fflush(stdout);
    datasets.push_back({{"name", result.name},
                        {"dir", result.dir.string()},
                        {"status", result.already_present ? "already present" : "downloaded"},
                        {"files", files}});
  }
  if (a.json) {
    const nlohmann::json out = {{"data_dir", data_dir.string()}, {"datasets", datasets}};
    std::cout << out.dump(2) << "\n";
  }
  return 0;
}

const Registrar kDownloadData{
    {"download-data",
     "Download public data sets (California housing, MNIST, SST-2) into datasets/, verified",
     [](Options& o) {
       auto a = std::make_shared<DownloadDataArgs>();
       o.positional("name", &a->name, "california-housing, mnist, sst2 or all", true);
       o.option("--data-dir", &a->data_dir,
                "Data directory (default: $TG_DATA_DIR, else the project's datasets/)");
       o.flag("--force", &a->force, "Download again even when verified files are present");
       o.flag("--json", &a->json, "Print one JSON object describing the files");
       o.footer(
           R"(Data sets, from the archives scikit-learn, torchvision and GLUE use, written in the layout
of ../shared/data so that every --data option accepts either:
  california-housing  https://ndownloader.figshare.com/files/5976036 (cal_housing.tgz)
                      -> california_housing/cal_housing.data, cal_housing.domain
  mnist               https://ossci-datasets.s3.amazonaws.com/mnist/*-ubyte.gz
                      -> mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz (kept gzipped)
  sst2                https://dl.fbaipublicfiles.com/glue/data/SST-2.zip
                      -> sst2/train.tsv, dev.tsv
Every file is checked against the sha256 listed in ../shared/data/*/PROVENANCE.md.

Examples:
  tensorgraph download-data sst2
  tensorgraph download-data all --data-dir /data/tg
  TG_DATA_ENDPOINT=http://mirror.local:8080 tensorgraph download-data mnist

Environment:
  TG_DATA_DIR       data directory (default: the project's datasets/)
  TG_DATA_ENDPOINT  replaces scheme and host of every URL (a mirror serving the same paths)
  HF_HUB_OFFLINE    1: no network at all; fails when a file is missing
  https_proxy       proxy, with no_proxy (libcurl's usual variables))");
       return [a] {
         if (a->name != "all") {
           bool known = false;
           for (const auto& s : hub::known_datasets()) known = known || s.name == a->name;
           if (!known) {
             std::cerr << "tensorgraph: error: unknown data set '" << a->name
                       << "': expected california-housing, mnist, sst2 or all\n";
             return 2;
           }
         }
         return run_download_data(*a);
       };
     }}};

}  // namespace
}  // namespace tensorgraph::cli
