#pragma once
// Writing a file so that readers never see it half-written: the bytes go to a temporary file
// beside the target ("NAME.tmp-XXXXXX" in the same directory, so that the final rename stays on
// one file system), which commit() flushes to disk and renames over the target. If commit() is not
// reached (an error, an exception), the destructor removes the temporary file and an existing
// target is left untouched.
//
//   AtomicFileWriter out(path);
//   out.write(header.data(), header.size());
//   out.write(body.data(), body.size());
//   out.commit();
#include <cstddef>
#include <filesystem>

namespace tensorgraph {

class AtomicFileWriter {
 public:
  // Creates the temporary file (mode 0666 less the umask, like a plain new file); throws Error
  // naming `target` and the OS reason when that fails (missing or read-only directory...).
  explicit AtomicFileWriter(std::filesystem::path target);
  ~AtomicFileWriter();
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;

  // Appends bytes; throws Error on a write error (disk full, file too large...).
  void write(const void* data, std::size_t size);
  // fsync, close and rename over the target (then fsync the directory, best effort). After an
  // error the temporary file is removed.
  void commit();
  // Removes the temporary file now (the destructor does it when commit() was not called).
  void abandon() noexcept;

  const std::filesystem::path& target() const { return target_; }
  const std::filesystem::path& temp_path() const { return temp_; }

 private:
  std::filesystem::path target_;
  std::filesystem::path temp_;
  int fd_ = -1;
  bool done_ = false;
};

}  // namespace tensorgraph
