#include "app/containment.hpp"

#include <algorithm>
#include <ctime>

#include <fmt/format.h>

#include "auth/throttle.hpp"

namespace mk::app {

std::size_t hold_queued_mail(store::Store& store, std::int64_t account_id, store::QueueAction action) {
  auto queue = store.list_queue();
  if (!queue) return 0;
  std::size_t n = 0;
  for (const auto& m : *queue) {
    if (m.sender_account != account_id) continue;
    if (action == store::QueueAction::drop) {
      const bool held = std::any_of(m.rcpts.begin(), m.rcpts.end(),
                                    [](const store::QueueRcpt& r) { return r.state == store::RcptState::held; });
      if (!held) continue;
    }
    if (auto r = store.queue_action(m.id, action); r && *r > 0) ++n;
  }
  return n;
}

std::optional<smtp::Reply> Containment::check(const smtp::Transaction& txn, const std::string& account,
                                              const std::vector<std::string>& remote_rcpts, const std::string& remote_ip) {
  const std::int64_t now = std::time(nullptr);
  // A network first used within the hour by an account that had logged in elsewhere before.
  std::string network = remote_ip;
  bool strict = false;
  if (auto ip = IpAddr::parse(remote_ip)) {
    network = auth::Throttle::network_key(*ip);
    auto h = store_.network_history(account, network);
    strict = h && h->first_seen > 0 && h->other_networks_before && now - h->first_seen < kNewNetworkWindow;
  }
  const auto d = limits_.submit(txn.account_id, remote_rcpts, now, network, strict);
  if (!d.hold) return std::nullopt;
  const std::string& address = account;
  (void)store_.set_outbound_hold(txn.account_id, d.reason);
  limits_.forget(txn.account_id);
  const std::size_t held = hold_queued_mail(store_, txn.account_id, store::QueueAction::hold);
  log_.warn("guard.hold", {{"user", address}, {"reason", d.reason}, {"held_messages", held}, {"ip", remote_ip}});
  if (audit_) (void)audit_->append("outbound_hold", {{"user", address}, {"reason", d.reason}, {"ip", remote_ip},
                                                     {"held_messages", std::to_string(held)}});
  const std::string body = fmt::format(
      "Outgoing mail from {} has been stopped: {}.\n\n"
      "This is what a spam run from a stolen password looks like. Nothing was deleted: {} queued\n"
      "message(s) are held and new mail is refused until an administrator reviews the account\n"
      "(mailkeep account release {} to resume, or account drop-held to discard the held mail).\n"
      "If you did not send this mail, change your password.\n",
      address, d.reason, held, address);
  alerts_.tell_user(address, "Your outgoing mail has been stopped", body);
  alerts_.tell_admin("Outbound mail held: " + address, body + fmt::format("\nLast submission from {}.\n", remote_ip));
  return smtp::Reply(451, "4.7.1", fmt::format("Sending from {} is suspended pending review ({}); your administrator "
                                               "can release it", address, d.reason));
}

}  // namespace mk::app
