// Request parsing and validation, and the JSON answers of the TEI-compatible API.
#include "tensorgraph/serve/api.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tensorgraph/core/utf8.hpp"

namespace tensorgraph::serve {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// The ApiError a body gives, as "status type: message".
template <typename Parse>
std::string error_of(Parse parse, std::string_view body, const RequestLimits& limits = {}) {
  try {
    parse(body, limits);
  } catch (const ApiError& e) {
    return std::to_string(e.status()) + " " + std::string(error_type_name(e.type())) + ": " +
           e.what();
  }
  return "no error";
}
std::string predict_error(std::string_view body, const RequestLimits& limits = {}) {
  return error_of(parse_predict_request, body, limits);
}
std::string tokenize_error(std::string_view body, const RequestLimits& limits = {}) {
  return error_of(parse_tokenize_request, body, limits);
}

TEST(ServeApi, PredictSingleText) {
  const auto r = parse_predict_request(R"({"inputs": "I love it"})", {});
  EXPECT_THAT(r.inputs, ElementsAre("I love it"));
  EXPECT_FALSE(r.batch);
  EXPECT_FALSE(r.raw_scores);
  EXPECT_FALSE(r.truncate);
}

TEST(ServeApi, PredictListIsABatch) {
  const auto r = parse_predict_request(
      R"({"inputs": ["I love it", "I hate it"], "raw_scores": true, "truncate": true})", {});
  EXPECT_THAT(r.inputs, ElementsAre("I love it", "I hate it"));
  EXPECT_TRUE(r.batch);
  EXPECT_TRUE(r.raw_scores);
  EXPECT_TRUE(r.truncate);
}

TEST(ServeApi, PredictAcceptsTeiBatchForm) {
  const auto r = parse_predict_request(R"({"inputs": [["a"], "b", ["c"]]})", {});
  EXPECT_THAT(r.inputs, ElementsAre("a", "b", "c"));
  EXPECT_TRUE(r.batch);
}

TEST(ServeApi, EscapesAndUnicodeAreDecoded) {
  const auto r = parse_predict_request(R"({"inputs": "caf\u00e9 \"ok\"\n\ud83d\ude00 naïve"})", {});
  EXPECT_THAT(r.inputs, ElementsAre("café \"ok\"\n\xF0\x9F\x98\x80 naïve"));
}

TEST(ServeApi, EmptyStringIsAText) {
  EXPECT_THAT(parse_predict_request(R"({"inputs": ""})", {}).inputs, ElementsAre(""));
}

TEST(ServeApi, UnknownFieldsAreIgnoredWhateverTheirShape) {
  const auto r = parse_predict_request(
      R"({"model": "x", "extra": {"a": [1, {"b": [[], {}]}], "inputs": 3}, "inputs": "t",)"
      R"( "n": null, "f": 1.5, "raw_scores": null, "truncation_direction": "Right"})",
      {});
  EXPECT_THAT(r.inputs, ElementsAre("t"));
  EXPECT_FALSE(r.raw_scores);  // null: the default
}

TEST(ServeApi, TokenizeRequest) {
  const auto r = parse_tokenize_request(R"({"inputs": ["a b"], "add_special_tokens": false})", {});
  EXPECT_THAT(r.inputs, ElementsAre("a b"));
  EXPECT_TRUE(r.batch);
  EXPECT_FALSE(r.add_special_tokens);
  EXPECT_TRUE(parse_tokenize_request(R"({"inputs": "x"})", {}).add_special_tokens);
}

TEST(ServeApi, InvalidJsonIs400) {
  EXPECT_THAT(predict_error(R"({"inputs": "x")"),
              HasSubstr("400 Validation: Failed to parse the request body as JSON"));
  EXPECT_THAT(predict_error(R"({"inputs": "x"} trailing)"), HasSubstr("400 Validation"));
  EXPECT_THAT(predict_error("{'inputs': 'x'}"), HasSubstr("400 Validation"));
  EXPECT_THAT(predict_error(R"({"inputs": 1e999})"), HasSubstr("400 Validation"));
  EXPECT_THAT(predict_error(""), HasSubstr("400 Validation: the request body is empty"));
  EXPECT_THAT(predict_error("  \n"), HasSubstr("400 Validation: the request body is empty"));
}

TEST(ServeApi, InvalidUtf8Is400) {
  EXPECT_THAT(predict_error("{\"inputs\": \"caf\xC3\"}"), HasSubstr("400 Validation"));
  EXPECT_THAT(predict_error("{\"inputs\": \"\xFF\"}"), HasSubstr("ill-formed UTF-8"));
  EXPECT_THAT(predict_error("{\"inputs\": \"\xED\xA0\x80\"}"), HasSubstr("400 Validation"));
  // An unpaired surrogate escape is not a character.
  EXPECT_THAT(predict_error(R"({"inputs": "\ud800"})"), HasSubstr("400 Validation"));
  EXPECT_THAT(predict_error(R"({"inputs": "\udc00x"})"), HasSubstr("400 Validation"));
}

