// Fuzz target: lexicon files and texts. The first byte picks what the rest is:
//   even: a lexicon file (Lexicon::parse), then a fixed text is scored with it;
//   odd:  a text, split and scored with the built-in lexicon.
// Any input may be rejected with tensorgraph::Error; nothing may crash, hang or read out of bounds,
// and the tokens must describe the normalised text.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "tensorgraph/core/error.hpp"
#include "tensorgraph/nn/lexicon.hpp"
#include "tensorgraph/text/lexicon_tokenizer.hpp"

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

void check_tokens(const tensorgraph::text::LexTokens& t) {
  std::size_t end = 0;
  for (std::size_t i = 0; i < t.size(); ++i) {
    const auto& tok = t.tokens[i];
    check(tok.size > 0);
    check(tok.begin == (i == 0 ? 0 : end + 1));  // one space between tokens
    end = tok.begin + tok.size;
    check(end <= t.text.size());
    if (tok.kind == tensorgraph::text::LexTokenKind::Word)
      check(tok.hash == tensorgraph::text::hash_word(t[i]));
  }
  check(end == t.text.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  static const tensorgraph::nn::Lexicon builtin = tensorgraph::nn::Lexicon::builtin();
  if (data[0] % 2 == 0) {
    try {
      const auto lexicon = tensorgraph::nn::Lexicon::parse(rest, "fuzz", "fuzz.txt");
      const auto s = lexicon.score("It isn't very good, but not bad at all: well-made, amusing!");
      check(std::isfinite(s.score));
    } catch (const tensorgraph::Error&) {
    }
    return 0;
  }
  tensorgraph::nn::LexiconScratch scratch;
  tensorgraph::text::split_lexicon_words(rest, scratch.tokens);
  check_tokens(scratch.tokens);
  const auto s = builtin.score(rest, scratch);
  check(std::isfinite(s.score));
  check(builtin.explain(rest).size() == scratch.features.size());
  return 0;
}
