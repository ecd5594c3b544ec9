// The `tensorgraph` command line. The only translation unit that includes CLI11; subcommands
// register themselves (see command.hpp) and never see it.
#include <algorithm>
#include <iostream>
#include <map>
#include <memory>

#include <CLI/CLI.hpp>

#include "command.hpp"
#include "tensorgraph/core/build_info.hpp"
#include "tensorgraph/core/error.hpp"

namespace {

using tensorgraph::cli::Options;

class Cli11Options final : public Options {
 public:
  explicit Cli11Options(CLI::App* app) : app_(app) {}

  void flag(const std::string& names, bool* value, const std::string& help) override {
    app_->add_flag(names, *value, help);
  }
  void option(const std::string& names, std::string* value, const std::string& help) override {
    app_->add_option(names, *value, help)->capture_default_str();
  }
  void option(const std::string& names, std::optional<std::string>* value,
              const std::string& help) override {
    app_->add_option_function<std::string>(
            names, [value](const std::string& v) { *value = v; }, help)
        ->type_name("TEXT");
  }
  void option(const std::string& names, std::int64_t* value, const std::string& help) override {
    app_->add_option(names, *value, help)->capture_default_str();
  }
  void option(const std::string& names, std::optional<std::int64_t>* value,
              const std::string& help) override {
    app_->add_option_function<std::int64_t>(
            names, [value](const std::int64_t& v) { *value = v; }, help)
        ->type_name("INT");
  }
  void option(const std::string& names, double* value, const std::string& help) override {
    app_->add_option(names, *value, help)->capture_default_str();
  }
  void option(const std::string& names, std::optional<double>* value,
              const std::string& help) override {
    app_->add_option_function<double>(names, [value](const double& v) { *value = v; }, help)
        ->type_name("FLOAT");
  }
  void option(const std::string& names, std::vector<std::string>* values,
              const std::string& help) override {
    app_->add_option(names, *values, help)->allow_extra_args(false)->multi_option_policy(
        CLI::MultiOptionPolicy::TakeAll);
  }
  void choice(const std::string& names, std::string* value, const std::vector<std::string>& choices,
              const std::string& help) override {
    app_->add_option(names, *value, help)->check(CLI::IsMember(choices))->capture_default_str();
  }
  void positional(const std::string& name, std::vector<std::string>* values,
                  const std::string& help) override {
    app_->add_option(name, *values, help);
  }
  void positional(const std::string& name, std::string* value, const std::string& help,
                  bool required) override {
    auto* opt = app_->add_option(name, *value, help);
    if (required) opt->required();
  }
  void require(const std::string& names) override {
    // CLI11 looks options up by any one of their names.
    const auto first = names.substr(0, names.find(','));
    app_->get_option(first)->required();
  }
  void footer(const std::string& text) override { app_->footer(text); }

 private:
  CLI::App* app_;
};

std::string version_string() {
  const auto& b = tensorgraph::build_info();
  return "tensorgraph " + b.version + " (commit " + b.git_commit + ", " + b.build_type + ", " +
         b.compiler + ")";
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "tensorgraph: a graph compiler and runtime for neural networks on the CPU.\n"
      "Runs DistilBERT sentiment classification, a lexicon baseline, and small models trained\n"
      "from scratch. Run `tensorgraph COMMAND --help` for the options of a command.",
      "tensorgraph"};
  app.set_version_flag("--version", version_string());
  app.require_subcommand(1);
  app.get_formatter()->column_width(34);

  auto commands = tensorgraph::cli::registered_commands();
  std::sort(commands.begin(), commands.end(),
            [](const auto& a, const auto& b) { return a.path < b.path; });

  std::map<std::string, CLI::App*> groups;
  std::vector<std::unique_ptr<Cli11Options>> adapters;
  std::vector<std::pair<CLI::App*, tensorgraph::cli::RunFunction>> runners;
  for (const auto& command : commands) {
    CLI::App* parent = &app;
    std::string name = command.path;
    if (auto space = command.path.find(' '); space != std::string::npos) {
      const std::string group = command.path.substr(0, space);
      name = command.path.substr(space + 1);
      auto it = groups.find(group);
      if (it == groups.end()) {
        CLI::App* g = app.add_subcommand(group, group + " commands (see `" + group + " --help`)");
        g->require_subcommand(1);
        it = groups.emplace(group, g).first;
      }
      parent = it->second;
    }
    CLI::App* sub = parent->add_subcommand(name, command.summary);
    adapters.push_back(std::make_unique<Cli11Options>(sub));
    runners.emplace_back(sub, command.setup(*adapters.back()));
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  for (auto& [sub, run] : runners) {
    if (!sub->parsed()) continue;
    try {
      return run();
    } catch (const tensorgraph::Error& e) {
      std::cerr << "tensorgraph: error: " << e.what() << "\n";
      return 1;
    } catch (const std::bad_alloc&) {
      std::cerr << "tensorgraph: error: out of memory\n";
      return 1;
    } catch (const std::exception& e) {
      std::cerr << "tensorgraph: error: " << e.what() << "\n";
      return 1;
    }
  }
  return 0;
}
