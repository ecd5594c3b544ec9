// The built-in MVP lexicon: byte for byte data/lexicon/mvp.txt (a test checks that they are
// equal; edit both together). Kept as a string so the baseline works with no file at all.
#include "tensorgraph/nn/lexicon.hpp"

namespace tensorgraph::nn {

namespace {
constexpr std::string_view kMvpLexicon =
    R"lexicon(# tensorgraph MVP sentiment lexicon: the built-in default of `--model lexicon`.
# Compiled into the binary (src/nn/lexicon_mvp.cpp holds the same text; a test checks they are
# equal), so the baseline works with no file and no network.
#
# Format: one entry per line, `word score` (or `word<TAB>score`): the score is the last field and
# everything before it is the word or phrase ("waste of money"). Scores lie in [-1, 1]. Lines
# starting with `#` are comments. Words are matched after the same splitting and lower-casing as
# the texts (nn/lexicon.hpp). Negators (not, n't, never...), intensifiers (very, really...) and
# "but" are built-in rules, not entries.
#
# Positive
good 0.5
great 0.7
excellent 0.9
fantastic 0.9
amazing 0.9
wonderful 0.9
awesome 0.8
brilliant 0.8
perfect 0.9
best 0.8
love 0.8
loved 0.8
enjoy 0.6
enjoyed 0.6
fun 0.5
nice 0.4
beautiful 0.7
happy 0.6
recommend 0.6
okay 0.2
# Negative
bad -0.6
terrible -0.9
awful -0.9
horrible -0.9
worst -0.9
boring -0.6
dull -0.5
poor -0.6
hate -0.8
disappointing -0.7
disappointed -0.7
waste -0.7
useless -0.8
broken -0.6
disaster -0.9
mess -0.5
waste of money -0.9
waste of time -0.9
)lexicon";
}  // namespace

std::string_view Lexicon::builtin_text() {
  return kMvpLexicon;
}

Lexicon Lexicon::builtin() {
  static const Lexicon lexicon = [] {
    Lexicon lex = parse(kMvpLexicon, "mvp", "the built-in copy of data/lexicon/mvp.txt");
    return lex;
  }();
  return lexicon;
}

}  // namespace tensorgraph::nn
