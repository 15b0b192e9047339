#include "smtp/local_delivery.hpp"

#include <algorithm>
#include <chrono>

#include "auth/login.hpp"
#include "base/strings.hpp"

namespace mk::smtp {

bool LocalRecipients::expand(const std::string& address, const std::string& folder,
                             std::string& targets, bool& temp_fail, bool& full) {
  auto acct = store_.find_account(address);
  if (!acct) return temp_fail = true, false;
  if (*acct && !(*acct)->disabled) {
    if ((*acct)->over_quota()) return full = true, false;
    targets += std::to_string((*acct)->id) + ":" + folder + "\n";
    return true;
  }
  auto alias = store_.alias_targets(address);
  if (!alias) return temp_fail = true, false;
  bool any = false;
  for (std::size_t i = 0; i < alias->size() && i < kMaxAliasTargets; ++i) {
    // One level of aliasing: targets are accounts (no loops, no unbounded fan-out).
    const std::string& target = (*alias)[i];
    auto t = store_.find_account(target);
    if (!t) return temp_fail = true, false;
    if (*t && !(*t)->disabled && !(*t)->over_quota()) {
      targets += std::to_string((*t)->id) + ":" + folder + "\n";
      any = true;
      continue;
    }
    // A target in a domain we do not host: the alias forwards there.
    const auto at = target.rfind('@');
    auto hosted = at == std::string::npos ? Result<bool>(true) : store_.has_domain(target.substr(at + 1));
    if (!hosted) return temp_fail = true, false;
    if (!*hosted) {
      targets += std::string(kForwardPrefix) + target + "\n";
      any = true;
    }
  }
  return any;
}

RcptVerdict LocalRecipients::resolve(const message::Mailbox& rcpt) {
  RcptVerdict v;
  std::vector<std::string> domains;
  if (rcpt.domain.empty()) {
    auto all = store_.list_domains();
    if (!all) return {RcptVerdict::Kind::temp_fail, {}};
    domains = std::move(all.value());
  } else {
    if (rcpt.domain_literal) return {RcptVerdict::Kind::relay_denied, {}};
    auto hosted = store_.has_domain(rcpt.domain);
    if (!hosted) return {RcptVerdict::Kind::temp_fail, {}};
    if (!*hosted) return {RcptVerdict::Kind::relay_denied, {}};
    domains.push_back(to_lower(rcpt.domain));
  }
  const std::string local = to_lower(rcpt.local);
  // A bounce (or reply) to an address we wrote when forwarding: back to the original sender.
  if (srs_ && srs::Srs::looks_like_srs(rcpt.local) && !rcpt.domain.empty()) {
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(
        std::chrono::system_clock::now().time_since_epoch()).count();
    auto orig = srs_->reverse(rcpt.local + "@" + rcpt.domain, now);
    if (!orig) return {RcptVerdict::Kind::unknown_user, {}};
    return {RcptVerdict::Kind::accept, std::string(kForwardPrefix) + *orig + "\n"};
  }
  bool temp = false, full = false;
  for (const auto& d : domains) {
    if (expand(local + "@" + d, "INBOX", v.target, temp, full)) break;
    if (temp) return {RcptVerdict::Kind::temp_fail, {}};
    if (full) return {RcptVerdict::Kind::mailbox_full, {}};
    const auto plus = local.find('+');
    if (plus != std::string::npos && plus > 0) {
      // RFC 5233 sub-address: the tag keeps its case for the folder name.
      const std::string tag = rcpt.local.substr(plus + 1);
      if (expand(local.substr(0, plus) + "@" + d, tag.empty() ? "INBOX" : tag, v.target, temp, full)) break;
      if (temp) return {RcptVerdict::Kind::temp_fail, {}};
      if (full) return {RcptVerdict::Kind::mailbox_full, {}};
    }
  }
  v.kind = v.target.empty() ? RcptVerdict::Kind::unknown_user : RcptVerdict::Kind::accept;
  return v;
}

std::optional<AuthIdentity> StoreSubmissionPolicy::authenticate(std::string_view user, std::string_view password) {
  auto a = login_ ? auth::check_login(store_, user, password, *login_, nullptr, client_ ? &*client_ : nullptr,
                                      "submission")
                  : auth::check_login(store_, user, password, {}, nullptr, nullptr, "submission");
  if (!a) return std::nullopt;
  return AuthIdentity{a->id, a->address};
}

std::optional<std::pair<AuthIdentity, std::string>> StoreSubmissionPolicy::scram_account(std::string_view user) {
  auto a = store_.directory.find_account(to_lower(user));
  // SCRAM works only with the account password: not when the account requires app passwords.
  if (!a || !*a || (*a)->disabled || (*a)->scram.empty() || (*a)->require_app_passwords) return std::nullopt;
  // SCRAM never shows us the password, but an account flagged at an earlier login stays shut.
  if ((*a)->password_breached && login_ && login_->block_breached) return std::nullopt;
  // Locked under attack: SCRAM then fails exactly as for an unknown user.
  if (login_ && login_->throttle && client_ &&
      login_->throttle->account_locked(user, *client_, std::int64_t(std::time(nullptr))))
    return std::nullopt;
  return std::pair{AuthIdentity{(*a)->id, (*a)->address}, (*a)->scram};
}

bool StoreSubmissionPolicy::may_send_as(const AuthIdentity& who, const std::string& address) {
  const std::string addr = to_lower(address);
  const auto at = addr.rfind('@');
  if (at == std::string::npos || at == 0) return false;
  std::vector<std::string> candidates{addr};
  if (auto plus = addr.find('+'); plus != std::string::npos && plus > 0 && plus < at)
    candidates.push_back(addr.substr(0, plus) + addr.substr(at));  // RFC 5233 sub-address
  for (const auto& c : candidates) {
    if (c == who.address) return true;
    auto targets = store_.directory.alias_targets(c);
    if (!targets) continue;
    for (const auto& t : *targets)
      if (to_lower(t) == who.address) return true;
  }
  return false;
}

std::string StoreSubmissionPolicy::outbound_hold(const AuthIdentity& who) {
  auto a = store_.directory.find_account(who.address);
  return a && *a ? (*a)->outbound_hold : std::string();
}

namespace {

// One line of a recipient's target: "account_id:mailbox", or a forward (kForwardPrefix).
struct TargetLine {
  std::int64_t account_id = 0;  // 0: a forward
  std::string_view mailbox;     // or the forward's address
};
TargetLine decode_target_line(std::string_view line) {
  if (line.starts_with(kForwardPrefix)) return {0, line.substr(kForwardPrefix.size())};
  const auto colon = line.find(':');
  return {std::int64_t(parse_u64(line.substr(0, colon)).value_or(0)), line.substr(colon + 1)};
}

}  // namespace

std::vector<std::int64_t> local_accounts(const Transaction& txn, bool& elsewhere) {
  std::vector<std::int64_t> out;
  elsewhere = false;
  for (const auto& r : txn.rcpts) {
    if (r.target == kRemoteTarget) {
      elsewhere = true;
      continue;
    }
    for (auto line : split(r.target, '\n')) {
      if (line.empty()) continue;
      const auto t = decode_target_line(line);
      if (t.account_id == 0) elsewhere = true;
      else if (std::find(out.begin(), out.end(), t.account_id) == out.end()) out.push_back(t.account_id);
    }
  }
  return out;
}

std::int64_t sole_local_account(const Transaction& txn) {
  bool elsewhere = false;
  const auto accounts = local_accounts(txn, elsewhere);
  return !elsewhere && accounts.size() == 1 ? accounts[0] : 0;
}

store::NewMessage to_new_message(const Transaction& txn) {
  store::NewMessage m;
  m.data = std::make_shared<const std::string>(txn.message);
  m.mail_from = txn.mail.path.null ? "" : txn.mail.path.mailbox.canonical();
  m.sender_account = txn.account_id;
  m.requiretls = txn.mail.requiretls;
  if (txn.mail.ret == Ret::full) m.dsn += "RET=FULL";
  if (txn.mail.ret == Ret::hdrs) m.dsn += "RET=HDRS";
  if (!txn.mail.envid.empty()) m.dsn += (m.dsn.empty() ? "" : " ") + ("ENVID=" + txn.mail.envid);
  m.internaldate = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  for (const auto& r : txn.rcpts) {
    std::string dsn;
    if (!r.params.notify.empty()) dsn += "NOTIFY=" + r.params.notify;
    if (!r.params.orcpt.empty()) dsn += (dsn.empty() ? "" : " ") + ("ORCPT=" + r.params.orcpt);
    if (r.target == kRemoteTarget) {
      m.outbound.push_back(store::OutboundRcpt{r.address, dsn});
      continue;
    }
    for (auto line : split(r.target, '\n')) {
      if (line.empty()) continue;
      const auto t = decode_target_line(line);
      if (t.account_id == 0) {
        m.outbound.push_back(store::OutboundRcpt{std::string(t.mailbox), dsn});
        continue;
      }
      store::Delivery d;
      d.account_id = t.account_id;
      d.mailbox = std::string(t.mailbox);
      d.rcpt = r.address;
      d.dsn = dsn;
      // An alias and a direct address may name the same account: file it once.
      bool dup = false;
      for (const auto& e : m.deliveries)
        if (e.account_id == d.account_id && e.mailbox == d.mailbox) dup = true;
      if (!dup) m.deliveries.push_back(std::move(d));
    }
  }
  return m;
}

std::string forward_domain(const Transaction& txn) {
  for (const auto& r : txn.rcpts) {
    if (r.target.find(kForwardPrefix) == std::string::npos) continue;
    const auto at = r.address.rfind('@');
    if (at != std::string::npos) return to_lower(r.address.substr(at + 1));
  }
  return {};
}

}  // namespace mk::smtp
