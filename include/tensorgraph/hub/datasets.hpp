#pragma once
// Public data sets, fetched from the archives the usual libraries use and written in the layout
// of ../shared/data, so that every `--data` option accepts either:
//
//   california-housing  scikit-learn's cal_housing.tgz (figshare)  ->
//   california_housing/cal_housing.{data,domain} mnist               torchvision's mirror
//   (ossci-datasets S3)   -> mnist/*-ubyte.gz (kept gzipped) sst2                GLUE's SST-2.zip
//   -> sst2/{train,dev}.tsv
//
// Every file written is verified against the sha256 listed in ../shared/data/*/PROVENANCE.md
// (embedded here; a test checks they agree). MNIST's train-images .gz is accepted by the sha256 of
// its decompressed content too: the PROVENANCE copy was recompressed, the mirror's is the
// original 1998 gzip stream, and both hold the same bytes.
//
// $TG_DATA_ENDPOINT (e.g. http://mirror.local:8080) replaces the scheme and host of every URL, so
// a mirror serves /files/5976036, /mnist/<name>.gz and /glue/data/SST-2.zip.
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tensorgraph/hub/download.hpp"

namespace tensorgraph::hub {

enum class ArchiveKind { None, TarGz, Zip };  // None: the download is the file itself

struct DatasetFile {
  std::string name;           // written as DIR/<folder>/<name>
  std::string archive_entry;  // path inside the archive (ArchiveKind::None: unused)
  std::string sha256;         // of the file as written
  std::string gunzip_sha256;  // if set: also accepted when the gunzipped content has this sha256
};

struct DatasetDownload {
  std::string host;           // "https://ndownloader.figshare.com"
  std::string path;           // "/files/5976036"
  std::string download_name;  // the local name of the download ("cal_housing.tgz")
  ArchiveKind kind = ArchiveKind::None;
  std::vector<DatasetFile> files;
};

struct DatasetSpec {
  std::string name;    // "california-housing"
  std::string folder;  // "california_housing"
  std::string summary;
  std::vector<DatasetDownload> downloads;
};

// california-housing, mnist, sst2.
const std::vector<DatasetSpec>& known_datasets();
// Throws Error listing the known names when `name` is not one.
const DatasetSpec& find_dataset(std::string_view name);

// host + path, or endpoint + path when an endpoint is given.
std::string dataset_url(const DatasetDownload& download,
                        const std::optional<std::string>& endpoint = std::nullopt);
// True when `path` exists and matches `file`'s sha256 (or its gunzip_sha256).
bool dataset_file_matches(const DatasetFile& file, const std::filesystem::path& path);

struct DatasetOptions {
  std::optional<std::string> endpoint;  // replaces scheme+host (TG_DATA_ENDPOINT)
  bool force = false;                   // download again even when verified files are there
  TransferOptions transfer;
  ProgressCallback progress;
  // From TG_DATA_ENDPOINT and HF_HUB_OFFLINE.
  static DatasetOptions from_environment();
};

struct DatasetFileResult {
  std::filesystem::path path;
  std::int64_t size = 0;
  std::string sha256;
};

struct DatasetResult {
  std::string name;
  std::filesystem::path dir;  // data_dir / folder
  bool already_present = false;
  std::vector<DatasetFileResult> files;
};

// Downloads, extracts and verifies `spec` into data_dir/spec.folder. Files appear only by atomic
// rename once verified; an interrupted download resumes. "Already present" (nothing fetched)
// when every file is there and verified. Throws Error naming the URL and the cause.
DatasetResult download_dataset(const DatasetSpec& spec, const std::filesystem::path& data_dir,
                               const DatasetOptions& options = {});

}  // namespace tensorgraph::hub
