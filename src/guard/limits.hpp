// guard/limits.hpp: per-account sending limits, the first line of containment for an account
// whose password was guessed: a spam run exceeds what its owner sends.
//
// Counted per account over sliding windows, for mail to other domains only: messages per
// hour, recipients per day, and recipients the account never wrote to before per hour (the
// signature of a spam run: a real user mostly writes to people they know). Exceeding any
// limit holds the account's outbound mail (app/ puts its queue on hold, refuses further
// submissions with 4.7.1 and alerts the user and the admin) until the admin releases it.
// Right after a login from a network the account never used, the limits are much tighter;
// the anomaly signals of anomaly.hpp (bursts over the account's own history, replies with
// links to old threads, remote refusals) hold it too.
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

#include "guard/anomaly.hpp"
#include "guard/settings.hpp"
#include "base/log.hpp"
#include "store/reputation.hpp"

namespace mk::guard {

class SendingLimits {
 public:
  // log: where failures to record the history are told (the decision is made without it).
  SendingLimits(Limits limits, store::Reputation& store, AnomalyThresholds anomalies = {}, log::Logger log = {})
      : limits_(limits), anomalies_(anomalies), store_(store), log_(std::move(log)) {}

  struct Decision {
    bool hold = false;
    std::string reason;  // for the user, the admin and the log
  };
  // One submitted message from `account_id` to these recipients in other domains; counts it
  // unless it must be held instead.
  // `network`: where the submission comes from. `strict`: the account just logged in from a
  // network it never used, the classic start of a spam run with a stolen password: what it
  // sent from that network counts against limits kStrictDivisor times tighter.
  // `traits`: what else is known about the message (a reply to an old thread, links).
  Decision submit(std::int64_t account_id, const std::vector<std::string>& remote_rcpts, std::int64_t now,
                  const std::string& network = {}, bool strict = false, const MessageTraits& traits = {});
  // Remote verdicts on the account's mail (the queue runner): recipients delivered and
  // refused (5xx). Holds when refusals dominate the last hour.
  Decision outcomes(std::int64_t account_id, int delivered, int refused, std::int64_t now);
  static constexpr int kStrictDivisor = 8;
  // Starts the account's counts afresh (after a hold: once released, it has its full limits).
  void forget(std::int64_t account_id);

  // One event in a sliding window.
  struct Entry {
    std::int64_t time = 0;
    std::string network;
    int count = 1;
  };

 private:
  struct Window {
    std::deque<Entry> messages, recipients, new_recipients, old_thread_replies, delivered, refused;
    std::int64_t baseline_hour = -1;  // when `baseline` was read (unix hour)
    store::Reputation::SendBaseline baseline;
  };
  Limits limits_;
  AnomalyThresholds anomalies_;
  store::Reputation& store_;
  log::Logger log_;
  std::mutex mu_;
  std::map<std::int64_t, Window> accounts_;
};

}  // namespace mk::guard
