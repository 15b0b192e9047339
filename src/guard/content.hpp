// guard/content.hpp: what the content of submitted mail says about a compromised account.
// The budgets of trust.hpp limit how much mail goes to new people; these signals look at
// what it is, so that a spam or phishing run from a stolen password is held after a few
// messages even when the budget would allow more. Each signal has a weight; the weights of
// the last hour's messages add up and the account is held at ContentThresholds::hold.
//  - FILTER_SPAM: the inbound filter (filter/verdict.hpp: its rules, phishing rules and the
//    instance's model; no sender authentication, the sender is us) would junk the message:
//    strong evidence; a message it would refuse holds on its own.
//  - NEAR_DUPLICATE: the text is near-identical (fingerprint.hpp) to at least two earlier
//    messages to new recipients within the hour: one text, many strangers.
//  - FRESH_LINK: links to domains the server first saw less than a day ago or never (in
//    the links of mail the MX accepted or the accounts sent; the sender's own domains and
//    the recipients' do not count). Weak alone (on a new server every domain is fresh),
//    but spam runs link to domains registered for them.
//  - THREAD_OUTSIDERS: a reply in a thread the account has, going to kThreadOutsiders or
//    more people outside that thread within an hour: a stolen mailbox reusing real
//    conversations to reach others ("reply-chain" phishing). Counted whoever the outsiders
//    are, known correspondents included: they are who such phishing aims at.
// Mail to the people one corresponds with is theirs to judge (a user's oddly-worded note to
// a friend must never hold them), so FILTER_SPAM counts for mail to someone new or to an
// unauthenticated writer being answered (guard/limits.hpp: anyone can forge such a writer),
// and NEAR_DUPLICATE and FRESH_LINK for mail to someone new only: answering everyone who
// wrote with the same words and the same link is what a club's secretary does.
// Weights (kHold 8): three junk verdicts, or a junk verdict with two near-duplicates and a
// fresh link, hold; so do two replies reusing a thread for outsiders. Seven messages with
// never-seen links and nothing else do not.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "guard/fingerprint.hpp"

namespace mk::guard {

// The inbound filter's opinion of a submitted message.
struct FilterOpinion {
  bool junk = false;    // at or above the Junk threshold
  bool reject = false;  // at or above the refusal threshold
  double score = 0;
  std::string signals;  // "NAME=score ..." (filter::Verdict::summary)
};

// What containment found in one submitted message (Containment gathers it).
struct Content {
  std::optional<Fingerprint> fingerprint;
  std::vector<std::string> link_domains;      // registrable domains of its links
  std::vector<std::int64_t> link_first_seen;  // when the server first saw each (0: never)
  // The recipients' domains and the sender's own (hosted) ones it links to: never fresh.
  std::vector<std::string> own_domains;
  std::optional<FilterOpinion> filter;
  // A reply in a thread the account has: a key for the thread (its oldest Message-ID
  // found) and the recipients who were not part of it; empty key otherwise.
  std::string thread;
  std::vector<std::string> thread_outsiders;
};

struct ContentThresholds {
  int hold = 8;                       // held at this sum of weights within an hour
  int filter_junk = 3;
  int filter_reject = 8;
  int near_duplicate = 2;
  int near_duplicates_before = 2;     // earlier near-identical messages to new recipients
  int fresh_link = 1;
  std::int64_t fresh_link_age = 86400;
  int thread_outsiders = 4;
  int thread_outsiders_min = 3;       // people outside one thread within an hour
};

struct Signal {
  std::string name;
  int weight = 0;
  std::string why;
};

// The link domains of `c` that are fresh at `now`.
std::vector<std::string> fresh_domains(const Content& c, std::int64_t now, const ContentThresholds& t);
// Who one message goes to, for the signals' scope.
struct Audience {
  bool fresh = false;     // someone new
  bool answered = false;  // an unauthenticated writer it answers
};
// The signals of one message. `near`: earlier messages to new recipients within the hour
// whose text is near-identical; `thread_outsiders`: the thread's outsiders within the hour,
// this message's included.
std::vector<Signal> signals(const Content& c, std::int64_t now, Audience to, int near, int thread_outsiders,
                            const ContentThresholds& t);
// The reason to hold when the hour's signals (earlier messages' and this one's) reach
// t.hold, naming each signal with its weight and why; nullopt below.
std::optional<std::string> suspicion(const std::vector<Signal>& hour, const ContentThresholds& t);

}  // namespace mk::guard
