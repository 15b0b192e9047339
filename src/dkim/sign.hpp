// dkim/sign.hpp: DKIM signing (RFC 6376) with rsa-sha256 and ed25519-sha256 (RFC 8463),
// relaxed/relaxed, and the keys and DNS records that go with it.
//
// Signed fields: those of kSignedFields that occur, each listed once more than it occurs
// ("oversigning"), so a field added in transit (a second From:, a Reply-To:) breaks the
// signature instead of riding on it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"

namespace mk::dkim {

enum class Algorithm { ed25519_sha256, rsa_sha256 };
std::string_view algorithm_name(Algorithm a);  // "ed25519-sha256"

struct KeyPair {
  Algorithm algorithm = Algorithm::ed25519_sha256;
  std::string private_pem;
  std::string public_b64;  // the DNS p= value: raw Ed25519 key, or RSA SubjectPublicKeyInfo
};

// A new key: Ed25519, or RSA of `rsa_bits` (2048 by default, RFC 8301 asks for >= 1024).
Result<KeyPair> generate_key(Algorithm a, int rsa_bits = 2048);

// The TXT record value for selector._domainkey.domain.
std::string dns_txt(Algorithm a, std::string_view public_b64);

struct SigningKey {
  std::string selector;
  Algorithm algorithm = Algorithm::ed25519_sha256;
  std::string private_pem;
};

inline constexpr std::string_view kSignedFields[] = {
    "From", "Reply-To", "Subject", "Date", "To", "Cc", "Message-ID", "In-Reply-To", "References",
    "MIME-Version", "Content-Type", "Content-Transfer-Encoding", "List-Unsubscribe", "List-Unsubscribe-Post"};

// The signature over already canonicalized data (RFC 6376 §3.7; RFC 8463 §3 for Ed25519),
// shared with ARC sealing.
Result<std::string> sign_data(Algorithm a, std::string_view private_pem, std::string_view data);
// A base64 tag value folded into lines of at most 72 characters.
std::string fold_b64(std::string_view v);

// One "DKIM-Signature: ...\r\n" field per key, to be put on top of the message (CRLF).
Result<std::string> sign(std::string_view message, std::string_view domain, const std::vector<SigningKey>& keys,
                         std::int64_t timestamp);

}  // namespace mk::dkim
