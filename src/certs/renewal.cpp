#include "certs/renewal.hpp"

#include <algorithm>

#include "base/strings.hpp"

namespace mk::certs {

namespace {
constexpr std::chrono::seconds kFirstBackoff{60};
constexpr std::chrono::seconds kMaxBackoff{6 * 3600};
// A CA's Retry-After is honoured up to a day: a longer one (or a bogus one) would let the
// certificate expire while the manager waits.
constexpr std::chrono::seconds kMaxRetryAfter{24 * 3600};
}  // namespace

std::vector<std::string> wanted_names(const std::string& hostname, const std::vector<std::string>& domains) {
  std::vector<std::string> out{to_lower(hostname)};
  for (const auto& d : domains)
    for (const char* label : kWebLabels) out.push_back(std::string(label) + "." + to_lower(d));
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::int64_t renew_at(const std::optional<Held>& held, const std::vector<std::string>& resolvable) {
  if (!held || !held->current_key || held->not_after <= held->not_before) return 0;
  for (const auto& name : resolvable)
    if (std::find(held->names.begin(), held->names.end(), name) == held->names.end()) return 0;
  const std::int64_t lifetime = held->not_after - held->not_before;
  return held->not_after - lifetime / 3;
}

std::chrono::seconds backoff(int failures, std::optional<std::chrono::seconds> retry_after) {
  std::chrono::seconds wait = kFirstBackoff;
  for (int i = 1; i < failures && wait < kMaxBackoff; ++i) wait *= 2;
  wait = std::min(wait, kMaxBackoff);
  if (retry_after) wait = std::max(wait, std::min(*retry_after, kMaxRetryAfter));
  return wait;
}

}  // namespace mk::certs
