#include "tensorgraph/train/fit.hpp"

#include <chrono>
#include <cmath>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "tensorgraph/core/error.hpp"
#include "tensorgraph/train/checkpoint.hpp"
#include "tensorgraph/train/random.hpp"

namespace tensorgraph::train {

namespace {

constexpr const char* kFormat = "tensorgraph-training-checkpoint-1";

std::string exact(double v) {
  return fmt::format("{:.17g}", v);
}

nlohmann::json to_json(const std::vector<EpochInfo>& history) {
  nlohmann::json a = nlohmann::json::array();
  for (const EpochInfo& e : history) {
    nlohmann::json j = {{"epoch", e.epoch},
                        {"train_loss", e.train_loss},
                        {"learning_rate", e.learning_rate},
                        {"seconds", e.seconds},
                        {"best", e.best}};
    if (e.metric) j["metric"] = *e.metric;
    a.push_back(j);
  }
  return a;
}

std::vector<EpochInfo> history_from_json(const std::string& text, const std::string& path) {
  std::vector<EpochInfo> history;
  try {
    for (const auto& j : nlohmann::json::parse(text)) {
      EpochInfo e;
      e.epoch = j.at("epoch").get<int>();
      e.train_loss = j.at("train_loss").get<double>();
      e.learning_rate = j.at("learning_rate").get<double>();
      e.seconds = j.at("seconds").get<double>();
      e.best = j.at("best").get<bool>();
      if (j.contains("metric")) e.metric = j.at("metric").get<double>();
      history.push_back(e);
    }
  } catch (const nlohmann::json::exception& e) {
    fail("{}: the checkpoint's history is malformed ({})", path, e.what());
  }
  return history;
}

template <typename T>
T parse_number(const Checkpoint& c, const std::string& key) {
  const std::string& s = c.meta(key);
  try {
    std::size_t used = 0;
    T v;
    if constexpr (std::is_same_v<T, double>)
      v = std::stod(s, &used);
    else
      v = static_cast<T>(std::stoll(s, &used));
    if (used == s.size()) return v;
  } catch (const std::exception&) {
  }
  fail("{}: checkpoint metadata '{}' is not a number: '{}'", c.path, key, s);
}

// Everything the loop needs to continue where it stopped.
struct LoopState {
  int epoch = 0;                   // epochs completed
  std::int64_t step_in_epoch = 0;  // steps done in the current epoch
  std::int64_t global_step = 0;
  double loss_sum = 0;  // over the current epoch, weighted by batch size
  std::int64_t loss_count = 0;
  double epoch_seconds = 0;  // spent so far in the current epoch
  int best_epoch = 0;
  double best_metric = 0;
  int bad_epochs = 0;
  bool finished = false;
  bool early_stopped = false;
  std::vector<EpochInfo> history;
};

void save(const FitOptions& o, const LoopState& s, const Parameters& params, const Parameters* best,
          const Optimizer& optimizer) {
  if (o.checkpoint.empty()) return;
  std::vector<std::pair<std::string, Tensor>> tensors = params.named("param.");
  if (best)
    for (auto& t : best->named("best.")) tensors.push_back(std::move(t));
  for (auto& [name, t] : optimizer.state()) tensors.emplace_back("optim." + name, t);
  std::map<std::string, std::string> meta = {
      {"format", kFormat},
      {"epoch", std::to_string(s.epoch)},
      {"step_in_epoch", std::to_string(s.step_in_epoch)},
      {"global_step", std::to_string(s.global_step)},
      {"loss_sum", exact(s.loss_sum)},
      {"loss_count", std::to_string(s.loss_count)},
      {"epoch_seconds", exact(s.epoch_seconds)},
      {"best_epoch", std::to_string(s.best_epoch)},
      {"best_metric", exact(s.best_metric)},
      {"bad_epochs", std::to_string(s.bad_epochs)},
      {"finished", s.finished ? "true" : "false"},
      {"early_stopped", s.early_stopped ? "true" : "false"},
      {"history", to_json(s.history).dump()},
  };
  for (const auto& [k, v] : o.identity) meta["identity." + k] = v;
  save_checkpoint(o.checkpoint, tensors, meta);
}

LoopState restore(const FitOptions& o, Parameters& params, Parameters* best, Optimizer& optimizer) {
  TG_CHECK(!o.checkpoint.empty(), "--resume needs a checkpoint path");
  TG_CHECK(std::filesystem::exists(o.checkpoint),
           "{}: no checkpoint to resume from (run without --resume to start)",
           o.checkpoint.string());
  const Checkpoint c = load_checkpoint(o.checkpoint);
  TG_CHECK(c.metadata.count("format") && c.metadata.at("format") == kFormat,
           "{}: not a training checkpoint of this version", c.path);
  for (const auto& [k, v] : o.identity) {
    auto it = c.metadata.find("identity." + k);
    const std::string had = it == c.metadata.end() ? "(unset)" : it->second;
    TG_CHECK(had == v,
             "{}: the checkpoint was made with {} = {}, this run has {}; use the same settings "
             "to resume, or start over without --resume",
             c.path, k, had, v);
  }
  params.load(c.tensors, "param.");
  if (best) best->load(c.tensors, "best.");
  std::map<std::string, Tensor, std::less<>> optim;
  for (const auto& [name, t] : c.tensors)
    if (name.rfind("optim.", 0) == 0) optim.emplace(name.substr(6), t);
  with_context(c.path, [&] { optimizer.load_state(params, optim); });
  LoopState s;
  s.epoch = parse_number<int>(c, "epoch");
  s.step_in_epoch = parse_number<std::int64_t>(c, "step_in_epoch");
  s.global_step = parse_number<std::int64_t>(c, "global_step");
  s.loss_sum = parse_number<double>(c, "loss_sum");
  s.loss_count = parse_number<std::int64_t>(c, "loss_count");
  s.epoch_seconds = parse_number<double>(c, "epoch_seconds");
  s.best_epoch = parse_number<int>(c, "best_epoch");
  s.best_metric = parse_number<double>(c, "best_metric");
  s.bad_epochs = parse_number<int>(c, "bad_epochs");
  s.finished = c.meta("finished") == "true";
  s.early_stopped = c.meta("early_stopped") == "true";
  s.history = history_from_json(c.meta("history"), c.path);
  return s;
}

}  // namespace

FitResult fit(GradientSession& session, Parameters& params, Optimizer& optimizer,
              const std::function<double(std::int64_t step)>& learning_rate,
              const TrainingData& data, const FitOptions& o, const FitCallbacks& cb) {
  TG_CHECK(o.epochs >= 1, "training: epochs must be >= 1, got {}", o.epochs);
  TG_CHECK(o.batch_size >= 1, "training: the batch size must be >= 1, got {}", o.batch_size);
  TG_CHECK(data.size >= 1, "training: no training examples");
  const bool validating = static_cast<bool>(cb.validate);
  std::optional<Parameters> best;
  if (validating) best = params.clone();
  LoopState s;
  FitResult result;
  if (o.resume) {
    s = restore(o, params, best ? &*best : nullptr, optimizer);
    result.resumed = true;
  }
  const std::int64_t steps = steps_per_epoch(data.size, o.batch_size);
  using Clock = std::chrono::steady_clock;
  auto finish = [&] {
    result.history = s.history;
    result.epochs_completed = s.epoch;
    result.best_epoch = s.best_epoch;
    result.best_metric = s.best_metric;
    result.early_stopped = s.early_stopped;
    result.steps = s.global_step;
    return result;
  };

  while (!s.finished && s.epoch < o.epochs) {
    const std::vector<std::int64_t> order =
        permutation(data.size, derive_seed(o.seed, static_cast<std::uint64_t>(s.epoch)));
    auto started = Clock::now();
    const double seconds_before = s.epoch_seconds;
    auto elapsed = [&] {
      return seconds_before + std::chrono::duration<double>(Clock::now() - started).count();
    };
    double lr = optimizer.learning_rate();
    for (; s.step_in_epoch < steps; ++s.step_in_epoch) {
      if (cb.stop_requested && cb.stop_requested()) {
        s.epoch_seconds = elapsed();
        save(o, s, params, best ? &*best : nullptr, optimizer);
        result.interrupted = true;
        return finish();
      }
      const std::int64_t begin = s.step_in_epoch * o.batch_size;
      const std::int64_t end = std::min(begin + o.batch_size, data.size);
      const std::span<const std::int64_t> rows(order.data() + begin,
                                               static_cast<std::size_t>(end - begin));
      lr = learning_rate(s.global_step);
      optimizer.set_learning_rate(lr);
      const std::span<const Tensor> batch = data.fill(rows);
      const double loss = session.run(batch, params);
      TG_CHECK(std::isfinite(loss),
               "training diverged: the loss is {} at epoch {}, step {} (try a lower learning "
               "rate)",
               loss, s.epoch + 1, s.step_in_epoch + 1);
      optimizer.step(params, session.gradients());
      s.loss_sum += loss * static_cast<double>(rows.size());
      s.loss_count += static_cast<std::int64_t>(rows.size());
      ++s.global_step;
      if (cb.on_step)
        cb.on_step({s.epoch + 1, o.epochs, s.step_in_epoch + 1, steps, end, data.size, loss,
                    s.loss_sum / static_cast<double>(s.loss_count), lr});
    }
    EpochInfo e;
    e.epoch = s.epoch + 1;
    e.train_loss = s.loss_count ? s.loss_sum / static_cast<double>(s.loss_count) : 0;
    e.learning_rate = lr;
    if (validating) {
      const double m = cb.validate(params);
      e.metric = m;
      const bool better =
          s.best_epoch == 0 || (o.higher_is_better ? m > s.best_metric : m < s.best_metric);
      if (better) {
        s.best_metric = m;
        s.best_epoch = e.epoch;
        s.bad_epochs = 0;
        best->assign(params);
        e.best = true;
      } else {
        ++s.bad_epochs;
      }
    }
    e.seconds = elapsed();
    s.history.push_back(e);
    ++s.epoch;
    s.step_in_epoch = 0;
    s.loss_sum = 0;
    s.loss_count = 0;
    s.epoch_seconds = 0;
    if (o.patience > 0 && s.bad_epochs >= o.patience) s.early_stopped = true;
    if (s.early_stopped || s.epoch >= o.epochs) s.finished = true;
    if (cb.on_epoch) cb.on_epoch(e);
    save(o, s, params, best ? &*best : nullptr, optimizer);
  }
  if (validating) params.assign(*best);
  return finish();
}

}  // namespace tensorgraph::train
