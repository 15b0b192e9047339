#include "reports/sign_in.hpp"

#include <ctime>

#include <fmt/format.h>

#include "auth/throttle.hpp"
#include "base/ip.hpp"
#include "base/strings.hpp"

namespace mk::reports {

void SignInWatch::on_login(const std::string& user, const std::string& ip, std::string_view service,
                           const std::string& client, bool is_login) {
  auto addr = IpAddr::parse(ip);
  const std::string network = addr ? auth::Throttle::network_key(*addr) : ip;
  const std::int64_t now = std::time(nullptr);
  bool new_network = false, new_client = false;
  if (is_login) {
    auto seen = store_.note_login(user, network, service, now);
    log_.ok_or_log(seen, "auth.login_history_failed", {{"user", user}});
    new_network = seen && seen->new_network;
  }
  if (!client.empty()) {
    auto seen = store_.note_client(user, client, now);
    log_.ok_or_log(seen, "auth.client_history_failed", {{"user", user}});
    new_client = seen && seen->new_client && !seen->first_client;
  }
  if (!new_network && !new_client) return;
  log_.info("auth.new_sign_in", {{"user", user}, {"ip", ip}, {"service", service}, {"client", log_safe(client, 100)},
                                 {"new_network", new_network}, {"new_client", new_client}});
  const std::string what = new_network && new_client ? "a network and a program"
                           : new_network             ? "a network"
                                                     : "a program";
  alerts_.tell_user(user, "New sign-in to your mail account",
                    fmt::format("Someone signed in to {} from {} ({}{}), {} this account had not used before.\n\n"
                                "If it was you, nothing needs to be done. If not, change your password now\n"
                                "(ask your mail administrator) and check your Sent folder.\n",
                                user, ip, service, client.empty() ? "" : ", with " + client, what));
}

void SignInWatch::on_breached(const std::string& address, bool blocked, bool newly) {
  if (audit_)
    log_.ok_or_log(audit_->append("password_breached", {{"user", address}, {"action", blocked ? "login refused" : "warned"}}),
                   "audit.append_failed", {{"event", "password_breached"}});
  log_.warn("auth.breached_password", {{"user", address}, {"action", blocked ? "login refused" : "allowed (warn)"},
                                       {"hint", "the password is in a breach list: change it (mailkeep account passwd)"}});
  if (!newly) return;
  const std::string body = fmt::format(
      "The password of {} appears in a list of passwords exposed in data breaches.\n"
      "Attackers try such passwords first. {}\nChoose a new password that you use nowhere else.\n",
      address, blocked ? "Logins with it are refused until it is changed." : "Please change it soon.");
  alerts_.tell_user(address, "Your mail password was found in a data breach", body);
  alerts_.tell_admin("Breached password: " + address, body);
}

}  // namespace mk::reports
