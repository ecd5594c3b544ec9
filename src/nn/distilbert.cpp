#include "tensorgraph/nn/distilbert.hpp"

#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "tensorgraph/core/error.hpp"
#include "tensorgraph/graph/ops.hpp"

namespace tensorgraph::nn {

// ---- config ------------------------------------------------------------------------------------

namespace {

int read_int(const nlohmann::json& j, const char* key, int fallback, bool required,
             const std::string& name) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) {
    TG_CHECK(!required, "{}: missing \"{}\"", name, key);
    return fallback;
  }
  TG_CHECK(it->is_number_integer(), "{}: \"{}\" must be an integer, got {}", name, key, it->dump());
  const auto v = it->get<std::int64_t>();
  TG_CHECK(v >= 0 && v <= (std::int64_t{1} << 30), "{}: \"{}\" = {} is out of range", name, key, v);
  return static_cast<int>(v);
}

}  // namespace

DistilBertConfig DistilBertConfig::from_json(const std::string& json, const std::string& name) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(json);
  } catch (const nlohmann::json::exception& e) {
    fail("{}: not valid JSON ({})", name, e.what());
  }
  TG_CHECK(j.is_object(), "{}: expected a JSON object", name);
  if (auto mt = j.find("model_type"); mt != j.end())
    TG_CHECK(mt->is_string() && mt->get<std::string>() == "distilbert",
             "{}: model_type is {}, expected \"distilbert\"", name, mt->dump());
  DistilBertConfig c;
  c.vocab_size = read_int(j, "vocab_size", c.vocab_size, true, name);
  c.dim = read_int(j, "dim", c.dim, true, name);
  c.n_layers = read_int(j, "n_layers", c.n_layers, true, name);
  c.n_heads = read_int(j, "n_heads", c.n_heads, true, name);
  c.hidden_dim = read_int(j, "hidden_dim", c.hidden_dim, true, name);
  c.max_position_embeddings =
      read_int(j, "max_position_embeddings", c.max_position_embeddings, false, name);
  c.pad_token_id = read_int(j, "pad_token_id", c.pad_token_id, false, name);
  if (auto a = j.find("activation"); a != j.end()) {
    TG_CHECK(a->is_string(), "{}: \"activation\" must be a string", name);
    c.activation = a->get<std::string>();
  }
  TG_CHECK(c.activation == "gelu" || c.activation == "relu",
           "{}: activation \"{}\" is not supported (gelu or relu)", name, c.activation);
  TG_CHECK(c.vocab_size > 0 && c.dim > 0 && c.n_layers > 0 && c.n_heads > 0 && c.hidden_dim > 0 &&
               c.max_position_embeddings > 0,
           "{}: vocab_size, dim, n_layers, n_heads, hidden_dim and max_position_embeddings must "
           "be positive",
           name);
  TG_CHECK(c.dim % c.n_heads == 0, "{}: dim {} is not a multiple of n_heads {}", name, c.dim,
           c.n_heads);
  if (auto s = j.find("sinusoidal_pos_embds"); s != j.end() && s->is_boolean() && s->get<bool>()) {
    // HF stores the sinusoidal table in the position embedding weights: nothing to do.
  }
  if (auto labels = j.find("id2label"); labels != j.end()) {
    TG_CHECK(labels->is_object() && !labels->empty(), "{}: \"id2label\" must be a non-empty object",
             name);
    std::vector<std::string> names(labels->size());
    for (auto it = labels->begin(); it != labels->end(); ++it) {
      std::size_t pos = 0;
      long id = -1;
      try {
        id = std::stol(it.key(), &pos);
      } catch (const std::exception&) {
        pos = 0;
      }
      TG_CHECK(pos == it.key().size() && id >= 0 && static_cast<std::size_t>(id) < names.size(),
               "{}: id2label key \"{}\" is not an id in 0..{}", name, it.key(), names.size() - 1);
      TG_CHECK(it.value().is_string(), "{}: id2label[{}] must be a string", name, it.key());
      names[static_cast<std::size_t>(id)] = it.value().get<std::string>();
    }
    c.id2label = std::move(names);
  }
  return c;
}

DistilBertConfig DistilBertConfig::from_json_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  TG_CHECK(in.good(), "{}: cannot open (model config not found)", path.string());
  std::ostringstream ss;
  ss << in.rdbuf();
  return from_json(ss.str(), path.string());
}

