// acme/jws.hpp: the ACME account key and the JSON Web Signatures made with it.
//
// STANDARDS: RFC 8555 §6.2 (request authentication: flattened JWS, "jwk" or "kid", "nonce",
// "url"), §6.3 (POST-as-GET: an empty payload), §8.1 (key authorizations); RFC 7515 (JWS,
// flattened JSON serialization §7.2.2), RFC 7518 §3.4 (ES256: the signature is R || S, 32
// bytes each, not DER), RFC 7517/7518 §6.2 (EC JWK), RFC 7638 (JWK thumbprint).
// SECURITY: the account key is the ACME account: it never leaves this object except as the
// public JWK. Only ECDSA P-256 keys are accepted (ES256, what every CA supports). Uses
// OpenSSL 3's EVP interfaces only.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.hpp"

typedef struct evp_pkey_st EVP_PKEY;

namespace mk::acme {

class AccountKey {
 public:
  // An ECDSA P-256 private key in PEM (PKCS#8 or SEC1); anything else is refused.
  static Result<AccountKey> from_pem(std::string_view pem);

  // RFC 7638 §3: the public JWK with only the required members, in lexicographic order and
  // without whitespace: {"crv":"P-256","kty":"EC","x":"...","y":"..."}. The same text is
  // the "jwk" header member of newAccount.
  const std::string& jwk() const { return jwk_; }
  // RFC 7638 §3: base64url(SHA-256(jwk())).
  const std::string& thumbprint() const { return thumbprint_; }
  // RFC 7518 §3.4: ES256 over `data`, as the 64 bytes R || S.
  Result<std::string> sign(std::string_view data) const;

 private:
  struct Free {
    void operator()(EVP_PKEY* p) const;
  };
  std::shared_ptr<EVP_PKEY> key_;
  std::string jwk_;
  std::string thumbprint_;
};

// RFC 8555 §6.2: the protected header's identification of the signer.
struct JwsHeader {
  std::string url;
  std::string nonce;
  std::string kid;  // the account URL; empty: send the "jwk" instead (newAccount)
};

// The flattened JWS JSON {"protected":..,"payload":..,"signature":..}. A nullopt payload is
// POST-as-GET (§6.3: the payload is the empty string, not "{}").
Result<std::string> sign_jws(const AccountKey& key, const JwsHeader& header,
                             const std::optional<std::string>& payload);

// RFC 8555 §8.1: token || '.' || base64url(JWK thumbprint).
std::string key_authorization(std::string_view token, const AccountKey& key);

// A new ECDSA P-256 private key as PKCS#8 PEM (for an account or a certificate).
Result<std::string> new_p256_key_pem();

}  // namespace mk::acme
