#pragma once
// DistilBERT for sequence classification (HuggingFace `DistilBertForSequenceClassification`,
// eval mode) on the tensorgraph runtime:
//
//   embeddings  LayerNorm(word[ids] + position[0..S))                       eps 1e-12
//   n_layers x  sa  = LayerNorm(out_lin(attention(q_lin x, k_lin x, v_lin x, mask)) + x)
//               x   = LayerNorm(lin2(gelu(lin1(sa))) + sa)
//   head        logits = classifier(relu(pre_classifier(x[:, 0])))
//
// Weights are bound by HuggingFace's tensor names from model.safetensors (F32, F16 or BF16; the
// 16-bit ones are upcast to F32 at load, exactly), each shape checked against config.json. The
// graph is compiled once; a forward pass takes padded ids and an attention mask (HF semantics:
// masked keys get the lowest float score before the softmax).
//
// Only the [CLS] row of the last layer reaches the classifier, so by default the last layer
// computes its queries, attention output and feed-forward network for that row alone (keys and
// values still for every token): the same logits, ~14% fewer FLOPs for six layers.
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tensorgraph/core/tensor.hpp"
#include "tensorgraph/graph/graph.hpp"
#include "tensorgraph/io/safetensors.hpp"
#include "tensorgraph/runtime/session.hpp"

namespace tensorgraph::nn {

struct DistilBertConfig {
  int vocab_size = 30522;
  int dim = 768;
  int n_layers = 6;
  int n_heads = 12;
  int hidden_dim = 3072;
  int max_position_embeddings = 512;
  std::string activation = "gelu";  // "gelu" (erf form) or "relu"
  std::vector<std::string> id2label{"NEGATIVE", "POSITIVE"};
  int pad_token_id = 0;

  int head_dim() const { return dim / n_heads; }
  int num_labels() const { return static_cast<int>(id2label.size()); }

  // Parses a HuggingFace config.json (model_type "distilbert"); errors name the file and key.
  static DistilBertConfig from_json_file(const std::filesystem::path& path);
  static DistilBertConfig from_json(const std::string& json, const std::string& name);
};

// The weight names and shapes a config expects, in the order HF's state dict lists them.
std::vector<std::pair<std::string, Shape>> distilbert_weight_shapes(const DistilBertConfig& c);

// Marker that `tensorgraph make-random-model` writes into __metadata__.
inline constexpr const char* kRandomWeightsKey = "tensorgraph.random_weights";

struct DistilBertGraphOptions {
  bool prune_last_layer = true;  // see above
  // Adds outputs "hidden_0" (embeddings) .. "hidden_N" (each layer), [B, S, dim], for debugging
  // against HF's hidden_states (implies prune_last_layer = false).
  bool hidden_states = false;
};

// Weights by HF name, F32 (upcast from F16/BF16 where needed).
using DistilBertWeights = std::map<std::string, Tensor, std::less<>>;

// Reads and checks every tensor the config expects from an opened file. Errors name the file,
// the tensor, its shape and the expectation; an extra tensor is ignored (HF files may carry
// e.g. vocab_projector weights of the masked-LM head).
DistilBertWeights load_distilbert_weights(const io::SafeTensorsFile& file,
                                          const DistilBertConfig& config);

// Graph inputs: "input_ids" i64 [B, S], "attention_mask" i64 [B, S], "position_ids" i64 [S];
// output "logits" f32 [B, num_labels].
Graph build_distilbert_graph(const DistilBertConfig& config, const DistilBertWeights& weights,
                             const DistilBertGraphOptions& options = {});

struct DistilBertOptions {
  int threads = 0;  // 0: tensorgraph::num_threads()
  KernelSet kernels = KernelSet::Cpu;
  DistilBertGraphOptions graph;
};

class DistilBertModel {
 public:
  // config.json + model.safetensors of `dir`; compiles the graph. Errors name the files.
  static DistilBertModel load(const std::filesystem::path& dir,
                              const DistilBertOptions& options = {});
  static DistilBertModel from_weights(DistilBertConfig config, DistilBertWeights weights,
                                      const DistilBertOptions& options = {});

  DistilBertModel(DistilBertModel&&) noexcept;
  DistilBertModel& operator=(DistilBertModel&&) noexcept;
  ~DistilBertModel();

  // input_ids, attention_mask: I64 (or I32) [batch, seq], seq <= max_position_embeddings,
  // ids < vocab_size. Returns F32 logits [batch, num_labels].
  Tensor forward(const Tensor& input_ids, const Tensor& attention_mask);
  // All outputs of the graph by name (logits, and hidden states when built with them).
  NamedTensors forward_all(const Tensor& input_ids, const Tensor& attention_mask);
  // The hot path: writes the logits into `logits` (F32 [batch, num_labels], preallocated); no
  // heap allocation of the engine's own once the shape class was seen.
  void forward_into(const Tensor& input_ids, const Tensor& attention_mask, Tensor& logits);

  const DistilBertConfig& config() const;
  // True when the weights carry make-random-model's marker (not a trained model).
  bool is_random() const;
  const std::map<std::string, std::string>& metadata() const;
  Session& session();

 private:
  struct Impl;
  explicit DistilBertModel(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tensorgraph::nn
