#include "tensorgraph/bench/machine_info.hpp"

#include <archive.h>
#include <cpuid.h>
#include <curl/curl.h>
#include <openssl/opensslv.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <utf8proc.h>
#include <zlib.h>

#include <cstdint>
#include <fstream>
#include <sstream>

#include <CLI/Version.hpp>
#include <fmt/format.h>
#include <httplib.h>
#include <nlohmann/json.hpp>
#include <oneapi/dnnl/dnnl.hpp>
#include <toml++/toml.h>

#include "tensorgraph/core/build_info.hpp"
#include "tensorgraph/core/threads.hpp"

namespace tensorgraph::bench {

namespace {

std::string read_cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) {
      auto colon = line.find(':');
      if (colon != std::string::npos) {
        auto value = line.substr(colon + 1);
        value.erase(0, value.find_first_not_of(' '));
        return value;
      }
    }
  }
  return "unknown";
}

// XCR0: which register states the OS saves. A CPU may support AVX or AVX-512 while the OS (or
// hypervisor) has not enabled it, and then those instructions fault: report only usable ones.
std::uint64_t read_xcr0() {
  std::uint32_t lo = 0, hi = 0;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (static_cast<std::uint64_t>(hi) << 32) | lo;
}

std::vector<std::string> read_isa_features() {
  std::vector<std::string> out;
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return out;
  const std::uint64_t xcr0 = (c & bit_OSXSAVE) ? read_xcr0() : 0;
  const bool os_avx = (xcr0 & 0x6) == 0x6;                 // XMM + YMM state
  const bool os_avx512 = os_avx && (xcr0 & 0xE0) == 0xE0;  // opmask + ZMM state
  const bool os_amx = (xcr0 & 0x60000) == 0x60000;         // tile config + data
  if (c & bit_SSE4_2) out.emplace_back("sse4.2");
  if (os_avx && (c & bit_AVX)) out.emplace_back("avx");
  if (os_avx && (c & bit_F16C)) out.emplace_back("f16c");
  if (os_avx && (c & bit_FMA)) out.emplace_back("fma");
  unsigned max_leaf7 = 0, b7 = 0, c7 = 0, d7 = 0, a71 = 0;
  if (__get_cpuid_count(7, 0, &max_leaf7, &b7, &c7, &d7) && max_leaf7 >= 1) {
    unsigned bb, cc, dd;
    __get_cpuid_count(7, 1, &a71, &bb, &cc, &dd);
  }
  if (os_avx && (b7 & bit_AVX2)) out.emplace_back("avx2");
  if (os_avx512) {
    if (b7 & bit_AVX512F) out.emplace_back("avx512f");
    if (b7 & bit_AVX512BW) out.emplace_back("avx512bw");
    if (b7 & bit_AVX512VL) out.emplace_back("avx512vl");
    if (b7 & bit_AVX512DQ) out.emplace_back("avx512dq");
    if (c7 & bit_AVX512VNNI) out.emplace_back("avx512_vnni");
    if (a71 & bit_AVX512BF16) out.emplace_back("avx512_bf16");
  }
  if (os_avx && (a71 & (1u << 4))) out.emplace_back("avx_vnni");
  if (os_amx) {
    if (d7 & (1u << 24)) out.emplace_back("amx_tile");
    if (d7 & (1u << 22)) out.emplace_back("amx_bf16");
    if (d7 & (1u << 25)) out.emplace_back("amx_int8");
  }
  return out;
}

double read_memory_gib() {
  const long pages = sysconf(_SC_PHYS_PAGES);
  const long page_size = sysconf(_SC_PAGE_SIZE);
  return static_cast<double>(pages) * static_cast<double>(page_size) / (1024.0 * 1024.0 * 1024.0);
}

std::string read_os() {
  std::string pretty = "Linux";
  std::ifstream in("/etc/os-release");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("PRETTY_NAME=", 0) == 0) {
      pretty = line.substr(12);
      if (pretty.size() >= 2 && pretty.front() == '"') pretty = pretty.substr(1, pretty.size() - 2);
    }
  }
  struct utsname u {};
  if (uname(&u) == 0) pretty += fmt::format(" (kernel {} {})", u.release, u.machine);
  return pretty;
}

