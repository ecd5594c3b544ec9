#include "tensorgraph/hub/datasets.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "archives.hpp"
#include "fake_hub.hpp"
#include "hub_test_util.hpp"
#include "support/shared_data.hpp"
#include "tensorgraph/core/error.hpp"
#include "tensorgraph/hub/sha256.hpp"

namespace tensorgraph::hub {
namespace {

namespace fs = std::filesystem;
using testing::error_of;
using testing::FakeHub;
using ::testing::HasSubstr;
using testing::make_tar_gz;
using testing::make_zip;
using testing::read_file;
using testing::shared_path;
using testing::TempDir;

DatasetOptions options_for(const FakeHub& hub) {
  DatasetOptions o;
  o.endpoint = hub.endpoint();
  o.transfer.connect_timeout_s = 5;
  o.transfer.read_timeout_s = 5;
  return o;
}

// The sha256 that PROVENANCE.md lists for `name`: the table row "| `name` | ... | `<sha256>` |".
// (No std::regex: GCC 12 warns inside it under the sanitizers.)
std::string provenance_sha256(const fs::path& provenance, const std::string& name) {
  std::ifstream in(provenance);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("| `" + name + "`", 0) != 0) continue;
    for (std::size_t open = line.find('`'); open != std::string::npos;) {
      const auto close = line.find('`', open + 1);
      if (close == std::string::npos) break;
      const std::string token = line.substr(open + 1, close - open - 1);
      if (is_sha256_hex(token)) return token;
      open = line.find('`', close + 1);
    }
  }
  return "";
}

TEST(Datasets, KnownNamesAndCanonicalUrls) {
  ASSERT_EQ(known_datasets().size(), 3u);
  const auto& cal = find_dataset("california-housing");
  EXPECT_EQ(cal.folder, "california_housing");
  EXPECT_EQ(dataset_url(cal.downloads[0]), "https://ndownloader.figshare.com/files/5976036");
  const auto& mnist = find_dataset("mnist");
  ASSERT_EQ(mnist.downloads.size(), 4u);
  EXPECT_EQ(dataset_url(mnist.downloads[0]),
            "https://ossci-datasets.s3.amazonaws.com/mnist/train-images-idx3-ubyte.gz");
  for (const auto& d : mnist.downloads)
    EXPECT_EQ(dataset_url(d), "https://ossci-datasets.s3.amazonaws.com/mnist/" + d.download_name);
  const auto& sst2 = find_dataset("sst2");
  EXPECT_EQ(dataset_url(sst2.downloads[0]), "https://dl.fbaipublicfiles.com/glue/data/SST-2.zip");
  EXPECT_EQ(dataset_url(sst2.downloads[0], std::string("http://mirror:8080/")),
            "http://mirror:8080/glue/data/SST-2.zip");
  EXPECT_THAT(
      error_of([] { find_dataset("imagenet"); }),
      HasSubstr("unknown data set 'imagenet': expected one of california-housing, mnist, sst2"));
}

TEST(Datasets, EmbeddedHashesEqualThoseInProvenance) {
  for (const auto& spec : known_datasets()) {
    const auto provenance = shared_path("data/" + spec.folder + "/PROVENANCE.md");
    TG_REQUIRE_SHARED_FILE(provenance);
    for (const auto& download : spec.downloads)
      for (const auto& file : download.files)
        EXPECT_EQ(file.sha256, provenance_sha256(provenance, file.name))
            << spec.name << " " << file.name;
  }
}

TEST(Datasets, EmbeddedHashesVerifyTheSharedFiles) {
  for (const auto& spec : known_datasets()) {
    for (const auto& download : spec.downloads) {
      for (const auto& file : download.files) {
        const auto path = shared_path("data/" + spec.folder + "/" + file.name);
        TG_REQUIRE_SHARED_FILE(path);
        EXPECT_TRUE(dataset_file_matches(file, path)) << path;
        // MNIST: the hash of the decompressed IDX file, accepted for the original .gz streams.
        if (!file.gunzip_sha256.empty()) {
          EXPECT_EQ(sha256_gunzipped_file(path), file.gunzip_sha256);
        }
      }
    }
  }
}

