#include "tensorgraph/bench/placeholders.hpp"

#include <cstdlib>

#include "tensorgraph/core/error.hpp"
#include "tensorgraph/hub/paths.hpp"

namespace tensorgraph::bench {

std::string expand(std::string_view text, const Placeholders& values, std::string_view where) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '{' && i + 1 < text.size() && text[i + 1] == '{') {
      out += '{';
      ++i;
    } else if (c == '}' && i + 1 < text.size() && text[i + 1] == '}') {
      out += '}';
      ++i;
    } else if (c == '{') {
      const auto close = text.find('}', i);
      TG_CHECK(close != std::string_view::npos, "{}: unclosed '{{' in \"{}\"", where, text);
      const std::string_view name = text.substr(i + 1, close - i - 1);
      auto it = values.find(name);
      if (it == values.end()) {
        std::string known;
        for (const auto& [k, v] : values) known += (known.empty() ? "{" : ", {") + k + "}";
        fail("{}: unknown placeholder {{{}}} in \"{}\" (known: {})", where, name, text, known);
      }
      out += it->second;
      i = close;
    } else {
      out += c;
    }
  }
  return out;
}

std::vector<std::string> expand(const std::vector<std::string>& texts, const Placeholders& values,
                                std::string_view where) {
  std::vector<std::string> out;
  out.reserve(texts.size());
  for (const auto& t : texts) out.push_back(expand(t, values, where));
  return out;
}

Placeholders standard_placeholders(const std::filesystem::path& config_dir,
                                   const std::filesystem::path& tensorgraph_executable) {
  namespace fs = std::filesystem;
  Placeholders p;
  const fs::path root = hub::project_dir();
  p["root"] = root.string();
  const char* shared = std::getenv("TG_SHARED_DIR");
  p["shared"] = (shared && *shared) ? fs::path(shared).string()
                                    : (root.parent_path() / "shared").lexically_normal().string();
  p["models"] = hub::models_dir().string();
  std::error_code ec;
  const fs::path dir = fs::absolute(config_dir, ec);
  p["config_dir"] = (ec ? config_dir : dir).lexically_normal().string();
  p["tensorgraph"] = tensorgraph_executable.string();
  const char* python = std::getenv("TG_PYTHON");
  p["python"] = (python && *python) ? python : "/usr/bin/python3";
  const char* node = std::getenv("TG_NODE");
  p["node"] = (node && *node) ? node : "node";
  return p;
}

}  // namespace tensorgraph::bench
