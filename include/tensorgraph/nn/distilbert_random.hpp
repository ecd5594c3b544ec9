#pragma once
// A DistilBERT folder with the real model's shapes and RANDOM weights, for benchmarks where the
// real weights cannot be downloaded (same FLOPs, same memory traffic). The safetensors
// __metadata__ carries kRandomWeightsKey, so that every command that answers with such a model
// says loudly that its answers are meaningless.
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "tensorgraph/nn/distilbert.hpp"

namespace tensorgraph::nn {

// The config of a known HuggingFace model id; only
// "distilbert-base-uncased-finetuned-sst-2-english" (dim 768, 6 layers, 12 heads, hidden 3072,
// 30522 tokens, 512 positions, NEGATIVE/POSITIVE) is known.
DistilBertConfig known_distilbert_config(std::string_view model_id);
// config.json text for `config` (the keys HF writes for DistilBertForSequenceClassification).
std::string distilbert_config_json(const DistilBertConfig& config);

// Weights drawn as HF initialises the model: N(0, 0.02) for linear and embedding weights,
// zero biases, LayerNorm weight 1 and bias 0; a seeded generator of our own (the same bytes on
// every machine).
DistilBertWeights random_distilbert_weights(const DistilBertConfig& config, std::uint64_t seed);

// Writes config.json, model.safetensors (F32, marked random), vocab.txt (a copy of `vocab`) and
// tokenizer_config.json into `dir` (created when missing), each file atomically. Refuses to
// overwrite a folder that holds a model without the random marker.
void write_random_distilbert(const std::filesystem::path& dir, const DistilBertConfig& config,
                             const std::filesystem::path& vocab, std::uint64_t seed,
                             const std::string& model_id);

}  // namespace tensorgraph::nn
