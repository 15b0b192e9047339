// filter/learning.hpp: what the instance's shared model learns, from whom, and how much.
//
// The instance's model is two files added together (Model::sum): spam.model, which only
// `mailkeep spam train` writes (the admin's bulk training), and spam-learned.model, which only
// the running server writes (inbound/global_learning.hpp): a correction learnt over the first,
// as a user's model is learnt over both. One writer per file, so neither clobbers the other; a
// retrained spam.model keeps what the server learnt. Every verdict uses that sum plus the
// recipient's own model, so a new user starts with what the instance learnt from everyone.
//
// Evidence (Evidence below), each example learnt at most once per account:
// - what users do: move mail into Junk (spam) or out of it (ham), delete unread mail from Junk
//   (spam: the user saw it there and did not even open it), reply to a message (ham). All of
//   it goes into the user's own model in full (Model::learn_over); into the shared one only as
//   a bounded example (below).
// - what the MX can trust without the classifier (auto_learn_label, the SpamAssassin
//   bayes_auto_learn idea): spam when the other signals (rules, sender authentication, DNS
//   lists, reputation) reach the Junk threshold plus kAutoSpamMargin on their own, from two
//   signals or more, not all of them phishing heuristics, and never GTUBE (a test, not a
//   sample); ham when DMARC authenticated the author, the recipient has written to that
//   address, and no signal other than the classifier says spam. Only the shared model learns
//   these. The classifier never triggers auto-learning, so it cannot feed on its own output;
//   it only stops it (auto_learn_informative): when it already agrees by kSharedMargin there is
//   nothing to learn, and when it disagrees by kAutoVeto or more the rules are more likely
//   wrong than the statistics.
//
// Poisoning is bounded (LearningBudget, one UTC day at a time), by influence and by count.
// Influence (Model::learn_towards): how far the shared model's weights move, which bounds how
// far any message's score moves (at most influence × m^1/4 for a message of m features: about
// 4 for a typical message of 250 features, 5.6 for 1,000). Per day and label, one account's
// actions move the shared model by at most LearningCaps::account_influence (and, however many
// days it keeps on, by at most account_lifetime_influence outstanding, which decays with a
// 30-day half-life), auto-learning by
// at most auto_influence per recipient account and auto_server_influence in all, and everything whose author is at one
// registrable domain by at most domain_influence, whoever reports it: with the defaults (0.25)
// one account, or one sender's domain, moves the shared score of any 250-feature message by
// at most 1 log-odds a day (tag is at 2, Junk at 3), and of a typical ham message by far less.
// Several accounts reporting the same pattern move it further: the shared model follows
// agreement, not volume. Counts: an account's actions bring at most account_per_day
// examples, auto-learning at most auto_account_per_hour/day per recipient account, one domain
// at most domain_per_day of a label. An example within the counts but beyond the influence
// still counts as evidence (towards kMinShared) without moving anything. Each example moves
// the shared model by at most kSharedMaxSteps steps at shared_rate() (a half or a quarter of
// a user's own rate, Model::kRate), and only until its score agrees by kSharedMargin. The
// shared model counts for verdicts only once it has kMinShared spam and kMinShared ham
// (SpamAssassin's bayes_min_spam_num / bayes_min_ham_num): a few reports of one kind do not
// tilt every message.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "filter/model.hpp"
#include "filter/thresholds.hpp"
#include "filter/verdict.hpp"

