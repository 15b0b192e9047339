#include "guard/containment.hpp"

#include <algorithm>
#include <ctime>

#include <fmt/format.h>

#include "auth/throttle.hpp"
#include "base/strings.hpp"
#include "filter/blocklists.hpp"
#include "filter/verdict.hpp"
#include "guard/fingerprint.hpp"
#include "message/header.hpp"
#include "message/links.hpp"

namespace mk::guard {
namespace {

constexpr std::int64_t kDay = 86400;

// The refusal of a held account's submission (RFC 3463 4.7.1: delivery not authorized).
smtp::Reply suspended(const std::string& account, const std::string& reason) {
  return smtp::Reply(451, "4.7.1", fmt::format("Sending from {} is suspended pending review ({}); your administrator "
                                               "can release it", account, reason));
}

void add_once(std::vector<std::string>& to, std::string v) {
  if (!v.empty() && std::find(to.begin(), to.end(), v) == to.end()) to.push_back(std::move(v));
}

}  // namespace

std::optional<smtp::Reply> Containment::check(const smtp::Transaction& txn, const message::Parsed& msg,
                                              const std::string& account,
                                              const std::vector<std::string>& remote_rcpts, const std::string& remote_ip) {
  if (auto reason = unstored_hold(txn.account_id)) return suspended(account, *reason);
  const std::int64_t now = std::time(nullptr);
  Submission s;
  s.network = remote_ip;
  // A network first used within the hour: the account's history earns nothing there. The
  // first login of all counts too: an account nobody used before has no history to lose,
  // and a stolen one used first by the thief must not start with the static limits.
  if (auto ip = IpAddr::parse(remote_ip)) {
    s.network = auth::Throttle::network_key(*ip);
    auto h = store_.security.network_history(account, s.network);
    s.strict = h && h->first_seen > 0 && now - h->first_seen < kNewNetworkWindow;
    s.elsewhere_before = s.strict && h->other_networks_before;
  }
  if (!remote_rcpts.empty()) {
    s.history = history_of(txn.account_id, now);
    s.traits = traits_of(txn.account_id, msg);
    s.content = content_of(txn.account_id, msg, remote_rcpts);
  }
  const auto d = limits_.submit(txn.account_id, remote_rcpts, now, s);
  if (!d.hold) {
    // Its link domains are the server's to know from now on (a day later they are not fresh).
    if (!s.content.link_domains.empty())
      log_.ok_or_log(store_.reputation.add_link_domains(s.content.link_domains, now), "guard.link_domains_not_stored");
    return std::nullopt;
  }
  hold(txn.account_id, account, d, remote_ip, now);
  return suspended(account, d.reason);
}

guard::MessageTraits Containment::traits_of(std::int64_t account_id, const message::Parsed& msg) {
  guard::MessageTraits t;
  const auto& ids = msg.thread_ids();
  if (ids.empty()) return t;
  t.thread_ids = ids;
  if (auto newest = store_.reputation.newest_in_thread(account_id, ids); newest && *newest) {
    t.thread_newest = **newest;
    t.links = !msg.links().empty();
  }
  return t;
}

History Containment::history_of(std::int64_t account_id, std::int64_t now) {
  History h;
  if (auto a = store_.directory.account_by_id(account_id); a && *a) h.age_seconds = now - (*a)->created;
  if (auto c = store_.reputation.correspondence(account_id, kHistoryCountCap)) {
    h.writers = c->writers;
    h.answered = answered_points(c->answered_addresses, orgs_);
  } else {
    log_.error("guard.history_unreadable", {{"account_id", account_id}, {"error", c.error().message}});
  }
  // Days before today: today's mail is what is being judged, not history.
  const std::int64_t today = now / kDay * 24;
  if (auto b = store_.reputation.send_baseline(account_id, today - store::Reputation::kSendHistoryHours, today))
    h.sending_days = b->active_days;
  return h;
}

Content Containment::content_of(std::int64_t account_id, const message::Parsed& msg,
                                const std::vector<std::string>& remote_rcpts) {
  Content c;
  c.fingerprint = fingerprint(readable_text(msg));
  // The sender's own (hosted) domains and the recipients' are never fresh links: of the
  // hosted ones, those the message links to are named (not all of a large installation's).
  const std::shared_ptr<const filter::KnownDomains> hosted = hosted_.get(log_, "guard.hosted_domains_unread");
  c.link_domains = filter::link_domains(msg.links(), orgs_);
  if (hosted)
    for (const auto& d : c.link_domains)
      if (hosted->contains(d)) add_once(c.own_domains, d);
  for (const auto& r : remote_rcpts)
    if (auto at = r.rfind('@'); at != std::string::npos)
      add_once(c.own_domains, orgs_.organizational(to_lower(r.substr(at + 1))));
  if (!c.link_domains.empty()) {
    // Unreadable: never seen, which is what a spam run's domain would be.
    auto seen = store_.reputation.link_domains_seen(c.link_domains);
    c.link_first_seen = seen ? *seen : std::vector<std::int64_t>(c.link_domains.size(), 0);
  }
  // What the MX's filter would say of it, without sender authentication (we are the sender).
  filter::Inputs in;
  const auto models = filter_.models ? filter_.models() : decltype(filter_.models())();
  in.model = models.first.get();
  in.rule_weight = filter::hand_rule_weight(models.second.get());
  in.orgs = &orgs_;
  in.thresholds = filter_.thresholds;
  in.own_domains = hosted;
  const filter::Verdict v = filter::judge(msg, in);
  c.filter = FilterOpinion{v.action == filter::Action::junk || v.action == filter::Action::reject,
                           v.action == filter::Action::reject, v.score, v.summary()};
  // A reply in a thread the account has: who took part in it (a mailing list's threads are
  // open to anyone: no participants, no outsiders).
  const auto& ids = msg.thread_ids();
  if (!ids.empty()) {
    auto thread = store_.reputation.thread_messages(account_id, ids, kThreadMessagesRead);
    if (thread && !thread->empty()) {
      std::vector<std::string> participants;
      bool open = false;
      for (const auto& info : *thread) {
        auto head = store_.mail.read_message_start(info, filter::kThreadHeaderBytes);
        if (head && !filter::add_thread_participants(*head, participants)) open = true;
      }
      if (!open) {
        c.thread = ids.back();  // the oldest Message-ID it names: the same for every reply in the thread
        for (const auto& r : remote_rcpts)
          if (std::find(participants.begin(), participants.end(), to_lower(r)) == participants.end())
            add_once(c.thread_outsiders, to_lower(r));
      }
    }
  }
  return c;
}

void Containment::verdicts(std::int64_t account_id, int delivered, int refused) {
  const std::int64_t now = std::time(nullptr);
  const auto d = limits_.outcomes(account_id, delivered, refused, now);
  if (!d.hold) return;
  {
    std::lock_guard lock(mu_);
    if (unstored_holds_.contains(account_id)) return;  // held already (in memory): no second alert
  }
  auto a = store_.directory.account_by_id(account_id);
  if (a && *a && (*a)->outbound_hold.empty()) hold(account_id, (*a)->address, d, "", now);
}

bool Containment::store_hold(std::int64_t account_id, const std::string& reason, std::int64_t held_at) {
  auto st = store_.directory.set_outbound_hold(account_id, reason);
  if (st) {
    // What led to it is closed, and a window made while it was held in memory only (the
    // queue runner's verdicts seed one) goes with it.
    limits_.close_history(account_id, held_at);
    limits_.forget(account_id);
  }
  std::lock_guard lock(mu_);
  if (st) {
    unstored_holds_.erase(account_id);
    return true;
  }
  unstored_holds_[account_id] = UnstoredHold{reason, held_at};
  log_.error("guard.hold_not_stored", {{"account_id", account_id}, {"reason", reason}, {"error", st.error().message},
                                       {"effect", "every submission of the account is refused until it is stored"}});
  return false;
}

std::optional<std::string> Containment::unstored_hold(std::int64_t account_id) {
  UnstoredHold h;
  {
    std::lock_guard lock(mu_);
    auto it = unstored_holds_.find(account_id);
    if (it == unstored_holds_.end()) return std::nullopt;
    h = it->second;
  }
  store_hold(account_id, h.reason, h.held_at);  // once stored, MAIL FROM refuses it from the store's flag
  return h.reason;
}

void Containment::hold(std::int64_t account_id, const std::string& address, const SendingLimits::Decision& d,
                       const std::string& remote_ip, std::int64_t now) {
  const std::string& reason = d.reason;
  const bool stored = store_hold(account_id, reason, now);
  limits_.forget(account_id);  // stored or not: enforced from the flag or from memory
  auto queued = store_.queue.account_queue_action(account_id, store::QueueAction::hold);
  if (!queued) log_.error("guard.hold_failed", {{"user", address}, {"error", queued.error().message}});
  const std::size_t held = queued ? *queued : 0;
  // What got out before the hold, for the security report: recipients the remote servers
  // answered, or the window's accepted messages less those the hold stopped in the queue.
  const std::int64_t left = d.from_verdicts ? d.sent : std::max<std::int64_t>(0, d.sent - std::int64_t(held));
  log_.warn("guard.hold", {{"user", address}, {"reason", reason}, {"held_messages", held}, {"ip", remote_ip}});
  if (audit_)
    log_.ok_or_log(audit_->append("outbound_hold", {{"user", address}, {"reason", reason}, {"ip", remote_ip},
                                                    {"held_messages", std::to_string(held)}, {"stored", stored ? "yes" : "no"},
                                                    {"since", std::to_string(d.since)}, {"sent", std::to_string(d.sent)},
                                                    {"left", std::to_string(left)}}),
                   "audit.append_failed", {{"event", "outbound_hold"}});
  const std::string body = fmt::format(
      "Outgoing mail from {} has been stopped: {}.\n\n"
      "This is what a spam run from a stolen password looks like. Nothing was deleted: {} queued\n"
      "message(s) are held and new mail is refused until an administrator reviews the account\n"
      "(mailkeep account release {} to resume, or account drop-held to discard the held mail).\n"
      "If you did not send this mail, change your password.\n",
      address, reason, held, address);
  alerts_.tell_user(address, "Your outgoing mail has been stopped", body);
  alerts_.tell_admin("Outbound mail held: " + address,
                     body + (remote_ip.empty() ? "" : fmt::format("\nLast submission from {}.\n", remote_ip)) +
                         (stored ? "" : "\nTHE HOLD COULD NOT BE STORED (see the log, guard.hold_not_stored): it is "
                                        "enforced in memory until it is, and lost at a restart.\n"));
}

}  // namespace mk::guard
