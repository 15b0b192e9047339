// audit/signing.hpp: the server's log key, which signs its heartbeats to a log collector.
//
// A heartbeat says "at time T my security log stood at record N with hash H"; signed, a
// collector can tell the server's silence from an attacker who cut the link and speaks in its
// place. The key is Ed25519 (RFC 8032), made on first use in the data directory
// (log-signing.key, mode 0600); the collector is given its public half, "ed25519:BASE64".
// SECURITY: the private key never leaves the file; what is logged and printed is the public key.
#pragma once

#include <string>
#include <string_view>

#include "base/result.hpp"

namespace mk::audit {

class SigningKey {
 public:
  // Loads the key at `path`, creating it when the file does not exist.
  static Result<SigningKey> load_or_create(const std::string& path);
  std::string sign(std::string_view data) const;             // base64 signature
  const std::string& public_key() const { return public_; }  // "ed25519:BASE64"

 private:
  std::string secret_;  // 64 bytes (libsodium's seed + public key)
  std::string public_;
};

// Checks a base64 signature made by SigningKey::sign against a public key "ed25519:BASE64".
bool verify_signature(std::string_view public_key, std::string_view data,
                      std::string_view signature_b64);
// True when `public_key` reads as "ed25519:BASE64" of 32 bytes.
bool valid_public_key(std::string_view public_key);

}  // namespace mk::audit