// ---- weights -----------------------------------------------------------------------------------

std::vector<std::pair<std::string, Shape>> distilbert_weight_shapes(const DistilBertConfig& c) {
  const std::int64_t d = c.dim, h = c.hidden_dim;
  std::vector<std::pair<std::string, Shape>> w{
      {"distilbert.embeddings.word_embeddings.weight", Shape{c.vocab_size, d}},
      {"distilbert.embeddings.position_embeddings.weight", Shape{c.max_position_embeddings, d}},
      {"distilbert.embeddings.LayerNorm.weight", Shape{d}},
      {"distilbert.embeddings.LayerNorm.bias", Shape{d}},
  };
  for (int i = 0; i < c.n_layers; ++i) {
    const std::string p = fmt::format("distilbert.transformer.layer.{}.", i);
    for (const char* lin : {"q_lin", "k_lin", "v_lin", "out_lin"}) {
      w.emplace_back(p + "attention." + lin + ".weight", Shape{d, d});
      w.emplace_back(p + "attention." + lin + ".bias", Shape{d});
    }
    w.emplace_back(p + "sa_layer_norm.weight", Shape{d});
    w.emplace_back(p + "sa_layer_norm.bias", Shape{d});
    w.emplace_back(p + "ffn.lin1.weight", Shape{h, d});
    w.emplace_back(p + "ffn.lin1.bias", Shape{h});
    w.emplace_back(p + "ffn.lin2.weight", Shape{d, h});
    w.emplace_back(p + "ffn.lin2.bias", Shape{d});
    w.emplace_back(p + "output_layer_norm.weight", Shape{d});
    w.emplace_back(p + "output_layer_norm.bias", Shape{d});
  }
  w.emplace_back("pre_classifier.weight", Shape{d, d});
  w.emplace_back("pre_classifier.bias", Shape{d});
  w.emplace_back("classifier.weight", Shape{c.num_labels(), d});
  w.emplace_back("classifier.bias", Shape{c.num_labels()});
  return w;
}

DistilBertWeights load_distilbert_weights(const io::SafeTensorsFile& file,
                                          const DistilBertConfig& config) {
  DistilBertWeights weights;
  for (const auto& [name, shape] : distilbert_weight_shapes(config)) {
    const io::SafeTensorInfo* info = file.find(name);
    if (!info) {
      // info() throws the helpful "no tensor 'x' in FILE; close names: ..." message.
      file.info(name);
    }
    TG_CHECK(info->shape == shape,
             "{}: tensor '{}' has shape {}, config.json expects {} (dim {}, hidden_dim {}, "
             "vocab_size {}, max_position_embeddings {}, {} labels)",
             file.name(), name, info->shape.to_string(), shape.to_string(), config.dim,
             config.hidden_dim, config.vocab_size, config.max_position_embeddings,
             config.num_labels());
    TG_CHECK(info->dtype == DType::F32 || info->dtype == DType::F16 || info->dtype == DType::BF16,
             "{}: tensor '{}' is {}, expected F32, F16 or BF16", file.name(), name,
             dtype_safetensors_name(info->dtype));
    Tensor t = file.tensor(*info);
    if (t.dtype() != DType::F32) t = t.to(DType::F32);  // exact upcast
    weights.emplace(name, std::move(t));
  }
  return weights;
}

// ---- graph -------------------------------------------------------------------------------------

namespace {

struct Builder {
  Graph& g;
  const DistilBertConfig& c;
  const DistilBertWeights& w;

  Value weight(const std::string& name) {
    auto it = w.find(name);
    TG_CHECK(it != w.end(), "DistilBERT weights: missing '{}'", name);
    return g.constant(it->second, name);
  }
  Value linear(Value x, const std::string& name) {
    return ops::linear(x, weight(name + ".weight"), weight(name + ".bias"));
  }
  Value layer_norm(Value x, const std::string& name) {
    return ops::layer_norm(x, weight(name + ".weight"), weight(name + ".bias"), 1e-12f);
  }
  // [B, S, dim] -> [B, heads, S, head_dim]
  Value split_heads(Value x) {
    return ops::transpose(ops::reshape(x, {0, 0, c.n_heads, c.head_dim()}), 1, 2);
  }
  // [B, heads, S, head_dim] -> [B, S, dim]
  Value merge_heads(Value x) { return ops::reshape(ops::transpose(x, 1, 2), {0, 0, c.dim}); }

