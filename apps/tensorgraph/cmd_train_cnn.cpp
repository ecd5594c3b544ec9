// `tensorgraph train cnn`: the CNN of example 05, trained on MNIST by our own engine (graph
// autodiff, oneDNN convolution backward, Adam, cosine schedule).
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
#include "tensorgraph/io/mnist.hpp"
#include "tensorgraph/train/cnn_training.hpp"
#include "training_report.hpp"

namespace tensorgraph::cli {
namespace {

struct TrainCnnArgs {
  std::optional<std::string> data;
  std::optional<std::string> out;
  std::optional<std::string> checkpoint;
  std::optional<std::string> log;
  std::int64_t epochs = 8;
  std::int64_t batch_size = 64;
  double learning_rate = 1e-3;
  double weight_decay = 0;
  std::int64_t patience = 0;
  std::int64_t validation = 5000;
  std::int64_t seed = 0;
  std::int64_t limit = 0;
  std::int64_t test_limit = 0;
  std::int64_t threads = 0;
  bool resume = false;
  bool json = false;
};

std::string percent(double fraction) {
  return fmt::format("{:.2f}%", fraction * 100);
}

nlohmann::json metrics_json(const train::ClassificationMetrics& m) {
  return {{"count", m.count},
          {"correct", m.correct},
          {"accuracy", round_to(m.accuracy, 6)},
          {"loss", round_to(m.loss, 6)}};
}

int run_train_cnn(const TrainCnnArgs& a) {
  TG_CHECK(a.epochs >= 1 && a.epochs <= 10000, "--epochs must be in 1..10000, got {}", a.epochs);
  TG_CHECK(a.batch_size >= 1, "--batch-size must be >= 1, got {}", a.batch_size);
  TG_CHECK(a.learning_rate > 0, "--lr must be > 0, got {}", a.learning_rate);
  TG_CHECK(a.weight_decay >= 0, "--weight-decay must be >= 0, got {}", a.weight_decay);
  TG_CHECK(a.patience >= 0, "--patience must be >= 0, got {}", a.patience);
  TG_CHECK(a.seed >= 0, "--seed must be >= 0, got {}", a.seed);
  TG_CHECK(a.limit >= 0 && a.test_limit >= 0, "--limit and --test-limit must be >= 0");
  TG_CHECK(a.validation >= 1, "--validation must be >= 1, got {}", a.validation);
  TG_CHECK(a.threads >= 0, "--threads must be >= 0, got {}", a.threads);

  const std::filesystem::path data_dir = resolve_data_dir(a.data);
  const std::filesystem::path out =
      a.out ? std::filesystem::path(*a.out)
            : hub::project_dir() / "examples" / "05_cnn_mnist" / "weights" / "cnn.safetensors";
  const std::filesystem::path checkpoint =
      a.checkpoint ? std::filesystem::path(*a.checkpoint) : beside(out, ".checkpoint.safetensors");
  const std::filesystem::path log_path =
      a.log ? std::filesystem::path(*a.log) : beside(out, ".train.log");
  require_directory(out, "--out");
  require_directory(checkpoint, "--checkpoint");
  require_directory(log_path, "--log");

  const io::Mnist train_set = io::load_mnist(data_dir, io::MnistSplit::Train);
  const io::Mnist test_set = io::load_mnist(data_dir, io::MnistSplit::Test);

  train::CnnTrainingOptions o;
  o.epochs = static_cast<int>(a.epochs);
  o.batch_size = a.batch_size;
  o.learning_rate = a.learning_rate;
  o.weight_decay = a.weight_decay;
  o.patience = static_cast<int>(a.patience);
  o.validation = a.validation;
  o.seed = static_cast<std::uint64_t>(a.seed);
  o.limit = a.limit;
  o.test_limit = a.test_limit;
  o.threads = static_cast<int>(a.threads);
  o.checkpoint = checkpoint;
  o.resume = a.resume;
  const int threads = a.threads > 0 ? static_cast<int>(a.threads) : num_threads();
  const std::int64_t images =
      a.limit > 0 ? std::min(a.limit, train_set.images.shape()[0]) : train_set.images.shape()[0];

  TrainingLog log;
  log.path = log_path;
  log.header = {
      "tensorgraph train cnn: CNN on MNIST (example 05)",
      "command: " + command_line(),
      fmt::format("started: {}; git commit {}; {} thread(s)", utc_now(), build_info().git_commit,
                  threads),
      fmt::format("data: {} and {}",
                  io::mnist_images_file(data_dir, io::MnistSplit::Train).string(),
                  io::mnist_images_file(data_dir, io::MnistSplit::Test).string()),
      "model: conv 1->32 3x3 pad 1, ReLU, max-pool 2 -> conv 32->64 3x3 pad 1, ReLU, max-pool 2 "
      "-> fc 3136->128, ReLU -> fc 128->10",
      fmt::format("split: {} training images, {} of them held out for validation (seed {}); the "
                  "test images are used for the final report only",
                  images, o.validation, o.seed),
      fmt::format("optimiser: AdamW (lr {}, weight decay {}), cosine schedule over {} epochs, "
                  "batch {}, seed {}",
                  o.learning_rate, o.weight_decay, o.epochs, o.batch_size, o.seed),
  };
  if (a.resume) log.header.push_back("resumed from " + display_path(checkpoint));

  InterruptGuard interrupt;
  TrainingProgress progress("val accuracy", percent);
  train::FitCallbacks cb;
  cb.on_step = [&](const train::StepInfo& s) { progress.on_step(s); };
  cb.on_epoch = [&](const train::EpochInfo& e) {
    progress.on_epoch(e, o.epochs);
    log.epochs.push_back(progress.epoch_line(e, o.epochs));
    log.write();
  };
  cb.stop_requested = [] { return InterruptGuard::requested(); };

  train::CnnTrainingResult r;
  try {
    r = train::train_mnist_cnn(train_set, test_set, o, cb);
  } catch (...) {
    progress.cancel();
    throw;
  }
  progress.cancel();
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
  const double per_epoch =
      r.fit.history.empty() ? 0 : seconds / static_cast<double>(r.fit.history.size());
  auto metric_line = [](const char* name, const train::ClassificationMetrics& m) {
    return fmt::format("{:<10} {:>6} images  accuracy {}  ({} correct)  loss {:.4f}", name, m.count,
                       percent(m.accuracy), m.correct, m.loss);
  };
  log.footer = {
      fmt::format("finished: {}; {} epochs, best epoch {} (validation accuracy {}); {:.1f} s, "
                  "{:.1f} s per epoch (validation included)",
                  utc_now(), r.fit.epochs_completed, r.fit.best_epoch, percent(r.fit.best_metric),
                  seconds, per_epoch),
      metric_line("train", r.train), metric_line("validation", r.validation),
      metric_line("test", r.test), "weights: " + display_path(out)};

  const std::map<std::string, std::string> meta = {
      {"command", command_line()},
      {"date", utc_now()},
      {"git_commit", build_info().git_commit},
      {"normalisation", "(x / 255 - 0.1307) / 0.3081"},
      {"images", std::to_string(images)},
      {"validation", std::to_string(o.validation)},
      {"seed", std::to_string(o.seed)},
      {"epochs", std::to_string(o.epochs)},
      {"epochs_run", std::to_string(r.fit.epochs_completed)},
      {"best_epoch", std::to_string(r.fit.best_epoch)},
      {"batch_size", std::to_string(o.batch_size)},
      {"optimizer", fmt::format("AdamW lr {} weight_decay {}, cosine schedule", o.learning_rate,
                                o.weight_decay)},
      {"threads", std::to_string(threads)},
      {"train_seconds", fmt::format("{:.1f}", seconds)},
      {"seconds_per_epoch", fmt::format("{:.1f}", per_epoch)},
      {"validation_accuracy", fmt::format("{:.6f}", r.validation.accuracy)},
      {"test_accuracy", fmt::format("{:.6f}", r.test.accuracy)},
  };
  train::save_mnist_cnn(out, r, o.spec, meta);
  log.write();

  if (a.json) {
    const nlohmann::json j = {
        {"out", out.string()},
        {"log", log_path.string()},
        {"epochs_run", r.fit.epochs_completed},
        {"best_epoch", r.fit.best_epoch},
        {"seconds", round_to(seconds, 2)},
        {"seconds_per_epoch", round_to(per_epoch, 2)},
        {"train", metrics_json(r.train)},
        {"validation", metrics_json(r.validation)},
        {"test", metrics_json(r.test)},
    };
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  for (const auto& line : log.footer) fmt::print("{}\n", line);
  return 0;
}

const Registrar kTrainCnn{
    {"train cnn", "Train the CNN of example 05 on MNIST (two convolutions, two linear layers)",
     [](Options& o) {
       auto a = std::make_shared<TrainCnnArgs>();
       o.option("--data", &a->data,
                "Data directory holding mnist/ (default: $TG_DATA_DIR, else the project's "
                "datasets/)");
       o.option("-o,--out", &a->out,
                "Weight file to write (default: examples/05_cnn_mnist/weights/cnn.safetensors)");
       o.option("--epochs", &a->epochs, "Epochs (the cosine schedule's length)");
       o.option("--batch-size", &a->batch_size, "Images per Adam step");
       o.option("--lr", &a->learning_rate, "Peak learning rate (cosine-annealed to 0)");
       o.option("--weight-decay", &a->weight_decay, "AdamW's decoupled weight decay");
       o.option("--patience", &a->patience,
                "Stop after this many epochs without a better validation accuracy (0: never)");
       o.option("--validation", &a->validation, "Training images held out for validation");
       o.option("--seed", &a->seed,
                "Seed of the initial weights, the validation split and the order of examples");
       o.option("-n,--limit", &a->limit, "Use only the first N training images (0: all)");
       o.option("--test-limit", &a->test_limit, "Report on the first N test images (0: all)");
       o.option("--threads", &a->threads, "Threads (default: TG_NUM_THREADS, else all CPUs)");
       o.option("--checkpoint", &a->checkpoint,
                "Checkpoint written after every epoch and on Ctrl-C (default: beside --out, "
                "NAME.checkpoint.safetensors)");
       o.flag("--resume", &a->resume, "Continue from the checkpoint (same settings)");
       o.option("--log", &a->log, "Training log (default: beside --out, NAME.train.log)");
       o.flag("--json", &a->json, "Print the result as JSON");
       o.footer(
           "The best epoch is chosen on the validation images (held out from the 60,000 training\n"
           "images); the 10,000 test images are only used for the final report. Ctrl-C saves a\n"
           "checkpoint and exits; the same command with --resume continues where it stopped.\n\n"
           "Examples:\n"
           "  tensorgraph train cnn --data ../shared/data\n"
           "  tensorgraph train cnn --data ../shared/data --limit 2000 --validation 200 --epochs 3 "
           "--out /tmp/cnn.safetensors\n"
           "  tensorgraph predict cnn --data ../shared/data --json");
       return [a] { return run_train_cnn(*a); };
     }}};

}  // namespace
}  // namespace tensorgraph::cli
