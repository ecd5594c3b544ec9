#include "command.hpp"

namespace tensorgraph::cli {

namespace {
std::vector<CommandInfo>& registry() {
  static std::vector<CommandInfo> commands;
  return commands;
}
}  // namespace

const std::vector<CommandInfo>& registered_commands() { return registry(); }

Registrar::Registrar(CommandInfo info) { registry().push_back(std::move(info)); }

}  // namespace tensorgraph::cli
