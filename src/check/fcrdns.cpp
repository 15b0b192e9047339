// check/fcrdns.cpp: addresses and forward-confirmed reverse DNS (see fcrdns.hpp).
#include "check/fcrdns.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "base/ip.hpp"
#include "check/lookup.hpp"
#include "dns/rdata.hpp"

namespace mk::check {

namespace asio = boost::asio;

namespace {

// More PTR names than any sane address has; the rest are not followed.
constexpr std::size_t kMaxPtrNames = 5;

}  // namespace

asio::awaitable<HostAddresses> host_addresses(dns::Lookup& dns, std::string hostname) {
  HostAddresses out;
  std::string failed;
  for (int type : {dns::kAaaa, dns::kA}) {
    auto r = co_await dns.query(hostname, type);
    if (transient(r)) {
      failed = failure_text(r);
      continue;
    }
    for (const auto& d : r->rdata)
      if (auto ip = dns::parse_address(d, type)) out.ips.push_back(*ip);
  }
  const std::string subject = fmt::format("{} A/AAAA", hostname);
  if (out.ips.empty() && !failed.empty())
    out.findings.push_back(Finding::unknown("address", subject,
                                            fmt::format("the addresses of {} could not be looked up ({})", hostname, failed),
                                            "make sure the DNS servers of its zone answer, then run the check again"));
  else if (out.ips.empty())
    out.findings.push_back(Finding::failed("address", subject,
                                           fmt::format("{} has no A or AAAA record: nothing can reach this server by "
                                                       "its name",
                                                       hostname),
                                           fmt::format("publish {}. 3600 IN A <this server's public IPv4 address> (and "
                                                       "AAAA for IPv6)",
                                                       hostname)));
  else
    out.findings.push_back(Finding::pass("address", fmt::format("{} ({})", subject, fmt::join(out.ips, ", "))));
  co_return out;
}

asio::awaitable<std::vector<Finding>> check_fcrdns(dns::Lookup& dns, std::string hostname, std::vector<std::string> ips) {
  std::vector<Finding> out;
  for (const auto& text : ips) {
    const auto ip = IpAddr::parse(text);
    if (!ip) continue;
    const std::string subject = fmt::format("reverse DNS of {}", ip->to_string());
    const std::string set_it =
        fmt::format("ask whoever gave you {} (your hosting provider, often in its control panel) to set its reverse "
                    "DNS (PTR) to {}",
                    ip->to_string(), hostname);
    auto ptr = co_await dns.query(ip->reverse_name(), dns::kPtr);
    if (transient(ptr)) {
      out.push_back(Finding::unknown("fcrdns", subject,
                                     fmt::format("the PTR lookup of {} failed ({})", ip->reverse_name(), failure_text(ptr)),
                                     "run the check again later; if it persists, the DNS servers of the address's "
                                     "network are not answering: tell your hosting provider"));
      continue;
    }
    std::vector<std::string> names;
    for (const auto& d : ptr->rdata)
      if (auto n = dns::parse_name(d); n && !n->empty() && names.size() < kMaxPtrNames) names.push_back(*n);
    if (names.empty()) {
      out.push_back(Finding::failed("fcrdns", subject,
                                    fmt::format("{} has no PTR record: large providers refuse or junk mail from it",
                                                ip->to_string()),
                                    set_it));
      continue;
    }
    // Forward confirmation: a name that resolves back to the address (same family).
    std::string confirmed;
    std::string lookup_failed;
    for (const auto& n : names) {
      auto fwd = co_await dns.query(n, ip->v4 ? dns::kA : dns::kAaaa);
      if (transient(fwd)) {
        lookup_failed = fmt::format("{} ({})", n, failure_text(fwd));
        continue;
      }
      for (const auto& d : fwd->rdata) {
        auto a = dns::parse_address(d, ip->v4 ? dns::kA : dns::kAaaa);
        auto back = a ? IpAddr::parse(*a) : std::nullopt;
        if (back && *back == *ip) confirmed = n;
      }
      if (!confirmed.empty()) break;
    }
    if (!confirmed.empty()) {
      out.push_back(Finding::pass("fcrdns", confirmed == hostname
                                                ? fmt::format("{}: {}", subject, confirmed)
                                                : fmt::format("{}: {} (resolves back to it)", subject, confirmed)));
    } else if (!lookup_failed.empty()) {
      out.push_back(Finding::unknown("fcrdns", subject,
                                     fmt::format("the PTR names {}, whose addresses could not be looked up: {}",
                                                 fmt::join(names, ", "), lookup_failed),
                                     "run the check again later"));
    } else {
      out.push_back(Finding::failed(
          "fcrdns", subject,
          fmt::format("the PTR names {}, which does not resolve back to {}: receivers treat that as no reverse DNS",
                      fmt::join(names, ", "), ip->to_string()),
          std::find(names.begin(), names.end(), hostname) == names.end()
              ? set_it
              : fmt::format("publish {}. 3600 IN {} {}", hostname, ip->v4 ? "A" : "AAAA", ip->to_string())));
    }
  }
  co_return out;
}

}  // namespace mk::check
