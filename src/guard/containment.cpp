#include "guard/containment.hpp"

#include <ctime>

#include <fmt/format.h>

#include "auth/throttle.hpp"
#include "message/header.hpp"
#include "message/links.hpp"

namespace mk::guard {
namespace {

// The refusal of a held account's submission (RFC 3463 4.7.1: delivery not authorized).
smtp::Reply suspended(const std::string& account, const std::string& reason) {
  return smtp::Reply(451, "4.7.1", fmt::format("Sending from {} is suspended pending review ({}); your administrator "
                                               "can release it", account, reason));
}

}  // namespace

std::optional<smtp::Reply> Containment::check(const smtp::Transaction& txn, const message::Parsed& msg,
                                              const std::string& account,
                                              const std::vector<std::string>& remote_rcpts, const std::string& remote_ip) {
  if (auto reason = unstored_hold(txn.account_id)) return suspended(account, *reason);
  const std::int64_t now = std::time(nullptr);
  // A network first used within the hour by an account that had logged in elsewhere before.
  std::string network = remote_ip;
  bool strict = false;
  if (auto ip = IpAddr::parse(remote_ip)) {
    network = auth::Throttle::network_key(*ip);
    auto h = store_.security.network_history(account, network);
    strict = h && h->first_seen > 0 && h->other_networks_before && now - h->first_seen < kNewNetworkWindow;
  }
  const auto d = limits_.submit(txn.account_id, remote_rcpts, now, network, strict,
                                remote_rcpts.empty() ? guard::MessageTraits{} : traits_of(txn.account_id, msg));
  if (!d.hold) return std::nullopt;
  hold(txn.account_id, account, d.reason, remote_ip);
  return suspended(account, d.reason);
}

guard::MessageTraits Containment::traits_of(std::int64_t account_id, const message::Parsed& msg) {
  guard::MessageTraits t;
  const auto& ids = msg.thread_ids();
  if (ids.empty()) return t;
  if (auto newest = store_.reputation.newest_in_thread(account_id, ids); newest && *newest) {
    t.thread_newest = **newest;
    t.links = !msg.links().empty();
  }
  return t;
}

void Containment::verdicts(std::int64_t account_id, int delivered, int refused) {
  const auto d = limits_.outcomes(account_id, delivered, refused, std::time(nullptr));
  if (!d.hold) return;
  {
    std::lock_guard lock(mu_);
    if (unstored_holds_.contains(account_id)) return;  // held already (in memory): no second alert
  }
  auto a = store_.directory.account_by_id(account_id);
  if (a && *a && (*a)->outbound_hold.empty()) hold(account_id, (*a)->address, d.reason, "");
}

bool Containment::store_hold(std::int64_t account_id, const std::string& reason) {
  auto st = store_.directory.set_outbound_hold(account_id, reason);
  std::lock_guard lock(mu_);
  if (st) {
    unstored_holds_.erase(account_id);
    return true;
  }
  unstored_holds_[account_id] = reason;
  log_.error("guard.hold_not_stored", {{"account_id", account_id}, {"reason", reason}, {"error", st.error().message},
                                       {"effect", "every submission of the account is refused until it is stored"}});
  return false;
}

std::optional<std::string> Containment::unstored_hold(std::int64_t account_id) {
  std::string reason;
  {
    std::lock_guard lock(mu_);
    auto it = unstored_holds_.find(account_id);
    if (it == unstored_holds_.end()) return std::nullopt;
    reason = it->second;
  }
  store_hold(account_id, reason);  // once stored, MAIL FROM refuses it from the store's flag
  return reason;
}

void Containment::hold(std::int64_t account_id, const std::string& address, const std::string& reason,
                       const std::string& remote_ip) {
  const bool stored = store_hold(account_id, reason);
  limits_.forget(account_id);
  auto queued = store_.queue.account_queue_action(account_id, store::QueueAction::hold);
  if (!queued) log_.error("guard.hold_failed", {{"user", address}, {"error", queued.error().message}});
  const std::size_t held = queued ? *queued : 0;
  log_.warn("guard.hold", {{"user", address}, {"reason", reason}, {"held_messages", held}, {"ip", remote_ip}});
  if (audit_)
    log_.ok_or_log(audit_->append("outbound_hold", {{"user", address}, {"reason", reason}, {"ip", remote_ip},
                                                    {"held_messages", std::to_string(held)}, {"stored", stored ? "yes" : "no"}}),
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
