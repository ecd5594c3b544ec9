#pragma once
// How a subcommand plugs into the `tensorgraph` CLI without seeing CLI11: a subcommand file
// registers a CommandInfo at static-initialisation time; its setup function declares options on
// an `Options` (implemented over CLI11 in main.cpp, the only file that includes CLI11, which is
// slow to compile) and returns the function to run once the arguments are parsed.
//
//   static const cli::Registrar kInfo{{"info", "Show the machine, the build and the libraries",
//       [](cli::Options& o) {
//         auto json = std::make_shared<bool>(false);
//         o.flag("--json", json.get(), "Machine-readable output");
//         return [json] { return run_info(*json); };
//       }}};
//
// A path with a space ("train lexicon") declares a subcommand of a group ("train").
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace tensorgraph::cli {

class Options {
 public:
  virtual ~Options() = default;
  // Names in CLI11 form: "--json", "-n,--max-length". Defaults are the pointed-to values.
  virtual void flag(const std::string& names, bool* value, const std::string& help) = 0;
  virtual void option(const std::string& names, std::string* value, const std::string& help) = 0;
  virtual void option(const std::string& names, std::optional<std::string>* value,
                      const std::string& help) = 0;
  virtual void option(const std::string& names, std::int64_t* value, const std::string& help) = 0;
  virtual void option(const std::string& names, std::optional<std::int64_t>* value,
                      const std::string& help) = 0;
  virtual void option(const std::string& names, double* value, const std::string& help) = 0;
  virtual void option(const std::string& names, std::optional<double>* value,
                      const std::string& help) = 0;
  // Repeatable option: "--file A --file B".
  virtual void option(const std::string& names, std::vector<std::string>* values,
                      const std::string& help) = 0;
  // One of a fixed set of values.
  virtual void choice(const std::string& names, std::string* value,
                      const std::vector<std::string>& choices, const std::string& help) = 0;
  // Positional arguments, in declaration order.
  virtual void positional(const std::string& name, std::vector<std::string>* values,
                          const std::string& help) = 0;
  virtual void positional(const std::string& name, std::string* value, const std::string& help,
                          bool required) = 0;
  // Marks an already declared option as required.
  virtual void require(const std::string& names) = 0;
  // Text printed after the options in --help (examples, notes).
  virtual void footer(const std::string& text) = 0;
};

using RunFunction = std::function<int()>;

struct CommandInfo {
  std::string path;     // "info", "train lexicon"
  std::string summary;  // one line for the command list
  std::function<RunFunction(Options&)> setup;
};

const std::vector<CommandInfo>& registered_commands();

struct Registrar {
  explicit Registrar(CommandInfo info);
};

}  // namespace tensorgraph::cli
