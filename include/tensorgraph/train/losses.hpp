#pragma once
// Losses as graph builders: they append nodes to the prediction's graph and return a scalar
// Value, differentiable by grad() like any other.
#include "tensorgraph/graph/graph.hpp"

namespace tensorgraph::train {

// mean((prediction - target)^2) over every element (same shapes; broadcasting allowed).
Value mse_loss(Value prediction, Value target);
// Cross-entropy from logits [N, C] and target probabilities [N, C] (one-hot rows for class
// labels): mean over rows of -sum(target * log_softmax(logits)). Stable for any logits.
Value cross_entropy_with_logits(Value logits, Value target);

}  // namespace tensorgraph::train
