#include "message/date.hpp"

#include <algorithm>
#include <array>
#include <string>
#include <vector>

#include "base/strings.hpp"
#include "message/header.hpp"

namespace mk::message {
namespace {

constexpr std::array<std::string_view, 12> kMonths{"january", "february", "march",     "april",   "may",      "june",
                                                   "july",    "august",   "september", "october", "november", "december"};

bool leap(std::int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

unsigned month_days(std::int64_t y, unsigned m) {
  static constexpr std::array<unsigned, 12> kDays{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && leap(y) ? 29 : kDays[m - 1];
}

// A run of 1 to max_digits ASCII digits as a number.
std::optional<int> digits(std::string_view s, std::size_t max_digits) {
  if (s.empty() || s.size() > max_digits) return std::nullopt;
  int n = 0;
  for (char c : s) {
    if (!is_digit(c)) return std::nullopt;
    n = n * 10 + (c - '0');
  }
  return n;
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// "Sep" or "September", any case.
std::optional<unsigned> month_of(std::string_view w) {
  if (const auto m = month_number(w)) return m;
  const std::string lower = to_lower(w);
  for (unsigned i = 0; i < kMonths.size(); ++i)
    if (lower == kMonths[i]) return i + 1;
  return std::nullopt;
}

constexpr int kMaxZoneHours = 14;  // +1400 (Kiribati); the farthest west is -1200

// The zone's offset east of UTC in seconds: "+hhmm", "-hhmm" or a name of RFC 5322 §4.3.
std::optional<std::int64_t> zone_offset(std::string_view w) {
  if (w.size() == 5 && (w[0] == '+' || w[0] == '-')) {
    const auto hh = digits(w.substr(1, 2), 2), mm = digits(w.substr(3, 2), 2);
    if (!hh || !mm || *hh > kMaxZoneHours || *mm >= 60) return std::nullopt;
    const std::int64_t s = (*hh * 60 + *mm) * 60;
    return w[0] == '-' ? -s : s;
  }
  const std::string z = to_lower(w);
  struct Named {
    std::string_view name;
    int hours;
  };
  static constexpr std::array<Named, 11> kNamed{{{"ut", 0}, {"utc", 0}, {"gmt", 0}, {"est", -5}, {"edt", -4},
                                                 {"cst", -6}, {"cdt", -5}, {"mst", -7}, {"mdt", -6}, {"pst", -8},
                                                 {"pdt", -7}}};
  for (const auto& n : kNamed)
    if (z == n.name) return std::int64_t(n.hours) * 3600;
  if (z.size() == 1 && z[0] >= 'a' && z[0] <= 'z' && z[0] != 'j') return 0;  // military: "-0000"
  return std::nullopt;
}

bool alphabetic(std::string_view w) {
  return !w.empty() && std::all_of(w.begin(), w.end(), [](char c) { return is_alpha(c); });
}

}  // namespace

std::optional<unsigned> month_number(std::string_view abbreviation) {
  if (abbreviation.size() != 3) return std::nullopt;
  for (unsigned i = 0; i < kMonths.size(); ++i)
    if (iequals(abbreviation, kMonths[i].substr(0, 3))) return i + 1;
  return std::nullopt;
}

// Howard Hinnant's days_from_civil (public domain), for any year.
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

std::optional<std::int64_t> parse_date_time(std::string_view text) {
  if (text.size() > kMaxDateText) return std::nullopt;
  const std::string s = strip_comments(text);
  // [day-name ","] day month year hh:mm[:ss] zone [zone-name]: at most 7 words.
  constexpr std::size_t kMaxWords = 7;
  std::vector<std::string_view> words;
  const std::string_view sv = s;
  for (std::size_t i = 0; i < sv.size();) {
    while (i < sv.size() && (is_space(sv[i]) || sv[i] == ',')) ++i;
    std::size_t j = i;
    while (j < sv.size() && !is_space(sv[j]) && sv[j] != ',') ++j;
    if (j > i) words.push_back(sv.substr(i, j - i));
    if (words.size() > kMaxWords) return std::nullopt;
    i = j;
  }
  std::size_t k = 0;
  if (k < words.size() && alphabetic(words[k])) ++k;  // the day's name
  if (words.size() < k + 5) return std::nullopt;
  // One word after the zone, a zone's name ("-0700 PDT"), is what some mailers add.
  if (words.size() > k + 6 || (words.size() == k + 6 && !alphabetic(words[k + 5]))) return std::nullopt;
  const auto day = digits(words[k], 2);
  const auto month = month_of(words[k + 1]);
  const std::string_view year_text = words[k + 2];
  const auto year = year_text.size() >= 2 ? digits(year_text, 4) : std::nullopt;
  if (!day || !month || !year) return std::nullopt;
  std::int64_t y = *year;
  if (year_text.size() == 2) y += y < 50 ? 2000 : 1900;  // RFC 5322 §4.3
  else if (year_text.size() == 3) y += 1900;
  if (y < 1900) return std::nullopt;
  if (*day < 1 || unsigned(*day) > month_days(y, *month)) return std::nullopt;
  // hh:mm or hh:mm:ss
  const auto parts = split(words[k + 3], ':');
  if (parts.size() != 2 && parts.size() != 3) return std::nullopt;
  int hms[3] = {0, 0, 0};
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const auto n = parts[i].size() == 2 ? digits(parts[i], 2) : std::nullopt;
    if (!n) return std::nullopt;
    hms[i] = *n;
  }
  if (hms[0] > 23 || hms[1] > 59 || hms[2] > 60) return std::nullopt;
  const auto offset = zone_offset(words[k + 4]);
  if (!offset) return std::nullopt;
  return days_from_civil(y, *month, unsigned(*day)) * 86400 + hms[0] * 3600 + hms[1] * 60 + hms[2] - *offset;
}

std::optional<std::int64_t> received_time(std::string_view value) {
  const std::string plain = strip_comments(value);  // "(envelope-from a;b)" holds a ';'
  const auto semi = plain.rfind(';');
  if (semi == std::string::npos) return std::nullopt;
  return parse_date_time(trim(std::string_view(plain).substr(semi + 1)));
}

}  // namespace mk::message
