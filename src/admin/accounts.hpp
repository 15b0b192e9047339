// admin/accounts.hpp: what an admin or a user does to domains and accounts, with the rules
// that hold whoever asks: the mailkeep CLI and the web API (web/) both call these, and say
// the outcome in their own words (a printed line and exit code; a JSON body and status).
//
// SECURITY: addresses are checked and made canonical before they reach the store; a new
// password passes the password policy and the breached-password list before it is hashed.
// The callers authenticate and authorize; these functions trust that they did.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "base/result.hpp"
#include "store/credentials.hpp"
#include "store/directory.hpp"
#include "store/keys.hpp"
#include "store/queue.hpp"
#include "store/store.hpp"

namespace mk::admin {

// An address of ours, canonical (local@domain, the domain lower-case), or an error naming
// what is wrong with it. Local parts longer than RFC 5321's 64 octets are refused: other
// servers would refuse mail to them.
Result<std::string> canonical_address(std::string_view address);

// The argon2id hash for logins and the SCRAM-SHA-256 verifier of a new password, once it
// passed the password policy and the breached-password list in `breached_index` (skipped
// when that file does not exist).
struct NewPassword {
  std::string hash;
  std::string scram;
};
Result<NewPassword> hash_new_password(const std::string& password, const std::string& breached_index);

// A new password for an existing account: its hash and SCRAM verifier, and its web sessions
// end (but `keep`, the one that changed it), since a password is changed most often because
// someone else knew it.
Status set_password(store::Store& store, const store::Account& account, const NewPassword& password,
                    std::int64_t keep_session = 0);

// Bounds on what one account may hold: each is cheap to make and is read at every login.
inline constexpr std::size_t kMaxAppPasswords = 50;
inline constexpr std::size_t kMaxApiTokens = 20;
inline constexpr std::size_t kMaxShareTokens = 20;  // per account: one per device that shares links
inline constexpr std::size_t kMaxWebSessions = 20;

// New Ed25519 and RSA DKIM keys for a domain, in `state` ("active" for a new domain, "next"
// for a rotation). Selectors name the day and the algorithm ("mk20261201e").
Status create_dkim_keys(store::Keys& keys, const std::string& domain, const std::string& state);

// Hosts a new domain with its DKIM keys. `name` is checked (a valid domain name).
Status add_domain(store::Directory& directory, store::Keys& keys, std::string_view name);

// A new account (its domain hosted) with its password's hash and SCRAM verifier.
Result<std::int64_t> add_account(store::Directory& directory, store::Credentials& credentials,
                                 const std::string& address, const NewPassword& password);

// An alias to an account here, or to an address in a domain we do not host (it then
// forwards: SRS and an ARC seal keep the forwarded mail authenticated). Both addresses are
// made canonical; returns whether it forwards.
Result<bool> add_alias(store::Directory& directory, std::string_view address, std::string_view target);

// The account's own forwarding: its mail also goes to `to` (a copy stays here when keep), an
// address elsewhere (SRS and an ARC seal as an alias's) or another account here (one step:
// that account's own forwarding is not followed). Not to itself or to an alias here. "" turns
// forwarding off. Returns the canonical target.
Result<std::string> set_forward(store::Directory& directory, const store::Account& account, std::string_view to,
                                bool keep);

// Ends a containment hold (guard/): the account's held outbound mail is released to the
// queue (or dropped) and the account may send again. Returns how many messages it touched.
Result<std::size_t> end_hold(store::Directory& directory, store::Queue& queue, const store::Account& account,
                             bool drop);

}  // namespace mk::admin
