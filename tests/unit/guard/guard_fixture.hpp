// What the guard's tests share: submissions as containment builds them.
#pragma once

#include <string>

#include "guard/limits.hpp"

namespace mk::guard::testing {

inline constexpr std::int64_t kDay = 86400;

// History that earns the configured limits (trust.hpp's kFullTrust and more).
inline History established() {
  History h;
  h.age_seconds = 365 * kDay;
  h.sending_days = 30;
  h.answered = 50;
  h.writers = 50;
  return h;
}

inline Submission submission(History h = established(), MessageTraits traits = {}, std::string network = {},
                             bool strict = false) {
  Submission s;
  s.history = h;
  s.traits = std::move(traits);
  s.network = std::move(network);
  s.strict = strict;
  return s;
}

}  // namespace mk::guard::testing
