#include "filter/learning.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <type_traits>

#include <fmt/format.h>

namespace mk::filter {
namespace {

constexpr std::int64_t kDay = 86400;
constexpr std::int64_t kHour = 3600;
constexpr std::string_view kStateMagic = "mailkeep-learning 1";
constexpr double kForgotten = 0.001;

// A domain as a state-file word: lower-case, no blanks, bounded; "-" for none.
std::string domain_word(const std::string& domain) { return domain.empty() ? "-" : domain; }

bool plausible_domain(std::string_view d) {
  if (d.empty() || d.size() > 255) return false;
  return std::all_of(d.begin(), d.end(), [](char c) { return c > ' ' && c != 0x7f; });
}

template <typename T>
bool number(std::string_view s, T& out) {
  const auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size()) return false;
  if constexpr (std::is_floating_point_v<T>) return std::isfinite(out) && out >= 0;
  return true;
}

std::vector<std::string_view> words(std::string_view line) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && line[i] == ' ') ++i;
    std::size_t j = i;
    while (j < line.size() && line[j] != ' ') ++j;
    if (j > i) out.push_back(line.substr(i, j - i));
    i = j;
  }
  return out;
}

}  // namespace

std::string_view evidence_name(Evidence e) {
  switch (e) {
    case Evidence::moved: return "moved";
    case Evidence::deleted_unread: return "deleted_unread";
    case Evidence::replied: return "replied";
    case Evidence::auto_spam: return "auto_spam";
    case Evidence::auto_ham: return "auto_ham";
  }
  return "moved";
}

double shared_rate(Evidence e) {
  switch (e) {
    case Evidence::moved:
    case Evidence::replied: return Model::kRate / 2;
    case Evidence::deleted_unread:
    case Evidence::auto_spam:
    case Evidence::auto_ham: return Model::kRate / 4;
  }
  return Model::kRate / 4;
}

std::optional<bool> auto_learn_label(const Verdict& v, bool known_sender, const Thresholds& t) {
  double others = 0;
  int positive = 0, positive_not_phishing = 0;
  for (const auto& s : v.signals) {
    if (s.name == "GTUBE") return std::nullopt;  // a test message: its words are no sample of spam
    if (s.name == "CLASSIFIER") continue;
    others += s.score;
    if (s.score > 0) {
      ++positive;
      if (!is_phishing_signal(s)) ++positive_not_phishing;
    }
  }
  // Ham: an authenticated correspondent, and nothing else says spam.
  if (known_sender) {
    if (positive == 0) return false;
    return std::nullopt;
  }
  // Spam: the other signals alone, far beyond the Junk threshold (an admin's lower one does
  // not lower this), from several signals, not only the phishing heuristics (which also fire
  // on some newsletters, and target few messages).
  const double needed = std::max(t.junk, Thresholds{}.junk) + kAutoSpamMargin;
  if (others >= needed && positive >= 2 && positive_not_phishing >= 1) return true;
  return std::nullopt;
}

bool auto_learn_informative(bool spam, double score) {
  if (spam) return score < kSharedMargin && score > -kAutoVeto;
  return score > -kSharedMargin && score < kAutoVeto;
}

void LearningBudget::roll(std::int64_t now) {
  const std::int64_t day = now / kDay;
  if (day == day_) return;
  day_ = day;
  accounts_.clear();
  domains_.clear();
  auto_spent_[0] = auto_spent_[1] = 0;
  // Outstanding influence that has all but decayed is forgotten (the map stays small).
  for (auto it = outstanding_.begin(); it != outstanding_.end();) {
    if (outstanding(it->first, false, now) + outstanding(it->first, true, now) < kForgotten) it = outstanding_.erase(it);
    else ++it;
  }
}

bool LearningBudget::would_admit(std::int64_t account, const std::string& domain, bool spam, bool automatic,
                                 std::int64_t now) const {
  const bool today = now / kDay == day_;
  const std::int64_t hour = now / kHour;
  AccountCount a;
  DomainCount d;
  bool known_account = false, known_domain = false;
  if (today) {
    if (auto it = accounts_.find(account); it != accounts_.end()) a = it->second, known_account = true;
    if (auto it = domains_.find(domain); it != domains_.end()) d = it->second, known_domain = true;
  }
  // (Outstanding influence is kept per account, of which there are only the server's own.)
  const std::size_t tracked = today ? accounts_.size() + domains_.size() : 0;
  const std::size_t adding = std::size_t(!known_account) + std::size_t(!known_domain);
  if (tracked + adding > caps_.max_tracked) return false;
  if (d.count[spam] >= caps_.domain_per_day) return false;
  if (!automatic) return a.actions < caps_.account_per_day;
  const int this_hour = a.hour == hour ? a.auto_hour : 0;
  return a.auto_day < caps_.auto_account_per_day && this_hour < caps_.auto_account_per_hour;
}

bool LearningBudget::admit(std::int64_t account, const std::string& domain, bool spam, bool automatic,
                           std::int64_t now) {
  roll(now);
  if (!would_admit(account, domain, spam, automatic, now)) return false;
  auto& a = accounts_[account];
  ++domains_[domain].count[spam];
  if (!automatic) {
    ++a.actions;
  } else {
    const std::int64_t hour = now / kHour;
    if (a.hour != hour) a.hour = hour, a.auto_hour = 0;
    ++a.auto_hour;
    ++a.auto_day;
  }
  return true;
}

double LearningBudget::outstanding(std::int64_t account, bool spam, std::int64_t now) const {
  auto it = outstanding_.find(account);
  if (it == outstanding_.end()) return 0;
  const double days = double(std::max<std::int64_t>(0, now - it->second.at)) / double(kDay);
  return it->second.influence[spam] * std::exp2(-days / caps_.lifetime_half_life_days);
}

