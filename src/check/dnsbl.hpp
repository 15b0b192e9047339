// check/dnsbl.hpp: the server's addresses on the DNS block lists receivers commonly consult.
//
// An address is looked up as its reversed form under each list's zone (RFC 5782 §2.1): no
// such name (NXDOMAIN) means not listed; an A record in 127.0.0.0/8 means listed, and the
// fix names the list's own lookup page, which says why and how to get delisted. Lists also
// answer with 127.x addresses when they refuse to answer: Spamhaus's 127.255.255.252
// (a mistyped query key), .254 (query through a public or forwarding resolver) and .255 (too
// many queries). Those, 127.0.0.1 (RFC 5782 §5: never a listing) and any address outside
// 127/8 (a resolver that rewrites NXDOMAIN) mean the result is unknown: "could not check",
// with how to get a real answer, never "listed". Addresses that cannot be on a public list
// (loopback, private, link-local) are not looked up.
// STANDARDS: RFC 5782 (DNS block lists), RFC 6890 (special-purpose address blocks).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "base/result.hpp"
#include "check/finding.hpp"
#include "dns/lookup.hpp"

namespace mk::check {

struct Blocklist {
  std::string_view zone;
  bool ipv6 = false;             // whether it lists IPv6 addresses
  std::string_view lookup_url;   // "{}" stands for the address
};

// Free for low volumes, and consulted by many receivers.
inline constexpr Blocklist kBlocklists[] = {
    {"zen.spamhaus.org", true, "https://check.spamhaus.org/results/?query={}"},
    {"bl.spamcop.net", false, "https://www.spamcop.net/bl.shtml?{}"},
    {"b.barracudacentral.org", false, "https://www.barracudacentral.org/lookups/lookup-reputation"},
    {"psbl.surriel.com", false, "https://psbl.org/listing?ip={}"},
};

enum class Listing { not_listed, listed, unknown };
struct ListVerdict {
  Listing listing = Listing::not_listed;
  std::string detail;  // the answer code and what it means, or why the answer says nothing
  bool refused = false;  // unknown because the list refused this resolver (not a DNS failure)
};

// Pure: what a list's answer to one address means (the answer after retries).
ListVerdict interpret(const Blocklist& list, const Result<dns::Answer>& answer);

// "4.3.2.1.zen.spamhaus.org" for 1.2.3.4; nibbles for IPv6; "" if the address does not parse.
std::string list_query(std::string_view ip, std::string_view zone);

// Whether an address can be on a public list (not loopback, private, link-local, ...).
bool publicly_routable(std::string_view ip);

// Per address: one pass naming every list it is not on, and a finding for each list that
// lists it or could not be asked. forwarding: [dns] upstream is set (for the fix).
std::vector<Finding> dnsbl_findings(const std::string& ip, const std::vector<std::pair<Blocklist, ListVerdict>>& verdicts,
                                    bool forwarding);

boost::asio::awaitable<std::vector<Finding>> check_dnsbls(dns::Lookup& dns, std::vector<std::string> ips, bool forwarding);

// The lists the spam filter asks ([spam] dnsbl, dnswl, uribl): whether they answer this
// resolver, by their RFC 5782 §5 test entries (127.0.0.2 for address lists, "test" for
// domain lists). A list that refuses (127.255.255.254: "public resolver", over quota) gives
// the filter nothing, silently: that is a failure with its fix.
struct FilterLists {
  std::vector<std::string> address_zones, domain_zones;
};
std::vector<Finding> filter_list_findings(const std::vector<std::pair<std::string, ListVerdict>>& verdicts,
                                          bool forwarding);
boost::asio::awaitable<std::vector<Finding>> check_filter_lists(dns::Lookup& dns, FilterLists lists, bool forwarding);

}  // namespace mk::check
