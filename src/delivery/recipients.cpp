#include "delivery/recipients.hpp"

#include <algorithm>
#include <chrono>

#include "base/strings.hpp"
#include "imap/proto/summary.hpp"
#include "message/mime.hpp"

namespace mk::delivery {

using smtp::RcptVerdict;
using smtp::Target;

Result<bool> LocalRecipients::hosted(const std::string& address) {
  const auto at = address.rfind('@');
  return at == std::string::npos ? Result<bool>(true) : store_.has_domain(address.substr(at + 1));
}

Result<std::optional<Target>> LocalRecipients::forward_target(const store::Account& a) {
  auto hosted = this->hosted(a.forward_to);
  if (!hosted) return hosted.error();
  if (!*hosted) return std::optional<Target>(Target::forward(a.forward_to, a.id));
  // Another account here, one step: its own forwarding is not followed (no loops).
  auto other = store_.find_account(a.forward_to);
  if (!other) return other.error();
  if (!*other || (*other)->disabled || (*other)->id == a.id || (!over_quota_too_ && (*other)->over_quota()))
    return std::optional<Target>();
  return std::optional<Target>(Target::mailbox((*other)->id, "INBOX"));
}

bool LocalRecipients::account_targets(const store::Account& a, const std::string& folder, std::vector<Target>& targets,
                                      bool& temp_fail, bool& full) {
  // Forwarding pauses while containment holds the account (whoever took it over may have
  // set it up).
  std::optional<Target> to;
  if (!a.forward_to.empty() && a.outbound_hold.empty()) {
    auto t = forward_target(a);
    if (!t) return temp_fail = true, false;
    to = std::move(*t);
  }
  // A copy stays here when asked for, for server mail (a bounce, a security alert), and when
  // the forward has nowhere to go.
  const bool keep = !to || a.forward_keep || over_quota_too_;
  if (keep && a.over_quota() && !over_quota_too_) return full = true, false;
  if (keep) targets.push_back(Target::mailbox(a.id, folder));
  if (to) targets.push_back(std::move(*to));
  return true;
}

bool LocalRecipients::expand(const std::string& address, const std::string& folder,
                             std::vector<Target>& targets, bool& temp_fail, bool& full) {
  auto acct = store_.find_account(address);
  if (!acct) return temp_fail = true, false;
  if (*acct && !(*acct)->disabled) return account_targets(**acct, folder, targets, temp_fail, full);
  auto alias = store_.alias_targets(address);
  if (!alias) return temp_fail = true, false;
  bool any = false;
  for (std::size_t i = 0; i < alias->size() && i < kMaxAliasTargets; ++i) {
    const std::string& target = (*alias)[i];
    auto t = store_.find_account(target);
    if (!t) return temp_fail = true, false;
    if (*t && !(*t)->disabled) {
      // A member's own forwarding applies; a full member is skipped rather than refusing everyone.
      bool member_full = false;
      if (account_targets(**t, folder, targets, temp_fail, member_full)) any = true;
      if (temp_fail) return false;
      continue;
    }
    // A target in a domain we do not host: the alias forwards there.
    auto here = hosted(target);
    if (!here) return temp_fail = true, false;
    if (!*here) {
      targets.push_back(Target::forward(target));
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
    return {RcptVerdict::Kind::accept, {Target::forward(*orig)}};
  }
  bool temp = false, full = false;
  for (const auto& d : domains) {
    if (expand(local + "@" + d, "INBOX", v.targets, temp, full)) break;
    if (temp) return {RcptVerdict::Kind::temp_fail, {}};
    if (full) return {RcptVerdict::Kind::mailbox_full, {}};
    const auto plus = local.find('+');
    if (plus != std::string::npos && plus > 0) {
      // RFC 5233 sub-address: the tag keeps its case for the folder name.
      const std::string tag = rcpt.local.substr(plus + 1);
      if (expand(local.substr(0, plus) + "@" + d, tag.empty() ? "INBOX" : tag, v.targets, temp, full)) break;
      if (temp) return {RcptVerdict::Kind::temp_fail, {}};
      if (full) return {RcptVerdict::Kind::mailbox_full, {}};
    }
  }
  v.kind = v.targets.empty() ? RcptVerdict::Kind::unknown_user : RcptVerdict::Kind::accept;
  return v;
}

std::vector<std::int64_t> local_accounts(const smtp::Transaction& txn, bool& elsewhere) {
  std::vector<std::int64_t> out;
  elsewhere = false;
  for (const auto& r : txn.rcpts)
    for (const auto& t : r.targets) {
      // An account's own forwarding is the account's mail: its verdict, its Junk.
      if (t.account_id == 0) elsewhere = true;
      else if (std::find(out.begin(), out.end(), t.account_id) == out.end()) out.push_back(t.account_id);
    }
  return out;
}

void keep_junk_here(smtp::Transaction& txn, bool all, const std::vector<std::int64_t>& junk_accounts) {
  for (auto& r : txn.rcpts) {
    std::vector<Target> kept;
    for (auto& t : r.targets) {
      const bool withheld = t.kind == Target::Kind::forward && t.account_id != 0 &&
                            (all || std::find(junk_accounts.begin(), junk_accounts.end(), t.account_id) !=
                                        junk_accounts.end());
      if (!withheld) {
        kept.push_back(std::move(t));
        continue;
      }
      const auto here = [&](const Target& k) { return k.kind == Target::Kind::mailbox && k.account_id == t.account_id; };
      // The copy kept here (when forward_keep) is enough; otherwise one is made.
      if (std::none_of(r.targets.begin(), r.targets.end(), here) && std::none_of(kept.begin(), kept.end(), here))
        kept.push_back(Target::mailbox(t.account_id, "INBOX"));
    }
    r.targets = std::move(kept);
  }
}

std::int64_t sole_local_account(const smtp::Transaction& txn) {
  bool elsewhere = false;
  const auto accounts = local_accounts(txn, elsewhere);
  return !elsewhere && accounts.size() == 1 ? accounts[0] : 0;
}

void add_delivery(store::NewMessage& m, store::Delivery d) {
  const bool dup = std::any_of(m.deliveries.begin(), m.deliveries.end(), [&](const store::Delivery& e) {
    return e.account_id == d.account_id && e.mailbox == d.mailbox;
  });
  if (!dup) m.deliveries.push_back(std::move(d));
}

store::NewMessage to_new_message(const smtp::Transaction& txn, const message::Parsed& msg) {
  store::NewMessage m;
  m.head = txn.trace;
  m.data = msg.shared_text();
  m.message_id = msg.message_id();
  m.mail_from = txn.mail.path.null ? "" : txn.mail.path.mailbox.canonical();
  m.sender_account = txn.account_id;
  m.requiretls = txn.mail.requiretls;
  if (txn.mail.ret == smtp::Ret::full) m.dsn += "RET=FULL";
  if (txn.mail.ret == smtp::Ret::hdrs) m.dsn += "RET=HDRS";
  if (!txn.mail.envid.empty()) m.dsn += (m.dsn.empty() ? "" : " ") + ("ENVID=" + txn.mail.envid);
  m.internaldate = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  for (const auto& r : txn.rcpts) {
    std::string dsn;
    if (!r.params.notify.empty()) dsn += "NOTIFY=" + r.params.notify;
    if (!r.params.orcpt.empty()) dsn += (dsn.empty() ? "" : " ") + ("ORCPT=" + r.params.orcpt);
    for (const auto& t : r.targets) {
      switch (t.kind) {
        case Target::Kind::remote: m.outbound.push_back(store::OutboundRcpt{r.address, dsn}); break;
        case Target::Kind::forward: {
          // An alias and an account's forwarding may name the same address: sent once.
          const bool dup = std::any_of(m.outbound.begin(), m.outbound.end(),
                                       [&](const store::OutboundRcpt& o) { return o.rcpt == t.where; });
          if (!dup) m.outbound.push_back(store::OutboundRcpt{t.where, dsn});
          break;
        }
        case Target::Kind::mailbox: {
          // An alias and a direct address may name the same account: file it once.
          add_delivery(m, store::Delivery{t.account_id, t.where, r.address, dsn});
          break;
        }
      }
    }
  }
  // The summary of the content is the stored message's: the fields on top are trace fields,
  // which ENVELOPE and BODYSTRUCTURE do not show.
  if (!m.deliveries.empty()) m.summary = summary_of(msg);
  return m;
}

std::string summary_of(std::string_view message) {
  return imap::encode_summary(imap::summarize(message::parse_mime(message)));
}

std::string summary_of(const message::Parsed& message) { return imap::encode_summary(imap::summarize(message.mime())); }

std::string forward_domain(const smtp::Transaction& txn) {
  for (const auto& r : txn.rcpts) {
    const bool forwards = std::any_of(r.targets.begin(), r.targets.end(),
                                      [](const Target& t) { return t.kind == Target::Kind::forward; });
    if (!forwards) continue;
    const auto at = r.address.rfind('@');
    if (at != std::string::npos) return to_lower(r.address.substr(at + 1));
  }
  return {};
}

}  // namespace mk::delivery
