#include "file_output.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "tensorgraph/core/error.hpp"

namespace tensorgraph::cli {

void write_file_atomically(const std::string& path, std::string_view content) {
  namespace fs = std::filesystem;
  const fs::path target(path);
  TG_CHECK(!path.empty(), "empty output path");
  std::error_code ec;
  if (fs::is_directory(target, ec)) fail("{}: is a directory, expected a file path", path);
  const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  if (!fs::is_directory(dir, ec)) fail("{}: directory {} does not exist", path, dir.string());
  const std::string temp = path + "." + std::to_string(::getpid()) + ".part";
  std::FILE* f = std::fopen(temp.c_str(), "wb");
  if (!f) fail("{}: cannot write ({})", path, std::strerror(errno));
  const bool written = std::fwrite(content.data(), 1, content.size(), f) == content.size();
  const bool flushed = std::fflush(f) == 0 && ::fsync(::fileno(f)) == 0;
  const int saved = errno;
  const bool closed = std::fclose(f) == 0;
  if (!written || !flushed || !closed) {
    fs::remove(temp, ec);
    fail("{}: write failed ({})", path, std::strerror(saved));
  }
  fs::rename(temp, target, ec);
  if (ec) {
    const std::string reason = ec.message();
    fs::remove(temp, ec);
    fail("{}: cannot replace the file ({})", path, reason);
  }
}

}  // namespace tensorgraph::cli
