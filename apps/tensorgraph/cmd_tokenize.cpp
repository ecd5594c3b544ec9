// `tensorgraph tokenize`: BERT WordPiece ids and tokens of texts, as HuggingFace's BertTokenizer
// gives them.
#include <sys/ioctl.h>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <utf8proc.h>
#include <nlohmann/json.hpp>

#include "command.hpp"
#include "tensorgraph/core/error.hpp"
#include "tensorgraph/core/utf8.hpp"
#include "tensorgraph/io/text_input.hpp"
#include "tensorgraph/text/bert_tokenizer.hpp"

namespace tensorgraph::cli {
namespace {

struct TokenizeArgs {
  std::vector<std::string> texts;
  std::optional<std::string> file;
  std::optional<std::string> model_dir;
  std::optional<std::string> vocab;
  std::optional<std::int64_t> max_length;
  bool json = false;
};

text::BertTokenizer load_tokenizer(const TokenizeArgs& args) {
  if (args.model_dir && args.vocab) fail("give either --model-dir or --vocab, not both");
  if (args.model_dir) return text::BertTokenizer::from_directory(*args.model_dir);
  if (args.vocab) return text::BertTokenizer::from_vocab_file(*args.vocab);
  fail(
      "no tokenizer: give --model-dir DIR (a model directory with vocab.txt) or --vocab FILE "
      "(e.g. --vocab ../shared/fixtures/bert-base-uncased/vocab.txt)");
}

std::vector<std::string> collect_inputs(const TokenizeArgs& args) {
  std::vector<std::string> texts;
  for (std::size_t i = 0; i < args.texts.size(); ++i) {
    if (auto bad = find_invalid_utf8(args.texts[i]))
      fail("argument {} (\"{}\"): invalid UTF-8 at byte {}", i + 1, args.texts[i].substr(0, *bad),
           *bad);
    texts.push_back(args.texts[i]);
  }
  if (args.file) {
    auto result = io::read_text_inputs(*args.file);
    for (auto& record : result.records) texts.push_back(std::move(record.text));
  }
  if (texts.empty()) {
    if (!args.file) fail("no input: give TEXT arguments or --file PATH (- for standard input)");
    fail("{}: no texts in this input", *args.file);
  }
  return texts;
}

// The text on one line: control and line-breaking characters escaped.
std::string printable(const std::string& s) {
  std::string out;
  const auto* p = reinterpret_cast<const utf8proc_uint8_t*>(s.data());
  utf8proc_ssize_t i = 0;
  const auto n = static_cast<utf8proc_ssize_t>(s.size());
  while (i < n) {
    utf8proc_int32_t cp = 0;
    const utf8proc_ssize_t k = utf8proc_iterate(p + i, n - i, &cp);
    if (k <= 0) break;  // validated before; cannot happen
    const auto category = utf8proc_category(cp);
    if (cp == '\n') {
      out += "\\n";
    } else if (cp == '\t') {
      out += "\\t";
    } else if (cp == '\r') {
      out += "\\r";
    } else if (category == UTF8PROC_CATEGORY_CC || category == UTF8PROC_CATEGORY_ZL ||
               category == UTF8PROC_CATEGORY_ZP) {
      out += fmt::format("\\u{:04X}", cp);
    } else {
      out.append(s, static_cast<std::size_t>(i), static_cast<std::size_t>(k));
    }
    i += k;
  }
  return out;
}

// Columns the token takes on a terminal.
std::size_t display_width(std::string_view s) {
  const auto* p = reinterpret_cast<const utf8proc_uint8_t*>(s.data());
  utf8proc_ssize_t i = 0;
  const auto n = static_cast<utf8proc_ssize_t>(s.size());
  std::size_t width = 0;
  while (i < n) {
    utf8proc_int32_t cp = 0;
    const utf8proc_ssize_t k = utf8proc_iterate(p + i, n - i, &cp);
    if (k <= 0) break;
    width += static_cast<std::size_t>(std::max(0, utf8proc_charwidth(cp)));
    i += k;
  }
  return width;
}

std::size_t output_width() {
  winsize ws{};
  if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 40)
    return ws.ws_col;
  return 100;
}

// Tokens over their ids, in aligned columns wrapped at `width`.
void append_human(std::string& out, const std::string& text, const text::Encoding& e,
                  std::optional<std::int64_t> max_length, std::size_t width) {
  out += printable(text);
  out += '\n';
  std::string tokens_line = "  ", ids_line = "  ";
  std::size_t used = 2;
  for (std::size_t i = 0; i < e.ids.size(); ++i) {
    const std::string id = std::to_string(e.ids[i]);
    const std::size_t token_width = display_width(e.tokens[i]);
    const std::size_t column = std::max(token_width, id.size()) + 2;
    if (used > 2 && used + column > width) {
      out += tokens_line + "\n" + ids_line + "\n";
      tokens_line = ids_line = "  ";
      used = 2;
    }
    tokens_line += e.tokens[i] + std::string(column - token_width, ' ');
    ids_line += id + std::string(column - id.size(), ' ');
    used += column;
  }
  while (!tokens_line.empty() && tokens_line.back() == ' ') tokens_line.pop_back();
  while (!ids_line.empty() && ids_line.back() == ' ') ids_line.pop_back();
  out += tokens_line + "\n" + ids_line + "\n";
  if (e.truncated) out += fmt::format("  (truncated to {} tokens)\n", *max_length);
}

void append_json(std::string& out, const std::string& text, const text::Encoding& e,
                 bool with_truncated) {
  nlohmann::ordered_json j;
  j["text"] = text;
  j["ids"] = e.ids;
  j["tokens"] = e.tokens;
  if (with_truncated) j["truncated"] = e.truncated;
  out += j.dump(-1, ' ', false, nlohmann::json::error_handler_t::strict);
  out += '\n';
}

void flush(std::string& out) {
  if (out.empty()) return;
  if (std::fwrite(out.data(), 1, out.size(), stdout) != out.size())
    fail("cannot write to standard output");
  out.clear();
}

int run_tokenize(const TokenizeArgs& args) {
  if (args.max_length && *args.max_length < 2)
    fail("--max-length must be at least 2 (room for [CLS] and [SEP]), got {}", *args.max_length);
  const text::BertTokenizer tokenizer = load_tokenizer(args);
  const std::vector<std::string> texts = collect_inputs(args);
  text::EncodeOptions options;
  options.with_tokens = true;
  if (args.max_length) options.max_length = static_cast<std::size_t>(*args.max_length);
  const std::size_t width = args.json ? 0 : output_width();

  const auto model_max = tokenizer.config().model_max_length;
  std::size_t too_long = 0;
  std::string out;
  for (std::size_t i = 0; i < texts.size(); ++i) {
    const text::Encoding e = tokenizer.encode(texts[i], options);
    if (model_max && e.ids.size() > *model_max) ++too_long;
    if (args.json) {
      append_json(out, texts[i], e, args.max_length.has_value());
    } else {
      if (i > 0) out += '\n';
      append_human(out, texts[i], e, args.max_length, width);
    }
    if (out.size() >= (1u << 16)) flush(out);
  }
  flush(out);
  if (std::fflush(stdout) != 0) fail("cannot write to standard output");
  if (too_long > 0)  // as HF, which encodes them whole and warns
    std::fprintf(stderr,
                 "tensorgraph: warning: %zu text(s) longer than the model's %zu tokens were not "
                 "truncated (use --max-length %zu)\n",
                 too_long, *model_max, *model_max);
  return 0;
}

const Registrar kTokenize{
    {"tokenize",
     "Split texts into BERT WordPiece tokens and ids (HuggingFace BertTokenizer parity)",
     [](Options& o) {
       auto args = std::make_shared<TokenizeArgs>();
       o.positional("text", &args->texts, "Texts to tokenize (each argument is one text)");
       o.option("-f,--file", &args->file,
                "Read texts from a file: .jsonl ({\"text\": ...} per line), .tsv/.txt (one text "
                "per line, optional label column); - for standard input");
       o.option("--model-dir", &args->model_dir,
                "Model directory with vocab.txt (and tokenizer_config.json)");
       o.option("--vocab", &args->vocab,
                "A WordPiece vocab.txt (uncased BERT settings: lower-casing, accent stripping)");
       o.option("-n,--max-length", &args->max_length,
                "Truncate to N tokens: [CLS] + the first N-2 word pieces + [SEP] (default: no "
                "truncation)");
       o.flag("--json", &args->json,
              "One JSON object per input and line: {\"text\", \"ids\", \"tokens\"} (+ "
              "\"truncated\" with --max-length)");
       o.footer(
           "Texts are tokenized exactly as HuggingFace's BertTokenizer (do_lower_case=True) does:\n"
           "special tokens such as [SEP] are kept, the rest is lower-cased, accents are stripped,\n"
           "punctuation and CJK ideographs are split off, and words are cut into WordPiece "
           "pieces.\n"
           "Inputs are printed in order: positional texts first, then the file's.\n"
           "\n"
           "Examples:\n"
           "  tensorgraph tokenize --vocab ../shared/fixtures/bert-base-uncased/vocab.txt \"Café "
           "naïve résumé\"\n"
           "  tensorgraph tokenize --model-dir ../shared/fixtures/distilbert-tiny --json --file "
           "reviews.jsonl\n"
           "  echo \"a very long review\" | tensorgraph tokenize --vocab vocab.txt --file - "
           "--max-length 8 --json");
       return [args] { return run_tokenize(*args); };
     }}};

}  // namespace
}  // namespace tensorgraph::cli
