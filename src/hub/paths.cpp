#include "tensorgraph/hub/paths.hpp"

#include <cstdlib>
#include <system_error>

#include "tensorgraph/core/build_info.hpp"

namespace tensorgraph::hub {
namespace {

std::optional<std::filesystem::path> env_path(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') return std::nullopt;
  return std::filesystem::path(value);
}

}  // namespace

std::optional<std::filesystem::path> find_project_dir(const std::filesystem::path& start) {
  std::error_code ec;
  std::filesystem::path dir = std::filesystem::weakly_canonical(start, ec);
  if (ec) dir = start;
  for (;;) {
    if (std::filesystem::is_regular_file(dir / "models" / "README.md", ec)) return dir;
    const auto parent = dir.parent_path();
    if (parent.empty() || parent == dir) return std::nullopt;
    dir = parent;
  }
}

std::filesystem::path project_dir() {
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    if (auto found = find_project_dir(exe.parent_path())) return *found;
  }
  return std::filesystem::path(build_info().source_dir);
}

std::filesystem::path models_dir(const std::optional<std::filesystem::path>& override_dir) {
  if (override_dir && !override_dir->empty()) return *override_dir;
  if (auto env = env_path("TG_MODELS_DIR")) return *env;
  return project_dir() / "models";
}

std::filesystem::path data_dir(const std::optional<std::filesystem::path>& override_dir) {
  if (override_dir && !override_dir->empty()) return *override_dir;
  if (auto env = env_path("TG_DATA_DIR")) return *env;
  return project_dir() / "datasets";
}

std::string model_folder_name(std::string_view repo) {
  // The hub also knows the default model under its organisation's name.
  if (repo == kDefaultModelRepo || repo == "distilbert/" + std::string(kDefaultModelRepo))
    return std::string(kDefaultModelFolder);
  std::string out;
  for (char c : repo) {
    if (c == '/')
      out += "--";
    else
      out += c;
  }
  return out;
}

std::filesystem::path default_model_dir(
    std::string_view repo, const std::optional<std::filesystem::path>& models_override) {
  return models_dir(models_override) / model_folder_name(repo);
}

}  // namespace tensorgraph::hub