namespace mk::filter {

enum class Evidence { moved, deleted_unread, replied, auto_spam, auto_ham };
std::string_view evidence_name(Evidence e);
inline bool is_automatic(Evidence e) { return e == Evidence::auto_spam || e == Evidence::auto_ham; }

// The shared learnt model's table: 1M weights (4 MiB).
inline constexpr unsigned kSharedBits = 20;
// How one example moves the shared model (Model::learn_towards over spam.model): at
// shared_rate(), until the sum agrees by kSharedMargin, at most kSharedMaxSteps steps.
inline constexpr double kSharedMargin = 2.0;
inline constexpr int kSharedMaxSteps = 2;
// What the user said by an explicit act (moved, replied): 0.25; by not reading (deleted
// unread) or what the server inferred (auto): 0.125.
double shared_rate(Evidence e);
// The shared model takes part in verdicts once it learnt this many spam and this many ham.
inline constexpr std::uint64_t kMinShared = 10;
inline bool shared_ready(const Model& m) { return m.spam_trained() >= kMinShared && m.ham_trained() >= kMinShared; }

// Auto-learning (see above): spam needs the signals other than the classifier at the Junk
// threshold (at least the default one, 3) plus this; the classifier disagreeing by kAutoVeto
// stops it.
inline constexpr double kAutoSpamMargin = 3;
inline constexpr double kAutoVeto = 4;
// The label the verdict's signals other than the classifier give the message: true (spam),
// false (ham), nullopt (nothing to learn). `known_sender`: DMARC authenticated the author and
// the recipient has written to that address (filter::Inputs::known_sender).
std::optional<bool> auto_learn_label(const Verdict& v, bool known_sender, const Thresholds& t);
// Whether a message the shared model scores `score` teaches it anything as `spam`.
bool auto_learn_informative(bool spam, double score);

struct LearningCaps {
  // Per UTC day and label: how far (influence, see above) and with how many examples one
  // account's actions (moves, deletions, replies) may move the shared model.
  double account_influence = 0.25;
  int account_per_day = 50;
  // However long it goes on: the influence one account's actions have outstanding, per label,
  // which decays with this half-life. A persistent account gets this much, then about
  // lifetime × ln 2 / half-life a day (0.012).
  double account_lifetime_influence = 0.5;
  double lifetime_half_life_days = 30;
  // Per label, auto-learning counted against one recipient account.
  double auto_influence = 0.25;
  int auto_account_per_hour = 10;
  int auto_account_per_day = 50;
  // Per day and label, all auto-learning on the server together: however many recipient
  // accounts and sender domains a flood spreads over (the From: domain of unauthenticated
  // mail is the sender's choice), the server infers at most this much a day.
  double auto_server_influence = 1.0;
  // Per day and label, everything whose author is at one registrable domain, from anyone.
  double domain_influence = 0.25;
  int domain_per_day = 20;
  // Accounts and domains tracked in a day; beyond it, new ones are refused until the next day.
  std::size_t max_tracked = 20000;
};

// The day's use of LearningCaps (UTC days, hours of the same clock). Domains are the authors'
// registrable domains, lower-case; "" for mail without a single author.
class LearningBudget {
 public:
  explicit LearningBudget(LearningCaps caps = {}) : caps_(caps) {}
  // Whether the counts allow one more example at `now` (unix seconds); admit() also counts it.
  bool would_admit(std::int64_t account, const std::string& domain, bool spam, bool automatic, std::int64_t now) const;
  bool admit(std::int64_t account, const std::string& domain, bool spam, bool automatic, std::int64_t now);
  // The influence an admitted example may still have (the least of its account's and its
  // domain's), and booking what it had.
  double influence_left(std::int64_t account, const std::string& domain, bool spam, bool automatic,
                        std::int64_t now) const;
  void spend(std::int64_t account, const std::string& domain, bool spam, bool automatic, double influence,
             std::int64_t now);
  const LearningCaps& caps() const { return caps_; }

  // A small text form for the state file (kept across restarts; base/write_file.hpp).
  std::string serialize() const;
  static std::optional<LearningBudget> parse(std::string_view text, LearningCaps caps = {});

 private:
  struct AccountCount {
    int actions = 0, auto_day = 0, auto_hour = 0;
    std::int64_t hour = -1;            // the hour auto_hour counts
    double spent[2] = {0, 0};          // influence of its actions: [ham, spam]
    double auto_spent[2] = {0, 0};     // of auto-learning counted against it
  };
  struct DomainCount {
    int count[2] = {0, 0};             // [ham, spam]
    double spent[2] = {0, 0};
  };
  // An account's outstanding influence (not reset at midnight): [ham, spam] as of `at`.
  struct Outstanding {
    double influence[2] = {0, 0};
    std::int64_t at = 0;
  };
  void roll(std::int64_t now);
  double outstanding(std::int64_t account, bool spam, std::int64_t now) const;
  LearningCaps caps_;
  std::int64_t day_ = -1;
  double auto_spent_[2] = {0, 0};  // the day's auto-learning, server-wide: [ham, spam]
  std::map<std::int64_t, AccountCount> accounts_;
  std::map<std::string, DomainCount> domains_;
  std::map<std::int64_t, Outstanding> outstanding_;
};

// One example for the shared model.
struct Example {
  std::int64_t account_id = 0;  // whose action, or the recipient auto-learning counts against
  std::string domain;           // the author's registrable domain ("" if none)
  std::vector<std::uint32_t> features;
  bool spam = false;
  Evidence evidence = Evidence::moved;
};

// The shared learnt model and its budget: what the server's learner thread owns.
class SharedLearning {
 public:
  explicit SharedLearning(Model learned = Model(kSharedBits), LearningBudget budget = LearningBudget())
      : model_(std::move(learned)), budget_(std::move(budget)) {}
  // learnt: the model moved; counted: a user's example the model already agreed with by
  // kSharedMargin, or beyond the day's influence (counted towards kMinShared and the counts,
  // nothing moved); for auto-learnt examples the model agrees with it is no_information
  // (skipped: not even counted), and vetoed when the model disagrees by kAutoVeto
  // (auto_learn_informative); capped: over the day's counts.
  enum class Outcome { learnt, counted, no_information, vetoed, capped };
  // Learns the example over `base` (spam.model; null: none) if the budget admits it.
  Outcome learn(const Model* base, const Example& ex, std::int64_t now);
  const Model& model() const { return model_; }
  const LearningBudget& budget() const { return budget_; }
  bool would_admit(const Example& ex, std::int64_t now) const {
    return budget_.would_admit(ex.account_id, ex.domain, ex.spam, is_automatic(ex.evidence), now);
  }

 private:
  Model model_;
  LearningBudget budget_;
};

}  // namespace mk::filter
