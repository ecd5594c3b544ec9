#include "tensorgraph/serve/api.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "tensorgraph/core/utf8.hpp"

namespace tensorgraph::serve {

std::string_view error_type_name(ErrorType type) {
  switch (type) {
    case ErrorType::Validation:
      return "Validation";
    case ErrorType::Empty:
      return "Empty";
    case ErrorType::Tokenizer:
      return "Tokenizer";
    case ErrorType::Overloaded:
      return "Overloaded";
    case ErrorType::Backend:
      return "Backend";
    case ErrorType::Unhealthy:
      return "Unhealthy";
    case ErrorType::NotFound:
      return "NotFound";
    case ErrorType::MethodNotAllowed:
      return "MethodNotAllowed";
  }
  return "Validation";
}

std::size_t count_code_points(std::string_view text) {
  std::size_t n = 0;
  for (unsigned char c : text) n += (c & 0xC0) != 0x80;
  return n;
}

namespace {

using json = nlohmann::json;

enum class Endpoint { Predict, Tokenize };

enum class Field {
  None,
  Inputs,
  RawScores,
  Truncate,
  TruncationDirection,
  AddSpecialTokens,
  Unknown
};

[[noreturn]] void invalid(const std::string& message) {
  throw ApiError(422, ErrorType::Validation, message);
}

// Receives the parser's events and builds the request; any departure from the expected shape
// stops the parse (by recording an error and returning false).
class RequestReader final : public nlohmann::json_sax<json> {
 public:
  RequestReader(Endpoint endpoint, const RequestLimits& limits)
      : endpoint_(endpoint), limits_(limits) {}

  bool null() override { return scalar("null"); }
  bool boolean(bool value) override {
    if (skipping() || depth_ != 1) return scalar("a boolean");
    switch (field_) {
      case Field::RawScores:
        raw_scores_ = value;
        return done_field();
      case Field::Truncate:
        truncate_ = value;
        return done_field();
      case Field::AddSpecialTokens:
        add_special_tokens_ = value;
        return done_field();
      default:
        return scalar("a boolean");
    }
  }
  bool number_integer(number_integer_t) override { return scalar("a number"); }
  bool number_unsigned(number_unsigned_t) override { return scalar("a number"); }
  bool number_float(number_float_t, const string_t&) override { return scalar("a number"); }
  bool binary(binary_t&) override { return scalar("binary data"); }

  bool string(string_t& value) override {
    if (skipping()) return true;
    if (depth_ == 1 && field_ == Field::Inputs) {
      add_input(value);
      return done_field();
    }
    if (depth_ == 1 && field_ == Field::TruncationDirection) {
      if (value == "Right" || value == "right") return done_field();
      if (value == "Left" || value == "left")
        invalid(
            "`truncation_direction` Left is not supported: long texts are truncated at the end");
      invalid("`truncation_direction` must be \"Right\"");
    }
    if (depth_ == 2 && in_inputs_) {
      add_input(value);
      return true;
    }
    if (depth_ == 3 && in_inputs_) {  // TEI's batch form [["a"], ["b"]]
      if (++sequence_items_ > 1)
        invalid(fmt::format(
            "`inputs[{}]` is a sequence pair: this model classifies single texts (give a string "
            "or a list of strings)",
            inputs_.size() - 1));
      add_input(value);
      return true;
    }
    return scalar("a string");
  }

