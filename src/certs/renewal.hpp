// certs/renewal.hpp: when mailkeep asks its CA for a certificate, and for which names; no
// I/O, so every rule is tested on its own.
//
// The certificate covers the server's hostname and, for each hosted domain, the names its
// clients and senders reach by HTTPS (mta-sts., autoconfig., autodiscover.). A name that
// does not resolve yet (its record not published) is left out rather than failing the whole
// order, and the certificate is ordered again once it resolves. A certificate is renewed
// when a third of its lifetime is left (30 of Let's Encrypt's 90 days), so a renewal
// that fails has weeks of retries before anything expires. Failures back off exponentially
// from a minute to six hours, or as long as the CA's Retry-After asks (a day at most).
// STANDARDS: RFC 8555 §6.6 (rate limits, Retry-After), RFC 9773 (ARI) is not used.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mk::certs {

// The names a certificate should cover (lower-case, sorted, no duplicates): the hostname,
// then the web names of each hosted domain.
std::vector<std::string> wanted_names(const std::string& hostname, const std::vector<std::string>& domains);

// The subdomains of a hosted domain that need the certificate (RFC 8461 §3.3 mta-sts.;
// autoconfig. and autodiscover. for mail clients).
inline constexpr const char* kWebLabels[] = {"mta-sts", "autoconfig", "autodiscover"};

struct Held {  // the certificate in use
  std::vector<std::string> names;
  std::int64_t not_before = 0, not_after = 0;  // unix seconds
  bool current_key = true;  // issued for the key in use (after a key rollover it is not)
};

// When to ask for a new certificate (unix seconds): at once (0) when there is none, it does
// not cover every name that resolves, or was issued for another key; else when a third of
// its lifetime is left.
std::int64_t renew_at(const std::optional<Held>& held, const std::vector<std::string>& resolvable);

// How long to wait after the n-th failure in a row (n >= 1): 1 min, 2, 4, ... at most 6 h,
// and never less than the CA asked for, up to a day.
std::chrono::seconds backoff(int failures, std::optional<std::chrono::seconds> retry_after);

}  // namespace mk::certs
