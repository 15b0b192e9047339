// check/run.cpp: the order and the time bounds of mailkeep check's checks (see run.hpp).
#include "check/run.hpp"

#include <algorithm>

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>

#include "base/strings.hpp"
#include "check/dnsbl.hpp"
#include "check/fcrdns.hpp"
#include "check/mta_sts.hpp"
#include "check/relay.hpp"
#include "check/tls_chain.hpp"
#include "dns/deadline.hpp"
#include "dns/rdata.hpp"
#include "net/tls.hpp"

namespace mk::check {

namespace asio = boost::asio;

namespace {

constexpr int kNs = 2;  // RFC 1035 §3.2.2: the probe of a resolver that need not validate

asio::awaitable<void> pause(std::chrono::milliseconds d) {
  asio::steady_timer t(co_await asio::this_coro::executor, d);
  boost::system::error_code ec;
  co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
}

// The DNS of one group of checks: each query within query_timeout, retried, all of them
// within group_budget.
struct GroupDns {
  GroupDns(dns::Lookup& resolver, const Plan& p)
      : deadline(resolver, p.group_budget, p.query_timeout), retry(deadline, p.retry) {}
  dns::DeadlineLookup deadline;
  RetryLookup retry;
};

void append(std::vector<Finding>& out, std::vector<Finding> more) {
  out.insert(out.end(), std::make_move_iterator(more.begin()), std::make_move_iterator(more.end()));
}

// Whether the records asked for include a TLSA 3 1 1 record at owner for the served leaf's key.
// A record owner as compared: lower case, no final dot.
std::string owner_key(std::string s) {
  s = to_lower(s);
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

bool serves_expected_key(const Plan& p, const std::string& owner, const std::string& leaf_der) {
  const std::string want = tlsa_311(leaf_der);
  for (const auto& e : p.expected)
    if (owner_key(e.owner) == owner_key(owner) && iequals(e.type, "TLSA") && iequals(e.value, want)) return true;
  return false;
}

bool expects(const Plan& p, const std::string& owner, std::string_view type) {
  for (const auto& e : p.expected)
    if (owner_key(e.owner) == owner_key(owner) && iequals(e.type, type)) return true;
  return false;
}

// A network test, again while it ends in "could not check" (a server still starting, a lost
// packet), at most plan.retry.attempts times.
template <class Test>
asio::awaitable<Finding> retried(const RetryPolicy& r, Test test) {
  Finding f;
  for (int attempt = 1; attempt <= r.attempts; ++attempt) {
    f = co_await test();
    if (f.outcome != Outcome::unknown) break;
    if (attempt < r.attempts) co_await pause(r.pause);
  }
  co_return f;
}

// The TLSA records published for a target's port, or a finding about them when they cannot
// be used.
struct TlsaLookup {
  std::optional<std::vector<dns::Tlsa>> records;
  std::vector<Finding> findings;
};

asio::awaitable<TlsaLookup> tlsa_for(const Plan& p, dns::Lookup& dns, bool validating, std::string owner,
                                     std::string subject) {
  TlsaLookup out;
  auto r = co_await dns.query(owner, dns::kTlsa);
  const std::string s = fmt::format("{}: TLSA {}", subject, owner);
  if (transient(r)) {
    out.findings.push_back(Finding::unknown("tls", s, fmt::format("the lookup failed ({})", failure_text(r)),
                                            "make sure the DNS servers of the zone answer, then run the check again"));
    co_return out;
  }
  if (validating && r->bogus) {
    out.findings.push_back(Finding::failed(
        "tls", s, fmt::format("the answer fails DNSSEC validation ({}): senders that use DANE will not deliver", r->why_bogus),
        "re-sign the zone at your DNS provider"));
    co_return out;
  }
  std::vector<dns::Tlsa> records;
  for (const auto& d : r->rdata)
    if (auto t = dns::parse_tlsa(d)) records.push_back(*t);
  if (records.empty()) co_return out;
  // RFC 7672 §2.2: only validated TLSA records count. The records check says so when the
  // record is one it expects; otherwise it is said here.
  if (validating && !r->secure && !expects(p, owner, "TLSA")) {
    out.findings.push_back(Finding::failed(
        "tls", s, "published, but not DNSSEC-signed: sending servers ignore TLSA records that are not (RFC 7672 §2.2)",
        "turn on DNSSEC for the zone at your DNS provider, or remove the TLSA records"));
  }
  out.records = std::move(records);
  co_return out;
}

}  // namespace

namespace {

// DNSSEC validation (once: it decides how every DNS answer is judged) and the records the
// admin was asked to publish, as published; whether the resolver validates and answers.
struct RecordsPart {
  std::vector<Finding> findings;
  bool validating = false, reachable = true;
};

asio::awaitable<RecordsPart> check_records(const Plan& p, dns::Lookup& resolver) {
  RecordsPart out;
  {
    // The same query tells whether the resolver answers at all (SERVFAIL is an answer; a
    // timeout is not).
    GroupDns dns(resolver, p);
    const std::string zone = p.resolver.anchor_zone.empty() ? std::string(".") : p.resolver.anchor_zone;
    auto probe = co_await dns.retry.query(zone, p.resolver.dnssec ? dns::kDnskey : kNs);
    out.reachable = probe.ok();
    auto v = judge_validation(p.resolver, p.resolver.dnssec ? probe : Result<dns::Answer>(err("not asked")));
    out.validating = v.validating;
    out.findings.push_back(std::move(v.finding));
  }
  if (!out.reachable) {
    // One line instead of a "could not check" for every record, each after its retries.
    out.findings.push_back(Finding::unknown(
        "dns", "DNS records, reverse DNS, block lists, TLSA, MTA-STS",
        "not checked: mailkeep's resolver got no answer at all",
        p.resolver.upstream.empty() ? "let mailkeep reach DNS servers on the Internet (UDP and TCP port 53), or "
                                      "name resolvers it may use in [dns] upstream"
                                    : "make sure the [dns] upstream resolvers answer"));
    co_return out;
  }
  GroupDns dns(resolver, p);
  std::vector<PublishedRrset> published;
  for (const auto& e : p.expected) {
    bool have = false;
    for (const auto& r : published)
      have |= iequals(r.owner, e.owner) && iequals(r.type, e.type);
    if (!have) published.push_back(co_await fetch_rrset(dns.retry, e.owner, e.type));
  }
  append(out.findings, compare_records(p.expected, published, out.validating));
  co_return out;
}

}  // namespace

asio::awaitable<std::vector<Finding>> check_published(const Plan& p, dns::Lookup& resolver) {
  auto part = co_await check_records(p, resolver);
  co_return std::move(part.findings);
}

asio::awaitable<std::vector<Finding>> run_checks(const Plan& p, dns::Lookup& resolver) {
  auto part = co_await check_records(p, resolver);
  std::vector<Finding> out = std::move(part.findings);
  const bool validating = part.validating, reachable = part.reachable;

  std::vector<std::string> ips;
  if (reachable) {
    GroupDns dns(resolver, p);
    auto host = co_await host_addresses(dns.retry, p.hostname);
    ips = host.ips;
    append(out, std::move(host.findings));
    append(out, co_await check_fcrdns(dns.retry, p.hostname, ips));
  }
  if (reachable) {
    GroupDns dns(resolver, p);
    append(out, co_await check_dnsbls(dns.retry, ips, !p.resolver.upstream.empty()));
  }
  if (reachable && (!p.filter_lists.address_zones.empty() || !p.filter_lists.domain_zones.empty())) {
    GroupDns dns(resolver, p);
    append(out, co_await check_filter_lists(dns.retry, p.filter_lists, !p.resolver.upstream.empty()));
  }

  const auto targets = dial_targets(p.listeners, ips, is_local_address);
  auto dial_tls = net::make_client_tls();
  auto trust = load_trust_store(p.ca_file);
  if (!dial_tls || !trust) {
    out.push_back(Finding::unknown("tls", "certificates", !trust ? trust.error().message : dial_tls.error().message,
                                   "install the system's CA certificates (Debian package ca-certificates) and check "
                                   "[outbound] ca_file"));
  } else {
    for (const auto& t : targets) {
      Result<std::vector<std::string>> chain = err("not dialled");
      for (int attempt = 1; attempt <= p.retry.attempts; ++attempt) {
        chain = co_await fetch_chain(t, p.hostname, **dial_tls, p.network_timeout);
        if (chain || chain.error().code == kNoStartTls) break;
        if (attempt < p.retry.attempts) co_await pause(p.retry.pause);
      }
      if (!chain) {
        const bool no_starttls = chain.error().code == kNoStartTls;
        out.push_back(no_starttls
                          ? Finding::failed("tls", t.name(), "STARTTLS is not offered: mail and passwords travel in the clear",
                                            "let mailkeep answer on this port (it always offers STARTTLS)")
                          : Finding::unknown("tls", t.name(), fmt::format("the TLS connection failed: {}", chain.error().message),
                                             "make sure mailkeep is running and listens on this address and port"));
        continue;
      }
      ChainInput in{t.name(), p.hostname, std::move(*chain), p.now, std::nullopt,
                    fmt::format("_{}._tcp.{}", t.listener.port, p.hostname)};
      TlsaLookup tlsa;
      if (reachable) {
        GroupDns dns(resolver, p);  // its own budget: the dials before it took their time
        tlsa = co_await tlsa_for(p, dns.retry, validating, in.tlsa_owner, t.name());
      }
      in.tlsa = std::move(tlsa.records);
      // The records check compares the published TLSA records with those asked for; when the
      // key served is the one asked for, what is wrong with them is that check's to say, once.
      if (in.tlsa && serves_expected_key(p, in.tlsa_owner, in.chain.front())) in.tlsa.reset();
      append(out, judge_chain(in, trust->get()));
      append(out, std::move(tlsa.findings));
    }
  }

  if (!reachable) {
    // Said above.
  } else if (auto sts_tls = net::make_client_tls(p.ca_file); !sts_tls) {
    out.push_back(Finding::unknown("mta-sts", "MTA-STS", sts_tls.error().message, "check [outbound] ca_file"));
  } else {
    for (const auto& d : p.domains) {
      GroupDns dns(resolver, p);
      append(out, co_await check_mta_sts(dns.retry, **sts_tls, d, p.hostname,
                                         outbound::StsFetch{p.sts_port, p.network_timeout}, p.retry));
    }
  }

  for (const auto& t : targets) {
    if (t.listener.service == "smtp") {
      out.push_back(co_await retried(p.retry, [&] {
        return relay_test(t.name(), t.ip, t.listener.port, p.hostname, p.network_timeout);
      }));
    }
  }
  for (const auto& t : targets) {
    if (t.listener.service == "submission" && t.listener.mode == TlsMode::smtp_starttls) {
      out.push_back(co_await retried(p.retry, [&] {
        return auth_before_tls_test(t.name(), t.ip, t.listener.port, p.hostname, p.network_timeout);
      }));
    }
  }
  co_return out;
}

}  // namespace mk::check
