// reports/sign_in.hpp: what the server tells a user about their own sign-ins
// (auth::LoginPolicy's on_login and on_breached): it keeps each account's login history
// (networks and programs) and mails the user when one they never used signs in, or when
// their password was found in a breach list (the admin too).
#pragma once

#include <string>
#include <string_view>

#include "audit/log.hpp"
#include "base/log.hpp"
#include "reports/alerts.hpp"
#include "store/security.hpp"

namespace mk::reports {

class SignInWatch {
 public:
  SignInWatch(store::Security& store, Alerts& alerts, audit::Log* audit, log::Logger log)
      : store_(store), alerts_(alerts), audit_(audit), log_(std::move(log)) {}

  // A successful login (is_login) or a client naming itself afterwards (IMAP ID).
  void on_login(const std::string& user, const std::string& ip, std::string_view service, const std::string& client,
                bool is_login);
  // A login with a breached password; newly: the account was flagged just now.
  void on_breached(const std::string& address, bool blocked, bool newly);

 private:
  store::Security& store_;
  Alerts& alerts_;
  audit::Log* audit_;
  log::Logger log_;
};

}  // namespace mk::reports