double LearningBudget::influence_left(std::int64_t account, const std::string& domain, bool spam, bool automatic,
                                      std::int64_t now) const {
  double used = 0, domain_used = 0, server_used = 0;
  if (now / kDay == day_) {
    server_used = auto_spent_[spam];
    if (auto it = accounts_.find(account); it != accounts_.end())
      used = automatic ? it->second.auto_spent[spam] : it->second.spent[spam];
    if (auto it = domains_.find(domain); it != domains_.end()) domain_used = it->second.spent[spam];
  }
  double own = (automatic ? caps_.auto_influence : caps_.account_influence) - used;
  if (!automatic) own = std::min(own, caps_.account_lifetime_influence - outstanding(account, spam, now));
  else own = std::min(own, caps_.auto_server_influence - server_used);
  return std::max(0.0, std::min(own, caps_.domain_influence - domain_used));
}

void LearningBudget::spend(std::int64_t account, const std::string& domain, bool spam, bool automatic,
                           double influence, std::int64_t now) {
  roll(now);
  auto& a = accounts_[account];
  (automatic ? a.auto_spent : a.spent)[spam] += influence;
  domains_[domain].spent[spam] += influence;
  if (automatic) auto_spent_[spam] += influence;
  if (automatic || influence <= 0) return;
  Outstanding o;
  o.influence[0] = outstanding(account, false, now);
  o.influence[1] = outstanding(account, true, now);
  o.influence[spam] += influence;
  o.at = now;
  outstanding_[account] = o;
}

std::string LearningBudget::serialize() const {
  std::string out = fmt::format("{}\nday {}\nauto {} {}\n", kStateMagic, day_, auto_spent_[0], auto_spent_[1]);
  for (const auto& [id, a] : accounts_)
    out += fmt::format("a {} {} {} {} {} {} {} {} {}\n", id, a.actions, a.auto_day, a.auto_hour, a.hour, a.spent[0],
                       a.spent[1], a.auto_spent[0], a.auto_spent[1]);
  for (const auto& [name, d] : domains_)
    if (plausible_domain(domain_word(name)))
      out += fmt::format("d {} {} {} {} {}\n", domain_word(name), d.count[0], d.count[1], d.spent[0], d.spent[1]);
  for (const auto& [id, o] : outstanding_)
    out += fmt::format("o {} {} {} {}\n", id, o.influence[0], o.influence[1], o.at);
  return out;
}

std::optional<LearningBudget> LearningBudget::parse(std::string_view text, LearningCaps caps) {
  LearningBudget b(caps);
  bool first = true;
  while (!text.empty()) {
    const auto nl = text.find('\n');
    const std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (first) {
      if (line != kStateMagic) return std::nullopt;
      first = false;
      continue;
    }
    const auto w = words(line);
    if (w.empty()) continue;
    if (w[0] == "day" && w.size() == 2) {
      if (!number(w[1], b.day_)) return std::nullopt;
    } else if (w[0] == "auto" && w.size() == 3) {  // absent from files of before: nothing spent
      if (!number(w[1], b.auto_spent_[0]) || !number(w[2], b.auto_spent_[1])) return std::nullopt;
    } else if (w[0] == "a" && w.size() == 10) {
      std::int64_t id = 0;
      AccountCount a;
      if (!number(w[1], id) || !number(w[2], a.actions) || !number(w[3], a.auto_day) || !number(w[4], a.auto_hour) ||
          !number(w[5], a.hour) || !number(w[6], a.spent[0]) || !number(w[7], a.spent[1]) ||
          !number(w[8], a.auto_spent[0]) || !number(w[9], a.auto_spent[1]))
        return std::nullopt;
      b.accounts_[id] = a;
    } else if (w[0] == "d" && w.size() == 6) {
      DomainCount d;
      if (!plausible_domain(w[1]) || !number(w[2], d.count[0]) || !number(w[3], d.count[1]) ||
          !number(w[4], d.spent[0]) || !number(w[5], d.spent[1]))
        return std::nullopt;
      b.domains_[w[1] == "-" ? std::string() : std::string(w[1])] = d;
    } else if (w[0] == "o" && w.size() == 5) {
      std::int64_t id = 0;
      Outstanding o;
      if (!number(w[1], id) || !number(w[2], o.influence[0]) || !number(w[3], o.influence[1]) || !number(w[4], o.at))
        return std::nullopt;
      b.outstanding_[id] = o;
    } else {
      return std::nullopt;
    }
  }
  if (first) return std::nullopt;
  return b;
}

SharedLearning::Outcome SharedLearning::learn(const Model* base, const Example& ex, std::int64_t now) {
  const bool automatic = is_automatic(ex.evidence);
  if (automatic) {
    const double score = (base ? base->score(ex.features) : 0.0) + model_.score(ex.features);
    if (ex.spam ? score >= kSharedMargin : score <= -kSharedMargin) return Outcome::no_information;
    if (!auto_learn_informative(ex.spam, score)) return Outcome::vetoed;
  }
  if (!budget_.admit(ex.account_id, ex.domain, ex.spam, automatic, now)) return Outcome::capped;
  const double allowed = budget_.influence_left(ex.account_id, ex.domain, ex.spam, automatic, now);
  double left = allowed;
  model_.learn_towards(base, ex.features, ex.spam, Model::Schedule{shared_rate(ex.evidence), kSharedMargin, kSharedMaxSteps},
                       &left);
  budget_.spend(ex.account_id, ex.domain, ex.spam, automatic, allowed - left, now);
  model_.count(ex.spam);
  return allowed - left > 0 ? Outcome::learnt : Outcome::counted;
}

}  // namespace mk::filter
