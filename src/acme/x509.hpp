// acme/x509.hpp: the certificates around ACME: the CSR a finalize request carries, reading
// the chain the CA returns, and the TLS-ALPN-01 challenge certificate.
//
// STANDARDS: RFC 8555 §7.4 (finalize: a PKCS#10 CSR, DER, base64url), §9.1
// (application/pem-certificate-chain: the end-entity certificate first, then the
// certificates that certify it, PEM CERTIFICATE blocks only), RFC 2986 (PKCS#10), RFC 5280
// §4.2.1.6 (subjectAltName), RFC 8737 §3 (the acmeIdentifier extension, id-pe 31).
// SECURITY: the chain comes from the CA over the network; it is parsed with OpenSSL and
// checked against the names ordered and the certificate key before it is handed on.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"

namespace mk::acme {

// A PKCS#10 request, DER: every name a SAN dNSName, the first also the subject CN, signed
// with cert_key_pem (EC or RSA, SHA-256).
Result<std::string> make_csr_der(const std::vector<std::string>& names, std::string_view cert_key_pem);

// The certificates of a PEM chain in order, each re-encoded as PEM. Refuses a text with no
// certificate, with anything but CERTIFICATE blocks, or with more than kMaxChainLength.
inline constexpr std::size_t kMaxChainLength = 10;
Result<std::vector<std::string>> split_chain(std::string_view chain_pem);

// The leaf's (first certificate's) validity, as unix seconds.
struct Validity {
  std::int64_t not_before = 0;
  std::int64_t not_after = 0;
};
Result<Validity> chain_validity(std::string_view chain_pem);

// Whether the chain's leaf names every one of `names` as a SAN dNSName (ASCII
// case-insensitive, exact: a wildcard entry does not count) and carries the public key of
// key_pem. The error says what is missing. (Result<void>: acme::Status is the RFC's object state.)
Result<void> leaf_matches(std::string_view chain_pem, const std::vector<std::string>& names,
                    std::string_view key_pem);

// RFC 8737 §3: the TLS-ALPN-01 answer for `name`: a self-signed certificate (new P-256 key)
// with the single SAN dNSName `name` and the critical acmeIdentifier extension holding
// SHA-256(key_authorization), to be served to clients that offer ALPN "acme-tls/1" and SNI
// `name`.
inline constexpr std::string_view kAcmeTlsAlpn = "acme-tls/1";
struct ChallengeCertificate {
  std::string cert_pem;
  std::string key_pem;
};
Result<ChallengeCertificate> tls_alpn01_certificate(const std::string& name,
                                                    std::string_view key_authorization);
// The 32 bytes the acmeIdentifier extension carries: SHA-256 of the key authorization.
std::string tls_alpn01_digest(std::string_view key_authorization);

}  // namespace mk::acme
