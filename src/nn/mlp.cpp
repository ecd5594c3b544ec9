#include "tensorgraph/nn/mlp.hpp"

#include <charconv>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "tensorgraph/core/error.hpp"
#include "tensorgraph/graph/ops.hpp"

namespace tensorgraph::nn {

std::string MlpSpec::to_string() const {
  return fmt::format("{}", fmt::join(layers, ","));
}

MlpSpec MlpSpec::parse(std::string_view text) {
  MlpSpec spec;
  spec.layers.clear();
  std::size_t pos = 0;
  while (pos <= text.size()) {
    std::size_t end = text.find(',', pos);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view item = text.substr(pos, end - pos);
    std::int64_t v = 0;
    const auto [ptr, ec] = std::from_chars(item.data(), item.data() + item.size(), v);
    TG_CHECK(ec == std::errc() && ptr == item.data() + item.size() && v >= 1,
             "MLP layers '{}': '{}' is not a positive size", text, item);
    spec.layers.push_back(v);
    pos = end + 1;
  }
  TG_CHECK(spec.layers.size() >= 2, "MLP layers '{}': needs an input and an output size", text);
  return spec;
}

std::vector<ParameterSpec> mlp_parameters(const MlpSpec& spec) {
  std::vector<ParameterSpec> p;
  for (std::size_t i = 0; i + 1 < spec.layers.size(); ++i) {
    const std::string layer = fmt::format("fc{}", i + 1);
    p.push_back(
        {layer + ".weight", {spec.layers[i + 1], spec.layers[i]}, ParameterSpec::Kind::Weight});
    p.push_back({layer + ".bias", {spec.layers[i + 1]}, ParameterSpec::Kind::Bias});
  }
  return p;
}

Value mlp_regressor(Value x, const MlpSpec& spec, const ParameterLookup& lookup) {
  const Shape features{spec.layers.front()};
  TG_CHECK(x.rank() == 2 && (x.shape()[1] == spec.layers.front() || x.shape()[1] < 0),
           "MLP: expects features [N, {}], got {}", spec.layers.front(), x.shape().to_string());
  const Value mean = lookup("scaler.mean", features);
  const Value scale = lookup("scaler.scale", features);
  Value h = (x - mean) / scale;
  const std::vector<ParameterSpec> params = mlp_parameters(spec);
  for (std::size_t i = 0; i < params.size(); i += 2) {
    h = ops::linear(h, lookup(params[i].name, params[i].shape),
                    lookup(params[i + 1].name, params[i + 1].shape));
    if (i + 2 < params.size()) h = ops::relu(h);
  }
  return h;
}

void save_mlp_regressor(const std::filesystem::path& path, const MlpSpec& spec,
                        const std::vector<std::pair<std::string, Tensor>>& tensors,
                        std::map<std::string, std::string> metadata) {
  metadata["model"] = "mlp-regressor";
  metadata["layers"] = spec.to_string();
  io::write_safetensors(path, tensors, metadata);
}

MlpRegressor MlpRegressor::load(const std::filesystem::path& weights,
                                const CompileOptions& options) {
  const WeightFile file = WeightFile::open(weights);
  TG_CHECK(file.meta("model") == "mlp-regressor", "{}: holds a '{}' model, not an MLP regressor",
           file.path(), file.meta("model"));
  const MlpSpec spec =
      with_context(file.path(), [&] { return MlpSpec::parse(file.meta("layers")); });
  Graph g;
  const Value x = g.input("features", DType::F32, {-1, spec.layers.front()});
  g.output("prediction", mlp_regressor(x, spec, file.constants(g)));
  return MlpRegressor(spec, compile(g, options), file.metadata());
}

std::vector<double> MlpRegressor::predict(const Tensor& features) {
  TG_CHECK(features.rank() == 2 && features.shape()[1] == spec_.layers.front(),
           "MLP: expects features [N, {}], got {}", spec_.layers.front(), features.description());
  const Tensor x = features.dtype() == DType::F32 ? features : features.to(DType::F32);
  std::vector<Tensor> in{x};
  std::vector<Tensor> out = session_.allocate_outputs(in);
  session_.run(in, out);
  std::vector<double> y(static_cast<std::size_t>(out[0].numel()));
  for (std::size_t i = 0; i < y.size(); ++i) y[i] = out[0].data<float>()[i];
  return y;
}

}  // namespace tensorgraph::nn
