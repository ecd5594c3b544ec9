#include "output_format.hpp"

#include <unistd.h>

#include <cmath>

namespace tensorgraph::cli {

bool stdout_is_terminal() {
  return ::isatty(STDOUT_FILENO) == 1;
}

double round_to(double x, int digits) {
  const double f = std::pow(10.0, digits);
  return std::round(x * f) / f;
}

std::string one_line(std::string_view text, std::size_t max_chars) {
  std::string out;
  out.reserve(text.size());
  std::size_t chars = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const bool continuation = (static_cast<unsigned char>(c) & 0xC0) == 0x80;
    if (!continuation) {
      if (max_chars && chars == max_chars) {
        // Cut: drop the last character to make room for the ellipsis.
        std::size_t cut = out.size();
        do --cut;
        while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80);
        out.resize(cut);
        out += "\u2026";
        return out;
      }
      ++chars;
    }
    out.push_back(c == '\t' || c == '\n' || c == '\r' ? ' ' : c);
  }
  return out;
}

}  // namespace tensorgraph::cli
