// message/date.hpp: the instant a Date: or Received: field names (RFC 5322 §3.3), with the
// obsolete forms of RFC 5322 §4.3 that old and careless mailers still write: no day name,
// two- and three-digit years, no seconds, the named US zones, comments anywhere.
// SECURITY: untrusted input; one pass over at most kMaxDateText bytes.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace mk::message {

inline constexpr std::size_t kMaxDateText = 256;

// Seconds since the Unix epoch, UTC; nullopt when the text names no instant: a month or a
// field out of range, a year before 1900, a zone no clock uses (beyond +-14 hours), or no
// zone (a local time without its zone is no instant; "-0000" and the military letters are
// UTC, as RFC 5322 §4.3 says).
std::optional<std::int64_t> parse_date_time(std::string_view text);

// The date a Received: field ends with (after its last ';' outside comments); nullopt if it
// has none.
std::optional<std::int64_t> received_time(std::string_view value);

// 1-12 for "Jan".."Dec" (any case); nullopt otherwise.
std::optional<unsigned> month_number(std::string_view abbreviation);

// Days from 1970-01-01 to a date of the proleptic Gregorian calendar (month 1-12, day 1-31).
std::int64_t days_from_civil(std::int64_t year, unsigned month, unsigned day);

}  // namespace mk::message
