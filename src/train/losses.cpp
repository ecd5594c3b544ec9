#include "tensorgraph/train/losses.hpp"

#include "tensorgraph/core/error.hpp"
#include "tensorgraph/graph/ops.hpp"

namespace tensorgraph::train {

Value mse_loss(Value prediction, Value target) {
  const Value d = prediction - target;
  return ops::reduce_mean(d * d);
}

Value cross_entropy_with_logits(Value logits, Value target) {
  TG_CHECK(logits.rank() == 2, "cross_entropy: logits must be [N, C], got {}",
           logits.shape().to_string());
  TG_CHECK(target.rank() == 2, "cross_entropy: targets must be [N, C] probabilities, got {}",
           target.shape().to_string());
  const Value per_row = ops::reduce_sum(target * ops::log_softmax(logits, -1), {-1});
  return ops::neg(ops::reduce_mean(per_row));
}

}  // namespace tensorgraph::train