TEST(ServeApi, WrongShapesAre422) {
  EXPECT_EQ(predict_error(R"(["x"])"),
            "422 Validation: the request body must be a JSON object such as {\"inputs\": \"I "
            "love it\"}, not an array");
  EXPECT_THAT(predict_error(R"("x")"), HasSubstr("422 Validation"));
  EXPECT_THAT(predict_error("42"), HasSubstr("422 Validation"));
  EXPECT_EQ(predict_error(R"({})"),
            "422 Validation: missing field `inputs`: expected a JSON object such as {\"inputs\": "
            "\"I love it\"}");
  EXPECT_EQ(predict_error(R"({"inputs": 3})"),
            "422 Validation: `inputs` must be a string or a list of strings, not a number");
  EXPECT_EQ(predict_error(R"({"inputs": null})"),
            "422 Validation: `inputs` must be a string or a list of strings, not null");
  EXPECT_EQ(predict_error(R"({"inputs": {"text": "x"}})"),
            "422 Validation: `inputs` must be a string or a list of strings, not an object");
  EXPECT_EQ(predict_error(R"({"inputs": ["a", 1]})"),
            "422 Validation: `inputs[1]` must be a string, not a number");
  EXPECT_EQ(predict_error(R"({"inputs": ["a", true]})"),
            "422 Validation: `inputs[1]` must be a string, not a boolean");
  EXPECT_EQ(predict_error(R"({"inputs": [{"a": 1}]})"),
            "422 Validation: `inputs[0]` must be a string, not an object");
  EXPECT_EQ(predict_error(R"({"inputs": [[["a"]]]})"),
            "422 Validation: `inputs[0]` must be a string, not an array nested too deeply");
  EXPECT_EQ(predict_error(R"({"inputs": "x", "raw_scores": "yes"})"),
            "422 Validation: `raw_scores` must be a boolean, not a string");
  EXPECT_EQ(predict_error(R"({"inputs": "x", "truncate": 1})"),
            "422 Validation: `truncate` must be a boolean, not a number");
  EXPECT_EQ(predict_error(R"({"inputs": "x", "truncate": []})"),
            "422 Validation: `truncate` must be a boolean, not an array");
  EXPECT_EQ(tokenize_error(R"({"inputs": "x", "add_special_tokens": {}})"),
            "422 Validation: `add_special_tokens` must be a boolean, not an object");
  EXPECT_THAT(predict_error(R"({"inputs": "x", "truncation_direction": "Left"})"),
              HasSubstr("422 Validation: `truncation_direction` Left is not supported"));
}

TEST(ServeApi, DuplicateFieldsAre422) {
  EXPECT_EQ(predict_error(R"({"inputs": "a", "inputs": "b"})"),
            "422 Validation: duplicate field `inputs`");
  EXPECT_EQ(predict_error(R"({"inputs": "a", "raw_scores": true, "raw_scores": false})"),
            "422 Validation: duplicate field `raw_scores`");
}

TEST(ServeApi, SequencePairsAreRefused) {
  EXPECT_EQ(predict_error(R"({"inputs": [["a", "b"]]})"),
            "422 Validation: `inputs[0]` is a sequence pair: this model classifies single texts "
            "(give a string or a list of strings)");
  EXPECT_EQ(predict_error(R"({"inputs": ["x", []]})"),
            "422 Validation: `inputs[1]` is an empty list: expected a string");
}

TEST(ServeApi, EmptyListIs400Empty) {
  EXPECT_EQ(predict_error(R"({"inputs": []})"), "400 Empty: `inputs` cannot be empty");
  EXPECT_EQ(tokenize_error(R"({"inputs": []})"), "400 Empty: `inputs` cannot be empty");
}

TEST(ServeApi, LimitsAre413) {
  RequestLimits limits;
  limits.max_client_batch_size = 3;
  limits.max_input_chars = 5;
  EXPECT_NO_THROW(parse_predict_request(R"({"inputs": ["a", "b", "c"]})", limits));
  EXPECT_EQ(predict_error(R"({"inputs": ["a", "b", "c", "d"]})", limits),
            "413 Validation: more than 3 inputs: a request may hold at most 3 "
            "(--max-client-batch-size)");
  // Characters are code points, not bytes.
  EXPECT_NO_THROW(parse_predict_request(R"({"inputs": "ééééé"})", limits));
  EXPECT_EQ(predict_error(R"({"inputs": "abcdef"})", limits),
            "413 Validation: `inputs` has 6 characters, more than the limit of 5 "
            "(--max-input-chars)");
  EXPECT_EQ(predict_error(R"({"inputs": ["a", "abcdef"]})", limits),
            "413 Validation: `inputs[1]` has 6 characters, more than the limit of 5 "
            "(--max-input-chars)");
  EXPECT_THAT(tokenize_error(R"({"inputs": "abcdef"})", limits), HasSubstr("413 Validation"));
}

