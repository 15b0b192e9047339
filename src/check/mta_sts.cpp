// check/mta_sts.cpp: MTA-STS as senders see it (see mta_sts.hpp).
#include "check/mta_sts.hpp"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "base/strings.hpp"
#include "check/lookup.hpp"
#include "dns/rdata.hpp"
#include "tlspolicy/mta_sts.hpp"

namespace mk::check {

namespace asio = boost::asio;

std::vector<Finding> judge_mta_sts(const std::string& domain, const std::string& hostname, const PublishedRrset& txt,
                                   const Result<outbound::FetchedPolicy>& fetched) {
  std::vector<Finding> out;
  const std::string host = "mta-sts." + domain;
  const std::string subject = fmt::format("{} MTA-STS policy", domain);
  if (!fetched) {
    out.push_back(Finding::failed(
        "mta-sts", subject, fmt::format("senders cannot fetch it: {}", fetched.error().message),
        fmt::format("make {} resolve to this server (a CNAME to {}), and serve a certificate that also names {}", host,
                    hostname, host)));
    return out;
  }
  const tlspolicy::StsPolicy& p = fetched->policy;
  if (p.mode == tlspolicy::StsMode::none)
    out.push_back(Finding::failed("mta-sts", subject, "the policy's mode is none: senders apply nothing",
                                  "serve mode: enforce (mailkeep's own policy does)"));
  if (!p.allows(hostname))
    out.push_back(Finding::failed(
        "mta-sts", subject,
        fmt::format("the policy's mx patterns ({}) do not match {}: senders in enforce mode will not deliver here",
                    fmt::join(p.mx, ", "), hostname),
        fmt::format("serve a policy with \"mx: {}\" (mailkeep's own policy has it)", hostname)));
  // RFC 8461 §3.1, §5: senders refetch the policy only when the TXT id changes.
  if (txt.error.empty()) {
    std::vector<std::string> ids;
    int records = 0;
    for (const auto& rd : txt.rdata) {
      auto t = dns::parse_txt(rd);
      if (!t || !istarts_with(*t, "v=STSv1")) continue;
      ++records;
      if (auto id = tlspolicy::parse_sts_txt(*t)) ids.push_back(*id);
    }
    const std::string want = tlspolicy::sts_txt_for(fetched->text);
    auto want_id = tlspolicy::parse_sts_txt(want);
    if (records == 1 && ids.size() == 1 && want_id && ids.front() != *want_id)
      out.push_back(Finding::failed(
          "mta-sts", subject,
          fmt::format("the _mta-sts TXT record has id {}, but the policy served now has id {}: senders that cached "
                      "an older policy keep using it",
                      ids.front(), *want_id),
          fmt::format("publish: _mta-sts.{}. 3600 IN TXT \"{}\"", domain, want)));
  }
  if (out.empty())
    out.push_back(Finding::pass("mta-sts", fmt::format("{} (mode {}, mx {})", subject, tlspolicy::to_string(p.mode),
                                                       fmt::join(p.mx, ", "))));
  return out;
}

asio::awaitable<std::vector<Finding>> check_mta_sts(dns::Lookup& dns, net::TlsContext& tls, std::string domain,
                                                    std::string hostname, outbound::StsFetch how, RetryPolicy retry) {
  auto txt = co_await fetch_rrset(dns, "_mta-sts." + domain, "TXT");
  Result<outbound::FetchedPolicy> fetched = err("not fetched");
  for (int attempt = 1; attempt <= retry.attempts; ++attempt) {
    fetched = co_await outbound::fetch_sts_policy_text(dns, tls, domain, how);
    if (fetched || attempt == retry.attempts) break;
    asio::steady_timer pause(co_await asio::this_coro::executor, retry.pause);
    boost::system::error_code ec;
    co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  co_return judge_mta_sts(domain, hostname, txt, fetched);
}

}  // namespace mk::check
