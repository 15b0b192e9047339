// guard/settings.hpp: the per-account sending limits (guard/limits.hpp), part of [security]
// in mailkeep.toml (max_messages_per_hour, max_recipients_per_day,
// max_new_recipients_per_hour). The defaults here are the only ones.
#pragma once

namespace mk::guard {

struct Limits {
  int messages_per_hour = 100;
  int recipients_per_day = 500;
  int new_recipients_per_hour = 40;
};

}  // namespace mk::guard
