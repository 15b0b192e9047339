// reports/dmarc_reports.hpp: sends the DMARC aggregate reports (RFC 7489 §7.2) of each finished
// period to the rua= addresses the sender domains publish, through the outbound queue.
//
// SECURITY: a rua address outside the policy domain's organization gets reports only if its
// domain agrees to (RFC 7489 §7.1: <policy-domain>._report._dmarc.<rua-domain> TXT "v=DMARC1"),
// so nobody can direct reports about a third party's mail to themselves. Only mailto: URIs.
#pragma once

#include <cstdint>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include "base/duration.hpp"
#include "base/log.hpp"
#include "dmarc/dmarc.hpp"
#include "dns/lookup.hpp"
#include "delivery/server_mail.hpp"
#include "store/reports.hpp"

namespace mk::reports {

class DmarcReporter {
 public:
  DmarcReporter(boost::asio::io_context& io, store::Reports& store, delivery::ServerMail& mail, dns::Lookup& dns,
                std::string hostname, Duration interval, log::Logger log);
  void start();
  void stop();

 private:
  boost::asio::awaitable<void> loop();
  boost::asio::awaitable<void> send_before(std::int64_t period_start);
  boost::asio::awaitable<std::vector<std::string>> recipients(std::string domain);

  boost::asio::strand<boost::asio::io_context::executor_type> strand_;
  boost::asio::steady_timer timer_;
  store::Reports& store_;
  delivery::ServerMail& mail_;
  dns::Lookup& dns_;
  std::string hostname_;
  std::int64_t interval_;  // seconds, at least 1
  log::Logger log_;
  dmarc::OrgDomains orgs_;
  bool stopping_ = false;
};

}  // namespace mk::reports
