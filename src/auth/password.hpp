// auth/password.hpp: password hashing and verification for mail accounts.
//
// Argon2id through libsodium's crypto_pwhash_str: the encoded string carries the algorithm,
// salt and cost parameters, so costs can be raised later without breaking stored hashes
// (needs_rehash tells when to re-hash at the next successful login). Parameters: libsodium's
// "interactive" profile, opslimit 2 and memlimit 64 MiB, above OWASP's argon2id minimum
// (19 MiB, t=2). Mail accounts never map to operating-system accounts.
// SECURITY: plaintext passwords are never logged or stored; comparisons are constant-time.
#pragma once

#include <string>
#include <string_view>

#include "base/result.hpp"

namespace mk::auth {

inline constexpr std::size_t kMinPasswordLength = 12;
inline constexpr std::size_t kMaxPasswordLength = 1024;

// Checks the policy (length, no control characters). Returns a message for the user.
Status check_password_policy(std::string_view password);
Result<std::string> hash_password(std::string_view password);
bool verify_password(std::string_view encoded_hash, std::string_view password);
bool needs_rehash(std::string_view encoded_hash);
// A random password of the given length from an unambiguous alphabet.
std::string generate_password(std::size_t length = 20);

}  // namespace mk::auth
