#include "base/units.hpp"

#include "base/strings.hpp"

namespace mk {

std::optional<std::chrono::milliseconds> parse_duration(std::string_view s) {
  if (s.empty()) return std::nullopt;
  std::uint64_t total_ms = 0;
  while (!s.empty()) {
    std::size_t n = 0;
    while (n < s.size() && is_digit(s[n])) ++n;
    if (n == 0) return std::nullopt;
    auto num = parse_u64(s.substr(0, n));
    if (!num || *num > 1'000'000'000) return std::nullopt;
    s.remove_prefix(n);
    std::uint64_t mult = 0;
    if (s.starts_with("ms")) {
      mult = 1, s.remove_prefix(2);
    } else if (s.starts_with("s")) {
      mult = 1000, s.remove_prefix(1);
    } else if (s.starts_with("m")) {
      mult = 60'000, s.remove_prefix(1);
    } else if (s.starts_with("h")) {
      mult = 3'600'000, s.remove_prefix(1);
    } else if (s.starts_with("d")) {
      mult = 86'400'000, s.remove_prefix(1);
    } else {
      return std::nullopt;
    }
    total_ms += *num * mult;
  }
  return std::chrono::milliseconds(total_ms);
}

std::optional<std::uint64_t> parse_size(std::string_view s) {
  std::size_t n = 0;
  while (n < s.size() && is_digit(s[n])) ++n;
  if (n == 0) return std::nullopt;
  auto num = parse_u64(s.substr(0, n));
  if (!num) return std::nullopt;
  auto unit = trim(s.substr(n));
  std::uint64_t mult = 1;
  if (unit.empty() || iequals(unit, "B")) mult = 1;
  else if (iequals(unit, "KiB")) mult = 1ull << 10;
  else if (iequals(unit, "MiB")) mult = 1ull << 20;
  else if (iequals(unit, "GiB")) mult = 1ull << 30;
  else if (iequals(unit, "kB") || iequals(unit, "KB")) mult = 1000;
  else if (iequals(unit, "MB")) mult = 1000'000;
  else if (iequals(unit, "GB")) mult = 1000'000'000;
  else return std::nullopt;
  if (*num > UINT64_MAX / mult) return std::nullopt;
  return *num * mult;
}

}  // namespace mk
