#include "smtp/submission_policy.hpp"

#include "base/strings.hpp"

namespace mk::smtp {

std::optional<AuthIdentity> StoreSubmissionPolicy::authenticate(std::string_view user, std::string_view password) {
  auto a = login_ ? auth::check_login(store_, user, password, *login_, nullptr, client_ ? &*client_ : nullptr,
                                      "submission")
                  : auth::check_login(store_, user, password, {}, nullptr, nullptr, "submission");
  if (!a) return std::nullopt;
  return AuthIdentity{a->id, a->address};
}

std::optional<ScramIdentity> StoreSubmissionPolicy::scram_account(std::string_view user) {
  // The rules are auth's, the same for IMAP (auth/login.hpp).
  auto a = auth::scram_account(store_, user, login_, client_ ? &*client_ : nullptr);
  if (!a) return std::nullopt;
  return ScramIdentity{AuthIdentity{a->account.id, a->account.address}, a->account.scram, a->may_log_in};
}

bool StoreSubmissionPolicy::may_send_as(const AuthIdentity& who, const std::string& address) {
  const std::string addr = to_lower(address);
  const auto at = addr.rfind('@');
  if (at == std::string::npos || at == 0) return false;
  std::vector<std::string> candidates{addr};
  if (auto plus = addr.find('+'); plus != std::string::npos && plus > 0 && plus < at)
    candidates.push_back(addr.substr(0, plus) + addr.substr(at));  // RFC 5233 sub-address
  for (const auto& c : candidates) {
    if (c == who.address) return true;
    auto targets = store_.directory.alias_targets(c);
    if (!targets) continue;
    for (const auto& t : *targets)
      if (to_lower(t) == who.address) return true;
  }
  return false;
}

std::string StoreSubmissionPolicy::outbound_hold(const AuthIdentity& who) {
  auto a = store_.directory.find_account(who.address);
  return a && *a ? (*a)->outbound_hold : std::string();
}

}  // namespace mk::smtp