std::string onednn_isa_name(dnnl::cpu_isa isa) {
  switch (isa) {
    case dnnl::cpu_isa::all: return "all";
    case dnnl::cpu_isa::sse41: return "sse41";
    case dnnl::cpu_isa::avx: return "avx";
    case dnnl::cpu_isa::avx2: return "avx2";
    case dnnl::cpu_isa::avx512_core: return "avx512_core";
    case dnnl::cpu_isa::avx512_core_vnni: return "avx512_core_vnni";
    case dnnl::cpu_isa::avx512_core_bf16: return "avx512_core_bf16";
    case dnnl::cpu_isa::avx512_core_amx: return "avx512_core_amx";
    default: return fmt::format("isa#{}", static_cast<int>(isa));
  }
}

}  // namespace

MachineInfo collect_machine_info() {
  MachineInfo info;
  info.cpu_model = read_cpu_model();
  info.isa_features = read_isa_features();
  info.logical_cpus = static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN));
  info.threads = num_threads();
  info.memory_gib = read_memory_gib();
  info.os = read_os();
  const BuildInfo& b = build_info();
  info.compiler = b.compiler;
  info.build_type = b.build_type;
  info.build_flags = b.flags;
  info.version = b.version;
  info.git_commit = b.git_commit;
  info.onednn_isa = onednn_isa_name(dnnl::get_effective_cpu_isa());

  const dnnl_version_t* dv = dnnl_version();
  info.libraries.push_back({"oneDNN", fmt::format("{}.{}.{} ({})", dv->major, dv->minor, dv->patch,
                                                  dv->cpu_runtime == DNNL_RUNTIME_OMP ? "OpenMP" : "other runtime")});
  info.libraries.push_back({"OpenMP", fmt::format("{}", _OPENMP)});
  info.libraries.push_back({"utf8proc", utf8proc_version()});
  info.libraries.push_back({"libcurl", curl_version_info(CURLVERSION_NOW)->version});
  info.libraries.push_back({"libarchive", archive_version_details()});
  info.libraries.push_back({"zlib", zlibVersion()});
  info.libraries.push_back({"OpenSSL", OPENSSL_VERSION_TEXT});
  info.libraries.push_back({"nlohmann_json", fmt::format("{}.{}.{}", NLOHMANN_JSON_VERSION_MAJOR,
                                                         NLOHMANN_JSON_VERSION_MINOR,
                                                         NLOHMANN_JSON_VERSION_PATCH)});
  info.libraries.push_back({"toml++", fmt::format("{}.{}.{}", TOML_LIB_MAJOR, TOML_LIB_MINOR, TOML_LIB_PATCH)});
  info.libraries.push_back({"cpp-httplib", CPPHTTPLIB_VERSION});
  info.libraries.push_back({"CLI11", CLI11_VERSION});
  info.libraries.push_back({"fmt", fmt::format("{}.{}.{}", FMT_VERSION / 10000, FMT_VERSION / 100 % 100,
                                               FMT_VERSION % 100)});
  return info;
}

nlohmann::json to_json(const MachineInfo& info) {
  nlohmann::json libs = nlohmann::json::object();
  for (const auto& l : info.libraries) libs[l.name] = l.version;
  return {
      {"cpu_model", info.cpu_model},   {"isa_features", info.isa_features},
      {"logical_cpus", info.logical_cpus}, {"threads", info.threads},
      {"memory_gib", info.memory_gib}, {"os", info.os},
      {"compiler", info.compiler},     {"build_type", info.build_type},
      {"build_flags", info.build_flags}, {"version", info.version},
      {"git_commit", info.git_commit}, {"onednn_isa", info.onednn_isa},
      {"libraries", libs},
  };
}

}  // namespace tensorgraph::bench
