// guard/limits.hpp: per-account sending limits, the first line of containment for an account
// whose password was guessed: a spam run exceeds what its owner sends.
//
// Counted per account over sliding windows, for mail to other domains only: messages per
// hour, recipients per day, and new recipients per hour and per day (the signature of a spam
// run: a real user mostly writes to people they know). How many of each an account may send
// follows from its history (trust.hpp): an account without history starts with a tight
// budget of new recipients, which widens up to the configured [security] limits as its
// recipients answer and its days of sending add up.
// A recipient is not new when the account wrote to them before, when their authenticated
// mail reached the account, or when the message answers mail the MX delivered from them
// (its In-Reply-To/References name that message; unauthenticated writers count only so).
// Why not every writer: whoever holds a stolen password can mail the account with a forged
// From: per victim and then "answer" each one. Authentication ties a writer to their
// domain's owner, so authenticated writers are known; an unauthenticated writer counts as
// known only in a message that answers their own mail, and such answers still count against
// the messages budget and for the inbound filter's verdict (content.hpp).
// Exceeding any limit holds the account's outbound mail (app/ puts its queue on hold, refuses
// further submissions with 4.7.1 and alerts the user and the admin) until the admin releases
// it. Right after a login from a network the account never used, its history earns no new
// recipients; the anomaly signals of anomaly.hpp (bursts over the account's own history,
// replies with links to old threads, remote refusals) and the content signals of content.hpp
// hold it too.
// SECURITY: the refused message is not queued; nothing already queued is lost (held, not
// dropped). When the store cannot say whether a recipient is known, the recipient is new.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "guard/anomaly.hpp"
#include "guard/content.hpp"
#include "guard/settings.hpp"
#include "guard/trust.hpp"
#include "base/log.hpp"
#include "store/reputation.hpp"

namespace mk::guard {

// What the submission path knows of one submission beyond its recipients.
struct Submission {
  std::string network;   // where it comes from (auth::Throttle::network_key)
  // The account just logged in from a network it never used, the classic start of a spam
  // run with a stolen password: its history earns no new recipients (trust.hpp), and only
  // what it sent from that network counts.
  bool strict = false;
  // ... and it had logged in from other networks before: an account in use that someone
  // now uses from elsewhere (not a new account's first login, which its budget covers).
  bool elsewhere_before = false;
  History history;       // the account's (trust.hpp)
  MessageTraits traits;  // the message (anomaly.hpp)
  Content content;       // its content (content.hpp)
};

class SendingLimits {
 public:
  // log: where failures to record the history are told (the decision is made without it).
  SendingLimits(Limits limits, store::Reputation& store, AnomalyThresholds anomalies = {}, log::Logger log = {},
                ContentThresholds content = {})
      : limits_(limits), anomalies_(anomalies), content_(content), store_(store), log_(std::move(log)) {}

  // Right after a login from a new network: messages per hour and recipients per day this
  // many times tighter than configured (new recipients follow the trust budget, trust.hpp).
  static constexpr int kStrictDivisor = 8;

  struct Decision {
    bool hold = false;
    std::string reason;  // for the user, the admin and the log
    // A hold only, for the security report: when the window that led to it began (its first
    // message, or first remote verdict) and what left in it before the hold (messages
    // accepted; for remote verdicts, recipients delivered or refused).
    std::int64_t since = 0;
    int sent = 0;
    bool from_verdicts = false;  // sent counts recipients that left (delivered or refused)
  };
  // One submitted message from `account_id` to these recipients in other domains; counts it
  // unless it must be held instead.
  Decision submit(std::int64_t account_id, const std::vector<std::string>& remote_rcpts, std::int64_t now,
                  const Submission& s);
  // Remote verdicts on the account's mail (the queue runner): recipients delivered and
  // refused (5xx). Holds when refusals dominate the last hour.
  Decision outcomes(std::int64_t account_id, int delivered, int refused, std::int64_t now);
  // Starts the account's counts afresh (after a hold: once released, it has its full limits).
  void forget(std::int64_t account_id);
  // The hours a start would seed the account's windows from (seed()) led to a hold that is
  // stored: they stop being its history (Reputation::hold_send_history), so a restart after
  // the release does not count that burst again, nor does the baseline learn its peaks.
  // Only for a stored hold: one held in memory only is lost at a restart, and the burst
  // counted again then is what holds the account again.
  void close_history(std::int64_t account_id, std::int64_t now);
  // How far back seed() reads: the longest window (new recipients per day).
  static constexpr std::int64_t kSeedHours = 24;
  // The network of what seed() read (the store does not keep it; no network key looks so).
  static constexpr std::string_view kSeededNetwork = "(before the start)";

  // One event in a sliding window.
  struct Entry {
    std::int64_t time = 0;
    std::string network;
    int count = 1;
  };

 private:
  // The recipients of one message, by what the account knows of them.
  struct Recipients {
    std::vector<std::string> never_written;  // not written to before: correspondents once sent
    int fresh = 0;                           // new: never written to, never wrote to it
    int answered = 0;                        // unauthenticated writers it answers
  };
  Recipients classify(std::int64_t account_id, const std::vector<std::string>& rcpts,
                      const std::vector<std::string>& thread_ids);
  struct Print {
    std::int64_t time = 0;
    Fingerprint fingerprint;
  };
  struct ThreadReply {
    std::int64_t time = 0;
    std::string thread;
    std::vector<std::string> outsiders;
  };
  struct Scored {
    std::int64_t time = 0;
    Signal signal;
  };
  struct Window {
    std::deque<Entry> messages, recipients, new_recipients, new_day, old_thread_replies, delivered, refused;
    std::deque<Print> prints;          // messages to new recipients within the hour
    std::deque<ThreadReply> threads;   // replies with outsiders within the hour
    std::deque<Scored> signals;        // content signals within the hour
    std::int64_t baseline_hour = -1;   // when `baseline` was read (unix hour)
    store::Reputation::SendBaseline baseline;
  };
  // The content signals of the message and, when the hour's add up, the reason to hold.
  std::optional<std::string> content_hold(Window& w, const Content& c, std::int64_t now, Audience to,
                                          std::vector<Signal>& found);
  Limits limits_;
  AnomalyThresholds anomalies_;
  ContentThresholds content_;
  store::Reputation& store_;
  log::Logger log_;
  std::mutex mu_;
  std::map<std::int64_t, Window> accounts_;
  // An account's window starts from the store's record of its sending (send_history), so a
  // restart does not hand a stolen account a fresh hour and day.
  void seed(Window& w, std::int64_t account_id, std::int64_t now);
  // The hours [first, past the last) seed() reads and close_history() closes.
  static std::pair<std::int64_t, std::int64_t> seed_hours(std::int64_t now) {
    return {now / 3600 - (kSeedHours - 1), now / 3600 + 1};
  }
};

}  // namespace mk::guard
