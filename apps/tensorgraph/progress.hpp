#pragma once
// A progress bar on stderr for long work (downloads, evaluation, training).
// On a terminal it redraws one line (at most 10 times a second) with a bar, counts, rate and ETA;
// otherwise it prints a plain line at most every `plain_interval_s` seconds (0: only the final
// line), so logs stay readable. Set TG_NO_PROGRESS=1 to silence it entirely.
#include <chrono>
#include <cstdint>
#include <string>

namespace tensorgraph::cli {

class ProgressBar {
 public:
  enum class Unit { Items, Bytes };

  // total <= 0: unknown total (no bar, no ETA).
  ProgressBar(std::string label, std::int64_t total, Unit unit = Unit::Items,
              double plain_interval_s = 0);
  ~ProgressBar();
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  // Sets the amount done so far; `suffix` is appended (e.g. "loss 0.231").
  void update(std::int64_t done, const std::string& suffix = "");
  void set_total(std::int64_t total) { total_ = total; }
  // Work that was already done before this run (a resumed download): shown in the counts, left
  // out of the rate and the ETA.
  void set_baseline(std::int64_t done) { baseline_ = done_ = done; }
  // Draws the final state and ends the line. Called by the destructor if not called before.
  void finish(const std::string& suffix = "");
  // Ends without a final line (the work failed and an error message follows): on a terminal the
  // bar is erased.
  void cancel();

  static bool stderr_is_terminal();
  // "1.5 MB", "312 B"
  static std::string human_bytes(double bytes);
  // "1:02:03", "4:05"
  static std::string human_duration(double seconds);

 private:
  std::string render(const std::string& suffix) const;

  std::string label_;
  std::int64_t total_;
  Unit unit_;
  double plain_interval_s_;
  bool terminal_;
  bool enabled_;
  bool finished_ = false;
  std::int64_t done_ = 0;
  std::int64_t baseline_ = 0;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
};

}  // namespace tensorgraph::cli