// A spec like california-housing, with the hashes of synthetic content.
DatasetSpec synthetic_tgz_spec(const std::string& data, const std::string& domain) {
  DatasetSpec spec{"toy-housing", "toy_housing", "synthetic", {}};
  spec.downloads.push_back(
      {"https://example.invalid",
       "/files/1",
       "toy.tgz",
       ArchiveKind::TarGz,
       {{"cal_housing.data", "CaliforniaHousing/cal_housing.data", sha256_hex(data), ""},
        {"cal_housing.domain", "CaliforniaHousing/cal_housing.domain", sha256_hex(domain), ""}}});
  return spec;
}

TEST(Datasets, TarGzExtractedVerifiedAndTheArchiveRemoved) {
  const std::string data = "-122.230000,37.880000,41.000000\n-122.220000,37.860000,21.000000\n";
  const std::string domain = "longitude: continuous.\nlatitude: continuous.";
  FakeHub hub;
  hub.add_path("/files/1", make_tar_gz({{"CaliforniaHousing/", ""},
                                        {"CaliforniaHousing/cal_housing.data", data},
                                        {"CaliforniaHousing/cal_housing.domain", domain},
                                        {"CaliforniaHousing/notes.txt", "ignored"}}));
  TempDir dir;
  const auto spec = synthetic_tgz_spec(data, domain);
  const auto result = download_dataset(spec, dir.path(), options_for(hub));
  EXPECT_FALSE(result.already_present);
  EXPECT_EQ(result.dir, dir / "toy_housing");
  ASSERT_EQ(result.files.size(), 2u);
  EXPECT_EQ(result.files[0].path, dir / "toy_housing" / "cal_housing.data");
  EXPECT_EQ(result.files[0].sha256, sha256_hex(data));
  EXPECT_EQ(result.files[0].size, static_cast<std::int64_t>(data.size()));
  EXPECT_EQ(read_file(dir / "toy_housing" / "cal_housing.data"), data);
  EXPECT_EQ(read_file(dir / "toy_housing" / "cal_housing.domain"), domain);
  // Only the listed files are written; the archive and partial files are gone.
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir / "toy_housing"))
    names.push_back(e.path().filename());
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"cal_housing.data", "cal_housing.domain"}));

  // A second run finds verified files and fetches nothing.
  hub.clear_requests();
  const auto again = download_dataset(spec, dir.path(), options_for(hub));
  EXPECT_TRUE(again.already_present);
  ASSERT_EQ(again.files.size(), 2u);
  EXPECT_EQ(again.files[1].sha256, sha256_hex(domain));
  EXPECT_TRUE(hub.requests().empty());

  // --force fetches again.
  auto forced = options_for(hub);
  forced.force = true;
  EXPECT_FALSE(download_dataset(spec, dir.path(), forced).already_present);
  EXPECT_EQ(hub.requests().size(), 1u);
}

TEST(Datasets, ZipExtracted) {
  const std::string train = "sentence\tlabel\nhide new secretions \t0\n";
  const std::string dev = "sentence\tlabel\nit 's a charming journey . \t1\n";
  FakeHub hub;
  hub.add_path("/glue/data/SST-2.zip", make_zip({{"SST-2/train.tsv", train},
                                                 {"SST-2/dev.tsv", dev},
                                                 {"SST-2/test.tsv", "index\tsentence\n"},
                                                 {"SST-2/original/README.txt", "readme"}}));
  DatasetSpec spec{"toy-sst2", "toy_sst2", "synthetic", {}};
  spec.downloads.push_back({"https://example.invalid",
                            "/glue/data/SST-2.zip",
                            "SST-2.zip",
                            ArchiveKind::Zip,
                            {{"train.tsv", "SST-2/train.tsv", sha256_hex(train), ""},
                             {"dev.tsv", "SST-2/dev.tsv", sha256_hex(dev), ""}}});
  TempDir dir;
  download_dataset(spec, dir.path(), options_for(hub));
  EXPECT_EQ(read_file(dir / "toy_sst2" / "train.tsv"), train);
  EXPECT_EQ(read_file(dir / "toy_sst2" / "dev.tsv"), dev);
  EXPECT_FALSE(fs::exists(dir / "toy_sst2" / "test.tsv"));
  EXPECT_FALSE(fs::exists(dir / "toy_sst2" / "SST-2.zip"));
}

