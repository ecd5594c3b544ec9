#pragma once
// Writing output files without ever leaving a half-written one: write PATH.part, then rename.
#include <string>
#include <string_view>

namespace tensorgraph::cli {

// Writes `content` to `path` atomically (a temporary file beside it, then rename). Throws Error
// naming the path when the directory is missing or not writable.
void write_file_atomically(const std::string& path, std::string_view content);

}  // namespace tensorgraph::cli
