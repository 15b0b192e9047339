// filter/blocklists.hpp: DNS block- and allow-lists (RFC 5782) as spam signals.
//
// Three kinds of zone, each configurable ([spam] dnsbl, dnswl, uribl):
// - DNSBL: the connecting client's address, reversed ("4.3.2.1.zone" for 1.2.3.4, nibbles
//   for IPv6), listed -> DNSBL (+dnsbl_score);
// - DNSWL: the same query in an allow-list -> DNSWL (dnswl_score, negative);
// - URIBL: the registrable domain of each link host in the message ("shop.example.zone"),
//   an IPv4 link host reversed -> URIBL (+uribl_score, once per zone).
// An entry is listed when it resolves to an A record in 127.0.0.0/8 other than 127.0.0.1,
// 127.0.x.255 and 127.255.255.0/24: those are how lists say "refused" (query over a public resolver, rate
// limit) and are logged, never scored. Lookups run concurrently and are bounded in number
// and time: a slow or dead list costs at most the timeout and gives no signal.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "dmarc/dmarc.hpp"
#include "dns/lookup.hpp"
#include "filter/blocklist_config.hpp"
#include "filter/verdict.hpp"

namespace mk::filter {

// "4.3.2.1" for 1.2.3.4, the 32 nibbles for an IPv6 address; empty if `ip` is neither.
std::string reversed_ip(std::string_view ip);

inline constexpr std::size_t kMaxLinkDomains = 10;

// What a list's answer (A records, wire RDATA) says.
enum class Listing { no, listed, refused };
Listing listing_of(const dns::Answer& a, std::string* code);

struct BlocklistResult {
  std::vector<Signal> signals;
  std::vector<std::string> notes;  // lists that refused or failed, for the log
};

// The registrable domains of the hosts the message's links point at (IPv4 hosts as they
// are), each once, at most kMaxLinkDomains.
std::vector<std::string> link_domains(std::string_view msg, const dmarc::OrgDomains& orgs);
// The same, of links found already (message::Parsed::links()).
std::vector<std::string> link_domains(const std::vector<std::string>& links, const dmarc::OrgDomains& orgs);

// The signals for a message from `client_ip` whose links have the registrable domains
// `link_domains` (at most kMaxLinkDomains are looked up). Await it from a strand.
boost::asio::awaitable<BlocklistResult> check_blocklists(dns::Lookup& dns, const BlocklistConfig& cfg,
                                                         std::string client_ip, std::vector<std::string> link_domains);

}  // namespace mk::filter
