// `tensorgraph train mlp`: the MLP regressor of example 04, trained on California housing by our
// own engine (graph autodiff, Adam, cosine schedule, early stopping on a validation part).
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "command.hpp"
#include "interrupt.hpp"
#include "output_format.hpp"
#include "tensorgraph/core/build_info.hpp"
#include "tensorgraph/core/error.hpp"
#include "tensorgraph/core/threads.hpp"
#include "tensorgraph/hub/paths.hpp"
#include "tensorgraph/hub/sha256.hpp"
#include "tensorgraph/io/california_housing.hpp"
#include "tensorgraph/train/mlp_training.hpp"
#include "training_report.hpp"

namespace tensorgraph::cli {
namespace {

struct TrainMlpArgs {
  std::optional<std::string> data;
  std::optional<std::string> out;
  std::optional<std::string> checkpoint;
  std::optional<std::string> log;
  std::string layers = "8,128,64,1";
  // Chosen on the validation part only (never on the test part): see the example's README.
  std::int64_t epochs = 200;
  std::int64_t batch_size = 64;
  double learning_rate = 3e-3;
  double weight_decay = 0.1;
  std::int64_t patience = 50;
  std::int64_t seed = 0;
  std::int64_t limit = 0;
  std::int64_t threads = 0;
  bool resume = false;
  bool json = false;
};

std::string format_rmse(double rmse) {
  return dollars(rmse * io::kCaliforniaHousingTargetDollars);
}

nlohmann::json metrics_json(const train::RegressionMetrics& m) {
  return {{"count", m.count},
          {"r2", round_to(m.r2, 6)},
          {"rmse", round_to(m.rmse * io::kCaliforniaHousingTargetDollars, 2)},
          {"mae", round_to(m.mae * io::kCaliforniaHousingTargetDollars, 2)}};
}

int run_train_mlp(const TrainMlpArgs& a) {
  TG_CHECK(a.epochs >= 1 && a.epochs <= 100000, "--epochs must be in 1..100000, got {}", a.epochs);
  TG_CHECK(a.batch_size >= 1, "--batch-size must be >= 1, got {}", a.batch_size);
  TG_CHECK(a.learning_rate > 0, "--lr must be > 0, got {}", a.learning_rate);
  TG_CHECK(a.weight_decay >= 0, "--weight-decay must be >= 0, got {}", a.weight_decay);
  TG_CHECK(a.patience >= 0, "--patience must be >= 0, got {}", a.patience);
  TG_CHECK(a.seed >= 0, "--seed must be >= 0, got {}", a.seed);
  TG_CHECK(a.limit == 0 || a.limit >= 20, "--limit must be 0 (all) or at least 20 rows, got {}",
           a.limit);
  TG_CHECK(a.threads >= 0, "--threads must be >= 0, got {}", a.threads);

  const std::filesystem::path data_dir = resolve_data_dir(a.data);
  const std::filesystem::path out =
      a.out ? std::filesystem::path(*a.out)
            : hub::project_dir() / "examples" / "04_mlp_regression" / "weights" / "mlp.safetensors";
  const std::filesystem::path checkpoint =
      a.checkpoint ? std::filesystem::path(*a.checkpoint) : beside(out, ".checkpoint.safetensors");
  const std::filesystem::path log_path =
      a.log ? std::filesystem::path(*a.log) : beside(out, ".train.log");
  require_directory(out, "--out");
  require_directory(checkpoint, "--checkpoint");
  if (!log_path.empty()) require_directory(log_path, "--log");

  const io::CaliforniaHousing data = io::load_california_housing(data_dir);
  const std::string data_sha = hub::sha256_file(io::california_housing_file(data_dir));

  train::MlpTrainingOptions o;
  o.spec = nn::MlpSpec::parse(a.layers);
  o.epochs = static_cast<int>(a.epochs);
  o.batch_size = a.batch_size;
  o.learning_rate = a.learning_rate;
  o.weight_decay = a.weight_decay;
  o.patience = static_cast<int>(a.patience);
  o.seed = static_cast<std::uint64_t>(a.seed);
  o.limit = a.limit;
  o.threads = static_cast<int>(a.threads);
  o.checkpoint = checkpoint;
  o.resume = a.resume;
  const int threads = a.threads > 0 ? static_cast<int>(a.threads) : num_threads();

  TrainingLog log;
  log.path = log_path;
  log.header = {
      "tensorgraph train mlp: MLP regressor on California housing (example 04)",
      "command: " + command_line(),
      fmt::format("started: {}; git commit {}; {} thread(s)", utc_now(), build_info().git_commit,
                  threads),
      fmt::format("data: {} (sha256 {})", io::california_housing_file(data_dir).string(), data_sha),
      fmt::format("model: {} with ReLU, inputs standardised (scaler saved with the weights)",
                  o.spec.to_string()),
      fmt::format("split: 80/20 train/test (scikit-learn's train_test_split, seed {}); {:.0f}% of "
                  "the training part held out for validation (early stopping)",
                  o.split_seed, o.validation_fraction * 100),
      fmt::format("optimiser: AdamW (lr {}, weight decay {}), cosine schedule over {} epochs, "
                  "batch {}, patience {}, seed {}",
                  o.learning_rate, o.weight_decay, o.epochs, o.batch_size, o.patience, o.seed),
      a.resume ? "resumed from " + display_path(checkpoint) : "",
  };
  if (log.header.back().empty()) log.header.pop_back();

  InterruptGuard interrupt;
  TrainingProgress progress("val RMSE", format_rmse);
  train::FitCallbacks cb;
  cb.on_step = [&](const train::StepInfo& s) { progress.on_step(s); };
  cb.on_epoch = [&](const train::EpochInfo& e) {
    progress.on_epoch(e, o.epochs);
    log.epochs.push_back(progress.epoch_line(e, o.epochs));
    log.write();
  };
  cb.stop_requested = [] { return InterruptGuard::requested(); };

  train::MlpTrainingResult r;
  try {
    r = train::train_mlp_regressor(data, o, cb);
  } catch (...) {
    progress.cancel();
    throw;
  }
  progress.cancel();
  // The log lists every epoch, those of an earlier interrupted run included.
  log.epochs.clear();
  for (const auto& e : r.fit.history) log.epochs.push_back(progress.epoch_line(e, o.epochs));
  if (r.fit.interrupted) {
    log.footer = {fmt::format("interrupted after {} epoch(s); checkpoint {}",
                              r.fit.epochs_completed, display_path(checkpoint))};
    log.write();
    fmt::print(stderr,
               "tensorgraph: interrupted: checkpoint saved to {} (epoch {} in progress); continue "
               "with the same command and --resume\n",
               checkpoint.string(), r.fit.epochs_completed + 1);
    return 130;
  }

  double seconds = 0;
  for (const auto& e : r.fit.history) seconds += e.seconds;
  const std::string stop = r.fit.early_stopped
                               ? fmt::format("early stop after {} epochs", r.fit.epochs_completed)
                               : fmt::format("{} epochs", r.fit.epochs_completed);
  auto metric_line = [](const char* name, const train::RegressionMetrics& m) {
    return fmt::format("{:<10} {:>6} rows  R^2 {:.4f}  RMSE {}  MAE {}", name, m.count, m.r2,
                       format_rmse(m.rmse), format_rmse(m.mae));
  };
  log.footer = {
      fmt::format("finished: {}; {}, best epoch {} (validation RMSE {}); {:.1f} s", utc_now(), stop,
                  r.fit.best_epoch, format_rmse(r.fit.best_metric), seconds),
      metric_line("train", r.train), metric_line("validation", r.validation),
      metric_line("test", r.test), "weights: " + display_path(out)};

  std::map<std::string, std::string> meta = {
      {"command", command_line()},
      {"date", utc_now()},
      {"git_commit", build_info().git_commit},
      {"data_sha256", data_sha},
      {"features", "MedInc,HouseAge,AveRooms,AveBedrms,Population,AveOccup,Latitude,Longitude"},
      {"target", "MedHouseVal (units of $100,000)"},
      {"rows", std::to_string(r.rows)},
      {"split_seed", std::to_string(o.split_seed)},
      {"test_fraction", fmt::format("{}", o.test_fraction)},
      {"validation_fraction", fmt::format("{}", o.validation_fraction)},
      {"seed", std::to_string(o.seed)},
      {"epochs", std::to_string(o.epochs)},
      {"epochs_run", std::to_string(r.fit.epochs_completed)},
      {"best_epoch", std::to_string(r.fit.best_epoch)},
      {"batch_size", std::to_string(o.batch_size)},
      {"optimizer", fmt::format("AdamW lr {} weight_decay {}, cosine schedule", o.learning_rate,
                                o.weight_decay)},
      {"threads", std::to_string(threads)},
      {"train_seconds", fmt::format("{:.1f}", seconds)},
      {"train_r2", fmt::format("{:.6f}", r.train.r2)},
      {"validation_r2", fmt::format("{:.6f}", r.validation.r2)},
      {"test_r2", fmt::format("{:.6f}", r.test.r2)},
      {"test_rmse_dollars",
       fmt::format("{:.2f}", r.test.rmse * io::kCaliforniaHousingTargetDollars)},
  };
  train::save_mlp_regressor(out, r, o.spec, meta);
  log.write();

  if (a.json) {
    const nlohmann::json j = {
        {"out", out.string()},
        {"log", log_path.string()},
        {"epochs_run", r.fit.epochs_completed},
        {"best_epoch", r.fit.best_epoch},
        {"early_stopped", r.fit.early_stopped},
        {"seconds", round_to(seconds, 2)},
        {"train", metrics_json(r.train)},
        {"validation", metrics_json(r.validation)},
        {"test", metrics_json(r.test)},
    };
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  fmt::print("{}\n", log.footer[0]);
  for (std::size_t i = 1; i < log.footer.size(); ++i) fmt::print("{}\n", log.footer[i]);
  return 0;
}

const Registrar kTrainMlp{
    {"train mlp",
     "Train the MLP regressor of example 04 on California housing (8->128->64->1, ReLU)",
     [](Options& o) {
       auto a = std::make_shared<TrainMlpArgs>();
       o.option("--data", &a->data,
                "Data directory holding california_housing/ (default: $TG_DATA_DIR, else the "
                "project's datasets/)");
       o.option("-o,--out", &a->out,
                "Weight file to write (default: examples/04_mlp_regression/weights/"
                "mlp.safetensors)");
       o.option("--epochs", &a->epochs, "Maximum number of epochs (the cosine schedule's length)");
       o.option("--batch-size", &a->batch_size, "Rows per Adam step");
       o.option("--lr", &a->learning_rate, "Peak learning rate (cosine-annealed to 0)");
       o.option("--weight-decay", &a->weight_decay, "AdamW's decoupled weight decay");
       o.option("--patience", &a->patience,
                "Stop after this many epochs without a better validation RMSE (0: never)");
       o.option("--seed", &a->seed, "Seed of the initial weights and the order of examples");
       o.option("--layers", &a->layers, "Layer sizes, input to output");
       o.option("-n,--limit", &a->limit, "Use only the first N rows of the data set (0: all)");
       o.option("--threads", &a->threads, "Threads (default: TG_NUM_THREADS, else all CPUs)");
       o.option("--checkpoint", &a->checkpoint,
                "Checkpoint written after every epoch and on Ctrl-C (default: beside --out, "
                "NAME.checkpoint.safetensors)");
       o.flag("--resume", &a->resume, "Continue from the checkpoint (same settings)");
       o.option("--log", &a->log, "Training log (default: beside --out, NAME.train.log)");
       o.flag("--json", &a->json, "Print the result as JSON");
       o.footer(
           "The split is fixed: 80% train / 20% test (seed 42, as scikit-learn's\n"
           "train_test_split); 10% of the training part is held out for early stopping, so the\n"
           "test part is only used for the final report. Ctrl-C saves a checkpoint and exits;\n"
           "the same command with --resume continues exactly where it stopped.\n\n"
           "Examples:\n"
           "  tensorgraph train mlp --data ../shared/data\n"
           "  tensorgraph train mlp --data ../shared/data --out /tmp/mlp.safetensors --epochs 20\n"
           "  tensorgraph predict mlp --data ../shared/data --json");
       return [a] { return run_train_mlp(*a); };
     }}};

}  // namespace
}  // namespace tensorgraph::cli
