// message/date.hpp: the instant a Date: or Received: field names (RFC 5322 §3.3), with the
// obsolete forms of §4.3 that old and careless mailers still write: no day name, two- and
// three-digit years, no seconds, the named US zones, comments anywhere.
// SECURITY: untrusted input; one pass over at most kMaxDateText bytes.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace mk::message {

inline constexpr std::size_t kMaxDateText = 256;

// Seconds since the Unix epoch, UTC; nullopt when the text names no instant: a month or a
// field out of range, a year before 1900, or no zone (a local time without its zone is no
// instant; "-0000" and the military letters are UTC, as §4.3 says).
std::optional<std::int64_t> parse_date_time(std::string_view text);

// The date a Received: field ends with (after its last ';'); nullopt if it has none.
std::optional<std::int64_t> received_time(std::string_view value);

}  // namespace mk::message