TEST(Datasets, RealHashesRejectSyntheticDataAndLeaveNothing) {
  FakeHub hub;
  hub.add_path("/files/5976036",
               make_tar_gz({{"CaliforniaHousing/cal_housing.data", "1,2,3\n"},
                            {"CaliforniaHousing/cal_housing.domain", "a: continuous."}}));
  TempDir dir;
  const std::string message = error_of(
      [&] { download_dataset(find_dataset("california-housing"), dir.path(), options_for(hub)); });
  EXPECT_THAT(message, HasSubstr(hub.endpoint() + "/files/5976036"));
  EXPECT_THAT(message,
              HasSubstr("cal_housing.data: sha256 " + sha256_hex("1,2,3\n") +
                        " does not match the expected "
                        "a2b44dcc7e1c9091b43c4f458b25cbd1f7e8068d08edd26bc4703108d3fa6214"));
  EXPECT_THAT(message, HasSubstr("PROVENANCE.md"));
  EXPECT_EQ(message.find('\n'), std::string::npos);
  const auto folder = dir / "california_housing";
  EXPECT_TRUE(fs::is_empty(folder));  // no data, no .part, no archive
}

TEST(Datasets, MissingEntryAndCorruptArchive) {
  const std::string data = "1\n";
  const std::string domain = "d";
  const auto spec = synthetic_tgz_spec(data, domain);
  FakeHub hub;
  hub.add_path("/files/1", make_tar_gz({{"CaliforniaHousing/cal_housing.data", data}}));
  TempDir dir;
  EXPECT_THAT(error_of([&] { download_dataset(spec, dir.path(), options_for(hub)); }),
              HasSubstr("the archive has no entry 'CaliforniaHousing/cal_housing.domain'"));
  EXPECT_FALSE(fs::exists(dir / "toy_housing" / "cal_housing.data"));  // all or nothing

  const std::string good =
      make_tar_gz({{"CaliforniaHousing/cal_housing.data", std::string(50000, '7')},
                   {"CaliforniaHousing/cal_housing.domain", domain}});
  hub.add_path("/files/1", good.substr(0, good.size() / 2));  // truncated
  const std::string message =
      error_of([&] { download_dataset(spec, dir.path(), options_for(hub)); });
  EXPECT_THAT(message, HasSubstr("toy.tgz (downloaded from " + hub.endpoint() + "/files/1)"));
  EXPECT_TRUE(fs::is_empty(dir / "toy_housing"));

  hub.add_path("/files/1", "this is not an archive at all");
  EXPECT_THAT(error_of([&] { download_dataset(spec, dir.path(), options_for(hub)); }),
              HasSubstr("tar.gz"));
  EXPECT_TRUE(fs::is_empty(dir / "toy_housing"));
}

