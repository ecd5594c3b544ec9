#pragma once
// Shared by `train mlp` and `train cnn`: the progress bar of an epoch (epoch, step, loss,
// samples/s, ETA) on a terminal, one plain line per epoch on stderr, the training log file
// (rewritten atomically after every epoch), and the data directory rule of --data.
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "progress.hpp"
#include "tensorgraph/train/fit.hpp"

namespace tensorgraph::cli {

// --data DIR, else $TG_DATA_DIR, else the project's datasets/ (hub::data_dir).
std::filesystem::path resolve_data_dir(const std::optional<std::string>& data);

// A file beside a weight file: ("dir/mlp.safetensors", ".train.log") -> "dir/mlp.train.log".
std::filesystem::path beside(const std::filesystem::path& weights, const std::string& suffix);
// Throws "OPTION FILE: directory D does not exist" before any long work starts.
void require_directory(const std::filesystem::path& file, const char* option);

// `path` relative to the project directory when it lies inside it (logs committed beside the
// weights name no machine-specific directories), else as given.
std::string display_path(const std::filesystem::path& path);

// "$51,234"
std::string dollars(double value);

// The command line as typed (for logs and weight metadata).
std::string command_line();
// "2026-11-26 14:03 UTC"
std::string utc_now();

class TrainingProgress {
 public:
  // `metric_name` labels the validation metric in epoch lines ("val RMSE", "val accuracy");
  // `format_metric` renders its value.
  TrainingProgress(std::string metric_name, std::string (*format_metric)(double));
  void on_step(const train::StepInfo& step);
  void on_epoch(const train::EpochInfo& epoch, int epochs);
  // Ends a bar in progress (interruption or error).
  void cancel();

  // One line per epoch, as printed and logged.
  std::string epoch_line(const train::EpochInfo& epoch, int epochs) const;

 private:
  std::string metric_name_;
  std::string (*format_metric_)(double);
  std::unique_ptr<ProgressBar> bar_;
  int bar_epoch_ = 0;
};

// The log of a training run: header lines, one line per epoch, footer lines.
struct TrainingLog {
  std::filesystem::path path;  // empty: no log
  std::vector<std::string> header;
  std::vector<std::string> epochs;
  std::vector<std::string> footer;

  void write() const;  // atomically (a temporary file renamed over the previous log)
};

}  // namespace tensorgraph::cli