  bool start_object(std::size_t) override {
    if (!enter()) return false;
    if (skipping()) return true;
    if (depth_ == 1) return true;  // the request itself
    if (depth_ == 2 && field_ != Field::Unknown) wrong_type("an object");
    if (depth_ >= 3 && in_inputs_) item_type("an object");
    return begin_skip();
  }
  bool key(string_t& name) override {
    if (skipping() || depth_ != 1) return true;
    field_ = field_of(name);
    if (field_ == Field::Unknown) return true;
    const auto index = static_cast<std::size_t>(field_);
    if (seen_[index]) invalid(fmt::format("duplicate field `{}`", name));
    seen_[index] = true;
    return true;
  }
  bool end_object() override {
    leave();
    if (skipping()) return end_skip();
    if (depth_ == 0) {
      if (!seen_[static_cast<std::size_t>(Field::Inputs)])
        invalid(
            "missing field `inputs`: expected a JSON object such as {\"inputs\": \"I love it\"}");
    }
    return true;
  }
  bool start_array(std::size_t) override {
    if (!enter()) return false;
    if (skipping()) return true;
    if (depth_ == 1) wrong_request("an array");
    if (depth_ == 2) {
      if (field_ == Field::Inputs) {
        in_inputs_ = true;
        return true;
      }
      if (field_ != Field::Unknown) wrong_type("an array");
      return begin_skip();
    }
    if (depth_ == 3 && in_inputs_) {
      sequence_items_ = 0;
      return true;
    }
    if (in_inputs_) item_type("an array nested too deeply");
    return begin_skip();
  }
  bool end_array() override {
    leave();
    if (skipping()) return end_skip();
    if (depth_ == 1 && in_inputs_) {
      in_inputs_ = false;
      if (inputs_.empty()) throw ApiError(400, ErrorType::Empty, "`inputs` cannot be empty");
      batch_ = true;
      return done_field();
    }
    if (depth_ == 2 && in_inputs_ && sequence_items_ == 0)
      invalid(fmt::format("`inputs[{}]` is an empty list: expected a string", inputs_.size()));
    return true;
  }

  bool parse_error(std::size_t position, const std::string&,
                   const nlohmann::detail::exception& e) override {
    std::string reason = e.what();
    // "[json.exception.parse_error.101] parse error at line 1, column 2: syntax error ..."
    if (auto p = reason.find("] "); p != std::string::npos) reason.erase(0, p + 2);
    if (reason.rfind("parse error at line", 0) == 0)
      if (auto p = reason.find(": "); p != std::string::npos) reason.erase(0, p + 2);
    throw ApiError(
        400, ErrorType::Validation,
        fmt::format("Failed to parse the request body as JSON (at byte {}): {}", position, reason));
  }

  PredictRequest predict() {
    PredictRequest r;
    r.inputs = std::move(inputs_);
    r.batch = batch_;
    r.raw_scores = raw_scores_;
    r.truncate = truncate_;
    return r;
  }
  TokenizeRequest tokenize() {
    TokenizeRequest r;
    r.inputs = std::move(inputs_);
    r.batch = batch_;
    r.add_special_tokens = add_special_tokens_;
    return r;
  }

 private:
  bool skipping() const { return skip_from_ != 0; }
  bool enter() {
    if (++depth_ > limits_.max_depth)
      invalid(fmt::format("the JSON body is nested deeper than {} levels", limits_.max_depth));
    return true;
  }
  void leave() { --depth_; }
  // The value of an unknown field is an object or array: ignore everything inside it.
  bool begin_skip() {
    skip_from_ = depth_;
    return true;
  }
  bool end_skip() {
    if (depth_ < skip_from_) {
      skip_from_ = 0;
      if (depth_ == 1) field_ = Field::None;
    }
    return true;
  }
  bool done_field() {
    field_ = Field::None;
    return true;
  }

  Field field_of(const std::string& name) const {
    if (name == "inputs") return Field::Inputs;
    if (endpoint_ == Endpoint::Predict) {
      if (name == "truncate") return Field::Truncate;
      if (name == "raw_scores") return Field::RawScores;
      if (name == "truncation_direction") return Field::TruncationDirection;
    } else if (name == "add_special_tokens") {
      return Field::AddSpecialTokens;
    }
    return Field::Unknown;
  }
  static std::string_view field_name(Field f) {
    switch (f) {
      case Field::Inputs:
        return "inputs";
      case Field::RawScores:
        return "raw_scores";
      case Field::Truncate:
        return "truncate";
      case Field::TruncationDirection:
        return "truncation_direction";
      case Field::AddSpecialTokens:
        return "add_special_tokens";
      default:
        return "";
    }
  }

