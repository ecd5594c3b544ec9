#include "tensorgraph/core/atomic_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>

#include "tensorgraph/core/error.hpp"

namespace tensorgraph {

namespace {

std::string random_suffix() {
  static constexpr char kChars[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  thread_local std::mt19937_64 rng{std::random_device{}() ^ static_cast<std::uint64_t>(::getpid())
                                                                << 32};
  std::string s(6, 'x');
  for (char& c : s) c = kChars[rng() % (sizeof kChars - 1)];
  return s;
}

}  // namespace

AtomicFileWriter::AtomicFileWriter(std::filesystem::path target) : target_(std::move(target)) {
  TG_CHECK(!target_.empty() && target_.has_filename(), "'{}': not a file path", target_.string());
  const std::filesystem::path dir = target_.parent_path();
  int last_errno = 0;
  for (int attempt = 0; attempt < 100; ++attempt) {
    std::filesystem::path candidate = target_;
    candidate += ".tmp-" + random_suffix();
    // O_EXCL: never reuse (or follow a link planted at) an existing name.
    const int fd = ::open(candidate.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd >= 0) {
      fd_ = fd;
      temp_ = std::move(candidate);
      return;
    }
    last_errno = errno;
    if (last_errno != EEXIST) break;
  }
  fail("{}: cannot create a temporary file in '{}': {}", target_.string(),
       dir.empty() ? "." : dir.string(), std::strerror(last_errno));
}

AtomicFileWriter::~AtomicFileWriter() {
  if (!done_) abandon();
}

void AtomicFileWriter::abandon() noexcept {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  if (!done_ && !temp_.empty()) ::unlink(temp_.c_str());
  done_ = true;
}

void AtomicFileWriter::write(const void* data, std::size_t size) {
  TG_CHECK(!done_ && fd_ >= 0, "{}: write after the file was committed or abandoned",
           target_.string());
  const auto* p = static_cast<const char*>(data);
  while (size > 0) {
    // Linux writes at most 0x7ffff000 bytes per call.
    const std::size_t chunk = size < (std::size_t{1} << 30) ? size : (std::size_t{1} << 30);
    const ssize_t n = ::write(fd_, p, chunk);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      abandon();
      fail("{}: write failed: {}", target_.string(), std::strerror(err));
    }
    p += n;
    size -= static_cast<std::size_t>(n);
  }
}

void AtomicFileWriter::commit() {
  TG_CHECK(!done_ && fd_ >= 0, "{}: commit after the file was committed or abandoned",
           target_.string());
  if (::fsync(fd_) != 0) {
    const int err = errno;
    abandon();
    fail("{}: cannot flush to disk: {}", target_.string(), std::strerror(err));
  }
  const int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) {
    const int err = errno;
    abandon();
    fail("{}: cannot close: {}", target_.string(), std::strerror(err));
  }
  if (::rename(temp_.c_str(), target_.c_str()) != 0) {
    const int err = errno;
    abandon();
    fail("{}: cannot rename the temporary file over it: {}", target_.string(), std::strerror(err));
  }
  done_ = true;
  // Make the rename itself durable. Best effort: the file is complete and in place either way.
  const std::filesystem::path dir = target_.has_parent_path() ? target_.parent_path() : ".";
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    (void)::fsync(dfd);
    ::close(dfd);
  }
}

}  // namespace tensorgraph
