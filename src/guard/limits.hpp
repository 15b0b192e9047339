// guard/limits.hpp: per-account sending limits, the first line of containment for an account
// whose password was guessed: a spam run exceeds what its owner sends.
//
// Counted per account over sliding windows, for mail to other domains only: messages per
// hour, recipients per day, and recipients the account never wrote to before per hour (the
// signature of a spam run: a real user mostly writes to people they know). Exceeding any
// limit holds the account's outbound mail (app/ puts its queue on hold, refuses further
// submissions with 4.7.1 and alerts the user and the admin) until the admin releases it.
// SECURITY: the refused message is not queued; nothing already queued is lost (held, not
// dropped).
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "store/store.hpp"

namespace mk::guard {

struct Limits {
  int messages_per_hour = 100;
  int recipients_per_day = 500;
  int new_recipients_per_hour = 40;
};

class SendingLimits {
 public:
  SendingLimits(Limits limits, store::Store& store) : limits_(limits), store_(store) {}

  struct Decision {
    bool hold = false;
    std::string reason;  // for the user, the admin and the log
  };
  // One submitted message from `account_id` to these recipients in other domains; counts it
  // unless it must be held instead.
  Decision submit(std::int64_t account_id, const std::vector<std::string>& remote_rcpts, std::int64_t now);
  // Starts the account's counts afresh (after a hold: once released, it has its full limits).
  void forget(std::int64_t account_id);

 private:
  struct Window {
    std::deque<std::int64_t> messages;                   // times
    std::deque<std::pair<std::int64_t, int>> recipients;  // time, count
    std::deque<std::int64_t> new_recipients;             // times
  };
  Limits limits_;
  store::Store& store_;
  std::mutex mu_;
  std::map<std::int64_t, Window> accounts_;
};

}  // namespace mk::guard