  // A scalar that is not a string or boolean of a known field.
  bool scalar(std::string_view what) {
    if (skipping()) return true;
    if (depth_ == 0) wrong_request(what);
    if (depth_ == 1) {
      if (field_ == Field::Unknown || field_ == Field::None) return done_field();
      if (what == "null" && field_ != Field::Inputs) return done_field();  // the default
      wrong_type(what);
    }
    if (in_inputs_) item_type(what);
    return true;
  }
  [[noreturn]] void wrong_request(std::string_view what) {
    invalid(fmt::format(
        "the request body must be a JSON object such as {{\"inputs\": \"I love it\"}}, not {}",
        what));
  }
  [[noreturn]] void wrong_type(std::string_view what) {
    switch (field_) {
      case Field::Inputs:
        invalid(fmt::format("`inputs` must be a string or a list of strings, not {}", what));
      case Field::TruncationDirection:
        invalid(fmt::format("`truncation_direction` must be \"Right\", not {}", what));
      default:
        invalid(fmt::format("`{}` must be a boolean, not {}", field_name(field_), what));
    }
  }
  [[noreturn]] void item_type(std::string_view what) {
    invalid(fmt::format("`inputs[{}]` must be a string, not {}", inputs_.size(), what));
  }

  void add_input(std::string& text) {
    if (inputs_.size() >= limits_.max_client_batch_size)
      throw ApiError(413, ErrorType::Validation,
                     fmt::format("more than {} inputs: a request may hold at most {} "
                                 "(--max-client-batch-size)",
                                 limits_.max_client_batch_size, limits_.max_client_batch_size));
    const std::size_t chars = count_code_points(text);
    if (chars > limits_.max_input_chars) {
      const std::string where =
          depth_ == 1 ? "`inputs`" : fmt::format("`inputs[{}]`", inputs_.size());
      throw ApiError(413, ErrorType::Validation,
                     fmt::format("{} has {} characters, more than the limit of {} "
                                 "(--max-input-chars)",
                                 where, chars, limits_.max_input_chars));
    }
    inputs_.push_back(std::move(text));
  }

  Endpoint endpoint_;
  const RequestLimits& limits_;
  std::size_t depth_ = 0;
  std::size_t skip_from_ = 0;  // nonzero: skipping an unknown field's value opened at this depth
  Field field_ = Field::None;
  bool seen_[7] = {};
  bool in_inputs_ = false;
  std::size_t sequence_items_ = 0;
  std::vector<std::string> inputs_;
  bool batch_ = false;
  bool raw_scores_ = false;
  bool truncate_ = false;
  bool add_special_tokens_ = true;
};

void check_not_blank(std::string_view body) {
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos)
    throw ApiError(400, ErrorType::Validation,
                   "the request body is empty: expected a JSON object such as "
                   "{\"inputs\": \"I love it\"}");
}

template <typename Request>
Request parse(std::string_view body, const RequestLimits& limits, Endpoint endpoint) {
  check_not_blank(body);
  RequestReader reader(endpoint, limits);
  // Our callbacks throw ApiError to stop at the first problem; the parser itself never throws
  // in SAX mode (it reports syntax errors through parse_error, which throws too).
  json::sax_parse(body.begin(), body.end(), &reader);
  if constexpr (std::is_same_v<Request, PredictRequest>)
    return reader.predict();
  else
    return reader.tokenize();
}

void append_float(std::string& out, float v) {
  fmt::format_to(std::back_inserter(out), "{}", v);
}

}  // namespace

PredictRequest parse_predict_request(std::string_view body, const RequestLimits& limits) {
  return parse<PredictRequest>(body, limits, Endpoint::Predict);
}

TokenizeRequest parse_tokenize_request(std::string_view body, const RequestLimits& limits) {
  return parse<TokenizeRequest>(body, limits, Endpoint::Tokenize);
}