  // One transformer block. `query_rows`: the rows whose output is needed (x itself, or its
  // [CLS] row in the pruned last layer); keys and values always come from every row of x.
  Value block(int i, Value x, Value query_rows, Value mask_bias) {
    const std::string p = fmt::format("distilbert.transformer.layer.{}.", i);
    // HF divides q by sqrt(head_dim); the scale is a power of two for the real and tiny models,
    // where multiplying by its inverse is the same operation.
    const float scale = 1.0f / std::sqrt(static_cast<float>(c.head_dim()));
    Value q = split_heads(linear(query_rows, p + "attention.q_lin"));
    q = (std::exp2(std::round(std::log2(scale))) == scale)
            ? q * scale
            : q / std::sqrt(static_cast<float>(c.head_dim()));
    Value k = split_heads(linear(x, p + "attention.k_lin"));
    Value v = split_heads(linear(x, p + "attention.v_lin"));
    Value scores = ops::matmul(q, k, false, true) + mask_bias;  // [B, H, Sq, S]
    Value context = merge_heads(ops::matmul(ops::softmax(scores, -1), v));
    Value sa =
        layer_norm(linear(context, p + "attention.out_lin") + query_rows, p + "sa_layer_norm");
    Value hidden = linear(sa, p + "ffn.lin1");
    hidden = c.activation == "gelu" ? ops::gelu(hidden) : ops::relu(hidden);
    return layer_norm(linear(hidden, p + "ffn.lin2") + sa, p + "output_layer_norm");
  }
};

}  // namespace

Graph build_distilbert_graph(const DistilBertConfig& config, const DistilBertWeights& weights,
                             const DistilBertGraphOptions& options) {
  Graph g;
  Builder b{g, config, weights};
  Value ids = g.input("input_ids", DType::I64, {-1, -1});
  Value mask = g.input("attention_mask", DType::I64, {-1, -1});
  Value positions = g.input("position_ids", DType::I64, {-1});

  Value x = ops::gather(b.weight("distilbert.embeddings.word_embeddings.weight"), ids) +
            ops::gather(b.weight("distilbert.embeddings.position_embeddings.weight"), positions);
  x = b.layer_norm(x, "distilbert.embeddings.LayerNorm");
  if (options.hidden_states) g.output("hidden_0", x);

  // HF: scores.masked_fill(mask == 0, finfo(float32).min). Adding the lowest float instead gives
  // the same softmax: a masked score becomes about -3.4e38 and its exp() is exactly 0.
  Value mask4 = ops::reshape(mask, {0, 1, 1, -1});
  Value mask_bias =
      ops::where(mask4, g.scalar(0.0f), g.scalar(std::numeric_limits<float>::lowest()));

  const bool prune = options.prune_last_layer && !options.hidden_states;
  for (int i = 0; i < config.n_layers; ++i) {
    const bool last = i + 1 == config.n_layers;
    Value rows = (last && prune) ? ops::slice(x, 1, 0, 1) : x;
    x = b.block(i, x, rows, mask_bias);
    if (options.hidden_states) g.output(fmt::format("hidden_{}", i + 1), x);
  }
  Value cls = ops::reshape(ops::slice(x, 1, 0, 1), {0, config.dim});
  Value pooled = ops::relu(b.linear(cls, "pre_classifier"));
  g.output("logits", b.linear(pooled, "classifier"));
  return g;
}

// ---- model -------------------------------------------------------------------------------------

struct DistilBertModel::Impl {
  DistilBertConfig config;
  std::map<std::string, std::string> metadata;
  Session session;
  Tensor positions;  // i64 [max_position_embeddings]: 0, 1, 2, ...
  std::vector<Tensor> inputs;
  std::size_t logits_index = 0;

  Impl(DistilBertConfig c, Session s) : config(std::move(c)), session(std::move(s)) {
    positions = Tensor::empty(DType::I64, Shape{config.max_position_embeddings});
    auto* p = positions.mutable_data<std::int64_t>();
    for (int i = 0; i < config.max_position_embeddings; ++i) p[i] = i;
    inputs.resize(3);
    logits_index = session.output_index("logits");
  }

