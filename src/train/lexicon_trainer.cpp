#include "tensorgraph/train/lexicon_trainer.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <unordered_map>

#include <fmt/format.h>

#include "tensorgraph/core/error.hpp"
#include "tensorgraph/text/lexicon_tokenizer.hpp"

namespace tensorgraph::train {

namespace {

// splitmix64: small, portable, the same sequence everywhere (std:: distributions are not).
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  // Uniform in [0, n), without modulo bias.
  std::uint64_t below(std::uint64_t n) {
    const std::uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    std::uint64_t x;
    do x = next();
    while (x >= limit);
    return x % n;
  }

 private:
  std::uint64_t state_;
};

void shuffle(std::vector<std::uint32_t>& v, Rng& rng) {
  for (std::size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[rng.below(i)]);
}

// log(1 + e^z), stable.
double softplus(double z) {
  return std::max(z, 0.0) + std::log1p(std::exp(-std::abs(z)));
}
double sigmoid(double z) {
  return 1.0 / (1.0 + std::exp(-z));
}

// The most frequent keys (count >= min_count), ties broken by key: a deterministic choice.
std::vector<std::string> most_frequent(const std::unordered_map<std::string, std::size_t>& counts,
                                       std::size_t limit, std::size_t min_count) {
  std::vector<std::pair<std::string, std::size_t>> v;
  for (const auto& [k, c] : counts)
    if (c >= min_count) v.emplace_back(k, c);
  std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  if (v.size() > limit) v.resize(limit);
  std::vector<std::string> out;
  out.reserve(v.size());
  for (auto& [k, c] : v) out.push_back(std::move(k));
  return out;
}

// Features of every text, compressed row by row.
struct FeatureRows {
  std::vector<std::size_t> offsets{0};
  std::vector<std::uint32_t> index;  // parameter
  std::vector<double> value;         // rule weight
  std::size_t size(std::size_t row) const { return offsets[row + 1] - offsets[row]; }
};

double logit(const FeatureRows& rows, std::size_t r, const std::vector<double>& theta,
             double bias) {
  double z = bias;
  for (std::size_t k = rows.offsets[r]; k < rows.offsets[r + 1]; ++k)
    z += theta[rows.index[k]] * rows.value[k];
  return z;
}

SplitMetrics measure(const FeatureRows& rows, const std::vector<std::uint32_t>& ids,
                     const std::vector<LabeledText>& data, const std::vector<double>& theta,
                     double bias) {
  SplitMetrics m;
  m.count = ids.size();
  if (ids.empty()) return m;
  std::size_t correct = 0;
  double loss = 0;
  for (const auto r : ids) {
    const bool t = data[r].positive;
    // No evidence: the lexicon answers NEUTRAL (probability 0.5), which eval counts as POSITIVE.
    const double z = rows.size(r) ? logit(rows, r, theta, bias) : 0.0;
    const bool predicted = z >= 0;  // z == 0 is NEUTRAL -> POSITIVE
    correct += predicted == t;
    loss += softplus(z) - (t ? z : 0.0);
  }
  m.accuracy = static_cast<double>(correct) / static_cast<double>(ids.size());
  m.log_loss = loss / static_cast<double>(ids.size());
  return m;
}

}  // namespace

