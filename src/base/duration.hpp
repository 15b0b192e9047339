// base/duration.hpp: the one duration type of mailkeep's configuration and module settings.
//
// Every timeout, interval and age is a Duration (milliseconds), read from mailkeep.toml as a
// string such as "30s", "5m" or "1h" (base/units.hpp parse_duration). Code that stores or
// compares unix times converts with whole_seconds() at that point, never in a config struct.
#pragma once

#include <chrono>
#include <cstdint>

namespace mk {

using Duration = std::chrono::milliseconds;

// Whole seconds, rounded down (for unix-time arithmetic and the store's second columns).
constexpr std::int64_t whole_seconds(Duration d) {
  return std::chrono::duration_cast<std::chrono::seconds>(d).count();
}

}  // namespace mk
