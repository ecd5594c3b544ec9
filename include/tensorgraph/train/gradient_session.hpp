#pragma once
// Forward and backward of a loss, compiled once. The graph's inputs are the data inputs (a batch)
// followed by the parameters; its outputs are the loss, one gradient per parameter (grad() from
// autodiff.hpp) and any extra outputs the model names (predictions, logits). The session plans
// memory per batch-shape class (a full batch, the smaller last batch, evaluation batches), so a
// training step never recompiles and, once a shape class is planned, allocates nothing.
//
//   GradientSession s({{"x", DType::F32, {-1, 8}}, {"y", DType::F32, {-1, 1}}}, params,
//       [](Graph& g, std::span<const Value> data, const ParameterValues& p) {
//         const Value pred = ops::linear(data[0], p.at("w"), p.at("b"));
//         return ModelOutputs{train::mse_loss(pred, data[1]), {{"prediction", pred}}};
//       });
//   double loss = s.run({x_batch, y_batch}, params);   // then s.gradients()
#include <functional>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tensorgraph/graph/graph.hpp"
#include "tensorgraph/runtime/session.hpp"
#include "tensorgraph/train/parameters.hpp"

namespace tensorgraph::train {

struct DataInput {
  std::string name;
  DType dtype = DType::F32;
  Shape shape;  // -1 for the batch dimension
};

using ParameterValues = std::map<std::string, Value, std::less<>>;

struct ModelOutputs {
  Value loss;                                        // one element, f32
  std::vector<std::pair<std::string, Value>> extra;  // other outputs, by name
};

using ModelBuilder = std::function<ModelOutputs(Graph& graph, std::span<const Value> data,
                                                const ParameterValues& params)>;

class GradientSession {
 public:
  GradientSession(const std::vector<DataInput>& data, const Parameters& params,
                  const ModelBuilder& build, const CompileOptions& options = {});

  // Runs forward and backward on one batch (tensors in the order of the data inputs) with the
  // current parameter values; returns the loss. The gradients are then in gradients().
  double run(std::span<const Tensor> data, const Parameters& params);
  // d loss / d parameter, in parameter order (valid until the next run).
  const std::vector<Tensor>& gradients() const { return gradients_; }
  // An extra output of the last run by name.
  const Tensor& output(std::string_view name) const;

  Session& session() { return session_; }
  // The graph before compilation (forward + backward), for inspection and tests.
  const Graph& graph() const { return graph_; }

 private:
  std::vector<std::string> extra_names_;  // before graph_: the graph's builder fills it
  Graph graph_;
  Session session_;
  std::size_t data_count_ = 0;
  std::vector<Tensor> inputs_;   // data then parameters (handles, refreshed per run)
  std::vector<Tensor> outputs_;  // loss, gradients, extras
  std::vector<Tensor> gradients_;
  std::vector<Shape> shapes_;  // input shapes of the current outputs
};

}  // namespace tensorgraph::train

namespace tensorgraph::train {

// The forward pass alone with the parameters as inputs (evaluation during training, without
// copying the parameters into constants): outputs by name.
using ForwardBuilder = std::function<std::vector<std::pair<std::string, Value>>(
    Graph& graph, std::span<const Value> data, const ParameterValues& params)>;

class ForwardSession {
 public:
  ForwardSession(const std::vector<DataInput>& data, const Parameters& params,
                 const ForwardBuilder& build, const CompileOptions& options = {});
  // The outputs for one batch, in the builder's order (valid until the next run).
  const std::vector<Tensor>& run(std::span<const Tensor> data, const Parameters& params);
  Session& session() { return session_; }

 private:
  Session session_;
  std::size_t data_count_ = 0;
  std::vector<Tensor> inputs_, outputs_;
  std::vector<Shape> shapes_;
};

}  // namespace tensorgraph::train
