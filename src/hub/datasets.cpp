#include "tensorgraph/hub/datasets.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <system_error>

#include <fmt/format.h>

#include "tensorgraph/core/error.hpp"
#include "tensorgraph/hub/models.hpp"
#include "tensorgraph/hub/sha256.hpp"

namespace tensorgraph::hub {

const std::vector<DatasetSpec>& known_datasets() {
  // URLs: scikit-learn's fetch_california_housing (ARCHIVE), torchvision's MNIST mirrors, GLUE's
  // download script. sha256 values: ../shared/data/*/PROVENANCE.md (tests/hub checks them).
  static const std::vector<DatasetSpec> specs = {
      {"california-housing",
       "california_housing",
       "StatLib California housing, 20,640 block groups (scikit-learn's fetch_california_housing)",
       {{"https://ndownloader.figshare.com",
         "/files/5976036",
         "cal_housing.tgz",
         ArchiveKind::TarGz,
         {{"cal_housing.data", "CaliforniaHousing/cal_housing.data",
           "a2b44dcc7e1c9091b43c4f458b25cbd1f7e8068d08edd26bc4703108d3fa6214", ""},
          {"cal_housing.domain", "CaliforniaHousing/cal_housing.domain",
           "49875a8323c6149941a1b7467942df111d255c3693dea491549a2eb94f5e32fd", ""}}}}},
      {"mnist",
       "mnist",
       "MNIST handwritten digits, 60,000 train + 10,000 test, IDX (torchvision's mirror)",
       {{"https://ossci-datasets.s3.amazonaws.com",
         "/mnist/train-images-idx3-ubyte.gz",
         "train-images-idx3-ubyte.gz",
         ArchiveKind::None,
         {{"train-images-idx3-ubyte.gz", "",
           "0b367032e93c5d0cea0925647cfdb18614af8ee15f83e6f2fc2ad904a6835971",
           "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"}}},
        {"https://ossci-datasets.s3.amazonaws.com",
         "/mnist/train-labels-idx1-ubyte.gz",
         "train-labels-idx1-ubyte.gz",
         ArchiveKind::None,
         {{"train-labels-idx1-ubyte.gz", "",
           "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
           "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"}}},
        {"https://ossci-datasets.s3.amazonaws.com",
         "/mnist/t10k-images-idx3-ubyte.gz",
         "t10k-images-idx3-ubyte.gz",
         ArchiveKind::None,
         {{"t10k-images-idx3-ubyte.gz", "",
           "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
           "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"}}},
        {"https://ossci-datasets.s3.amazonaws.com",
         "/mnist/t10k-labels-idx1-ubyte.gz",
         "t10k-labels-idx1-ubyte.gz",
         ArchiveKind::None,
         {{"t10k-labels-idx1-ubyte.gz", "",
           "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
           "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"}}}}},
      {"sst2",
       "sst2",
       "GLUE SST-2 movie-review sentiment, train 67,349 + dev 872 sentences",
       {{"https://dl.fbaipublicfiles.com",
         "/glue/data/SST-2.zip",
         "SST-2.zip",
         ArchiveKind::Zip,
         {{"train.tsv", "SST-2/train.tsv",
           "48eac26399f8456935f81dd9e3a745c1430adb6c62e233ccfe22db4a0d15d1d1", ""},
          {"dev.tsv", "SST-2/dev.tsv",
           "54a9c12c77e402fc14d6a66a506f24d999f596b0176eb777c972cccc2f9cc4b0", ""}}}}},
  };
  return specs;
}

const DatasetSpec& find_dataset(std::string_view name) {
  std::string names;
  for (const auto& spec : known_datasets()) {
    if (spec.name == name) return spec;
    names += (names.empty() ? "" : ", ") + spec.name;
  }
  fail("unknown data set '{}': expected one of {}", name, names);
}

std::string dataset_url(const DatasetDownload& download,
                        const std::optional<std::string>& endpoint) {
  std::string base = endpoint && !endpoint->empty() ? *endpoint : download.host;
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base + download.path;
}

namespace {

// The file's sha256 when it exists and matches `file`.
std::optional<std::string> verified_sha(const DatasetFile& file,
                                        const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return std::nullopt;
  try {
    const std::string sha = sha256_file(path);
    if (sha == file.sha256) return sha;
    if (!file.gunzip_sha256.empty() && sha256_gunzipped_file(path) == file.gunzip_sha256)
      return sha;
  } catch (const Error&) {
    // Unreadable or not gzip: not verified.
  }
  return std::nullopt;
}

// Checks a freshly written file; returns "" or why it does not match.
std::string mismatch(const DatasetFile& file, const std::filesystem::path& path,
                     const std::string& sha) {
  if (sha == file.sha256) return "";
  if (!file.gunzip_sha256.empty()) {
    std::string inner;
    try {
      inner = sha256_gunzipped_file(path);
    } catch (const Error& e) {
      return fmt::format("{}: sha256 {} does not match the expected {}, and {}", file.name, sha,
                         file.sha256, e.what());
    }
    if (inner == file.gunzip_sha256) return "";
    return fmt::format(
        "{}: sha256 {} does not match the expected {}, nor does its decompressed "
        "content ({}, expected {})",
        file.name, sha, file.sha256, inner, file.gunzip_sha256);
  }
  return fmt::format("{}: sha256 {} does not match the expected {}", file.name, sha, file.sha256);
}

void remove_quietly(const std::filesystem::path& p) {
  std::error_code ec;
  std::filesystem::remove(p, ec);
}

struct ArchiveReader {
  struct archive* a = archive_read_new();
  ~ArchiveReader() {
    if (a) archive_read_free(a);
  }
};

// Extracts `download.files` from `archive_path` into `dir`, verifying each; renames them into
// place only when all are good. Throws Error (the caller deletes the archive).
std::vector<DatasetFileResult> extract_and_verify(const std::filesystem::path& archive_path,
                                                  const DatasetDownload& download,
                                                  const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> parts;
  auto cleanup = [&] {
    for (const auto& p : parts) remove_quietly(p);
  };
  std::vector<DatasetFileResult> results(download.files.size());
  std::vector<bool> found(download.files.size(), false);
  try {
    ArchiveReader reader;
    TG_CHECK(reader.a != nullptr, "libarchive: out of memory");
    archive_read_support_filter_all(reader.a);
    archive_read_support_format_tar(reader.a);
    archive_read_support_format_zip(reader.a);
    if (archive_read_open_filename(reader.a, archive_path.c_str(), 1 << 16) != ARCHIVE_OK)
      fail("not a readable {} archive ({})", download.kind == ArchiveKind::Zip ? "zip" : "tar.gz",
           archive_error_string(reader.a));
    struct archive_entry* entry = nullptr;
    int rc = ARCHIVE_OK;
    while ((rc = archive_read_next_header(reader.a, &entry)) == ARCHIVE_OK || rc == ARCHIVE_WARN) {
      std::string name = archive_entry_pathname(entry) ? archive_entry_pathname(entry) : "";
      while (name.rfind("./", 0) == 0) name.erase(0, 2);
      std::size_t index = download.files.size();
      for (std::size_t i = 0; i < download.files.size(); ++i)
        if (download.files[i].archive_entry == name) index = i;
      if (index == download.files.size() || archive_entry_filetype(entry) != AE_IFREG) continue;
      const DatasetFile& file = download.files[index];
      const auto final_path = dir / file.name;
      auto part = partial_path(final_path);
      parts.push_back(part);
      std::FILE* out = std::fopen(part.c_str(), "wb");
      if (out == nullptr) fail("cannot write {}: {}", part.string(), std::strerror(errno));
      Sha256 hasher;
      std::int64_t size = 0;
      std::array<char, 1 << 16> buffer{};
      std::string error;
      for (;;) {
        const la_ssize_t got = archive_read_data(reader.a, buffer.data(), buffer.size());
        if (got < 0) {
          error = fmt::format("entry {}: {}", name, archive_error_string(reader.a));
          break;
        }
        if (got == 0) break;
        if (std::fwrite(buffer.data(), 1, static_cast<std::size_t>(got), out) !=
            static_cast<std::size_t>(got)) {
          error = fmt::format("cannot write {}: {}", part.string(), std::strerror(errno));
          break;
        }
        hasher.update(buffer.data(), static_cast<std::size_t>(got));
        size += got;
      }
      if ((std::fflush(out) != 0 || ::fsync(::fileno(out)) != 0) && error.empty())
        error = fmt::format("cannot write {}: {}", part.string(), std::strerror(errno));
      std::fclose(out);
      if (!error.empty()) throw Error(error);
      const std::string sha = hasher.hex_digest();
      if (auto why = mismatch(file, part, sha); !why.empty())
        fail("{} (the values listed in ../shared/data/*/PROVENANCE.md)", why);
      found[index] = true;
      results[index] = {final_path, size, sha};
    }
    if (rc != ARCHIVE_EOF)
      fail("corrupt or truncated archive ({})", archive_error_string(reader.a));
    for (std::size_t i = 0; i < download.files.size(); ++i)
      TG_CHECK(found[i], "the archive has no entry '{}'", download.files[i].archive_entry);
    for (std::size_t i = 0; i < download.files.size(); ++i) {
      std::error_code ec;
      std::filesystem::rename(partial_path(results[i].path), results[i].path, ec);
      if (ec) fail("cannot rename into {}: {}", results[i].path.string(), ec.message());
    }
  } catch (...) {
    cleanup();
    throw;
  }
  return results;
}

}  // namespace

bool dataset_file_matches(const DatasetFile& file, const std::filesystem::path& path) {
  return verified_sha(file, path).has_value();
}

DatasetOptions DatasetOptions::from_environment() {
  DatasetOptions o;
  if (const char* e = std::getenv("TG_DATA_ENDPOINT"); e && *e) o.endpoint = e;
  o.transfer.offline = env_flag("HF_HUB_OFFLINE");
  return o;
}

DatasetResult download_dataset(const DatasetSpec& spec, const std::filesystem::path& data_dir,
                               const DatasetOptions& options) {
  DatasetResult result;
  result.name = spec.name;
  result.dir = data_dir / spec.folder;
  std::error_code ec;

  // Already there and verified?
  std::vector<std::string> missing;
  std::vector<DatasetFileResult> present;
  for (const auto& download : spec.downloads) {
    for (const auto& file : download.files) {
      const auto path = result.dir / file.name;
      if (auto sha = verified_sha(file, path))
        present.push_back(
            {path, static_cast<std::int64_t>(std::filesystem::file_size(path, ec)), *sha});
      else
        missing.push_back(file.name);
    }
  }
  if (missing.empty() && !options.force) {
    result.already_present = true;
    result.files = std::move(present);
    return result;
  }
  if (options.transfer.offline) {
    std::string list;
    for (const auto& m : missing) list += (list.empty() ? "" : ", ") + m;
    fail(
        "data set {}: offline mode (HF_HUB_OFFLINE=1) and {} lacks verified {}; unset "
        "HF_HUB_OFFLINE to download",
        spec.name, result.dir.string(), list.empty() ? std::string("files") : list);
  }
  std::filesystem::create_directories(result.dir, ec);
  TG_CHECK(!ec, "cannot create {}: {}", result.dir.string(), ec.message());

  for (const auto& download : spec.downloads) {
    const std::string url = dataset_url(download, options.endpoint);
    DownloadOptions d;
    d.transfer = options.transfer;
    d.progress = options.progress;
    d.display_name = download.download_name;

    bool all_verified = !options.force;
    std::vector<DatasetFileResult> verified_here;
    for (const auto& file : download.files) {
      const auto path = result.dir / file.name;
      auto sha = options.force ? std::nullopt : verified_sha(file, path);
      if (!sha) {
        all_verified = false;
        break;
      }
      verified_here.push_back(
          {path, static_cast<std::int64_t>(std::filesystem::file_size(path, ec)), *sha});
    }
    if (all_verified) {
      for (auto& f : verified_here) result.files.push_back(std::move(f));
      continue;
    }

    if (download.kind == ArchiveKind::None) {
      TG_CHECK(download.files.size() == 1, "data set {}: a plain download holds one file",
               spec.name);
      const DatasetFile& file = download.files.front();
      const auto dest = result.dir / file.name;
      // An existing file that did not verify is replaced (once the new one verifies).
      d.force = options.force || std::filesystem::exists(dest, ec);
      d.verify = [&file](const std::filesystem::path& part, const std::string& sha) {
        if (auto why = mismatch(file, part, sha); !why.empty())
          fail("{} (the values listed in ../shared/data/*/PROVENANCE.md)", why);
        return true;
      };
      const auto r = download_file(url, dest, d);
      result.files.push_back({dest, r.size, r.sha256});
      continue;
    }

    const auto archive_path = result.dir / download.download_name;
    d.force = options.force;
    download_file(url, archive_path, d);
    try {
      auto extracted = extract_and_verify(archive_path, download, result.dir);
      for (auto& f : extracted) result.files.push_back(std::move(f));
    } catch (const Error& e) {
      remove_quietly(archive_path);
      fail(
          "cannot use {} (downloaded from {}): {}; it was deleted, run the command again to "
          "download it anew",
          archive_path.string(), url, e.what());
    }
    remove_quietly(archive_path);
  }
  return result;
}

}  // namespace tensorgraph::hub
