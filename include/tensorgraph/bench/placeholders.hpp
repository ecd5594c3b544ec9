#pragma once
// Placeholders in configuration strings: "{models}/distilbert-random", "--threads", "{threads}".
// A name in braces is replaced by its value; "{{" and "}}" are literal braces. An unknown name
// is an Error that lists the known ones.
//
// Standard names (standard_placeholders): {root} the project directory, {shared} the shared data
// directory ($TG_SHARED_DIR, else {root}/../shared), {models} the models directory
// ($TG_MODELS_DIR, else {root}/models), {config_dir} the config file's directory, {tensorgraph}
// the tensorgraph executable, {python} the Python the peers use ($TG_PYTHON, else
// /usr/bin/python3), {node} ($TG_NODE, else node). Tasks add their own ({threads}, {model},
// {model_id}).
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace tensorgraph::bench {

using Placeholders = std::map<std::string, std::string, std::less<>>;

std::string expand(std::string_view text, const Placeholders& values, std::string_view where);
std::vector<std::string> expand(const std::vector<std::string>& texts, const Placeholders& values,
                                std::string_view where);

Placeholders standard_placeholders(const std::filesystem::path& config_dir,
                                   const std::filesystem::path& tensorgraph_executable);

}  // namespace tensorgraph::bench