LexiconTrainingResult train_lexicon(const std::vector<LabeledText>& data,
                                    const LexiconTrainingOptions& options,
                                    const LexiconTrainingProgress& progress) {
  TG_CHECK(!data.empty(), "no labelled texts to train on");
  TG_CHECK(options.epochs >= 1, "epochs must be >= 1, got {}", options.epochs);
  TG_CHECK(options.batch_size >= 1, "batch size must be >= 1");
  TG_CHECK(options.learning_rate > 0 && std::isfinite(options.learning_rate),
           "learning rate must be positive, got {}", options.learning_rate);
  TG_CHECK(options.l2 >= 0 && std::isfinite(options.l2), "l2 must be >= 0, got {}", options.l2);
  TG_CHECK(options.holdout >= 0 && options.holdout <= 0.5,
           "the held-out fraction must be in [0, 0.5], got {}", options.holdout);
  TG_CHECK(options.words >= 1, "the vocabulary needs at least 1 word");
  TG_CHECK(data.size() < (1ull << 32), "too many texts ({})", data.size());

  // The split: a seeded permutation, the first `holdout` part held out.
  Rng rng(options.seed);
  std::vector<std::uint32_t> order(data.size());
  std::iota(order.begin(), order.end(), 0u);
  shuffle(order, rng);
  const auto held =
      static_cast<std::size_t>(std::floor(static_cast<double>(data.size()) * options.holdout));
  std::vector<std::uint32_t> holdout(order.begin(),
                                     order.begin() + static_cast<std::ptrdiff_t>(held));
  std::vector<std::uint32_t> train(order.begin() + static_cast<std::ptrdiff_t>(held), order.end());
  TG_CHECK(!train.empty(), "no texts left to train on after holding out {}", held);

  // The vocabulary, from the training part only.
  std::unordered_map<std::string, std::size_t> word_counts;
  std::unordered_map<std::string, std::size_t> bigram_counts;
  text::LexTokens tokens;
  std::string key;
  for (const auto r : train) {
    text::split_lexicon_words(data[r].text, tokens);
    for (std::size_t i = 0; i < tokens.size(); ++i) {
      if (tokens.tokens[i].kind != text::LexTokenKind::Word) continue;
      ++word_counts[std::string(tokens[i])];
      if (i + 1 < tokens.size() && tokens.tokens[i + 1].kind == text::LexTokenKind::Word)
        ++bigram_counts[std::string(tokens.span(i, i + 1))];
    }
  }
  const auto words = most_frequent(word_counts, options.words, options.min_count);
  const auto bigrams = most_frequent(bigram_counts, options.bigrams, options.min_count);
  TG_CHECK(!words.empty(), "no word occurs {} times or more in the training texts",
           options.min_count);
  std::vector<nn::LexiconEntry> vocabulary;
  for (const auto& w : words) vocabulary.push_back({w, 0.0});
  for (const auto& b : bigrams) vocabulary.push_back({b, 0.0});
  const nn::Lexicon lexicon = nn::Lexicon::from_entries("vocabulary", vocabulary);

  // Parameters: one per scored entry of the vocabulary lexicon.
  std::vector<std::int64_t> parameter_of(lexicon.entry_count(), -1);
  std::vector<std::uint32_t> entry_of;
  for (std::uint32_t e = 0; e < lexicon.entry_count(); ++e) {
    if (!lexicon.entry_scored(e)) continue;
    parameter_of[e] = static_cast<std::int64_t>(entry_of.size());
    entry_of.push_back(e);
  }
  const std::size_t p = entry_of.size();

  // Features of every text, computed once: they do not depend on the weights.
  FeatureRows rows;
  nn::LexiconScratch scratch;
  for (const auto& item : data) {
    lexicon.features(item.text, scratch);
    for (const auto& f : scratch.features) {
      rows.index.push_back(static_cast<std::uint32_t>(parameter_of[f.entry]));
      rows.value.push_back(f.weight);
    }
    rows.offsets.push_back(rows.index.size());
  }

  LexiconTrainingResult result;
  result.vocabulary_words = words.size();
  result.vocabulary_bigrams = bigrams.size();
  std::vector<std::uint32_t> trainable;
  for (const auto r : train) {
    if (rows.size(r))
      trainable.push_back(r);
    else
      ++result.without_features;
  }
  TG_CHECK(!trainable.empty(), "no training text contains a vocabulary word");

  // Adam on the mean log-loss of each batch, plus l2/2 |theta|^2. Logit z = 2s.
  std::vector<double> theta(p, 0.0), m(p + 1, 0.0), v(p + 1, 0.0), grad(p + 1, 0.0);
  double bias = 0;
  constexpr double kBeta1 = 0.9, kBeta2 = 0.999, kEps = 1e-8;
  std::uint64_t step = 0;
  const std::size_t batches = (trainable.size() + options.batch_size - 1) / options.batch_size;
  for (int epoch = 1; epoch <= options.epochs; ++epoch) {
    shuffle(trainable, rng);
    double epoch_loss = 0;
    std::size_t seen = 0;
    for (std::size_t b = 0; b < batches; ++b) {
      const std::size_t begin = b * options.batch_size;
      const std::size_t end = std::min(trainable.size(), begin + options.batch_size);
      std::fill(grad.begin(), grad.end(), 0.0);
      for (std::size_t k = begin; k < end; ++k) {
        const std::uint32_t r = trainable[k];
        const double t = data[r].positive ? 1.0 : 0.0;
        const double z = logit(rows, r, theta, bias);
        epoch_loss += softplus(z) - t * z;
        const double d = sigmoid(z) - t;
        for (std::size_t j = rows.offsets[r]; j < rows.offsets[r + 1]; ++j)
          grad[rows.index[j]] += d * rows.value[j];
        grad[p] += d;
      }
      seen += end - begin;
      const double inv = 1.0 / static_cast<double>(end - begin);
      ++step;
      const double c1 = 1.0 - std::pow(kBeta1, static_cast<double>(step));
      const double c2 = 1.0 - std::pow(kBeta2, static_cast<double>(step));
      for (std::size_t j = 0; j <= p; ++j) {
        double g = grad[j] * inv;
        if (j < p) g += options.l2 * theta[j];
        m[j] = kBeta1 * m[j] + (1 - kBeta1) * g;
        v[j] = kBeta2 * v[j] + (1 - kBeta2) * g * g;
        const double delta = options.learning_rate * (m[j] / c1) / (std::sqrt(v[j] / c2) + kEps);
        if (j < p)
          theta[j] -= delta;
        else
          bias -= delta;
      }
      if (progress) progress(epoch, b + 1, batches, epoch_loss / static_cast<double>(seen));
    }
  }

  result.train = measure(rows, train, data, theta, bias);
  result.holdout = measure(rows, holdout, data, theta, bias);
  // Half-logits: s = z / 2.
  result.bias = bias / 2;
  for (std::size_t j = 0; j < p; ++j)
    result.entries.push_back({std::string(lexicon.entry_phrase(entry_of[j])), theta[j] / 2});
  std::sort(result.entries.begin(), result.entries.end(),
            [](const auto& a, const auto& b) { return a.phrase < b.phrase; });
  return result;
}

std::string format_learned_lexicon(const LexiconTrainingResult& result,
                                   const std::vector<std::string>& header) {
  auto number = [](double x) {
    std::string s = fmt::format("{:.4f}", x);
    return s == "-0.0000" ? std::string("0.0000") : s;
  };
  std::string out;
  for (const auto& line : header) out += line.empty() ? "#\n" : "# " + line + "\n";
  out += "@scale\t1\n";
  out += "@bias\t" + number(result.bias) + "\n";
  for (const auto& e : result.entries) out += e.phrase + "\t" + number(e.score) + "\n";
  return out;
}

}  // namespace tensorgraph::train
