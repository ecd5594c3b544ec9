#include "archives.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <zlib.h>

#include <stdexcept>

namespace tensorgraph::testing {
namespace {

std::string make_archive(const ArchiveEntries& entries, bool zip) {
  std::size_t capacity = 1 << 20;
  for (const auto& [name, content] : entries) capacity += content.size() + 4096;
  std::string buffer(capacity, '\0');
  std::size_t used = 0;
  struct archive* a = archive_write_new();
  if (zip) {
    archive_write_set_format_zip(a);
  } else {
    archive_write_add_filter_gzip(a);
    archive_write_set_format_pax_restricted(a);
  }
  if (archive_write_open_memory(a, buffer.data(), buffer.size(), &used) != ARCHIVE_OK)
    throw std::runtime_error(archive_error_string(a));
  for (const auto& [name, content] : entries) {
    struct archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, name.c_str());
    const bool dir = !name.empty() && name.back() == '/';
    archive_entry_set_filetype(e, dir ? AE_IFDIR : AE_IFREG);
    archive_entry_set_perm(e, dir ? 0755 : 0644);
    archive_entry_set_size(e, dir ? 0 : static_cast<la_int64_t>(content.size()));
    if (archive_write_header(a, e) != ARCHIVE_OK) throw std::runtime_error(archive_error_string(a));
    if (!dir && !content.empty() &&
        archive_write_data(a, content.data(), content.size()) !=
            static_cast<la_ssize_t>(content.size()))
      throw std::runtime_error(archive_error_string(a));
    archive_entry_free(e);
  }
  archive_write_close(a);
  archive_write_free(a);
  buffer.resize(used);
  return buffer;
}

}  // namespace

std::string make_tar_gz(const ArchiveEntries& entries) {
  return make_archive(entries, false);
}
std::string make_zip(const ArchiveEntries& entries) {
  return make_archive(entries, true);
}

std::string gzip(const std::string& content) {
  z_stream s{};
  if (deflateInit2(&s, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    throw std::runtime_error("deflateInit2");
  std::string out(deflateBound(&s, content.size()) + 64, '\0');
  s.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(content.data()));
  s.avail_in = static_cast<uInt>(content.size());
  s.next_out = reinterpret_cast<Bytef*>(out.data());
  s.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&s, Z_FINISH);
  deflateEnd(&s);
  if (rc != Z_STREAM_END) throw std::runtime_error("deflate");
  out.resize(s.total_out);
  return out;
}

}  // namespace tensorgraph::testing