void append_json_string(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  while (!s.empty()) {
    const auto bad = find_invalid_utf8(s);
    const std::size_t good = bad ? *bad : s.size();
    for (std::size_t i = 0; i < good; ++i) {
      const auto c = static_cast<unsigned char>(s[i]);
      switch (c) {
        case '"':
          out += "\\\"";
          break;
        case '\\':
          out += "\\\\";
          break;
        case '\n':
          out += "\\n";
          break;
        case '\r':
          out += "\\r";
          break;
        case '\t':
          out += "\\t";
          break;
        case '\b':
          out += "\\b";
          break;
        case '\f':
          out += "\\f";
          break;
        default:
          if (c < 0x20) {
            out += "\\u00";
            out.push_back(kHex[c >> 4]);
            out.push_back(kHex[c & 15]);
          } else {
            out.push_back(static_cast<char>(c));
          }
      }
    }
    if (!bad) break;
    out += "\xEF\xBF\xBD";  // U+FFFD for one invalid byte
    s.remove_prefix(good + 1);
  }
  out.push_back('"');
}

std::string predict_response_json(const std::vector<nn::Prediction>& predictions,
                                  const std::vector<std::string>& labels, bool batch,
                                  bool raw_scores) {
  TG_CHECK(batch || predictions.size() == 1, "{} predictions for one input", predictions.size());
  std::string out;
  out.reserve(16 + predictions.size() * labels.size() * 40);
  if (batch) out.push_back('[');
  std::vector<std::size_t> order(labels.size());
  for (std::size_t t = 0; t < predictions.size(); ++t) {
    const auto& p = predictions[t];
    const auto& scores = raw_scores ? p.logits : p.probabilities;
    TG_CHECK(scores.size() == labels.size(), "prediction has {} scores for {} labels",
             scores.size(), labels.size());
    for (float s : scores)
      if (!std::isfinite(s))
        throw ApiError(424, ErrorType::Backend,
                       fmt::format("score is {}", std::isnan(s) ? "NaN" : "infinite"));
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return scores[a] > scores[b]; });
    if (t) out.push_back(',');
    out.push_back('[');
    for (std::size_t k = 0; k < order.size(); ++k) {
      if (k) out.push_back(',');
      out += "{\"score\":";
      append_float(out, scores[order[k]]);
      out += ",\"label\":";
      append_json_string(out, labels[order[k]]);
      out.push_back('}');
    }
    out.push_back(']');
  }
  if (batch) out.push_back(']');
  return out;
}

std::string tokenize_response_json(const std::vector<std::vector<ApiToken>>& tokens) {
  std::string out = "[";
  for (std::size_t t = 0; t < tokens.size(); ++t) {
    if (t) out.push_back(',');
    out.push_back('[');
    for (std::size_t k = 0; k < tokens[t].size(); ++k) {
      const ApiToken& token = tokens[t][k];
      if (k) out.push_back(',');
      out += "{\"id\":";
      out += token.id ? std::to_string(*token.id) : "null";
      out += ",\"text\":";
      append_json_string(out, token.text);
      out += token.special ? ",\"special\":true" : ",\"special\":false";
      out += ",\"start\":";
      out += token.start ? std::to_string(*token.start) : "null";
      out += ",\"stop\":";
      out += token.stop ? std::to_string(*token.stop) : "null";
      out.push_back('}');
    }
    out.push_back(']');
  }
  out.push_back(']');
  return out;
}

std::string error_json(std::string_view message, ErrorType type) {
  constexpr std::size_t kMaxMessage = 1000;
  std::string out = "{\"error\":";
  if (message.size() > kMaxMessage) {
    std::size_t cut = kMaxMessage;
    while (cut > 0 && (static_cast<unsigned char>(message[cut]) & 0xC0) == 0x80) --cut;
    append_json_string(out, std::string(message.substr(0, cut)) + "...");
  } else {
    append_json_string(out, message);
  }
  out += ",\"error_type\":";
  append_json_string(out, error_type_name(type));
  out.push_back('}');
  return out;
}

std::string error_json(const ApiError& error) {
  return error_json(error.what(), error.type());
}

}  // namespace tensorgraph::serve
