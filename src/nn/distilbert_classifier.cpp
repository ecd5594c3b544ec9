#include "tensorgraph/nn/distilbert_classifier.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include <fmt/format.h>

#include "tensorgraph/core/error.hpp"

namespace tensorgraph::nn {

std::unique_ptr<DistilBertClassifier> DistilBertClassifier::load(
    const std::filesystem::path& dir, const DistilBertClassifierOptions& options) {
  std::error_code ec;
  TG_CHECK(std::filesystem::is_directory(dir, ec), "{}: model directory not found", dir.string());
  text::BertTokenizer tokenizer = text::BertTokenizer::from_directory(dir);
  DistilBertModel model = DistilBertModel::load(dir, options.model);
  TG_CHECK(tokenizer.vocab().size() <= static_cast<std::size_t>(model.config().vocab_size),
           "{}: vocab.txt has {} tokens but config.json says vocab_size {}", dir.string(),
           tokenizer.vocab().size(), model.config().vocab_size);
  std::string name =
      "distilbert:" + std::filesystem::absolute(dir).lexically_normal().filename().string();
  return std::make_unique<DistilBertClassifier>(std::move(tokenizer), std::move(model), options,
                                                std::move(name));
}

DistilBertClassifier::DistilBertClassifier(text::BertTokenizer tokenizer, DistilBertModel model,
                                           DistilBertClassifierOptions options, std::string name)
    : tokenizer_(std::move(tokenizer)),
      model_(std::move(model)),
      options_(options),
      name_(std::move(name)),
      labels_(model_.config().id2label) {
  std::size_t limit = static_cast<std::size_t>(model_.config().max_position_embeddings);
  if (tokenizer_.config().model_max_length)
    limit = std::min(limit, *tokenizer_.config().model_max_length);
  if (options_.max_length) {
    TG_CHECK(*options_.max_length >= 3, "max length {} is too small: [CLS] and [SEP] take 2 tokens",
             *options_.max_length);
    TG_CHECK(*options_.max_length <= limit, "max length {} exceeds the model's limit of {} tokens",
             *options_.max_length, limit);
    limit = *options_.max_length;
  }
  max_length_ = limit;
  TG_CHECK(options_.batch_size >= 1, "batch size must be at least 1");
}

std::string DistilBertClassifier::description() const {
  const auto& c = model_.config();
  return fmt::format("DistilBERT ({} layers, dim {}, {} heads){}, max {} tokens", c.n_layers, c.dim,
                     c.n_heads, model_.is_random() ? ", RANDOM WEIGHTS" : "", max_length_);
}

std::size_t DistilBertClassifier::token_count(std::string_view text) const {
  return tokenizer_.word_pieces(text).size() + 2;
}

std::vector<Prediction> DistilBertClassifier::classify(std::span<const std::string> texts) {
  const std::size_t window = max_length_ - 2;
  const std::size_t stride = options_.long_text == LongTextMode::Chunk ? window - window / 4 : 0;

  // Every sequence to run: [CLS] pieces [SEP], with the text it belongs to.
  struct Sequence {
    std::size_t text;
    std::vector<std::int32_t> ids;
  };
  std::vector<Sequence> sequences;
  std::vector<Prediction> out(texts.size());
  std::vector<std::size_t> windows(texts.size(), 0);
  std::vector<std::int32_t> pieces;
  for (std::size_t t = 0; t < texts.size(); ++t) {
    pieces.clear();
    tokenizer_.append_word_pieces(texts[t], pieces);
    auto add = [&](std::size_t begin, std::size_t end) {
      Sequence s{t, {}};
      s.ids.reserve(end - begin + 2);
      s.ids.push_back(tokenizer_.cls_id());
      s.ids.insert(s.ids.end(), pieces.begin() + static_cast<std::ptrdiff_t>(begin),
                   pieces.begin() + static_cast<std::ptrdiff_t>(end));
      s.ids.push_back(tokenizer_.sep_id());
      sequences.push_back(std::move(s));
      ++windows[t];
    };
    if (pieces.size() <= window) {
      add(0, pieces.size());
    } else if (options_.long_text == LongTextMode::Truncate) {
      add(0, window);
      out[t].truncated = true;
    } else {
      for (std::size_t begin = 0;; begin += stride) {
        const std::size_t end = std::min(pieces.size(), begin + window);
        add(begin, end);
        if (end == pieces.size()) break;
      }
    }
  }

  // Batches of similar length: sort by token count (stable, so equal lengths keep input order).
  std::vector<std::size_t> order(sequences.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return sequences[a].ids.size() < sequences[b].ids.size();
  });
  const std::size_t labels = labels_.size();
  std::vector<std::vector<float>> logits(sequences.size());
  for (std::size_t start = 0; start < order.size(); start += options_.batch_size) {
    const std::size_t n = std::min(options_.batch_size, order.size() - start);
    std::size_t longest = 0;
    for (std::size_t i = 0; i < n; ++i)
      longest = std::max(longest, sequences[order[start + i]].ids.size());
    const auto b = static_cast<std::int64_t>(n), s = static_cast<std::int64_t>(longest);
    Tensor ids = Tensor::zeros(DType::I64, Shape{b, s});
    Tensor mask = Tensor::zeros(DType::I64, Shape{b, s});
    auto* idp = ids.mutable_data<std::int64_t>();
    auto* mp = mask.mutable_data<std::int64_t>();
    for (std::size_t i = 0; i < n; ++i) {
      const auto& seq = sequences[order[start + i]].ids;
      for (std::size_t j = 0; j < longest; ++j) {
        idp[i * longest + j] = j < seq.size() ? seq[j] : tokenizer_.pad_id();
        mp[i * longest + j] = j < seq.size() ? 1 : 0;
      }
    }
    const Tensor result = model_.forward(ids, mask);
    const float* r = result.data<float>();
    for (std::size_t i = 0; i < n; ++i)
      logits[order[start + i]].assign(r + i * labels, r + (i + 1) * labels);
  }

  // One prediction per text; a chunked text averages its windows.
  std::vector<std::vector<double>> prob_sum(texts.size(), std::vector<double>(labels, 0.0));
  std::vector<std::vector<double>> logit_sum(texts.size(), std::vector<double>(labels, 0.0));
  for (std::size_t i = 0; i < sequences.size(); ++i) {
    const auto& l = logits[i];
    const float mx = *std::max_element(l.begin(), l.end());
    double z = 0;
    for (float v : l) z += std::exp(static_cast<double>(v - mx));
    for (std::size_t k = 0; k < labels; ++k) {
      prob_sum[sequences[i].text][k] += std::exp(static_cast<double>(l[k] - mx)) / z;
      logit_sum[sequences[i].text][k] += l[k];
    }
  }
  for (std::size_t t = 0; t < texts.size(); ++t) {
    Prediction& p = out[t];
    const double w = static_cast<double>(windows[t]);
    p.logits.resize(labels);
    for (std::size_t k = 0; k < labels; ++k) p.logits[k] = static_cast<float>(logit_sum[t][k] / w);
    if (windows[t] == 1) {
      finish_prediction(p, labels_);  // softmax of the logits, as HF's pipeline
    } else {
      p.probabilities.resize(labels);
      for (std::size_t k = 0; k < labels; ++k)
        p.probabilities[k] = static_cast<float>(prob_sum[t][k] / w);
      const auto best = static_cast<std::size_t>(
          std::max_element(p.probabilities.begin(), p.probabilities.end()) -
          p.probabilities.begin());
      p.label = labels_[best];
      p.score = p.probabilities[best];
      p.truncated = false;
    }
  }
  return out;
}

}  // namespace tensorgraph::nn
