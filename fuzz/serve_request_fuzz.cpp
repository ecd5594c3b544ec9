// Fuzz target: the request parser of `tensorgraph serve` (serve/api.hpp) on arbitrary bodies.
// The first byte picks the endpoint (bit 0: /tokenize, else /predict) and the limits (bit 1:
// 3 inputs, 16 characters, depth 8; else the defaults); the rest is the body. Properties:
//   - a body gives a request or an ApiError of status 400, 413 or 422, nothing else;
//   - the error's JSON is valid JSON in valid UTF-8 with "error" and "error_type";
//   - a request has 1..max inputs, each valid UTF-8 within the character limit, and agrees with
//     nlohmann's own reading of the same body (inputs, flags);
//   - the answers built from it (predict, tokenize) are valid JSON.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tensorgraph/core/utf8.hpp"
#include "tensorgraph/serve/api.hpp"

namespace {

using nlohmann::json;
using namespace tensorgraph::serve;

[[noreturn]] void violated(const char* what) {
  std::fprintf(stderr, "serve_request_fuzz: property violated: %s\n", what);
  std::abort();
}

// What nlohmann's DOM parser makes of the body's inputs, when it reads the body at all.
void compare_with_dom(std::string_view body, const std::vector<std::string>& inputs, bool batch,
                      bool flag, const char* flag_name, bool flag_default) {
  const json dom = json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  if (dom.is_discarded()) violated("accepted a body nlohmann rejects");
  if (!dom.is_object() || !dom.contains("inputs")) violated("accepted a body without inputs");
  const json& in = dom["inputs"];
  std::vector<std::string> expected;
  if (in.is_string()) {
    if (batch) violated("single input read as a batch");
    expected.push_back(in.get<std::string>());
  } else {
    if (!batch || !in.is_array()) violated("batch shape");
    for (const json& item : in) {
      if (item.is_string())
        expected.push_back(item.get<std::string>());
      else if (item.is_array() && item.size() == 1 && item[0].is_string())
        expected.push_back(item[0].get<std::string>());
      else
        violated("accepted an input that is not a string");
    }
  }
  if (expected != inputs) violated("inputs differ from nlohmann's");
  const bool dom_flag = dom.contains(flag_name) && dom[flag_name].is_boolean()
                            ? dom[flag_name].get<bool>()
                            : flag_default;
  if (dom_flag != flag) violated("flag differs from nlohmann's");
}

void check_inputs(const std::vector<std::string>& inputs, const RequestLimits& limits) {
  if (inputs.empty() || inputs.size() > limits.max_client_batch_size) violated("input count");
  for (const auto& t : inputs) {
    if (tensorgraph::find_invalid_utf8(t)) violated("input is not valid UTF-8");
    if (count_code_points(t) > limits.max_input_chars) violated("input over the limit");
  }
}

void check_json(const std::string& text, const char* what) {
  if (tensorgraph::find_invalid_utf8(text)) violated(what);
  if (!json::accept(text)) violated(what);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t mode = data[0];
  const std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  RequestLimits limits;
  if (mode & 2) {
    limits.max_client_batch_size = 3;
    limits.max_input_chars = 16;
    limits.max_depth = 8;
  }
  try {
    if (mode & 1) {
      const TokenizeRequest r = parse_tokenize_request(body, limits);
      check_inputs(r.inputs, limits);
      compare_with_dom(body, r.inputs, r.batch, r.add_special_tokens, "add_special_tokens", true);
      std::vector<std::vector<ApiToken>> tokens;
      for (const auto& t : r.inputs) tokens.push_back({{std::nullopt, t, false, 0, t.size()}});
      check_json(tokenize_response_json(tokens), "tokenize answer");
    } else {
      const PredictRequest r = parse_predict_request(body, limits);
      check_inputs(r.inputs, limits);
      compare_with_dom(body, r.inputs, r.batch, r.raw_scores, "raw_scores", false);
      std::vector<tensorgraph::nn::Prediction> predictions;
      for (const auto& t : r.inputs) {
        tensorgraph::nn::Prediction p;
        const float s = static_cast<float>(t.size() % 7) - 3.0f;
        p.logits = {-s, s};
        tensorgraph::nn::finish_prediction(p, {"NEGATIVE", "POSITIVE"});
        predictions.push_back(p);
      }
      if (!r.batch && predictions.size() != 1) violated("a single input gave several");
      check_json(
          predict_response_json(predictions, {"NEGATIVE", "POSITIVE"}, r.batch, r.raw_scores),
          "predict answer");
    }
  } catch (const ApiError& e) {
    if (e.status() != 400 && e.status() != 413 && e.status() != 422) violated("status");
    const std::string text = error_json(e);
    check_json(text, "error JSON");
    const json j = json::parse(text);
    if (!j.contains("error") || !j.contains("error_type")) violated("error fields");
  }
  return 0;
}
