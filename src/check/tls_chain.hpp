// check/tls_chain.hpp: what a sending server or a mail client concludes from the
// certificate chain one listener served, without any network: the chain verifies against
// the trust store from the served certificates alone (senders do not fetch missing
// intermediates from the AIA URL, and neither does this), the leaf names the hostname, it
// has more than kMinDaysLeft days left, and the TLSA records published for the port match it.
//
// STANDARDS: RFC 5280 §6 (path validation), RFC 6125 §6 (the name: X509_check_host), RFC
// 6698 §2.1 and RFC 7671 §5 (TLSA: DANE-EE(3) matches the leaf, DANE-TA(2) a served CA;
// selector 0 the certificate, 1 its SubjectPublicKeyInfo; matching 0 exact, 1 SHA-256,
// 2 SHA-512), RFC 7672 §3.1.3 (PKIX-TA(0) and PKIX-EE(1) are unusable for SMTP).
// SECURITY: the certificates are what a peer sent: parsed by OpenSSL, never trusted beyond
// the verdict. The trust store is the system's plus an optional extra PEM file.
#pragma once

#include <openssl/x509.h>

#include <ctime>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/result.hpp"
#include "check/finding.hpp"
#include "dns/rdata.hpp"

namespace mk::check {

// A certificate passes with more than this many days left. Renewal (ACME) starts at 30 days;
// at 21 something has been failing for over a week, and there is still time to fix it before
// senders and clients refuse the certificate.
inline constexpr int kMinDaysLeft = 21;

struct X509StoreFree {
  void operator()(X509_STORE* s) const { X509_STORE_free(s); }
};
using TrustStore = std::unique_ptr<X509_STORE, X509StoreFree>;
// The system's CA certificates, plus extra_ca (PEM) when given.
Result<TrustStore> load_trust_store(const std::string& extra_ca);

struct ChainInput {
  std::string subject;               // "smtp 192.0.2.1:25": where the chain was served
  std::string hostname;              // the name it must cover
  std::vector<std::string> chain;    // DER, leaf first, as served
  std::time_t now = 0;
  // The TLSA records at tlsa_owner (_PORT._tcp.HOSTNAME); nullopt: none published (or not
  // looked up), so DANE is not judged.
  std::optional<std::vector<dns::Tlsa>> tlsa;
  std::string tlsa_owner;
};

// One failure per problem found, else one pass for the chain (and one for TLSA if published).
std::vector<Finding> judge_chain(const ChainInput& in, X509_STORE* trust);

// "3 1 1 <hex>": the DANE-EE record of a DER certificate's key; "" if it does not parse.
std::string tlsa_311(const std::string& der);

// Days from now to t, rounded up: 10 for a certificate issued now for 10 days.
int days_until(std::time_t t, std::time_t now);

}  // namespace mk::check
