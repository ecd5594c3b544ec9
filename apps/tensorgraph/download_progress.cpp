#include "download_progress.hpp"

namespace tensorgraph::cli {

DownloadProgress::~DownloadProgress() {
  if (bar_) bar_->cancel();
}

hub::ProgressCallback DownloadProgress::callback() {
  return [this](const hub::TransferProgress& p) { on_progress(p); };
}

void DownloadProgress::on_progress(const hub::TransferProgress& p) {
  if (!bar_ || name_ != p.name) {
    if (bar_) bar_->finish();
    name_ = std::string(p.name);
    bar_ = std::make_unique<ProgressBar>(name_, p.total, ProgressBar::Unit::Bytes,
                                         /*plain_interval_s=*/5.0);
    bar_->set_baseline(p.resumed_from);
  }
  bar_->set_total(p.total);
  bar_->update(p.done);
}

void DownloadProgress::finish() {
  if (bar_) bar_->finish();
  bar_.reset();
  name_.clear();
}

}  // namespace tensorgraph::cli
