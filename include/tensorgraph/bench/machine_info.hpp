#pragma once
// A description of the machine and the build, for `tensorgraph info` and benchmark reports.
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace tensorgraph::bench {

struct LibraryVersion {
  std::string name;
  std::string version;
};

struct MachineInfo {
  std::string cpu_model;
  std::vector<std::string> isa_features;  // avx2, avx512f, avx512_vnni, avx512_bf16, amx ...
  int logical_cpus = 0;                   // online CPUs
  int threads = 0;                        // OpenMP threads the runtime will use
  double memory_gib = 0;
  std::string os;                         // PRETTY_NAME from /etc/os-release, kernel release
  std::string compiler;
  std::string build_type;
  std::string build_flags;
  std::string version;
  std::string git_commit;
  std::string onednn_isa;  // the best ISA oneDNN dispatches to on this CPU
  std::vector<LibraryVersion> libraries;
};

MachineInfo collect_machine_info();
nlohmann::json to_json(const MachineInfo& info);

}  // namespace tensorgraph::bench
