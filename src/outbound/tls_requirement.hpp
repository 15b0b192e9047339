// outbound/tls_requirement.hpp: what TLS a delivery to one MX host requires, and what to do
// at each step of the session: pure decisions, no I/O, so every case is table-tested.
//
// STANDARDS: RFC 7672 (SMTP DANE: TLSA records published for a host, DNSSEC-validated, mean
// TLS is required, authenticated by a usable record when there is one, §2.2), RFC 8461
// (MTA-STS: enforce requires TLS with a WebPKI certificate valid for the MX name; testing
// only reports; DANE takes precedence, §2), RFC 8460 (TLS-RPT result types), RFC 8689
// (REQUIRETLS: only to an MX vouched for by DNSSEC or MTA-STS, over authenticated TLS, to a
// server that supports the extension).
// SECURITY: a required policy never falls back to plain text.
#pragma once

#include <cstddef>
#include <string>

namespace mk::outbound {

// The policy that governs one host. DANE applies when the host has TLSA records (from a
// DNSSEC-secure answer); otherwise the domain's MTA-STS mode; otherwise opportunistic.
enum class TlsMode { opportunistic, dane, sts_enforce, sts_testing };
TlsMode tls_mode(bool host_has_tlsa, bool sts_enforce, bool sts_testing);
const char* to_string(TlsMode m);

// What the session does next, and what it tells TLS-RPT (RFC 8460 result type; "" for none,
// "success" for a successful TLS session, counted under the host's policy or no-policy-found).
struct TlsStep {
  enum class Action { go_on, plain_retry, give_up_host } action = Action::go_on;
  std::string failure;  // why the host was given up, for the queue's error and the log
  std::string report;
};

// After EHLO: the host offers STARTTLS or not.
TlsStep on_starttls_offer(TlsMode mode, bool offered);
// The TLS handshake failed (or STARTTLS was refused).
TlsStep on_handshake_failure(TlsMode mode);

// After a handshake: what the certificate checks found.
struct TlsPeer {
  std::string host;
  std::size_t dane_usable = 0;  // TLSA records usable for authentication
  bool dane_verified = false;
  bool webpki_verified = false;  // the chain verifies and the name matches the MX host
  bool host_mismatch = false;    // WebPKI failed because of the name
  bool expired = false;          // WebPKI failed because the certificate expired
  std::string verify_error;
};
TlsStep on_handshake(TlsMode mode, const TlsPeer& peer);

// RFC 8689 §4.2.1: why a REQUIRETLS message may not go to this MX ("" when it may).
std::string requiretls_refusal(const std::string& mx, bool mx_validated, bool dane_verified, bool webpki_verified,
                               bool peer_supports_requiretls);

}  // namespace mk::outbound
