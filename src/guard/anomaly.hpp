// guard/anomaly.hpp: the anomaly detector of containment, which compares what an account
// sends with its own history. The limits (limits.hpp) catch volume; these signals catch a
// spam or phishing run from a stolen password that stays under them:
//  - a burst: the last hour's messages or new recipients far above the account's own busiest
//    hour of the past four weeks (once it has a week of history to compare with);
//  - replies to old threads carrying links, several within an hour: the reply-chain phishing
//    of a stolen mailbox, whose replies land trusted inside real conversations;
//  - remote servers refusing much of what it sends (spam to harvested or invented addresses).
// The fourth signal, sending right after a login from a never-seen network, is the strict
// mode of SendingLimits. These are pure decisions; SendingLimits keeps the windows.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "store/reputation.hpp"

namespace mk::guard {

struct AnomalyThresholds {
  int burst_factor = 4;             // times the busiest hour of the baseline
  int burst_floor_messages = 20;    // never a burst below this many messages in an hour
  int burst_floor_new = 10;         // ... or this many new recipients
  int baseline_days = 7;            // days with mail needed before the baseline is trusted
  std::int64_t baseline_hours = 28 * 24;
  int old_thread_replies = 3;       // replies with links to old threads within an hour
  std::int64_t old_thread_age = 30 * 86400;
  int refused_min = 10;             // remote refusals within an hour before the ratio counts
  int refused_percent = 50;         // of the remote verdicts in that hour
};

// What the submission path knows about one message beyond its recipients.
struct MessageTraits {
  std::optional<std::int64_t> thread_newest;  // a reply: the newest message of its thread the account has
  bool links = false;                          // the text carries web links
  std::vector<std::string> thread_ids;         // the Message-IDs it replies to (message::Parsed::thread_ids)
};

// A burst over the baseline: the reason, or nullopt.
std::optional<std::string> burst(const store::Reputation::SendBaseline& baseline, int messages_hour, int new_hour,
                                 const AnomalyThresholds& t);
// Whether this message is a reply with links to a thread older than t.old_thread_age.
bool old_thread_reply(const MessageTraits& m, std::int64_t now, const AnomalyThresholds& t);
// Remote verdicts within the hour: the reason when refusals dominate, or nullopt.
std::optional<std::string> refusals(int delivered, int refused, const AnomalyThresholds& t);

}  // namespace mk::guard
