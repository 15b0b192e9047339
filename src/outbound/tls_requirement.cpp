#include "outbound/tls_requirement.hpp"

#include <fmt/format.h>

namespace mk::outbound {

TlsMode tls_mode(bool host_has_tlsa, bool sts_enforce, bool sts_testing) {
  if (host_has_tlsa) return TlsMode::dane;  // RFC 8461 §2: DANE takes precedence
  if (sts_enforce) return TlsMode::sts_enforce;
  if (sts_testing) return TlsMode::sts_testing;
  return TlsMode::opportunistic;
}

const char* to_string(TlsMode m) {
  switch (m) {
    case TlsMode::dane: return "dane";
    case TlsMode::sts_enforce: return "mta-sts";
    case TlsMode::sts_testing: return "mta-sts-testing";
    case TlsMode::opportunistic: break;
  }
  return "opportunistic";
}

namespace {
bool required(TlsMode m) { return m == TlsMode::dane || m == TlsMode::sts_enforce; }
bool reported(TlsMode m) { return m != TlsMode::opportunistic; }
}  // namespace

TlsStep on_starttls_offer(TlsMode mode, bool offered) {
  TlsStep s;
  if (offered) return s;
  if (reported(mode)) s.report = "starttls-not-supported";
  if (required(mode)) {
    s.action = TlsStep::Action::give_up_host;
    s.failure = mode == TlsMode::dane ? "DANE: TLSA records are published but the host offers no STARTTLS"
                                      : "MTA-STS policy requires TLS but the host offers no STARTTLS";
  }
  return s;
}

TlsStep on_handshake_failure(TlsMode mode) {
  TlsStep s;
  if (reported(mode)) s.report = "validation-failure";
  // Opportunistic TLS (and MTA-STS testing) may try the same address again in plain text;
  // a required policy never does.
  s.action = required(mode) ? TlsStep::Action::give_up_host : TlsStep::Action::plain_retry;
  return s;
}

TlsStep on_handshake(TlsMode mode, const TlsPeer& peer) {
  TlsStep s;
  if (mode == TlsMode::dane) {
    // RFC 7672 §2.2: usable TLSA records must authenticate the peer; with none usable, TLS is
    // still required but unauthenticated.
    if (peer.dane_usable > 0 && !peer.dane_verified) {
      s.action = TlsStep::Action::give_up_host;
      s.report = "validation-failure";
      s.failure = fmt::format("DANE: the certificate of {} matches none of its TLSA records ({})", peer.host,
                              peer.verify_error);
      return s;
    }
    s.report = "success";
    return s;
  }
  if (mode == TlsMode::opportunistic || peer.webpki_verified) {
    s.report = "success";
    return s;
  }
  s.report = peer.host_mismatch ? "certificate-host-mismatch"
             : peer.expired     ? "certificate-expired"
                                : "certificate-not-trusted";
  if (mode == TlsMode::sts_enforce) {
    s.action = TlsStep::Action::give_up_host;
    s.failure = fmt::format("MTA-STS policy: certificate not valid for {}: {}", peer.host, peer.verify_error);
  }
  return s;
}

std::string requiretls_refusal(const std::string& mx, bool mx_validated, bool dane_verified, bool webpki_verified,
                               bool peer_supports_requiretls) {
  if (!mx_validated) return fmt::format("{} is vouched for by neither DNSSEC nor MTA-STS", mx);
  if (!dane_verified && !webpki_verified) return fmt::format("no authenticated TLS to {}", mx);
  if (!peer_supports_requiretls) return fmt::format("{} does not support REQUIRETLS", mx);
  return {};
}

}  // namespace mk::outbound
