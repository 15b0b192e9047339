#include "message/date.hpp"

#include <array>
#include <cctype>
#include <string>
#include <vector>

#include "base/strings.hpp"
#include "message/header.hpp"

namespace mk::message {
namespace {

// Days from 1970-01-01 to the given civil date (proleptic Gregorian), for any year >= 1.
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = y / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

bool leap(std::int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

unsigned month_days(std::int64_t y, unsigned m) {
  static constexpr std::array<unsigned, 12> kDays{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && leap(y) ? 29 : kDays[m - 1];
}

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

int number(std::string_view s) {
  int n = 0;
  for (char c : s) n = n * 10 + (c - '0');
  return n;
}

std::optional<unsigned> month_of(std::string_view w) {
  static constexpr std::array<std::string_view, 12> kMonths{"jan", "feb", "mar", "apr", "may", "jun",
                                                           "jul", "aug", "sep", "oct", "nov", "dec"};
  if (w.size() < 3) return std::nullopt;
  const std::string head = to_lower(w.substr(0, 3));
  for (unsigned i = 0; i < kMonths.size(); ++i)
    if (head == kMonths[i]) return i + 1;
  return std::nullopt;
}

// The zone's offset east of UTC in seconds: "+hhmm", "-hhmm" or a name of §4.3.
std::optional<std::int64_t> zone_offset(std::string_view w) {
  if (w.size() == 5 && (w[0] == '+' || w[0] == '-') && all_digits(w.substr(1))) {
    const int hh = number(w.substr(1, 2)), mm = number(w.substr(3, 2));
    if (mm >= 60) return std::nullopt;
    const std::int64_t s = (hh * 60 + mm) * 60;
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

}  // namespace

std::optional<std::int64_t> parse_date_time(std::string_view text) {
  if (text.size() > kMaxDateText) return std::nullopt;
  const std::string s = strip_comments(text);
  std::vector<std::string_view> words;
  const std::string_view sv = s;
  for (std::size_t i = 0; i < sv.size();) {
    while (i < sv.size() && (std::isspace(static_cast<unsigned char>(sv[i])) || sv[i] == ',')) ++i;
    std::size_t j = i;
    while (j < sv.size() && !std::isspace(static_cast<unsigned char>(sv[j])) && sv[j] != ',') ++j;
    if (j > i) words.push_back(sv.substr(i, j - i));
    if (words.size() > 8) return std::nullopt;
    i = j;
  }
  std::size_t k = 0;
  if (k < words.size() && !words[k].empty() && std::isalpha(static_cast<unsigned char>(words[k][0]))) ++k;  // day name
  if (words.size() < k + 5) return std::nullopt;
  const std::string_view day = words[k], mon = words[k + 1], year = words[k + 2], time = words[k + 3],
                         zone = words[k + 4];
  if (!all_digits(day) || day.size() > 2 || !all_digits(year) || year.size() < 2 || year.size() > 4) return std::nullopt;
  const auto m = month_of(mon);
  if (!m) return std::nullopt;
  std::int64_t y = number(year);
  if (year.size() == 2) y += y < 50 ? 2000 : 1900;  // §4.3
  else if (year.size() == 3) y += 1900;
  if (y < 1900) return std::nullopt;
  const unsigned d = unsigned(number(day));
  if (d < 1 || d > month_days(y, *m)) return std::nullopt;
  // hh:mm or hh:mm:ss
  const auto parts = split(time, ':');
  if (parts.size() != 2 && parts.size() != 3) return std::nullopt;
  int hms[3] = {0, 0, 0};
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (parts[i].size() != 2 || !all_digits(parts[i])) return std::nullopt;
    hms[i] = number(parts[i]);
  }
  if (hms[0] > 23 || hms[1] > 59 || hms[2] > 60) return std::nullopt;
  const auto offset = zone_offset(zone);
  if (!offset) return std::nullopt;
  return days_from_civil(y, *m, d) * 86400 + hms[0] * 3600 + hms[1] * 60 + hms[2] - *offset;
}

std::optional<std::int64_t> received_time(std::string_view value) {
  const auto semi = value.rfind(';');
  if (semi == std::string_view::npos) return std::nullopt;
  return parse_date_time(trim(value.substr(semi + 1)));
}

}  // namespace mk::message
