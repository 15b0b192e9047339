// base/strings.hpp: small ASCII string helpers used by the protocol parsers.
// Protocol keywords are ASCII and case-insensitive; nothing here is locale-dependent.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mk {

constexpr char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c; }
constexpr char ascii_upper(char c) { return (c >= 'a' && c <= 'z') ? char(c - 'a' + 'A') : c; }
constexpr bool is_digit(char c) { return c >= '0' && c <= '9'; }
constexpr bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
// The value of a hex digit of either case, or -1 for any other byte.
constexpr int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
// The byte written as the two hex digits s[i] s[i + 1] (the digits of a "%XX" or "=XX"
// escape), or -1 when either is not a hex digit or is past the end of s.
constexpr int hex_pair(std::string_view s, std::size_t i) {
  if (i >= s.size() || s.size() - i < 2) return -1;
  const int hi = hex_value(s[i]), lo = hex_value(s[i + 1]);
  return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
}
// "%XX" escapes decoded, leniently: a '%' not followed by two hex digits stays as it is (what
// RFC 2231 values and URL hosts get; decoders that must refuse a broken escape have their own).
std::string percent_decode(std::string_view s);

std::string to_lower(std::string_view s);
std::string to_upper(std::string_view s);
bool iequals(std::string_view a, std::string_view b);
bool istarts_with(std::string_view s, std::string_view prefix);
std::string_view trim(std::string_view s);
std::vector<std::string_view> split(std::string_view s, char sep);

// Parses a non-negative decimal integer that must fit in uint64_t; no sign, no spaces.
std::optional<std::uint64_t> parse_u64(std::string_view s);

// Replaces CR, LF and other control bytes so a peer-supplied string can be logged safely.
std::string log_safe(std::string_view s, std::size_t max_len = 200);

// A JSON string literal (quotes included) with every control character escaped.
void append_json_string(std::string& out, std::string_view s);
// Appends one Unicode code point as UTF-8 (the caller passes a valid scalar value).
void append_utf8(std::string& out, std::uint32_t cp);
// s cut to at most `max` bytes on a UTF-8 character boundary.
std::string cut_utf8(std::string s, std::size_t max);

// Lower-case hex of raw bytes.
std::string hex(std::string_view bytes);

// Random hex identifier (from the OS CSPRNG), used for message and connection ids.
std::string random_id(std::size_t bytes = 8);

}  // namespace mk
