#include "smtp/reply.hpp"

#include <fmt/format.h>

namespace mk::smtp {

std::string Reply::wire() const {
  std::string out;
  const std::size_t n = lines.empty() ? 1 : lines.size();
  for (std::size_t i = 0; i < n; ++i) {
    const std::string_view text = lines.empty() ? std::string_view() : lines[i];
    const char sep = (i + 1 < n) ? '-' : ' ';
    if (enhanced.empty()) out += fmt::format("{}{}{}\r\n", code, sep, text);
    else out += fmt::format("{}{}{} {}\r\n", code, sep, enhanced, text);
  }
  return out;
}

}  // namespace mk::smtp
