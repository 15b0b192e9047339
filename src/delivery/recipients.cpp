#include "delivery/recipients.hpp"

#include <algorithm>
#include <chrono>

#include "base/strings.hpp"
#include "imap/proto/summary.hpp"
#include "message/mime.hpp"

namespace mk::delivery {

using smtp::RcptVerdict;
using smtp::Target;

bool LocalRecipients::expand(const std::string& address, const std::string& folder,
                             std::vector<Target>& targets, bool& temp_fail, bool& full) {
  auto acct = store_.find_account(address);
  if (!acct) return temp_fail = true, false;
  if (*acct && !(*acct)->disabled) {
    if ((*acct)->over_quota() && !over_quota_too_) return full = true, false;
    targets.push_back(Target::mailbox((*acct)->id, folder));
    return true;
  }
  auto alias = store_.alias_targets(address);
  if (!alias) return temp_fail = true, false;
  bool any = false;
  for (std::size_t i = 0; i < alias->size() && i < kMaxAliasTargets; ++i) {
    const std::string& target = (*alias)[i];
    auto t = store_.find_account(target);
    if (!t) return temp_fail = true, false;
    if (*t && !(*t)->disabled && (over_quota_too_ || !(*t)->over_quota())) {
      targets.push_back(Target::mailbox((*t)->id, folder));
      any = true;
      continue;
    }
    // A target in a domain we do not host: the alias forwards there.
    const auto at = target.rfind('@');
    auto hosted = at == std::string::npos ? Result<bool>(true) : store_.has_domain(target.substr(at + 1));
    if (!hosted) return temp_fail = true, false;
    if (!*hosted) {
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
      if (t.kind != Target::Kind::mailbox) elsewhere = true;
      else if (std::find(out.begin(), out.end(), t.account_id) == out.end()) out.push_back(t.account_id);
    }
  return out;
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
        case Target::Kind::forward: m.outbound.push_back(store::OutboundRcpt{t.where, dsn}); break;
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
