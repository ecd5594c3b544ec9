// `tensorgraph make-random-model`: a DistilBERT folder with the real model's shapes and random
// weights, for offline benchmarks.
#include <chrono>
#include <iostream>
#include <memory>

#include <fmt/format.h>

#include "command.hpp"
#include "tensorgraph/hub/paths.hpp"
#include "tensorgraph/nn/distilbert_random.hpp"

namespace tensorgraph::cli {
namespace {

struct MakeRandomArgs {
  std::string like = "distilbert-base-uncased-finetuned-sst-2-english";
  std::string vocab;
  std::optional<std::string> out;
  std::int64_t seed = 0;
};

int run(const MakeRandomArgs& a) {
  const auto config = nn::known_distilbert_config(a.like);
  const std::filesystem::path dir =
      a.out ? std::filesystem::path(*a.out) : hub::models_dir() / "distilbert-random";
  TG_CHECK(a.seed >= 0, "--seed must be 0 or more");
  const auto start = std::chrono::steady_clock::now();
  nn::write_random_distilbert(dir, config, a.vocab, static_cast<std::uint64_t>(a.seed), a.like);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  fmt::print("wrote {} (random weights, seed {}, {} layers, dim {}) in {:.1f} s\n", dir.string(),
             a.seed, config.n_layers, config.dim, s);
  fmt::print("its answers are meaningless: it is for speed measurements only\n");
  return 0;
}

const Registrar kMakeRandom{
    {"make-random-model",
     "Write a DistilBERT folder with the real shapes and random weights (for offline benchmarks)",
     [](Options& o) {
       auto a = std::make_shared<MakeRandomArgs>();
       o.option("--like", &a->like, "Model whose shapes to copy");
       o.option("--vocab", &a->vocab, "vocab.txt to copy into the folder");
       o.require("--vocab");
       o.option("--out", &a->out, "Output folder (default: models/distilbert-random)");
       o.option("--seed", &a->seed, "Seed of the random weights");
       o.footer(
           "The folder is a complete model (config.json, model.safetensors, vocab.txt,\n"
           "tokenizer_config.json) with the same FLOPs and memory traffic as the real one; its\n"
           "safetensors metadata marks it random, and classify/eval/serve warn when they use "
           "it.\n\n"
           "Example:\n"
           "  tensorgraph make-random-model --vocab "
           "../shared/fixtures/bert-base-uncased/vocab.txt");
       return [a] { return run(*a); };
     }}};

}  // namespace
}  // namespace tensorgraph::cli
