#include "tensorgraph/nn/distilbert_random.hpp"

#include <cmath>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "tensorgraph/core/atomic_file.hpp"
#include "tensorgraph/core/error.hpp"
#include "tensorgraph/io/safetensors.hpp"

namespace tensorgraph::nn {

DistilBertConfig known_distilbert_config(std::string_view model_id) {
  TG_CHECK(model_id == "distilbert-base-uncased-finetuned-sst-2-english",
           "unknown model '{}': --like knows distilbert-base-uncased-finetuned-sst-2-english",
           model_id);
  return DistilBertConfig{};  // the defaults are that model's values
}

std::string distilbert_config_json(const DistilBertConfig& c) {
  nlohmann::ordered_json id2label = nlohmann::ordered_json::object();
  nlohmann::ordered_json label2id = nlohmann::ordered_json::object();
  for (std::size_t i = 0; i < c.id2label.size(); ++i) {
    id2label[std::to_string(i)] = c.id2label[i];
    label2id[c.id2label[i]] = i;
  }
  const nlohmann::ordered_json j = {
      {"activation", c.activation},
      {"architectures", {"DistilBertForSequenceClassification"}},
      {"attention_dropout", 0.1},
      {"dim", c.dim},
      {"dropout", 0.1},
      {"finetuning_task", "sst-2"},
      {"hidden_dim", c.hidden_dim},
      {"id2label", id2label},
      {"initializer_range", 0.02},
      {"label2id", label2id},
      {"max_position_embeddings", c.max_position_embeddings},
      {"model_type", "distilbert"},
      {"n_heads", c.n_heads},
      {"n_layers", c.n_layers},
      {"output_past", true},
      {"pad_token_id", c.pad_token_id},
      {"qa_dropout", 0.1},
      {"seq_classif_dropout", 0.2},
      {"sinusoidal_pos_embds", false},
      {"tie_weights_", true},
      {"vocab_size", c.vocab_size},
  };
  return j.dump(2) + "\n";
}

namespace {

// splitmix64 + Box-Muller: simple, fast and the same on every platform (std::normal_distribution
// is not specified bit for bit).
class Gaussian {
 public:
  explicit Gaussian(std::uint64_t seed) : state_(seed) {}
  float next() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    const double u1 = (static_cast<double>(bits() >> 11) + 1.0) * 0x1.0p-53;  // (0, 1]
    const double u2 = static_cast<double>(bits() >> 11) * 0x1.0p-53;
    const double r = std::sqrt(-2.0 * std::log(u1));
    spare_ = static_cast<float>(r * std::sin(2 * M_PI * u2));
    has_spare_ = true;
    return static_cast<float>(r * std::cos(2 * M_PI * u2));
  }

 private:
  std::uint64_t bits() {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  std::uint64_t state_;
  float spare_ = 0;
  bool has_spare_ = false;
};

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

void write_text(const std::filesystem::path& path, const std::string& text) {
  AtomicFileWriter out(path);
  out.write(text.data(), text.size());
  out.commit();
}

}  // namespace

DistilBertWeights random_distilbert_weights(const DistilBertConfig& config, std::uint64_t seed) {
  DistilBertWeights weights;
  Gaussian g(seed);
  for (const auto& [name, shape] : distilbert_weight_shapes(config)) {
    Tensor t = Tensor::empty(DType::F32, shape);
    float* p = t.mutable_data<float>();
    const std::int64_t n = t.numel();
    if (ends_with(name, "LayerNorm.weight") || ends_with(name, "layer_norm.weight")) {
      std::fill_n(p, n, 1.0f);
    } else if (ends_with(name, ".bias")) {
      std::fill_n(p, n, 0.0f);
    } else {
      for (std::int64_t i = 0; i < n; ++i) p[i] = 0.02f * g.next();
    }
    weights.emplace(name, std::move(t));
  }
  return weights;
}

void write_random_distilbert(const std::filesystem::path& dir, const DistilBertConfig& config,
                             const std::filesystem::path& vocab, std::uint64_t seed,
                             const std::string& model_id) {
  std::error_code ec;
  TG_CHECK(std::filesystem::is_regular_file(vocab, ec), "{}: vocabulary file not found",
           vocab.string());
  const auto existing = dir / "model.safetensors";
  if (std::filesystem::exists(existing, ec)) {
    bool random = false;
    try {
      random = io::SafeTensorsFile::open(existing).metadata().count(kRandomWeightsKey) > 0;
    } catch (const Error&) {
      random = false;
    }
    TG_CHECK(random,
             "{} already holds a model without the random-weights marker; refusing to overwrite "
             "it (choose another --out)",
             dir.string());
  }
  std::filesystem::create_directories(dir, ec);
  TG_CHECK(!ec, "{}: cannot create the directory: {}", dir.string(), ec.message());

  const DistilBertWeights weights = random_distilbert_weights(config, seed);
  std::vector<std::pair<std::string, Tensor>> ordered;
  for (const auto& [name, shape] : distilbert_weight_shapes(config))
    ordered.emplace_back(name, weights.at(name));
  io::write_safetensors(existing, ordered,
                        {{"format", "pt"},
                         {kRandomWeightsKey, "seed " + std::to_string(seed) + ", shapes of " +
                                                 model_id + "; NOT a trained model"}});
  write_text(dir / "config.json", distilbert_config_json(config));
  std::ifstream in(vocab, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  TG_CHECK(in.good() || in.eof(), "{}: read error", vocab.string());
  write_text(dir / "vocab.txt", ss.str());
  write_text(dir / "tokenizer_config.json", "{\"do_lower_case\": true, \"model_max_length\": " +
                                                std::to_string(config.max_position_embeddings) +
                                                "}\n");
}

}  // namespace tensorgraph::nn
