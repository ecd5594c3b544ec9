#pragma once
// The one exception type of the library: a message a user can act on, with context
// prepended as it travels up ("model.safetensors: tensor 'x': shape [2,3] ...").
#include <stdexcept>
#include <string>
#include <utility>

#include <fmt/format.h>

namespace tensorgraph {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}

  // A copy of this error with "context: " in front of the message.
  [[nodiscard]] Error with_context(const std::string& context) const {
    return Error(context + ": " + what());
  }
};

// Throws Error with a fmt-formatted message.
template <typename... Args>
[[noreturn]] void fail(fmt::format_string<Args...> format, Args&&... args) {
  throw Error(fmt::format(format, std::forward<Args>(args)...));
}

// Runs `body`; a tensorgraph::Error thrown inside gets `context` prepended.
template <typename F>
decltype(auto) with_context(const std::string& context, F&& body) {
  try {
    return std::forward<F>(body)();
  } catch (const Error& e) {
    throw e.with_context(context);
  }
}

}  // namespace tensorgraph

// Checks a condition that depends on input (files, user arguments, shapes); never compiled out.
#define TG_CHECK(cond, ...)                    \
  do {                                         \
    if (!(cond)) ::tensorgraph::fail(__VA_ARGS__); \
  } while (false)
