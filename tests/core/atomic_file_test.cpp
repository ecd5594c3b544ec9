#include "tensorgraph/core/atomic_file.hpp"

#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/shared_data.hpp"
#include "tensorgraph/core/error.hpp"

namespace tensorgraph {
namespace {

using tensorgraph::testing::TempDir;
using ::testing::HasSubstr;

std::string read_all(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::size_t count_entries(const std::filesystem::path& dir) {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir)) ++n;
  return n;
}

TEST(AtomicFileWriter, CommitReplacesTheTarget) {
  TempDir dir;
  const auto target = dir / "out.bin";
  std::ofstream(target) << "old";
  {
    AtomicFileWriter out(target);
    EXPECT_EQ(out.temp_path().parent_path(), target.parent_path());
    EXPECT_THAT(out.temp_path().filename().string(), ::testing::StartsWith("out.bin.tmp-"));
    EXPECT_TRUE(std::filesystem::exists(out.temp_path()));
    out.write("new ", 4);
    out.write("bytes", 5);
    EXPECT_EQ(read_all(target), "old");  // not visible before commit
    out.commit();
    EXPECT_FALSE(std::filesystem::exists(out.temp_path()));
    EXPECT_THROW(out.write("x", 1), Error);
  }
  EXPECT_EQ(read_all(target), "new bytes");
  EXPECT_EQ(count_entries(dir.path()), 1u);
}

TEST(AtomicFileWriter, NoCommitLeavesNothingBehind) {
  TempDir dir;
  const auto target = dir / "out.bin";
  std::ofstream(target) << "old";
  {
    AtomicFileWriter out(target);
    out.write("partial", 7);
  }  // destroyed without commit, as when an exception unwinds
  EXPECT_EQ(read_all(target), "old");
  EXPECT_EQ(count_entries(dir.path()), 1u);
  {
    AtomicFileWriter out(dir / "fresh.bin");
    out.abandon();
    EXPECT_THROW(out.commit(), Error);
  }
  EXPECT_FALSE(std::filesystem::exists(dir / "fresh.bin"));
  EXPECT_EQ(count_entries(dir.path()), 1u);
}

TEST(AtomicFileWriter, ModeIsThatOfAPlainNewFile) {
  TempDir dir;
  std::ofstream(dir / "plain") << "x";
  AtomicFileWriter out(dir / "atomic");
  out.commit();
  struct stat plain {
  }, atomic{};
  ASSERT_EQ(::stat((dir / "plain").c_str(), &plain), 0);
  ASSERT_EQ(::stat((dir / "atomic").c_str(), &atomic), 0);
  EXPECT_EQ(plain.st_mode & 0777, atomic.st_mode & 0777);
}

TEST(AtomicFileWriter, ErrorsNameThePath) {
  TempDir dir;
  EXPECT_THAT([&] { AtomicFileWriter out(dir / "missing" / "f"); },
              ::testing::ThrowsMessage<Error>(HasSubstr((dir / "missing" / "f").string() +
                                                        ": cannot create a temporary file")));
  EXPECT_THAT([&] { AtomicFileWriter out(""); },
              ::testing::ThrowsMessage<Error>(HasSubstr("not a file path")));
}

}  // namespace
}  // namespace tensorgraph
