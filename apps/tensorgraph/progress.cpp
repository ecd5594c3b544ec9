#include "progress.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include <fmt/format.h>

namespace tensorgraph::cli {

ProgressBar::ProgressBar(std::string label, std::int64_t total, Unit unit, double plain_interval_s)
    : label_(std::move(label)),
      total_(total),
      unit_(unit),
      plain_interval_s_(plain_interval_s),
      terminal_(stderr_is_terminal()),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {
  const char* off = std::getenv("TG_NO_PROGRESS");
  enabled_ = !(off && *off && std::string(off) != "0");
}

ProgressBar::~ProgressBar() {
  if (!finished_) finish();
}

bool ProgressBar::stderr_is_terminal() {
  return ::isatty(STDERR_FILENO) == 1;
}

std::string ProgressBar::human_bytes(double bytes) {
  static const char* const kUnits[] = {"B", "kB", "MB", "GB", "TB"};
  int u = 0;
  while (bytes >= 1000.0 && u < 4) {
    bytes /= 1000.0;
    ++u;
  }
  return u == 0 ? fmt::format("{:.0f} {}", bytes, kUnits[u])
                : fmt::format("{:.1f} {}", bytes, kUnits[u]);
}

std::string ProgressBar::human_duration(double seconds) {
  if (seconds < 0 || seconds > 1e7) return "?";
  const auto s = static_cast<long>(seconds + 0.5);
  if (s >= 3600) return fmt::format("{}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60);
  return fmt::format("{}:{:02}", s / 60, s % 60);
}

std::string ProgressBar::render(const std::string& suffix) const {
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double rate = elapsed > 0 ? static_cast<double>(done_ - baseline_) / elapsed : 0;
  std::string line = label_;
  if (total_ > 0) {
    const double frac = std::min(1.0, static_cast<double>(done_) / static_cast<double>(total_));
    if (terminal_) {
      constexpr int kWidth = 24;
      const int filled = static_cast<int>(frac * kWidth);
      line += " [" + std::string(static_cast<std::size_t>(filled), '#') +
              std::string(static_cast<std::size_t>(kWidth - filled), '.') + "]";
    }
    line += fmt::format(" {:3.0f}%", frac * 100);
  }
  if (unit_ == Unit::Bytes) {
    line += " " + human_bytes(static_cast<double>(done_));
    if (total_ > 0) line += "/" + human_bytes(static_cast<double>(total_));
    line += " " + human_bytes(rate) + "/s";
  } else {
    line += fmt::format(" {}", done_);
    if (total_ > 0) line += fmt::format("/{}", total_);
    line += fmt::format(" {:.1f}/s", rate);
  }
  if (total_ > 0 && rate > 0 && done_ < total_)
    line += " ETA " + human_duration(static_cast<double>(total_ - done_) / rate);
  else
    line += " " + human_duration(elapsed);
  if (!suffix.empty()) line += " " + suffix;
  return line;
}

void ProgressBar::update(std::int64_t done, const std::string& suffix) {
  done_ = done;
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  const double since = std::chrono::duration<double>(now - last_draw_).count();
  if (terminal_) {
    if (since < 0.1) return;
    last_draw_ = now;
    drawn_ = true;
    std::fprintf(stderr, "\r\033[K%s", render(suffix).c_str());
    std::fflush(stderr);
  } else if (plain_interval_s_ > 0 && since >= plain_interval_s_) {
    last_draw_ = now;
    std::fprintf(stderr, "%s\n", render(suffix).c_str());
  }
}

void ProgressBar::finish(const std::string& suffix) {
  if (finished_) return;
  finished_ = true;
  if (!enabled_) return;
  if (terminal_)
    std::fprintf(stderr, "\r\033[K%s\n", render(suffix).c_str());
  else if (plain_interval_s_ > 0)
    std::fprintf(stderr, "%s\n", render(suffix).c_str());
  std::fflush(stderr);
}

void ProgressBar::cancel() {
  if (finished_) return;
  finished_ = true;
  if (enabled_ && terminal_ && drawn_) {
    std::fprintf(stderr, "\r\033[K");
    std::fflush(stderr);
  }
}

}  // namespace tensorgraph::cli
