// check/fcrdns.hpp: the server's addresses, and their forward-confirmed reverse DNS.
//
// Large receivers refuse or junk mail from an address whose PTR record is missing or names a
// host that does not resolve back to it. So for each address the hostname resolves to: its
// PTR names, and for each name its addresses of the same family; one name that leads back is
// a pass. A failed lookup (timeout, SERVFAIL; after the retries of check/lookup.hpp) is "could
// not check", never "not set": only NXDOMAIN or an empty answer means there is no record.
// STANDARDS: RFC 1912 §2.1 (every address a PTR, every PTR a matching A), RFC 8601 §3
// ("iprev": forward-confirmed reverse DNS), RFC 1035 §3.5 and RFC 3596 §2.5 (in-addr.arpa,
// ip6.arpa).
#pragma once

#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "check/finding.hpp"
#include "dns/lookup.hpp"

namespace mk::check {

struct HostAddresses {
  std::vector<std::string> ips;    // IPv6 and IPv4 addresses of the hostname
  std::vector<Finding> findings;   // a failure or "could not check" when there are none
};

// The hostname's AAAA and A records.
boost::asio::awaitable<HostAddresses> host_addresses(dns::Lookup& dns, std::string hostname);

// One finding per address.
boost::asio::awaitable<std::vector<Finding>> check_fcrdns(dns::Lookup& dns, std::string hostname,
                                                          std::vector<std::string> ips);

}  // namespace mk::check
