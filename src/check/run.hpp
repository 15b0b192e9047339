// check/run.hpp: every check of `mailkeep check`, in one run, from a plan that says what this
// instance is (its hostname, domains, listeners, the records it asked the admin to publish,
// its resolver's settings). The plan is built from the configuration and the store by
// app/check.cpp; nothing here reads either.
//
// Order of the findings: DNSSEC validation (once), the records of each domain and of the
// host, the host's addresses and their reverse DNS, the block lists, the certificate served
// on every listener (and its TLSA records), MTA-STS of each domain, the open-relay test on
// port 25, AUTH before TLS on submission.
// Each group of checks runs under its own time budget; DNS failures are retried (check/lookup.hpp)
// and so are connections that fail or time out (a server that just started, a lost packet).
#pragma once

#include <chrono>
#include <ctime>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "check/dial.hpp"
#include "check/dnssec.hpp"
#include "check/dnsbl.hpp"
#include "check/finding.hpp"
#include "check/lookup.hpp"
#include "check/records.hpp"
#include "dns/lookup.hpp"

namespace mk::check {

struct Plan {
  std::string hostname;
  std::vector<std::string> domains;      // the hosted domains checked
  std::vector<ExpectedRecord> expected;  // what the admin was asked to publish, for all of them
  std::vector<Listener> listeners;
  ResolverSetup resolver;
  std::string ca_file;  // CAs trusted besides the system's (PEM; [outbound] ca_file)
  FilterLists filter_lists;  // the spam filter's DNS lists ([spam] dnsbl, dnswl, uribl)
  std::uint16_t sts_port = 443;
  std::time_t now = 0;

  RetryPolicy retry;
  std::chrono::milliseconds query_timeout{5000};          // one DNS query
  std::chrono::milliseconds network_timeout{15000};       // one connect, read or handshake
  std::chrono::milliseconds group_budget{120000};         // the DNS of one group of checks
};

// The findings, in the order above. dns: mailkeep's resolver.
boost::asio::awaitable<std::vector<Finding>> run_checks(const Plan& plan, dns::Lookup& dns);
// Only the first two: DNSSEC validation and the records in plan.expected as published now
// (the domains page's live check of each record).
boost::asio::awaitable<std::vector<Finding>> check_published(const Plan& plan, dns::Lookup& dns);

}  // namespace mk::check
