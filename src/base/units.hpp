// base/units.hpp: parsing of human-written durations ("30s", "5m", "1h30m", "250ms") and
// sizes ("512", "64KiB", "50MiB", "1GB") as they appear in mailkeep.toml.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

#include "base/duration.hpp"

namespace mk {

// A duration string: "500ms", "30s", "5m", "1h", "2d".
std::optional<Duration> parse_duration(std::string_view s);
std::optional<std::uint64_t> parse_size(std::string_view s);

}  // namespace mk
