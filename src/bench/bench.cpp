#include "tensorgraph/bench/bench.hpp"

#include <algorithm>
#include <array>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "tasks.hpp"
#include "tensorgraph/bench/machine_info.hpp"
#include "tensorgraph/bench/peer.hpp"
#include "tensorgraph/bench/process.hpp"
#include "tensorgraph/core/atomic_file.hpp"

namespace tensorgraph::bench {

namespace fs = std::filesystem;

namespace {

class UnavailableImplementation final : public Implementation {
 public:
  UnavailableImplementation(const ImplementationConfig& config, std::string reason, int threads)
      : reason_(std::move(reason)) {
    info_.name = config.name;
    info_.type = config.type;
    info_.description = config.description;
    info_.threads = threads;
    info_.status = reason_;
  }
  std::string name() const override { return info_.name; }
  void start() override { throw Unavailable(reason_); }
  bool supports(const Case&) const override { return false; }
  Rows outputs(const Case&) override { fail("{}: {}", info_.name, reason_); }
  std::vector<double> time(const Case&, int, int) override { fail("{}: {}", info_.name, reason_); }
  ImplementationInfo info() const override { return info_; }

 private:
  std::string reason_;
  ImplementationInfo info_;
};

bool out_of_date(const fs::path& target, const std::vector<std::string>& inputs) {
  std::error_code ec;
  if (!fs::exists(target, ec)) return true;
  const auto t = fs::last_write_time(target, ec);
  if (ec) return true;
  for (const auto& input : inputs) {
    const auto ti = fs::last_write_time(input, ec);
    if (!ec && ti > t) return true;
  }
  return false;
}

// The 1-minute load average (and the 5-minute one), from /proc/loadavg.
std::array<double, 2> load_average() {
  std::array<double, 2> out{0, 0};
  std::ifstream in("/proc/loadavg");
  in >> out[0] >> out[1];
  return out;
}

TaskSetup setup_task(const TaskContext& context) {
  const std::string& task = context.config.task;
  if (task == "distilbert") return setup_distilbert(context);
  if (task == "elementwise") return setup_elementwise(context);
  if (task == "linear") return setup_linear(context);
  if (task == "tokenizer") return setup_tokenizer(context);
  if (task == "lexicon") return setup_lexicon(context);
  if (task == "mlp_regression") return setup_mlp_regression(context);
  if (task == "cnn_mnist") return setup_cnn_mnist(context);
  fail("{}: task '{}' is not implemented", context.config.path.string(), task);
}

}  // namespace

bool TaskContext::selected(const CaseConfig& c) const {
  if (quick) {
    const auto& list = config.quick_cases;
    if (!list.empty() ? std::find(list.begin(), list.end(), c.name) == list.end() : !c.quick)
      return false;
  }
  if (filters.empty()) return true;
  return std::any_of(filters.begin(), filters.end(),
                     [&](const std::string& f) { return c.name.find(f) != std::string::npos; });
}

std::uint64_t case_seed(const CaseConfig& c) {
  std::uint64_t h = static_cast<std::uint64_t>(c.params.get_int("seed", 1)) * 0x9E3779B97F4A7C15ull;
  for (unsigned char ch : c.name) h = (h ^ ch) * 0x100000001B3ull;
  return h;
}

std::unique_ptr<Implementation> make_unavailable(const ImplementationConfig& config,
                                                 const std::string& reason, int threads) {
  return std::make_unique<UnavailableImplementation>(config, reason, threads);
}

void run_prepare_steps(const ImplementationConfig& config, const Placeholders& vars,
                       const TaskContext& context) {
  for (const auto& step : config.prepare) {
    const std::string where = fmt::format("[implementations.{}] prepare", config.name);
    const fs::path creates = expand(step.creates, vars, where);
    const std::vector<std::string> inputs = expand(step.inputs, vars, where);
    if (!out_of_date(creates, inputs)) continue;
    const std::vector<std::string> command = expand(step.command, vars, where);
    context.progress("prepare",
                     fmt::format("{}: {}", config.name,
                                 step.description.empty() ? quote_command(command)
                                                          : expand(step.description, vars, where)));
    std::error_code ec;
    if (creates.has_parent_path()) fs::create_directories(creates.parent_path(), ec);
    const CommandOutcome outcome = run_to_end(command, {}, context.config.timeout_s);
    if (!outcome.ok())
      fail("{}: `{}` failed ({}):\n{}", where, quote_command(command), outcome.status.describe(),
           outcome.output);
    TG_CHECK(fs::exists(creates, ec), "{}: `{}` succeeded but did not create {}", where,
             quote_command(command), creates.string());
  }
}

std::string PeerFactory::unavailable_reason(const ImplementationConfig& config,
                                            const Placeholders& vars) {
  auto it = availability_.find(config.name);
  if (it != availability_.end()) return it->second;
  std::string reason;
  const std::vector<std::string> check = config.options.get_strings("available");
  if (!check.empty()) {
    const auto command =
        expand(check, vars, fmt::format("[implementations.{}] available", config.name));
    try {
      const CommandOutcome outcome = run_to_end(command, {}, 120);
      if (!outcome.ok()) {
        std::string last = outcome.output;
        while (!last.empty() && last.back() == '\n') last.pop_back();
        if (auto nl = last.rfind('\n'); nl != std::string::npos) last = last.substr(nl + 1);
        while (!last.empty() && last.front() == ' ') last.erase(0, 1);
        reason = fmt::format("skipped: not installed (`{}` failed: {})", quote_command(command),
                             last.empty() ? outcome.status.describe() : last);
      }
    } catch (const Error& e) {
      reason = fmt::format("skipped: not installed ({})", e.what());
    }
  }
  return availability_[config.name] = reason;
}

std::unique_ptr<Implementation> PeerFactory::make(const ImplementationConfig& config,
                                                  Placeholders vars, int threads) {
  vars["threads"] = std::to_string(threads);
  const std::string reason = unavailable_reason(config, vars);
  if (!reason.empty()) return make_unavailable(config, reason, threads);
  run_prepare_steps(config, vars, context_);
  const std::string where = fmt::format("[implementations.{}]", config.name);
  PeerOptions o;
  o.name = config.name;
  o.description = config.description;
  o.command = expand(config.options.get_strings("command"), vars, where + " command");
  for (const auto& [k, v] : config.options.get_map("env"))
    o.process.set_env[k] = expand(v, vars, where + " env");
  o.process.unset_env = config.options.get_strings("unset_env");
  o.threads = threads;
  o.timeout_s = context_.config.timeout_s;
  o.startup_timeout_s = config.options.get_number("startup_timeout_s", 300);
  return std::make_unique<PeerImplementation>(std::move(o));
}

std::vector<fs::path> write_reports(const nlohmann::json& report,
                                    const std::vector<std::string>& formats, const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) fail("{}: cannot create the results directory: {}", dir.string(), ec.message());
  std::string stem = file_timestamp(report.value("timestamp", utc_timestamp())) + "_" +
                     report.value("benchmark", std::string("bench"));
  if (report.value("quick", false)) stem += "_quick";
  std::vector<fs::path> written;
  auto write = [&](const std::string& ext, const std::string& content) {
    const fs::path path = dir / (stem + ext);
    AtomicFileWriter out(path);
    out.write(content.data(), content.size());
    out.commit();
    written.push_back(path);
  };
  // The JSON report is always written: RESULTS.md is generated from it.
  write(".json", report.dump(1) + "\n");
  if (std::find(formats.begin(), formats.end(), "markdown") != formats.end())
    write(".md", report_markdown(report));
  if (std::find(formats.begin(), formats.end(), "csv") != formats.end())
    write(".csv", report_csv(report));
  return written;
}

