#pragma once
// Strict UTF-8 validation (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF).
#include <cstddef>
#include <optional>
#include <string_view>

namespace tensorgraph {

// Byte offset of the first invalid sequence in `s`, or nullopt when `s` is valid UTF-8.
std::optional<std::size_t> find_invalid_utf8(std::string_view s);

// Throws Error "`what`: invalid UTF-8 at byte N" when `s` is not valid UTF-8.
void check_utf8(std::string_view s, std::string_view what);

}  // namespace tensorgraph
