#pragma once
// Small helpers for human and JSON output of the CLI.
#include <string>
#include <string_view>

namespace tensorgraph::cli {

// True when standard output is a terminal.
bool stdout_is_terminal();
// `x` rounded to `digits` decimals, for JSON output without float noise (0.858149, not
// 0.8581489920616150).
double round_to(double x, int digits = 6);
// `text` on one line (tabs and line breaks become spaces), cut to at most `max_chars` code points
// with a trailing "…" when longer (max_chars == 0: never cut).
std::string one_line(std::string_view text, std::size_t max_chars = 0);

}  // namespace tensorgraph::cli