TEST(Datasets, GzAcceptedByItsDecompressedContent) {
  const std::string idx = std::string("\x00\x00\x08\x01\x00\x00\x00\x03", 8) + "\x05\x00\x04";
  const std::string original = testing::gzip(idx);  // another gzip stream of the same bytes
  FakeHub hub;
  hub.add_path("/mnist/toy-labels.gz", original);
  DatasetSpec spec{"toy-mnist", "toy_mnist", "synthetic", {}};
  spec.downloads.push_back(
      {"https://example.invalid",
       "/mnist/toy-labels.gz",
       "toy-labels.gz",
       ArchiveKind::None,
       {{"toy-labels.gz", "", sha256_hex("a recompressed copy"), sha256_hex(idx)}}});
  TempDir dir;
  const auto result = download_dataset(spec, dir.path(), options_for(hub));
  ASSERT_EQ(result.files.size(), 1u);
  EXPECT_EQ(read_file(dir / "toy_mnist" / "toy-labels.gz"), original);
  EXPECT_EQ(result.files[0].sha256, sha256_hex(original));
  EXPECT_TRUE(download_dataset(spec, dir.path(), options_for(hub)).already_present);

  // Other content: rejected, and the previous good file stays.
  hub.add_path("/mnist/toy-labels.gz", testing::gzip("other"));
  auto forced = options_for(hub);
  forced.force = true;
  EXPECT_THAT(error_of([&] { download_dataset(spec, dir.path(), forced); }),
              HasSubstr("nor does its decompressed content"));
  EXPECT_EQ(read_file(dir / "toy_mnist" / "toy-labels.gz"), original);
  EXPECT_FALSE(fs::exists(dir / "toy_mnist" / "toy-labels.gz.part"));

  // A damaged local copy is not "present": it is downloaded again and replaced.
  hub.add_path("/mnist/toy-labels.gz", original);
  std::ofstream(dir / "toy_mnist" / "toy-labels.gz", std::ios::binary) << "damaged";
  EXPECT_FALSE(download_dataset(spec, dir.path(), options_for(hub)).already_present);
  EXPECT_EQ(read_file(dir / "toy_mnist" / "toy-labels.gz"), original);
}

TEST(Datasets, InterruptedArchiveDownloadResumes) {
  std::string data;
  for (int i = 0; i < 40000; ++i) data += std::to_string(i * 7919 % 100003) + ",1.5\n";
  const std::string domain = "x: continuous.";
  const std::string archive = make_tar_gz({{"CaliforniaHousing/cal_housing.data", data},
                                           {"CaliforniaHousing/cal_housing.domain", domain}});
  ASSERT_GT(archive.size(), 20000u);
  FakeHub hub;
  hub.add_path("/files/1", archive);
  FakeHub::Behaviour cut;
  cut.cut_after = 10000;
  cut.sha_header = FakeHub::ShaHeader::None;
  hub.set_behaviour(cut);
  TempDir dir;
  const auto spec = synthetic_tgz_spec(data, domain);
  EXPECT_THAT(error_of([&] { download_dataset(spec, dir.path(), options_for(hub)); }),
              HasSubstr("run the command again to resume"));
  EXPECT_EQ(fs::file_size(dir / "toy_housing" / "toy.tgz.part"), 10000u);
  FakeHub::Behaviour normal;
  normal.sha_header = FakeHub::ShaHeader::None;
  hub.set_behaviour(normal);
  hub.clear_requests();
  download_dataset(spec, dir.path(), options_for(hub));
  ASSERT_EQ(hub.requests().size(), 1u);
  EXPECT_EQ(hub.requests()[0].range, "bytes=10000-");
  EXPECT_EQ(read_file(dir / "toy_housing" / "cal_housing.data"), data);
}

TEST(Datasets, Offline) {
  FakeHub hub;
  TempDir dir;
  auto options = options_for(hub);
  options.transfer.offline = true;
  const auto spec = synthetic_tgz_spec("d", "m");
  const std::string message = error_of([&] { download_dataset(spec, dir.path(), options); });
  EXPECT_THAT(message, HasSubstr("offline mode (HF_HUB_OFFLINE=1)"));
  EXPECT_THAT(message, HasSubstr("cal_housing.data, cal_housing.domain"));
  fs::create_directories(dir / "toy_housing");
  std::ofstream(dir / "toy_housing" / "cal_housing.data") << "d";
  std::ofstream(dir / "toy_housing" / "cal_housing.domain") << "m";
  EXPECT_TRUE(download_dataset(spec, dir.path(), options).already_present);
  EXPECT_TRUE(hub.requests().empty());
}

}  // namespace
}  // namespace tensorgraph::hub
