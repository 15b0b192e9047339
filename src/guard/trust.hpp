// guard/trust.hpp: how much an account may send, from what its history shows. A pure
// function of the account's history facts, so that containment holds from the first message
// of a stolen password instead of after the static limits have let tens of spam out.
//
// Why these facts: the mail a spammer sends from a stolen password goes to people who never
// wrote to the account and never answer it; the owner's mail gets answers. So the budget of
// *new* recipients (people the account never wrote to and who never wrote to it) grows with
// evidence an attacker cannot make up in an afternoon:
//  - answers: recipients it wrote to whose authenticated mail (DMARC pass, or SPF/DKIM
//    aligned with their From:) reached it afterwards. One point each. An unauthenticated
//    "answer" earns nothing: whoever sent the spam knows whom it went to and can forge
//    their From:.
//  - days of sending before today (one point each, at most 10): days cannot be hurried.
//  - age (one point per week, at most 4): weak alone, an old dormant account is a classic
//    purchase; it only tops up the rest.
// kFullTrust points reach the configured limits of [security] (the ceiling). Without any,
// an account gets an eighth of the ceiling's new recipients per hour, at least 5: enough
// for a new user to write to a handful of new people an hour, and with the default ceiling
// of 40 a burst loses at most 5 messages. The daily new-recipient budget is six hours'
// worth, so that a slow drip from a new account stops after 30 (default) in a day while a
// new user's 20 ordinary messages over a day pass; at full trust it is the ceiling's
// recipients per day, i.e. no extra limit.
// Messages per hour (to anyone outside, known or not) start at half the ceiling, at least
// 25, and grow with the same points plus one per person who wrote to the account (at most
// 20): new recipients have their own, tighter budget, so this one only paces mail to people
// the account knows, and someone answering fifty people who wrote to them first is busy,
// not a spammer.
// Right after a login from a network the account never used (SendingLimits' strict mode),
// the new-recipient budget is that of an account without history: a stolen password used
// from elsewhere gets no credit for the owner's history. The messages budget keeps it (the
// owner on a new network answering their mail is the common case).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "dmarc/dmarc.hpp"
#include "guard/settings.hpp"

namespace mk::guard {

// What the account's history shows (Containment gathers it from the store).
struct History {
  std::int64_t age_seconds = 0;  // since the account was created
  int sending_days = 0;          // days before today with mail to other domains (kept 60 days)
  int answered = 0;              // recipients whose authenticated mail came after it wrote to them
  int writers = 0;               // people whose mail the MX delivered to it (not into Junk)
  bool new_network = false;      // the submission comes right after a first login from this network
};

struct Budget {
  int new_per_hour = 0;
  int new_per_day = 0;
  int messages_per_hour = 0;
  int points = 0;  // the trust that earned it, 0..kFullTrust (new recipients)
};

inline constexpr int kFullTrust = 20;
inline constexpr int kMaxSendingDayPoints = 10;
inline constexpr int kMaxAgePoints = 4;
inline constexpr std::int64_t kSecondsPerAgePoint = 7 * 86400;
inline constexpr int kMaxWriterPoints = 20;
// Answered recipients count at most this many per registrable domain: whoever holds a domain
// can answer from any number of its addresses, so a stolen account could farm its own trust
// by writing to them. Addresses at a mailbox provider (exactly one of these domains) count
// one by one: each is a sign-up of its own.
inline constexpr int kMaxAnsweredPerDomain = 3;
inline constexpr std::string_view kMailboxProviders[] = {
    "gmail.com",  "googlemail.com", "outlook.com",    "hotmail.com", "live.com",     "msn.com",
    "yahoo.com",  "ymail.com",      "aol.com",        "icloud.com",  "me.com",       "mac.com",
    "gmx.com",    "gmx.de",         "gmx.net",        "web.de",      "mail.com",     "proton.me",
    "zoho.com",   "yandex.com",     "yandex.ru",      "mail.ru",     "qq.com",       "163.com",
    "126.com",    "fastmail.com",   "protonmail.com", "orange.fr",   "tutanota.com", "free.fr"};
// Whether a registrable domain (lower-case) is one of kMailboxProviders.
bool mailbox_provider(std::string_view registrable);
// Without history: new recipients per hour = ceiling / kNoHistoryNewDivisor, at least
// kNoHistoryNewMin; messages per hour likewise; never above the ceiling.
inline constexpr int kNoHistoryNewDivisor = 8;
inline constexpr int kNoHistoryNewMin = 5;
inline constexpr int kNoHistoryMessagesDivisor = 2;
inline constexpr int kNoHistoryMessagesMin = 25;
inline constexpr int kNoHistoryDayHours = 6;

// History::answered from the answered addresses (lower-case), kMaxAnsweredPerDomain apiece.
int answered_points(const std::vector<std::string>& addresses, const dmarc::OrgDomains& orgs);

// The budgets for an account with this history under these configured limits.
Budget budget(const History& h, const Limits& ceiling);
// The history in words, for hold reasons: "no history" or "2 answered recipients, 3 days
// of sending, 9 days old".
std::string describe(const History& h);

}  // namespace mk::guard
