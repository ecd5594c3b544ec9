#pragma once
// Where models and data sets live.
//
//   models_dir()  --models-dir (passed in by the caller), else $TG_MODELS_DIR, else the project's
//                 `models/` folder, found from the executable's location so that running from
//                 another directory works.
//   data_dir()    --data-dir, else $TG_DATA_DIR, else the project's `datasets/` folder (never the
//                 repository's `data/`, which holds our own lexicon files).
//
// The project is the first ancestor of the executable's folder holding `models/README.md`
// (build/tensorgraph -> the checkout); failing that, the source directory the binary was built
// from.
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace tensorgraph::hub {

// The model `tensorgraph download` and `classify` use by default.
inline constexpr std::string_view kDefaultModelRepo =
    "distilbert-base-uncased-finetuned-sst-2-english";
// Its folder under models/.
inline constexpr std::string_view kDefaultModelFolder = "distilbert-sentiment";

// The first of `start` and its ancestors that holds models/README.md.
std::optional<std::filesystem::path> find_project_dir(const std::filesystem::path& start);
// The project directory: from /proc/self/exe, else build_info().source_dir.
std::filesystem::path project_dir();

std::filesystem::path models_dir(const std::optional<std::filesystem::path>& override_dir = {});
std::filesystem::path data_dir(const std::optional<std::filesystem::path>& override_dir = {});

// The folder name of a repository under models/: "distilbert-sentiment" for the default model,
// otherwise the repository id with '/' replaced by "--" ("acme/tiny" -> "acme--tiny").
std::string model_folder_name(std::string_view repo);
// models_dir(override) / model_folder_name(repo)
std::filesystem::path default_model_dir(
    std::string_view repo, const std::optional<std::filesystem::path>& models_override = {});

}  // namespace tensorgraph::hub