  void bind(const Tensor& ids_in, const Tensor& mask_in) {
    TG_CHECK(ids_in.rank() == 2, "DistilBERT: input_ids must be [batch, seq], got {}",
             ids_in.description());
    TG_CHECK(mask_in.shape() == ids_in.shape(),
             "DistilBERT: attention_mask {} does not match input_ids {}", mask_in.description(),
             ids_in.description());
    const std::int64_t seq = ids_in.shape()[1];
    TG_CHECK(seq >= 1 && seq <= config.max_position_embeddings,
             "DistilBERT: sequence of {} tokens; the model accepts 1 to {} (truncate longer "
             "texts)",
             seq, config.max_position_embeddings);
    TG_CHECK(ids_in.shape()[0] >= 1, "DistilBERT: empty batch");
    const Tensor ids = ids_in.dtype() == DType::I64 ? ids_in : ids_in.to(DType::I64);
    const Tensor mask = mask_in.dtype() == DType::I64 ? mask_in : mask_in.to(DType::I64);
    const auto* id = ids.data<std::int64_t>();
    for (std::int64_t i = 0; i < ids.numel(); ++i)
      TG_CHECK(id[i] >= 0 && id[i] < config.vocab_size,
               "DistilBERT: token id {} at position {} is outside the vocabulary (0..{})", id[i], i,
               config.vocab_size - 1);
    inputs[session.input_index("input_ids")] = ids;
    inputs[session.input_index("attention_mask")] = mask;
    inputs[session.input_index("position_ids")] =
        Tensor::view(DType::I64, Shape{seq}, positions.raw(), nullptr);
  }
};

DistilBertModel::DistilBertModel(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
DistilBertModel::DistilBertModel(DistilBertModel&&) noexcept = default;
DistilBertModel& DistilBertModel::operator=(DistilBertModel&&) noexcept = default;
DistilBertModel::~DistilBertModel() = default;

DistilBertModel DistilBertModel::from_weights(DistilBertConfig config, DistilBertWeights weights,
                                              const DistilBertOptions& options) {
  Graph g = build_distilbert_graph(config, weights, options.graph);
  CompileOptions co;
  co.kernels = options.kernels;
  co.threads = options.threads;
  return DistilBertModel(std::make_unique<Impl>(std::move(config), compile(g, co)));
}

DistilBertModel DistilBertModel::load(const std::filesystem::path& dir,
                                      const DistilBertOptions& options) {
  std::error_code ec;
  TG_CHECK(std::filesystem::is_directory(dir, ec), "{}: model directory not found", dir.string());
  DistilBertConfig config = DistilBertConfig::from_json_file(dir / "config.json");
  const auto file = io::SafeTensorsFile::open(dir / "model.safetensors");
  DistilBertWeights weights = load_distilbert_weights(file, config);
  DistilBertModel model = from_weights(std::move(config), std::move(weights), options);
  model.impl_->metadata = file.metadata();
  return model;
}

Tensor DistilBertModel::forward(const Tensor& input_ids, const Tensor& attention_mask) {
  impl_->bind(input_ids, attention_mask);
  std::vector<Tensor> outputs = impl_->session.allocate_outputs(impl_->inputs);
  impl_->session.run(impl_->inputs, outputs);
  return outputs[impl_->logits_index];
}

NamedTensors DistilBertModel::forward_all(const Tensor& input_ids, const Tensor& attention_mask) {
  impl_->bind(input_ids, attention_mask);
  std::vector<Tensor> outputs = impl_->session.allocate_outputs(impl_->inputs);
  impl_->session.run(impl_->inputs, outputs);
  NamedTensors named;
  for (std::size_t i = 0; i < outputs.size(); ++i)
    named.emplace(impl_->session.output_names()[i], outputs[i]);
  return named;
}

void DistilBertModel::forward_into(const Tensor& input_ids, const Tensor& attention_mask,
                                   Tensor& logits) {
  impl_->bind(input_ids, attention_mask);
  TG_CHECK(impl_->session.output_names().size() == 1,
           "forward_into: the model was built with extra outputs; use forward_all");
  impl_->session.run(impl_->inputs, std::span<Tensor>(&logits, 1));
}

const DistilBertConfig& DistilBertModel::config() const {
  return impl_->config;
}
bool DistilBertModel::is_random() const {
  return impl_->metadata.count(kRandomWeightsKey) > 0;
}
const std::map<std::string, std::string>& DistilBertModel::metadata() const {
  return impl_->metadata;
}
Session& DistilBertModel::session() {
  return impl_->session;
}

}  // namespace tensorgraph::nn
