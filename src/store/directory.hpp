// store/directory.hpp: the Directory role of the store: hosted domains, accounts, aliases,
// and the per-account settings the admin sets (quota, spam thresholds, outbound hold).
//
// A role stores and queries; the rules about what may be stored (which domains are hosted,
// which mailboxes a new account gets) live in the callers (store/accounts.hpp).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "store/error.hpp"

namespace mk::store {

struct Account {
  std::int64_t id = 0;
  std::string address;  // canonical: local@domain, domain lower-case
  std::string password_hash;
  std::uint64_t quota_bytes = 0;  // 0 = unlimited
  std::uint64_t used_bytes = 0;
  bool disabled = false;
  std::int64_t created = 0;  // unix seconds
  std::string scram;         // SCRAM-SHA-256 verifier (auth/scram.hpp), empty until derived
  bool password_breached = false;  // found in the breached-password list at a login; cleared by a new password
  bool require_app_passwords = false;  // protocol logins only with app passwords
  std::string totp_secret;             // base32; empty: no second factor (auth/totp.hpp)
  std::int64_t totp_last_step = 0;     // the last TOTP step used (no replays)
  std::string outbound_hold;           // why its outbound mail is held (guard/); empty: not held
  std::string spam_thresholds;         // "tag junk reject" (filter::parse_thresholds); empty: the instance's
  // The account's own forwarding (delivery/recipients.hpp): its mail also goes to this
  // address (canonical; empty: none), and a copy stays here when forward_keep.
  std::string forward_to;
  bool forward_keep = true;

  // Whether storing `more` bytes would exceed the quota (soft: checked before, not after).
  bool over_quota(std::uint64_t more = 0) const {
    return quota_bytes != 0 && used_bytes + more > quota_bytes;
  }
};

struct Alias {
  std::string address;
  std::string target;
};

// The mailboxes every new account gets (RFC 6154 special-use attributes).
struct DefaultMailbox {
  const char* name;
  const char* special_use;
};
inline constexpr DefaultMailbox kDefaultMailboxes[] = {
    {"INBOX", ""},          {"Drafts", "\\Drafts"}, {"Sent", "\\Sent"},
    {"Junk", "\\Junk"},     {"Trash", "\\Trash"},   {"Archive", "\\Archive"},
};

class Directory {
 public:
  virtual ~Directory() = default;

  virtual Status add_domain(std::string_view name) = 0;
  virtual Status remove_domain(std::string_view name) = 0;
  virtual Result<std::vector<std::string>> list_domains() = 0;
  // A number that changes whenever a hosted domain is added or removed: what a copy of
  // list_domains kept in memory is checked against before each verdict, on any node.
  virtual Result<std::int64_t> domains_version() = 0;
  virtual Result<bool> has_domain(std::string_view name) = 0;
  // Creates the account with the default mailboxes (kDefaultMailboxes); its domain must be
  // hosted (Errc::not_found otherwise, with the command that fixes it). The rules are here;
  // the backend's insert_account only stores, atomically.
  Result<std::int64_t> add_account(std::string_view address, std::string_view password_hash);
  virtual Result<std::optional<Account>> find_account(std::string_view address) = 0;
  virtual Result<std::vector<Account>> list_accounts() = 0;
  // How many accounts there are, and how many of them containment holds (the metrics).
  struct AccountCounts {
    std::int64_t accounts = 0, held = 0;
  };
  virtual Result<AccountCounts> account_counts() = 0;
  virtual Result<std::optional<Account>> account_by_id(std::int64_t id) = 0;
  // The account's own spam thresholds ("" returns it to the instance's).
  virtual Status set_spam_thresholds(std::string_view address, std::string_view thresholds) = 0;
  // Forwarding of the account's mail ("" turns it off); admin::set_forward checks the target.
  virtual Status set_forward(std::int64_t account_id, std::string_view to, bool keep) = 0;
  // Containment (guard/): the hold reason ("" releases); only the flag, the queue is separate.
  virtual Status set_outbound_hold(std::int64_t account_id, std::string_view reason) = 0;
  // Storage quota in bytes; 0 means unlimited.
  virtual Status set_quota(std::string_view address, std::uint64_t bytes) = 0;
  // Removes the account, its mailboxes and its messages (files included).
  virtual Status remove_account(std::string_view address) = 0;
  virtual Status add_alias(std::string_view address, std::string_view target) = 0;
  virtual Status remove_alias(std::string_view address) = 0;
  virtual Result<std::vector<std::string>> alias_targets(std::string_view address) = 0;
  virtual Result<std::vector<Alias>> list_aliases() = 0;

 protected:
  // Backend: the account (address canonical, its domain hosted) and these mailboxes, in one
  // transaction; Errc::already_exists if the address is taken.
  struct NewMailbox {
    std::string name;
    std::string special_use;
    std::uint32_t uidvalidity_floor = 0;
  };
  virtual Result<std::int64_t> insert_account(const std::string& address, std::string_view password_hash,
                                              const std::vector<NewMailbox>& mailboxes) = 0;
};

}  // namespace mk::store
