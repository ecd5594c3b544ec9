#pragma once
// How this binary was built: version, git commit, build type, compiler and flags.
#include <string>

namespace tensorgraph {

struct BuildInfo {
  std::string version;
  std::string git_commit;
  std::string build_type;
  std::string compiler;
  std::string flags;
  std::string source_dir;  // the checkout this binary was built from
};

const BuildInfo& build_info();

}  // namespace tensorgraph
