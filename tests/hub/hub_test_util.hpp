#pragma once
// Small helpers shared by the hub tests.
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>

#include "tensorgraph/core/error.hpp"

namespace tensorgraph::testing {

inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void write_file(const std::filesystem::path& p, const std::string& content) {
  std::ofstream(p, std::ios::binary) << content;
}

// The message of the tensorgraph::Error that `body` throws ("" if none).
inline std::string error_of(const std::function<void()>& body) {
  try {
    body();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace tensorgraph::testing