TEST(ServeApi, DeepNestingStopsEarly) {
  const std::string deep = R"({"x": )" + std::string(100000, '[') + std::string(100000, ']') + "}";
  EXPECT_EQ(predict_error(deep), "422 Validation: the JSON body is nested deeper than 64 levels");
  RequestLimits limits;
  limits.max_depth = 4;
  EXPECT_NO_THROW(parse_predict_request(R"({"inputs": "a", "x": [[1]]})", limits));
  EXPECT_THAT(predict_error(R"({"inputs": "a", "x": [[[[1]]]]})", limits),
              HasSubstr("nested deeper than 4"));
}

TEST(ServeApi, CountCodePoints) {
  EXPECT_EQ(count_code_points(""), 0u);
  EXPECT_EQ(count_code_points("abc"), 3u);
  EXPECT_EQ(count_code_points("café"), 4u);
  EXPECT_EQ(count_code_points("\xF0\x9F\x98\x80"), 1u);
}

nn::Prediction prediction(std::vector<float> logits) {
  nn::Prediction p;
  p.logits = std::move(logits);
  nn::finish_prediction(p, {"NEGATIVE", "POSITIVE"});
  return p;
}

TEST(ServeApi, PredictResponseSortedByScore) {
  const std::vector<std::string> labels{"NEGATIVE", "POSITIVE"};
  const auto p = prediction({-1.5f, 2.0f});
  const std::string single = predict_response_json({p}, labels, false, false);
  const auto j = nlohmann::json::parse(single);
  ASSERT_TRUE(j.is_array());
  ASSERT_EQ(j.size(), 2u);
  EXPECT_EQ(j[0]["label"], "POSITIVE");
  EXPECT_EQ(j[1]["label"], "NEGATIVE");
  // Scores are the float32 values, written with the fewest digits that read back exactly.
  EXPECT_EQ(static_cast<float>(j[0]["score"].get<double>()), p.probabilities[1]);
  EXPECT_EQ(static_cast<float>(j[1]["score"].get<double>()), p.probabilities[0]);
  EXPECT_EQ(single.find("\"score\""), 2u);  // TEI's field order: score, then label

  const auto raw = nlohmann::json::parse(predict_response_json({p}, labels, false, true));
  EXPECT_EQ(raw[0]["score"].get<double>(), 2.0);
  EXPECT_EQ(raw[1]["score"].get<double>(), -1.5);

  const auto q = prediction({3.0f, -3.0f});
  const auto batch = nlohmann::json::parse(predict_response_json({p, q}, labels, true, false));
  ASSERT_EQ(batch.size(), 2u);
  EXPECT_EQ(batch[0][0]["label"], "POSITIVE");
  EXPECT_EQ(batch[1][0]["label"], "NEGATIVE");
}

TEST(ServeApi, PredictResponseRefusesNaN) {
  nn::Prediction p = prediction({0.0f, 1.0f});
  p.logits[0] = std::numeric_limits<float>::quiet_NaN();
  try {
    predict_response_json({p}, {"NEGATIVE", "POSITIVE"}, false, true);
    FAIL() << "no error";
  } catch (const ApiError& e) {
    EXPECT_EQ(e.status(), 424);
    EXPECT_EQ(e.type(), ErrorType::Backend);
    EXPECT_STREQ(e.what(), "score is NaN");
  }
}

TEST(ServeApi, TokenizeResponse) {
  std::vector<std::vector<ApiToken>> tokens{
      {{101, "[CLS]", true, {}, {}}, {7, "caf\"é", false, 0, 4}},
      {{std::nullopt, "x", false, {}, {}}}};
  EXPECT_EQ(tokenize_response_json(tokens),
            R"([[{"id":101,"text":"[CLS]","special":true,"start":null,"stop":null},)"
            R"({"id":7,"text":"caf\"é","special":false,"start":0,"stop":4}],)"
            R"([{"id":null,"text":"x","special":false,"start":null,"stop":null}]])");
}

TEST(ServeApi, ErrorJson) {
  EXPECT_EQ(error_json("`inputs` cannot be empty", ErrorType::Empty),
            R"({"error":"`inputs` cannot be empty","error_type":"Empty"})");
  EXPECT_EQ(error_json(ApiError(429, ErrorType::Overloaded, "Model is overloaded")),
            R"({"error":"Model is overloaded","error_type":"Overloaded"})");
  // Always valid JSON in valid UTF-8, whatever the message holds, and bounded.
  const std::string nasty = "bad \xFF\xC3 byte\n\x01 \"q\" " + std::string(5000, 'x');
  const std::string out = error_json(nasty, ErrorType::Validation);
  EXPECT_FALSE(find_invalid_utf8(out).has_value());
  const auto j = nlohmann::json::parse(out);
  EXPECT_EQ(j["error"].get<std::string>().substr(0, 20),
            "bad \xEF\xBF\xBD\xEF\xBF\xBD byte\n\x01 \"q");
  EXPECT_LT(out.size(), 1100u);
}

TEST(ServeApi, AppendJsonString) {
  std::string out;
  append_json_string(out, std::string("a\0b\t\\", 5));
  EXPECT_EQ(out, R"("a\u0000b\t\\")");
}

}  // namespace
}  // namespace tensorgraph::serve
