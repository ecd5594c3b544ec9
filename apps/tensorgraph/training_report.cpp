#include "training_report.hpp"

#include <cmath>
#include <ctime>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "file_output.hpp"
#include "tensorgraph/core/error.hpp"
#include "tensorgraph/hub/paths.hpp"

namespace tensorgraph::cli {

std::filesystem::path resolve_data_dir(const std::optional<std::string>& data) {
  return hub::data_dir(data ? std::optional<std::filesystem::path>(*data) : std::nullopt);
}

std::filesystem::path beside(const std::filesystem::path& weights, const std::string& suffix) {
  std::filesystem::path p = weights;
  std::string name = p.filename().string();
  const std::string ext = ".safetensors";
  if (name.size() > ext.size() && name.ends_with(ext)) name.resize(name.size() - ext.size());
  return p.replace_filename(name + suffix);
}

void require_directory(const std::filesystem::path& file, const char* option) {
  const std::filesystem::path dir = file.has_parent_path() ? file.parent_path() : ".";
  TG_CHECK(std::filesystem::is_directory(dir), "{} {}: directory {} does not exist", option,
           file.string(), dir.string());
}

std::string display_path(const std::filesystem::path& path) {
  std::error_code ec;
  const std::filesystem::path abs = std::filesystem::weakly_canonical(path, ec);
  const std::filesystem::path project = std::filesystem::weakly_canonical(hub::project_dir(), ec);
  if (!ec && !abs.empty()) {
    const std::filesystem::path rel = abs.lexically_relative(project);
    if (!rel.empty() && *rel.begin() != "..") return rel.string();
  }
  return path.string();
}

std::string dollars(double value) {
  const auto v = static_cast<long long>(std::llround(std::fabs(value)));
  std::string digits = std::to_string(v);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return (value < 0 ? "-$" : "$") + out;
}

std::string command_line() {
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  std::string raw((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::string out;
  std::size_t start = 0;
  bool first = true;
  while (start < raw.size()) {
    std::size_t end = raw.find('\0', start);
    if (end == std::string::npos) end = raw.size();
    std::string arg = raw.substr(start, end - start);
    if (first) arg = std::filesystem::path(arg).filename().string();  // "tensorgraph"
    if (!out.empty()) out += ' ';
    out += arg.find_first_of(" \t'\"") == std::string::npos ? arg : "'" + arg + "'";
    first = false;
    start = end + 1;
  }
  return out;
}

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M UTC", &tm);
  return buf;
}

TrainingProgress::TrainingProgress(std::string metric_name, std::string (*format_metric)(double))
    : metric_name_(std::move(metric_name)), format_metric_(format_metric) {}

void TrainingProgress::on_step(const train::StepInfo& s) {
  if (s.epoch != bar_epoch_) {
    if (bar_) bar_->cancel();
    // Samples of the epoch; the rate is samples/s, the ETA the epoch's.
    bar_ = std::make_unique<ProgressBar>(fmt::format("epoch {}/{}", s.epoch, s.epochs), 0);
    bar_epoch_ = s.epoch;
  }
  bar_->set_total(s.epoch_samples);
  bar_->update(s.samples, fmt::format("step {}/{}, loss {:.4f}, lr {:.2e}", s.step, s.steps,
                                      s.mean_loss, s.learning_rate));
}

void TrainingProgress::cancel() {
  if (bar_) bar_->cancel();
  bar_.reset();
  bar_epoch_ = 0;
}

std::string TrainingProgress::epoch_line(const train::EpochInfo& e, int epochs) const {
  std::string line =
      fmt::format("epoch {:>3}/{}: train loss {:.5f}", e.epoch, epochs, e.train_loss);
  if (e.metric) line += fmt::format(", {} {}", metric_name_, format_metric_(*e.metric));
  line +=
      fmt::format(", lr {:.2e}, {:.1f} s{}", e.learning_rate, e.seconds, e.best ? "  *best" : "");
  return line;
}

void TrainingProgress::on_epoch(const train::EpochInfo& e, int epochs) {
  cancel();
  fmt::print(stderr, "{}\n", epoch_line(e, epochs));
  std::fflush(stderr);
}

void TrainingLog::write() const {
  if (path.empty()) return;
  std::ostringstream out;
  for (const auto& l : header) out << l << "\n";
  for (const auto& l : epochs) out << l << "\n";
  for (const auto& l : footer) out << l << "\n";
  write_file_atomically(path.string(), out.str());
}

}  // namespace tensorgraph::cli
