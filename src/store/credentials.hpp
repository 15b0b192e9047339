// store/credentials.hpp: the Credentials role of the store: password hashes, SCRAM
// verifiers, the breached-password mark, TOTP secrets and app passwords of an account.
//
// SECURITY: only hashes and verifiers are stored, never a password; TOTP secrets are
// stored as given (the data directory is 0700).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "store/error.hpp"

namespace mk::store {

// A password for one mail client (auth/app_password.hpp), stored as a SHA-256: it is random
// and long, so a fast hash is enough and logins stay cheap.
struct AppPassword {
  std::int64_t id = 0;
  std::int64_t account_id = 0;
  std::string name;    // the client, as the user named it
  std::string hash;    // hex SHA-256
  std::string scopes;  // "imap,submission"
  std::int64_t created = 0, last_used = 0;
  std::string last_ip;
};

class Credentials {
 public:
  virtual ~Credentials() = default;

  // Also clears the SCRAM verifier, which belongs to the old password.
  virtual Status set_password(std::string_view address, std::string_view password_hash) = 0;
  virtual Status set_scram(std::string_view address, std::string_view scram) = 0;
  // Marks the account's current password as breached (set_password clears the mark).
  virtual Status set_password_breached(std::string_view address) = 0;
  virtual Status set_require_app_passwords(std::string_view address, bool on) = 0;
  // TOTP: the secret ("" turns it off) and the step of the last code accepted.
  virtual Status set_totp(std::string_view address, std::string_view secret) = 0;
  // Claims the step of a code just accepted: false if a login already used it or a later one.
  virtual Result<bool> totp_used(std::string_view address, std::int64_t step) = 0;
  // App passwords; names are unique per account.
  virtual Status add_app_password(const AppPassword& p) = 0;
  virtual Result<std::vector<AppPassword>> app_passwords(std::int64_t account_id) = 0;
  virtual Result<bool> revoke_app_password(std::int64_t account_id, std::string_view name) = 0;
  virtual Status app_password_used(std::int64_t id, std::int64_t now, std::string_view ip) = 0;
};

}  // namespace mk::store
