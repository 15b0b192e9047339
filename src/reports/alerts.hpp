// reports/alerts.hpp: security alerts by email, to a user and to the admin (security.admin_address):
// a login from a network the account never used, a password found in a breach list.
// Sent as server mail (delivery/server_mail.hpp): local recipients get it at once, others
// through the queue.
#pragma once

#include <string>

#include "base/log.hpp"
#include "delivery/server_mail.hpp"

namespace mk::reports {

class Alerts {
 public:
  Alerts(delivery::ServerMail& mail, std::string hostname, std::string admin_address, log::Logger log)
      : mail_(mail), hostname_(std::move(hostname)), admin_(std::move(admin_address)), log_(std::move(log)) {}

  void tell_user(const std::string& address, const std::string& subject, const std::string& body);
  void tell_admin(const std::string& subject, const std::string& body);  // nothing without an admin address

 private:
  void send(const std::string& to, const std::string& subject, const std::string& body);
  delivery::ServerMail& mail_;
  std::string hostname_, admin_;
  log::Logger log_;
};

}  // namespace mk::reports
