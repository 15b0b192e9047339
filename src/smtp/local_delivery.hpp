// smtp/local_delivery.hpp: recipient resolution and delivery for mailboxes hosted here.
//
// Resolution (at RCPT time): a domain we do not host, or an address literal, is a relay
// attempt; in a hosted domain the local part is looked up (case-insensitively) as an account,
// then as an alias, then with its "+tag" sub-address removed, in which case the message is
// filed into the folder named by the tag when it exists (the store falls back to INBOX).
// The special "<Postmaster>" recipient (RFC 5321 §4.1.1.3) resolves as postmaster@ of the
// hosted domains, which must have an account or alias.
#pragma once

#include "auth/login.hpp"
#include "smtp/session.hpp"
#include "srs/srs.hpp"
#include "store/directory.hpp"
#include "store/mail.hpp"

namespace mk::smtp {

inline constexpr std::size_t kMaxAliasTargets = 100;

// Delivery target lines (RcptVerdict::target) are "account_id:mailbox", or kForwardPrefix
// and an address elsewhere: an alias that forwards, or the original sender of a bounce to
// one of our SRS addresses.
inline constexpr std::string_view kForwardPrefix = "@fwd:";

class LocalRecipients final : public Recipients {
 public:
  explicit LocalRecipients(store::Directory& store, const srs::Srs* srs = nullptr) : store_(store), srs_(srs) {}
  RcptVerdict resolve(const message::Mailbox& rcpt) override;

 private:
  // Appends "account_id:mailbox" targets for address; false if the address is unknown.
  bool expand(const std::string& address, const std::string& folder, std::string& targets,
              bool& temp_fail, bool& full);
  store::Directory& store_;
  const srs::Srs* srs_;
};

// The domain of the first recipient that forwards (the forwarder's domain for SRS and the
// ARC seal); empty if none does.
std::string forward_domain(const Transaction& txn);

// Submission: logins checked against the store (auth/login.hpp); an account may send as its
// own address, its sub-addresses (local+tag@domain) and the aliases that deliver to it.
class StoreSubmissionPolicy final : public SubmissionPolicy {
 public:
  explicit StoreSubmissionPolicy(auth::AccountStore store, const auth::LoginPolicy* login = nullptr,
                                 std::optional<IpAddr> client = std::nullopt)
      : store_(store), login_(login), client_(client) {}
  std::optional<AuthIdentity> authenticate(std::string_view user, std::string_view password) override;
  std::optional<std::pair<AuthIdentity, std::string>> scram_account(std::string_view user) override;
  bool may_send_as(const AuthIdentity& who, const std::string& address) override;
  std::string outbound_hold(const AuthIdentity& who) override;

 private:
  auth::AccountStore store_;
  const auth::LoginPolicy* login_;
  std::optional<IpAddr> client_;
};

// The one local account every recipient of the transaction delivers to, or 0 when they are
// several, or a copy is forwarded or leaves (the spam filter's per-user model).
std::int64_t sole_local_account(const Transaction& txn);
// Every local account the transaction delivers to, each once; `elsewhere` says whether a
// copy is also forwarded or leaves.
std::vector<std::int64_t> local_accounts(const Transaction& txn, bool& elsewhere);

// Turns a completed transaction into a store delivery: local recipients get their copies,
// the others (kRemoteTarget) go to the outbound queue in the same commit.
store::NewMessage to_new_message(const Transaction& txn);

}  // namespace mk::smtp
