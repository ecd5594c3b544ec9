#pragma once
// The MLP regressor of example 04 (California housing): inputs standardised in the graph with
// the scaler saved beside the weights, then Linear + ReLU layers and a final Linear:
//
//   x [N, 8] -> (x - scaler.mean) / scaler.scale -> fc1 8->128, ReLU -> fc2 128->64, ReLU
//            -> fc3 64->1 -> [N, 1]
//
// Parameter names follow PyTorch's (fc1.weight [128, 8], fc1.bias [128], ...).
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "tensorgraph/nn/model_weights.hpp"
#include "tensorgraph/runtime/session.hpp"

namespace tensorgraph::nn {

struct MlpSpec {
  std::vector<std::int64_t> layers{8, 128, 64, 1};  // input, hidden..., output sizes

  std::string to_string() const;  // "8,128,64,1"
  // Parses to_string()'s form; throws Error on anything else.
  static MlpSpec parse(std::string_view text);
};

// The trainable parameters, in order (the scaler is not trained: see mlp_regressor).
std::vector<ParameterSpec> mlp_parameters(const MlpSpec& spec);
// Builds the forward pass on raw features x [N, layers[0]]; the lookup also gives the scaler as
// "scaler.mean" and "scaler.scale" [layers[0]] (scale = standard deviation).
Value mlp_regressor(Value x, const MlpSpec& spec, const ParameterLookup& lookup);

// Writes a weight file: the parameters of mlp_parameters(spec), "scaler.mean", "scaler.scale"
// (all f32) and metadata {"model": "mlp-regressor", "layers": spec} plus `metadata` (how it was
// trained), atomically.
void save_mlp_regressor(const std::filesystem::path& path, const MlpSpec& spec,
                        const std::vector<std::pair<std::string, Tensor>>& tensors,
                        std::map<std::string, std::string> metadata);

// Inference from a weight file written by `tensorgraph train mlp`.
class MlpRegressor {
 public:
  static MlpRegressor load(const std::filesystem::path& weights,
                           const CompileOptions& options = {});
  // Predictions [N] (the target's units) for raw features [N, layers[0]] (f32 or f64).
  std::vector<double> predict(const Tensor& features);

  const MlpSpec& spec() const { return spec_; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  Session& session() { return session_; }

 private:
  MlpRegressor(MlpSpec spec, Session session, std::map<std::string, std::string> metadata)
      : spec_(std::move(spec)), session_(std::move(session)), metadata_(std::move(metadata)) {}
  MlpSpec spec_;
  Session session_;
  std::map<std::string, std::string> metadata_;
};

}  // namespace tensorgraph::nn
