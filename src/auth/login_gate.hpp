// auth/login_gate.hpp: the failed-login gate of the login ports' connection loops (submission
// on 587/465, IMAP on 143/993), one for both so every protocol gets the same rules.
//
// A client from a banned network is refused at connect. A failed login is counted
// (auth/throttle.hpp) and recorded in the security log on the work pool, logged as
// "<service>.auth_failed", and answered only after the throttle's delay; a network that keeps
// failing is banned, and the loop closes the connection. A successful login clears the
// network's failures and goes into the login history (and its alerts about new networks and
// clients). The gate decides and keeps the books; each protocol says the refusal in its own
// words (SMTP 421 4.7.0, IMAP BYE) and closes through its connection I/O (net/conn_io.hpp).
// SECURITY: the delay holds back the answer itself, so a guesser learns nothing sooner by not
// waiting; records carry the user name as given, never a password.
#pragma once

#include <optional>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>

#include "auth/login.hpp"
#include "auth/throttle.hpp"
#include "base/ip.hpp"
#include "base/log.hpp"

namespace mk::auth {

class LoginGate {
 public:
  // policy: the login rules with the throttle and the security log; null where the port
  // takes no logins (the MX), and then the gate lets everything through and records nothing.
  // service: "imap", "submission": the log events' prefix and the records' service.
  // work: where the books are kept (net/offload.hpp); null: inline (tests).
  // log: the connection's logger.
  LoginGate(const LoginPolicy* policy, std::string service, std::string remote_ip,
            boost::asio::thread_pool* work, log::Logger log);

  // At connect: whether the client's network is banned. If so, logs "<service>.banned" and
  // records connection_refused_banned; the caller refuses in its words and closes.
  boost::asio::awaitable<bool> banned_at_connect();
  // A failed login as `user` (as the client named it, maybe empty). Returns after the delay;
  // verdict.banned: the network is banned from now on, and the caller closes.
  boost::asio::awaitable<Throttle::Verdict> failed(std::string user);
  // A successful login. client: the program's name as it gave it ("" if unknown).
  boost::asio::awaitable<void> succeeded(std::string user, std::string client);

 private:
  const LoginPolicy* policy_;
  Throttle* throttle_;
  std::string service_;
  std::string remote_ip_;
  std::optional<IpAddr> client_;
  boost::asio::thread_pool* work_;
  log::Logger log_;
};

}  // namespace mk::auth
