// app/containment.hpp: what happens when an account exceeds its sending limits
// (guard/limits.hpp): its queued outbound mail is held, the message is refused with 4.7.1,
// later submissions are refused at MAIL FROM, the user and the admin are mailed and the
// security log records it. `mailkeep account release|drop-held` ends it (app/accounts.cpp).
#pragma once

#include "app/alerts.hpp"
#include "audit/log.hpp"
#include "guard/limits.hpp"
#include "smtp/server.hpp"

namespace mk::app {

inline constexpr std::int64_t kNewNetworkWindow = 3600;  // seconds after a first login from a network

class Containment final : public smtp::SubmissionGuard {
 public:
  Containment(guard::Limits limits, store::Store& store, Alerts& alerts, audit::Log* audit, log::Logger log)
      : limits_(limits, store), store_(store), alerts_(alerts), audit_(audit), log_(std::move(log)) {}
  std::optional<smtp::Reply> check(const smtp::Transaction& txn, const std::string& account,
                                   const std::vector<std::string>& remote_rcpts, const std::string& remote_ip) override;

 private:
  guard::SendingLimits limits_;
  store::Store& store_;
  Alerts& alerts_;
  audit::Log* audit_;
  log::Logger log_;
};

// Holds every queued message the account submitted; returns how many. (Also used by tests.)
std::size_t hold_queued_mail(store::Store& store, std::int64_t account_id, store::QueueAction action);

}  // namespace mk::app
