// `tensorgraph info`: the machine, the build and the linked libraries.
#include <iostream>
#include <memory>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "command.hpp"
#include "tensorgraph/bench/machine_info.hpp"

namespace tensorgraph::cli {
namespace {

int run_info(bool json) {
  const bench::MachineInfo info = bench::collect_machine_info();
  if (json) {
    std::cout << bench::to_json(info).dump(2) << "\n";
    return 0;
  }
  std::string isa;
  for (const auto& f : info.isa_features) isa += (isa.empty() ? "" : " ") + f;
  fmt::print("tensorgraph {} (commit {})\n", info.version, info.git_commit);
  fmt::print("  build       {} with {}\n", info.build_type, info.compiler);
  fmt::print("  flags       {}\n", info.build_flags);
  fmt::print("  cpu         {}\n", info.cpu_model);
  fmt::print("  isa         {}\n", isa);
  fmt::print("  onednn isa  {}\n", info.onednn_isa);
  fmt::print("  cpus        {} logical, {} threads (set TG_NUM_THREADS to change)\n",
             info.logical_cpus, info.threads);
  fmt::print("  memory      {:.1f} GiB\n", info.memory_gib);
  fmt::print("  os          {}\n", info.os);
  fmt::print("libraries\n");
  for (const auto& lib : info.libraries) fmt::print("  {:<14}{}\n", lib.name, lib.version);
  return 0;
}

const Registrar kInfo{{"info", "Show the CPU, its ISA features, threads, the build and library versions",
                       [](Options& o) {
                         auto json = std::make_shared<bool>(false);
                         o.flag("--json", json.get(), "Print one JSON object");
                         return [json] { return run_info(*json); };
                       }}};

}  // namespace
}  // namespace tensorgraph::cli
