#pragma once
// The HTTP API of `tensorgraph serve`, as text-embeddings-inference (TEI) defines it for
// sequence-classification models: request parsing and validation, and the JSON answers.
//
//   POST /predict   {"inputs": "text" | ["a", "b"] | [["a"], ["b"]], "raw_scores": bool,
//                    "truncate": bool, "truncation_direction": "Right"}
//                   -> [{"score", "label"}, ...] sorted by score (a list of such lists for a
//                      list of inputs)
//   POST /tokenize  {"inputs": "text" | [...], "add_special_tokens": bool}
//                   -> [[{"id", "text", "special", "start", "stop"}, ...], ...]
//   errors          {"error": "...", "error_type": "Validation" | "Empty" | "Tokenizer" |
//                    "Overloaded" | "Backend" | "Unhealthy" | ...}
//
// One difference from TEI: a list of strings is a batch of texts (TEI reads ["a", "b"] as ONE
// sequence pair; sentiment models have no pairs). TEI's batch form [["a"], ["b"]] is accepted
// too; a real pair [["a", "b"]] is an error.
//
// Parsing is a SAX pass over the body (nlohmann::json): nothing but the input strings is
// allocated, unknown keys are skipped, and the limits (texts per request, characters per text,
// nesting depth) are checked while reading, so no body can make it allocate more than about its
// own size.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tensorgraph/core/error.hpp"
#include "tensorgraph/nn/classifier.hpp"

namespace tensorgraph::serve {

// TEI's error types (router/src/lib.rs), plus two for routing errors TEI leaves to its framework.
enum class ErrorType {
  Validation,  // a request the API cannot take (wrong JSON type, too long, too many inputs)
  Empty,       // `inputs` is an empty list
  Tokenizer,
  Overloaded,  // the queue is full: retry later
  Backend,     // the model failed
  Unhealthy,   // shutting down
  NotFound,
  MethodNotAllowed,
};
std::string_view error_type_name(ErrorType type);

// An error answered to the client: HTTP status, TEI error type and a message.
class ApiError : public Error {
 public:
  ApiError(int status, ErrorType type, const std::string& message)
      : Error(message), status_(status), type_(type) {}
  int status() const { return status_; }
  ErrorType type() const { return type_; }

 private:
  int status_;
  ErrorType type_;
};

struct RequestLimits {
  std::size_t max_client_batch_size = 256;  // texts per request (TEI: max_client_batch_size)
  std::size_t max_input_chars = 20000;      // Unicode code points per text
  std::size_t max_depth = 64;               // JSON nesting (unknown keys included)
};

struct PredictRequest {
  std::vector<std::string> inputs;
  bool batch = false;  // `inputs` was a list: the answer is a list of lists
  bool raw_scores = false;
  bool truncate = false;
};

struct TokenizeRequest {
  std::vector<std::string> inputs;
  bool batch = false;
  bool add_special_tokens = true;
};

// Parse and check a request body. Throws ApiError:
//   400 Validation  not JSON (syntax, invalid UTF-8, an unpaired surrogate escape)
//   422 Validation  JSON of the wrong shape (not an object, `inputs` missing or of a wrong type,
//                   a duplicate field, a sequence pair, nesting deeper than max_depth)
//   400 Empty       `inputs` is an empty list
//   413 Validation  more than max_client_batch_size texts, a text over max_input_chars
PredictRequest parse_predict_request(std::string_view body, const RequestLimits& limits);
TokenizeRequest parse_tokenize_request(std::string_view body, const RequestLimits& limits);

// Number of code points of valid UTF-8 text.
std::size_t count_code_points(std::string_view text);

// ---- answers ----------------------------------------------------------------------------------

// /predict: per text, every label with its probability (or raw logit), highest first. Throws
// ApiError 424 Backend when a score is NaN or infinite (as TEI does for NaN).
// `batch`: a list of lists (the request's `inputs` was a list); `raw_scores`: logits.
std::string predict_response_json(const std::vector<nn::Prediction>& predictions,
                                  const std::vector<std::string>& labels, bool batch,
                                  bool raw_scores);

// One token of /tokenize. `id` is empty for models without a vocabulary (the lexicon);
// `start`/`stop` are character offsets in the input when the tokenizer knows them.
struct ApiToken {
  std::optional<std::int64_t> id;
  std::string text;
  bool special = false;
  std::optional<std::size_t> start, stop;
};
std::string tokenize_response_json(const std::vector<std::vector<ApiToken>>& tokens);

// {"error": message, "error_type": type}; the message is made valid UTF-8 and cut to 1000 bytes.
std::string error_json(std::string_view message, ErrorType type);
std::string error_json(const ApiError& error);

// Appends `s` as a JSON string literal; invalid UTF-8 becomes U+FFFD.
void append_json_string(std::string& out, std::string_view s);

}  // namespace tensorgraph::serve
