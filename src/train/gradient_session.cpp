#include "tensorgraph/train/gradient_session.hpp"

#include <fmt/format.h>

#include "tensorgraph/core/error.hpp"
#include "tensorgraph/graph/autodiff.hpp"

namespace tensorgraph::train {

namespace {

Graph build_graph(const std::vector<DataInput>& data, const Parameters& params,
                  const ModelBuilder& build, std::vector<std::string>* extra_names) {
  Graph g;
  std::vector<Value> data_values;
  for (const DataInput& d : data) data_values.push_back(g.input(d.name, d.dtype, d.shape));
  ParameterValues param_values;
  std::vector<Value> ordered;
  for (std::size_t i = 0; i < params.size(); ++i) {
    const Value v = g.input(params.name(i), DType::F32, params.value(i).shape());
    param_values.emplace(params.name(i), v);
    ordered.push_back(v);
  }
  const ModelOutputs out = build(g, data_values, param_values);
  TG_CHECK(out.loss.valid() && out.loss.dtype() == DType::F32,
           "training graph: the loss must be an f32 value");
  const std::vector<Value> grads = grad(out.loss, ordered);
  g.output("loss", out.loss);
  for (std::size_t i = 0; i < params.size(); ++i) g.output("grad:" + params.name(i), grads[i]);
  for (const auto& [name, value] : out.extra) {
    g.output(name, value);
    extra_names->push_back(name);
  }
  return g;
}

}  // namespace

GradientSession::GradientSession(const std::vector<DataInput>& data, const Parameters& params,
                                 const ModelBuilder& build, const CompileOptions& options)
    : extra_names_(),
      graph_(build_graph(data, params, build, &extra_names_)),
      session_(compile(graph_, options)),
      data_count_(data.size()) {}

double GradientSession::run(std::span<const Tensor> data, const Parameters& params) {
  TG_CHECK(data.size() == data_count_, "training step: {} data tensors, expected {}", data.size(),
           data_count_);
  inputs_.assign(data.begin(), data.end());
  for (const Tensor& p : params.values()) inputs_.push_back(p);
  bool same = shapes_.size() == inputs_.size();
  for (std::size_t i = 0; same && i < inputs_.size(); ++i) same = shapes_[i] == inputs_[i].shape();
  if (!same) {
    outputs_ = session_.allocate_outputs(inputs_);
    shapes_.clear();
    for (const Tensor& t : inputs_) shapes_.push_back(t.shape());
    gradients_.assign(outputs_.begin() + 1,
                      outputs_.begin() + 1 + static_cast<std::ptrdiff_t>(params.size()));
  }
  session_.run(inputs_, outputs_);
  return outputs_[0].value_as_double(0);
}

const Tensor& GradientSession::output(std::string_view name) const {
  for (std::size_t i = 0; i < extra_names_.size(); ++i)
    if (extra_names_[i] == name) return outputs_.at(1 + gradients_.size() + i);
  fail("training graph: no output '{}'", name);
}

}  // namespace tensorgraph::train

namespace tensorgraph::train {

namespace {

Graph build_forward(const std::vector<DataInput>& data, const Parameters& params,
                    const ForwardBuilder& build) {
  Graph g;
  std::vector<Value> data_values;
  for (const DataInput& d : data) data_values.push_back(g.input(d.name, d.dtype, d.shape));
  ParameterValues param_values;
  for (std::size_t i = 0; i < params.size(); ++i)
    param_values.emplace(params.name(i),
                         g.input(params.name(i), DType::F32, params.value(i).shape()));
  for (const auto& [name, value] : build(g, data_values, param_values)) g.output(name, value);
  return g;
}

}  // namespace

ForwardSession::ForwardSession(const std::vector<DataInput>& data, const Parameters& params,
                               const ForwardBuilder& build, const CompileOptions& options)
    : session_(compile(build_forward(data, params, build), options)), data_count_(data.size()) {}

const std::vector<Tensor>& ForwardSession::run(std::span<const Tensor> data,
                                               const Parameters& params) {
  TG_CHECK(data.size() == data_count_, "forward pass: {} data tensors, expected {}", data.size(),
           data_count_);
  inputs_.assign(data.begin(), data.end());
  for (const Tensor& p : params.values()) inputs_.push_back(p);
  bool same = shapes_.size() == inputs_.size();
  for (std::size_t i = 0; same && i < inputs_.size(); ++i) same = shapes_[i] == inputs_[i].shape();
  if (!same) {
    outputs_ = session_.allocate_outputs(inputs_);
    shapes_.clear();
    for (const Tensor& t : inputs_) shapes_.push_back(t.shape());
  }
  session_.run(inputs_, outputs_);
  return outputs_;
}

}  // namespace tensorgraph::train
