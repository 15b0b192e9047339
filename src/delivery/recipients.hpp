// delivery/recipients.hpp: who receives mail for the domains hosted here, and how a mail
// transaction becomes a store delivery. Used by the MX and submission (at RCPT), by the
// queue runner (bounces to a local sender) and by server-generated mail (server_mail.hpp).
//
// Resolution: a domain we do not host, or an address literal, is a relay attempt; in a
// hosted domain the local part is looked up (case-insensitively) as an account, then as an
// alias, then with its "+tag" sub-address removed, in which case the message is filed into
// the folder named by the tag when it exists (the store falls back to INBOX). The special
// "<Postmaster>" recipient (RFC 5321 §4.1.1.3) resolves as postmaster@ of the hosted
// domains, which must have an account or alias.
//
// An account may forward its own mail (store::Account::forward_to): to an address elsewhere
// (a forward target owned by the account, sent with SRS and an ARC seal like an alias's) or
// to another account here (one step), with or without a copy kept here. Forwarding pauses
// while containment holds the account, server mail always keeps a copy here, and mail judged
// spam is never forwarded: it stays in the account's Junk (keep_junk_here).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "message/parsed.hpp"
#include "smtp/session.hpp"
#include "srs/srs.hpp"
#include "store/directory.hpp"
#include "store/mail.hpp"

namespace mk::delivery {

// An alias expands to at most this many targets (one level: targets are accounts or
// addresses elsewhere, so there are no loops and no unbounded fan-out).
inline constexpr std::size_t kMaxAliasTargets = 100;

class LocalRecipients final : public smtp::Recipients {
 public:
  // over_quota_too: a full mailbox still takes the mail (server mail: a security alert or a
  // bounce must reach the user precisely when an attacker filled the mailbox).
  explicit LocalRecipients(store::Directory& store, const srs::Srs* srs = nullptr, bool over_quota_too = false)
      : store_(store), srs_(srs), over_quota_too_(over_quota_too) {}
  smtp::RcptVerdict resolve(const message::Mailbox& rcpt) override;

 private:
  // Whether an address is in a domain hosted here (one without a domain is).
  Result<bool> hosted(const std::string& address);
  // Where an account's forwarding sends its copy; nullopt when it cannot go (a target here
  // that is gone, disabled or full: the copy is kept here instead).
  Result<std::optional<smtp::Target>> forward_target(const store::Account& a);
  // The copies of an account's mail: here (unless it forwards without keeping one) and where
  // it forwards. false with `full` when the copy here has no room, `temp_fail` when the store
  // cannot be read.
  bool account_targets(const store::Account& a, const std::string& folder, std::vector<smtp::Target>& targets,
                       bool& temp_fail, bool& full);
  // Appends the targets of address; false if the address is unknown.
  bool expand(const std::string& address, const std::string& folder, std::vector<smtp::Target>& targets,
              bool& temp_fail, bool& full);
  store::Directory& store_;
  const srs::Srs* srs_;
  bool over_quota_too_;
};

// The domain of the first recipient that forwards (the forwarder's domain for SRS and the
// ARC seal); empty if none does.
std::string forward_domain(const smtp::Transaction& txn);

// Every local account the transaction delivers to (an account's own forwarding counts as
// the account's), each once; `elsewhere` says whether a copy also leaves otherwise (an
// alias's forward, a remote recipient).
std::vector<std::int64_t> local_accounts(const smtp::Transaction& txn, bool& elsewhere);
// The one local account every recipient of the transaction delivers to, or 0 when they are
// several, or a copy leaves otherwise (the spam filter's per-user model).
std::int64_t sole_local_account(const smtp::Transaction& txn);

// Mail judged spam is not forwarded: the forwards of the accounts junked (all of them when
// `all`) become a copy in the account's mailbox (moved to Junk with the rest), unless the
// account keeps one already.
void keep_junk_here(smtp::Transaction& txn, bool all, const std::vector<std::int64_t>& junk_accounts);

// Turns a completed transaction into a store delivery: local recipients get their copies,
// forwards and remote recipients go to the outbound queue in the same commit. A message
// filed here carries its IMAP summary and its Message-ID from `msg` (the content, parsed
// once by the server; txn.message has moved into it), so no FETCH ever parses it. The
// content is shared with `msg`, the transaction's trace fields go on top of it.
store::NewMessage to_new_message(const smtp::Transaction& txn, const message::Parsed& msg);

// Adds a local copy unless the message already goes to that account's mailbox (an alias and
// a direct address may name the same account: one copy).
void add_delivery(store::NewMessage& m, store::Delivery d);

// What IMAP's ENVELOPE/BODY/BODYSTRUCTURE need of a message, rendered once at delivery
// (imap/proto/summary.hpp), for store::NewMessage::summary.
std::string summary_of(std::string_view message);
std::string summary_of(const message::Parsed& message);

}  // namespace mk::delivery
