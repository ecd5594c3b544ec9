// Example 03, minimal: sentiment of a few sentences with DistilBERT (SST-2), downloaded into
// models/distilbert-sentiment when missing.
//   build/examples/03_distilbert_sentiment_minimal [MODEL_DIR]
#include <cstdio>
#include <string>
#include <vector>

#include "tensorgraph/hub/models.hpp"
#include "tensorgraph/hub/paths.hpp"
#include "tensorgraph/nn/distilbert_classifier.hpp"

using namespace tensorgraph;

int main(int argc, char** argv) try {
  const auto dir = argc > 1 ? std::filesystem::path(argv[1])
                            : hub::ensure_model(hub::kDefaultModelRepo,
                                                hub::default_model_dir(hub::kDefaultModelRepo));
  auto model = nn::DistilBertClassifier::load(dir);  // tokenizer + compiled graph

  const std::vector<std::string> texts = {"This movie was fantastic!",
                                          "Terrible product, waste of money."};
  const auto predictions = model->classify(texts);
  for (std::size_t i = 0; i < texts.size(); ++i)
    std::printf("%-9s %.4f  %s\n", predictions[i].label.c_str(), predictions[i].score,
                texts[i].c_str());
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "error: %s\n", e.what());
  return 1;
}
