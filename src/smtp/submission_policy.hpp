// smtp/submission_policy.hpp: what submission asks of the store.
#pragma once

#include <optional>

#include "auth/login.hpp"
#include "base/ip.hpp"
#include "smtp/session.hpp"

namespace mk::smtp {

// Submission: logins checked against the store (auth/login.hpp); an account may send as its
// own address, its sub-addresses (local+tag@domain) and the aliases that deliver to it.
class StoreSubmissionPolicy final : public SubmissionPolicy {
 public:
  explicit StoreSubmissionPolicy(auth::AccountStore store, const auth::LoginPolicy* login = nullptr,
                                 std::optional<IpAddr> client = std::nullopt)
      : store_(store), login_(login), client_(client) {}
  std::optional<AuthIdentity> authenticate(std::string_view user, std::string_view password) override;
  std::optional<ScramIdentity> scram_account(std::string_view user) override;
  std::string scram_salt_key() const override { return login_ ? login_->scram_salt_key : std::string(); }
  bool may_send_as(const AuthIdentity& who, const std::string& address) override;
  std::string outbound_hold(const AuthIdentity& who) override;

 private:
  auth::AccountStore store_;
  const auth::LoginPolicy* login_;
  std::optional<IpAddr> client_;
};

}  // namespace mk::smtp
