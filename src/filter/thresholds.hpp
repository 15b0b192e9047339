// filter/thresholds.hpp: the spam filter's actions, in log-odds (filter/verdict.hpp): part of
// [spam] in mailkeep.toml (tag_score, junk_score, reject_score) and of each account's own
// settings. The defaults here are the only ones.
#pragma once

namespace mk::filter {

struct Thresholds {
  double tag = 2;      // deliver, marked as probable spam
  double junk = 3;     // deliver into Junk
  double reject = 15;  // refuse at SMTP time
};

}  // namespace mk::filter
