// net/selfsigned.hpp: a self-signed certificate for `mailkeep dev` (and first starts before
// a real certificate exists). ECDSA P-256, SHA-256, subjectAltName for the given names,
// valid for one year.
#pragma once

#include <string>
#include <vector>

#include "base/result.hpp"

namespace mk::net {

// A new P-256 key and a self-signed certificate for it, as PEM, for a caller that writes the
// files itself (quickstart, which must never follow a link or replace a file).
struct SelfSignedPem {
  std::string cert, key;
};
Result<SelfSignedPem> self_signed_pem(const std::vector<std::string>& dns_names,
                                     const std::vector<std::string>& ip_addresses);

// Writes key_file (mode 0600) and cert_file (PEM).
Status write_self_signed(const std::string& cert_file, const std::string& key_file,
                         const std::vector<std::string>& dns_names,
                         const std::vector<std::string>& ip_addresses);

// Writes cert_file (PEM) for the existing key in key_file (net/tls_keys.hpp's key.pem): the
// certificate is self-signed, but its key is the one the TLSA records name, so DANE-EE
// senders (RFC 7672 §3.1.1 ignores names, dates and issuer) verify it before a CA-issued
// certificate for the same key replaces it.
Status write_self_signed_for_key(const std::string& cert_file, const std::string& key_file,
                                 const std::vector<std::string>& dns_names);

}  // namespace mk::net
