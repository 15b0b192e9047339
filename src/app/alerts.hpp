// app/alerts.hpp: security alerts by email, to a user and to the admin (security.admin_address):
// a login from a network the account never used, a password found in a breach list.
// Local recipients get the message in their INBOX at once; others through the queue.
#pragma once

#include <functional>
#include <string>

#include "base/log.hpp"
#include "store/store.hpp"

namespace mk::app {

class Alerts {
 public:
  Alerts(store::Store& store, std::string hostname, std::string admin_address, std::function<void()> on_queued,
         log::Logger log)
      : store_(store), hostname_(std::move(hostname)), admin_(std::move(admin_address)),
        on_queued_(std::move(on_queued)), log_(std::move(log)) {}

  void tell_user(const std::string& address, const std::string& subject, const std::string& body);
  void tell_admin(const std::string& subject, const std::string& body);  // nothing without an admin address

 private:
  void send(const std::string& to, const std::string& subject, const std::string& body);
  store::Store& store_;
  std::string hostname_, admin_;
  std::function<void()> on_queued_;
  log::Logger log_;
};

}  // namespace mk::app