BenchOutcome run_bench(const BenchRequest& request) {
  const BenchConfig config = load_config(request.config);
  TaskContext context{config, standard_placeholders(config.dir, request.tensorgraph_executable),
                      request.quick, request.filters, request.on_progress};
  const RunSettings& settings = context.settings();

  const std::array<double, 2> load_start = load_average();
  TaskSetup setup = setup_task(context);
  bool any_timed =
      std::any_of(setup.cases.begin(), setup.cases.end(), [](const Case& c) { return c.timed; });
  if (!any_timed) {
    std::string names;
    for (const auto& c : config.cases) names += (names.empty() ? "" : ", ") + c.name;
    fail("no case to run{}{} (cases: {})", request.filters.empty() ? "" : " matches --filter",
         request.quick ? " under --quick" : "", names);
  }

  Gate gate;
  if (setup.gate) {
    if (request.on_progress) request.on_progress({"gate", "checking golden outputs", 0, 0, 0});
    gate = setup.gate();
  }

  std::string reference = config.reference;
  std::vector<RunResult> runs;
  for (int threads : settings.threads) {
    Implementations impls = setup.make_implementations(threads);
    RunOptions options;
    options.settings = settings;
    options.threads = threads;
    options.reference = reference;
    for (const auto& impl : config.implementations)
      if (!impl.timed) options.untimed.push_back(impl.name);
    options.on_progress = [&](const RunProgress& p) {
      if (request.on_progress) request.on_progress({p.phase, p.detail, threads, p.done, p.total});
    };
    runs.push_back(run_benchmark(impls, setup.cases, options));
  }

  ReportHeader header;
  header.benchmark = config.name;
  header.task = config.task;
  header.description = config.description;
  header.config = request.config.string();
  header.timestamp = utc_timestamp();
  header.command = request.command_line;
  header.quick = request.quick;
  header.settings = settings;
  header.baseline = config.output.baseline;
  if (header.baseline.empty()) {
    for (const auto& impl : config.implementations)
      if (impl.enabled && impl.timed) {
        header.baseline = impl.name;
        break;
      }
  }
  header.precision = config.output.precision;
  header.machine = to_json(collect_machine_info());
  header.inputs = setup.inputs;

  BenchOutcome outcome;
  outcome.report = make_report(header, setup.cases, runs, gate);
  outcome.report["load_average"] = {load_start[0], load_average()[0]};
  outcome.formats = config.output.formats;
  if (request.write_files) {
    const fs::path dir =
        request.out_dir ? *request.out_dir : config.resolve(config.output.directory);
    if (request.on_progress) request.on_progress({"write", dir.string(), 0, 0, 0});
    outcome.files = write_reports(outcome.report, config.output.formats, dir);
  }
  return outcome;
}

}  // namespace tensorgraph::bench
