#pragma once
// Renders the hub library's download progress callbacks with ProgressBar: one bar per file
// (bytes, speed, ETA) on a terminal, a plain line every few seconds otherwise. A resumed download
// shows its kept bytes in the counts but not in the speed.
#include <memory>
#include <string>

#include "progress.hpp"
#include "tensorgraph/hub/download.hpp"

namespace tensorgraph::cli {

class DownloadProgress {
 public:
  DownloadProgress() = default;
  ~DownloadProgress();  // cancels an unfinished bar (an error message follows)
  DownloadProgress(const DownloadProgress&) = delete;
  DownloadProgress& operator=(const DownloadProgress&) = delete;

  // The callback to hand to the library; valid while this object lives.
  hub::ProgressCallback callback();
  // Ends the current bar with its final line (before printing a summary for the file).
  void finish();

 private:
  void on_progress(const hub::TransferProgress& p);

  std::unique_ptr<ProgressBar> bar_;
  std::string name_;
};

}  // namespace tensorgraph::cli
