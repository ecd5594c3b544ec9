// Layout ops: reshape/flatten (views), transpose, concat, slice, gather.
#include <algorithm>
#include <cstdint>
#include <numeric>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "builder.hpp"
#include "op_grad.hpp"
#include "op_infer.hpp"
#include "tensorgraph/graph/ops.hpp"

namespace tensorgraph {

namespace detail {
namespace {

std::int64_t known_product(const Shape& s, const std::vector<bool>& skip, bool* known) {
  std::int64_t p = 1;
  *known = true;
  for (int i = 0; i < s.rank(); ++i) {
    if (i < static_cast<int>(skip.size()) && skip[i]) continue;
    if (s.dims()[i] < 0) {
      *known = false;
      continue;
    }
    p *= s.dims()[i];
  }
  return p;
}

TensorType infer_flatten(std::string_view op, const Attrs& attrs, const TensorType& x) {
  const int rank = x.shape.rank();
  TG_CHECK(rank >= 1, "{}: cannot flatten a scalar", op);
  const int start = x.shape.normalize_axis(static_cast<int>(attrs.axes[0]));
  const int end = x.shape.normalize_axis(static_cast<int>(attrs.axes[1]));
  TG_CHECK(start <= end, "{}: flatten start axis {} is after end axis {} for shape {}", op,
           attrs.axes[0], attrs.axes[1], x.shape.to_string());
  Shape out;
  for (int i = 0; i < start; ++i) out.push_back(x.shape.dims()[i]);
  std::int64_t merged = 1;
  for (int i = start; i <= end; ++i) {
    const std::int64_t d = x.shape.dims()[i];
    if (d < 0 || merged < 0)
      merged = d == 0 ? 0 : Shape::kDynamic;
    else
      merged *= d;
  }
  out.push_back(merged);
  for (int i = end + 1; i < rank; ++i) out.push_back(x.shape.dims()[i]);
  return {x.dtype, out};
}

}  // namespace

TensorType infer_reshape(std::string_view op, const Attrs& attrs, std::span<const TensorType> in) {
  const TensorType& x = in[0];
  if (attrs.shape.empty() && attrs.axes.size() == 2) return infer_flatten(op, attrs, x);
  const auto& target = attrs.shape;
  TG_CHECK(static_cast<int>(target.size()) <= Shape::kMaxRank, "{}: target rank {} exceeds {}", op,
           target.size(), Shape::kMaxRank);
  std::vector<bool> copied(static_cast<std::size_t>(x.shape.rank()), false);
  int infer_at = -1;
  std::int64_t out_rest = 1;
  Shape out;
  for (std::size_t i = 0; i < target.size(); ++i) {
    const std::int64_t t = target[i];
    if (t == 0) {
      TG_CHECK(static_cast<int>(i) < x.shape.rank(),
               "{}: target {} copies dimension {} (0) but the input {} has rank {}", op,
               fmt::format("[{}]", fmt::join(target, ",")), i, x.shape.to_string(), x.shape.rank());
      copied[i] = true;
      out.push_back(x.shape.dims()[i]);
    } else if (t == -1) {
      TG_CHECK(infer_at < 0, "{}: target [{}] has more than one -1", op, fmt::join(target, ","));
      infer_at = static_cast<int>(i);
      out.push_back(Shape::kDynamic);
    } else {
      TG_CHECK(t > 0, "{}: invalid target dimension {} in [{}]", op, t, fmt::join(target, ","));
      out_rest *= t;
      out.push_back(t);
    }
  }
  bool known = false;
  const std::int64_t in_rest = known_product(x.shape, copied, &known);
  auto mismatch = [&] {
    fail("{}: cannot reshape {} to [{}]: the element counts differ", op, x.shape.to_string(),
         fmt::join(target, ","));
  };
  if (infer_at >= 0) {
    if (known) {
      if (in_rest % out_rest != 0) mismatch();
      out[infer_at] = in_rest / out_rest;
    }
  } else if (known && in_rest != out_rest) {
    mismatch();
  }
  return {x.dtype, out};
}

TensorType infer_transpose(std::string_view op, const Attrs& attrs,
                           std::span<const TensorType> in) {
  const Shape& s = in[0].shape;
  TG_CHECK(static_cast<int>(attrs.perm.size()) == s.rank(),
           "{}: permutation [{}] does not match the rank of {}", op, fmt::join(attrs.perm, ","),
           s.to_string());
  std::vector<bool> seen(static_cast<std::size_t>(s.rank()), false);
  Shape out;
  for (std::int64_t p : attrs.perm) {
    TG_CHECK(p >= 0 && p < s.rank() && !seen[p], "{}: [{}] is not a permutation of {} axes", op,
             fmt::join(attrs.perm, ","), s.rank());
    seen[p] = true;
    out.push_back(s.dims()[p]);
  }
  return {in[0].dtype, out};
}

TensorType infer_concat(std::string_view op, const Attrs& attrs, std::span<const TensorType> in) {
  const TensorType& first = in[0];
  const int rank = first.shape.rank();
  TG_CHECK(rank >= 1, "{}: cannot concatenate scalars", op);
  const int axis = first.shape.normalize_axis(static_cast<int>(attrs.axis));
  Shape out = first.shape;
  for (std::size_t k = 1; k < in.size(); ++k) {
    const TensorType& t = in[k];
    TG_CHECK(t.dtype == first.dtype, "{}: input {} is {}, input 0 is {}", op, k,
             dtype_name(t.dtype), dtype_name(first.dtype));
    TG_CHECK(t.shape.rank() == rank, "{}: inputs have different ranks: {}", op, join_shapes(in));
    for (int i = 0; i < rank; ++i) {
      const std::int64_t a = out.dims()[i];
      const std::int64_t b = t.shape.dims()[i];
      if (i == axis) {
        out[i] = (a < 0 || b < 0) ? Shape::kDynamic : a + b;
      } else if (a < 0) {
        out[i] = b;
      } else if (b >= 0 && a != b) {
        fail("{}: shapes differ outside axis {}: {}", op, axis, join_shapes(in));
      }
    }
  }
  return {first.dtype, out};
}

TensorType infer_slice(std::string_view op, const Attrs& attrs, std::span<const TensorType> in) {
  const Shape& s = in[0].shape;
  const std::size_t n = attrs.axes.size();
  TG_CHECK(attrs.starts.size() == n && attrs.ends.size() == n &&
               (attrs.steps.empty() || attrs.steps.size() == n),
           "{}: axes, starts, ends and steps must have the same length", op);
  Shape out = s;
  std::vector<bool> seen(static_cast<std::size_t>(s.rank()), false);
  for (std::size_t i = 0; i < n; ++i) {
    const int axis = s.normalize_axis(static_cast<int>(attrs.axes[i]));
    TG_CHECK(!seen[axis], "{}: axis {} is sliced twice", op, axis);
    seen[axis] = true;
    const std::int64_t step = attrs.steps.empty() ? 1 : attrs.steps[i];
    TG_CHECK(step >= 1, "{}: step {} on axis {} (only positive steps are supported)", op, step,
             axis);
    out[axis] = slice_bounds(s.dims()[axis], attrs.starts[i], attrs.ends[i], step).length;
  }
  return {in[0].dtype, out};
}

TensorType infer_gather(std::string_view op, const Attrs& attrs, std::span<const TensorType> in) {
  const TensorType& data = in[0];
  const TensorType& idx = in[1];
  TG_CHECK(idx.dtype == DType::I32 || idx.dtype == DType::I64,
           "{}: indices must be i32 or i64, got {}{}", op, dtype_name(idx.dtype),
           idx.shape.to_string());
  TG_CHECK(data.shape.rank() >= 1, "{}: cannot gather from a scalar", op);
  const int axis = data.shape.normalize_axis(static_cast<int>(attrs.axis));
  TG_CHECK(data.shape.rank() - 1 + idx.shape.rank() <= Shape::kMaxRank,
           "{}: result rank exceeds {}: data {}, indices {}", op, Shape::kMaxRank,
           data.shape.to_string(), idx.shape.to_string());
  Shape out;
  for (int i = 0; i < axis; ++i) out.push_back(data.shape.dims()[i]);
  for (std::int64_t d : idx.shape.dims()) out.push_back(d);
  for (int i = axis + 1; i < data.shape.rank(); ++i) out.push_back(data.shape.dims()[i]);
  return {data.dtype, out};
}

TensorType infer_slice_backward(std::string_view op, const Attrs& attrs,
                                std::span<const TensorType> in) {
  const TensorType& dy = in[0];
  const TensorType& x = in[1];
  require_float(op, dy, "gradient");
  const TensorType sliced = infer_slice(op, attrs, in.subspan(1, 1));
  require_compatible(op, dy.shape, sliced.shape, "the gradient");
  return {dy.dtype, x.shape};
}

TensorType infer_gather_backward(std::string_view op, const Attrs& attrs,
                                 std::span<const TensorType> in) {
  const TensorType& dy = in[0];
  const TensorType& data = in[2];
  require_float(op, dy, "gradient");
  const TensorType gathered[] = {data, in[1]};
  const TensorType expected = infer_gather(op, attrs, gathered);
  require_compatible(op, dy.shape, expected.shape, "the gradient");
  return {dy.dtype, data.shape};
}

// ---- gradients ----------------------------------------------------------------------------------

GradResult grad_reshape(const GradContext& c) {
  return {autodiff::reshape_to(c.dy, c.inputs[0].shape())};
}

GradResult grad_transpose(const GradContext& c) {
  std::vector<std::int64_t> inverse(c.attrs.perm.size());
  for (std::size_t i = 0; i < c.attrs.perm.size(); ++i)
    inverse[static_cast<std::size_t>(c.attrs.perm[i])] = static_cast<std::int64_t>(i);
  return {ops::permute(c.dy, std::move(inverse))};
}

GradResult grad_concat(const GradContext& c) {
  GradResult r = no_grads(c);
  const Shape first = c.inputs[0].shape();
  const int axis = first.normalize_axis(static_cast<int>(c.attrs.axis));
  std::int64_t offset = 0;
  for (std::size_t k = 0; k < c.inputs.size(); ++k) {
    const std::int64_t length = c.inputs[k].shape().dims()[axis];
    const bool last = k + 1 == c.inputs.size();
    TG_CHECK(length >= 0 || last,
             "concat: no gradient through a dynamic extent along the joined axis {} ({})", axis,
             c.inputs[k].shape().to_string());
    if (c.wanted[k])
      r[k] = ops::slice(c.dy, axis, offset, length >= 0 ? offset + length : INT64_MAX);
    offset += length;
  }
  return r;
}

GradResult grad_slice(const GradContext& c) {
  return {ops::slice_backward(c.dy, c.inputs[0], c.attrs.axes, c.attrs.starts, c.attrs.ends,
                              c.attrs.steps)};
}

GradResult grad_gather(const GradContext& c) {
  GradResult r = no_grads(c);
  if (c.wanted[0])
    r[0] = ops::gather_backward(c.dy, c.inputs[1], c.inputs[0], static_cast<int>(c.attrs.axis));
  return r;
}

}  // namespace detail

namespace ops {

using detail::make_node;

Value reshape(Value x, std::vector<std::int64_t> shape) {
  Attrs attrs;
  attrs.shape = std::move(shape);
  return make_node(OpKind::Reshape, {x}, std::move(attrs));
}

Value flatten(Value x, int start_axis, int end_axis) {
  Attrs attrs;
  attrs.axes = {start_axis, end_axis};
  return make_node(OpKind::Reshape, {x}, std::move(attrs));
}

Value permute(Value x, std::vector<std::int64_t> perm) {
  Attrs attrs;
  attrs.perm = std::move(perm);
  return make_node(OpKind::Transpose, {x}, std::move(attrs));
}

Value transpose(Value x, int dim0, int dim1) {
  TG_CHECK(x.valid(), "transpose: the input Value is empty");
  const Shape& s = x.shape();
  const int a = s.normalize_axis(dim0);
  const int b = s.normalize_axis(dim1);
  std::vector<std::int64_t> perm(static_cast<std::size_t>(s.rank()));
  std::iota(perm.begin(), perm.end(), 0);
  std::swap(perm[a], perm[b]);
  return permute(x, std::move(perm));
}

Value concat(const std::vector<Value>& xs, int axis) {
  TG_CHECK(!xs.empty(), "concat: no inputs");
  Attrs attrs;
  attrs.axis = axis;
  return make_node(OpKind::Concat, xs, std::move(attrs));
}

Value slice(Value x, std::vector<std::int64_t> axes, std::vector<std::int64_t> starts,
            std::vector<std::int64_t> ends, std::vector<std::int64_t> steps) {
  Attrs attrs;
  attrs.axes = std::move(axes);
  attrs.starts = std::move(starts);
  attrs.ends = std::move(ends);
  attrs.steps = std::move(steps);
  return make_node(OpKind::Slice, {x}, std::move(attrs));
}

Value slice(Value x, int axis, std::int64_t start, std::int64_t end, std::int64_t step) {
  return slice(x, std::vector<std::int64_t>{axis}, std::vector<std::int64_t>{start},
               std::vector<std::int64_t>{end}, std::vector<std::int64_t>{step});
}

Value gather(Value data, Value indices, int axis) {
  Attrs attrs;
  attrs.axis = axis;
  return make_node(OpKind::Gather, {data, indices}, std::move(attrs));
}

Value slice_backward(Value dy, Value x, std::vector<std::int64_t> axes,
                     std::vector<std::int64_t> starts, std::vector<std::int64_t> ends,
                     std::vector<std::int64_t> steps) {
  Attrs attrs;
  attrs.axes = std::move(axes);
  attrs.starts = std::move(starts);
  attrs.ends = std::move(ends);
  attrs.steps = std::move(steps);
  return make_node(OpKind::SliceBackward, {dy, x}, std::move(attrs));
}

Value gather_backward(Value dy, Value indices, Value data, int axis) {
  Attrs attrs;
  attrs.axis = axis;
  return make_node(OpKind::GatherBackward, {dy, indices, data}, std::move(attrs));
}

}  // namespace ops
}  // namespace tensorgraph
