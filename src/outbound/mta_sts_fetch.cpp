// outbound/mta_sts_fetch.cpp: the MTA-STS policy fetch (RFC 8461 §3.3), for the runner and
// for mailkeep check.
#include "outbound/mta_sts_fetch.hpp"

#include <boost/asio/this_coro.hpp>

#include <fmt/format.h>

#include "dns/rdata.hpp"
#include "outbound/client.hpp"

namespace mk::outbound {

namespace asio = boost::asio;

namespace {

// The policy host's addresses, IPv6 first as for MX hosts.
asio::awaitable<std::vector<std::string>> addresses_of(dns::Lookup& dns, const std::string& host) {
  std::vector<std::string> ips;
  for (int type : {dns::kAaaa, dns::kA}) {
    auto a = co_await dns.query(host, type);
    if (!a || a->temporary()) continue;
    for (const auto& d : a->rdata)
      if (auto ip = dns::parse_address(d, type)) ips.push_back(*ip);
  }
  co_return ips;
}

}  // namespace

asio::awaitable<Result<FetchedPolicy>> fetch_sts_policy_text(dns::Lookup& dns, net::TlsContext& tls,
                                                             std::string domain, StsFetch how) {
  const std::string host = "mta-sts." + domain;
  const auto addrs = co_await addresses_of(dns, host);
  if (addrs.empty()) co_return err(fmt::format("no address for {}", host));
  std::string last = "unreachable";
  auto ex = co_await asio::this_coro::executor;
  for (const auto& ip : addrs) {
    Connection c(ex);
    auto open = co_await c.connect(ip, how.port, how.timeout);
    if (!open) {
      last = open.error().message;
      continue;
    }
    auto handshake = co_await c.start_tls_now(tls, host, how.timeout);
    if (!handshake) {
      last = handshake.error().message;
      c.close();
      continue;
    }
    if (!c.tls_verified()) {
      last = "certificate of " + host + " not valid: " + c.tls_verify_error();
      c.close();
      continue;
    }
    std::string request = fmt::format("GET /.well-known/mta-sts.txt HTTP/1.1\r\nHost: {}\r\nUser-Agent: mailkeep\r\n"
                                      "Connection: close\r\n\r\n",
                                      host);
    if (!co_await c.send(request, how.timeout)) {
      last = "write failed";
      c.close();
      continue;
    }
    auto raw = co_await c.read_all(tlspolicy::kMaxPolicySize + 16384, how.timeout);
    c.close();
    if (!raw) {
      last = raw.error().message;
      continue;
    }
    auto resp = tlspolicy::parse_http_response(*raw, tlspolicy::kMaxPolicySize);
    if (!resp) co_return err("malformed HTTP response from " + host);
    if (resp->status != 200) co_return err(fmt::format("{} answered HTTP {} (redirects are not followed)", host, resp->status));
    if (!resp->content_type.starts_with("text/plain")) co_return err(host + " did not serve text/plain");
    auto policy = tlspolicy::parse_sts_policy(resp->body);
    if (!policy) co_return err("invalid MTA-STS policy at " + host);
    co_return FetchedPolicy{std::move(*policy), std::move(resp->body)};
  }
  co_return err(fmt::format("cannot fetch the MTA-STS policy from {}: {}", host, last));
}

asio::awaitable<Result<tlspolicy::StsPolicy>> fetch_sts_policy(dns::Lookup& dns, net::TlsContext& tls, std::string domain,
                                                               StsFetch how) {
  auto r = co_await fetch_sts_policy_text(dns, tls, std::move(domain), how);
  if (!r) co_return r.error();
  co_return std::move(r->policy);
}

}  // namespace mk::outbound
