#pragma once
// Small archives built in memory with libarchive (and zlib) for the data set tests.
#include <string>
#include <utility>
#include <vector>

namespace tensorgraph::testing {

using ArchiveEntries = std::vector<std::pair<std::string, std::string>>;  // name, content

// A .tar.gz; a name ending in '/' is a directory entry.
std::string make_tar_gz(const ArchiveEntries& entries);
std::string make_zip(const ArchiveEntries& entries);
std::string gzip(const std::string& content);

}  // namespace tensorgraph::testing
