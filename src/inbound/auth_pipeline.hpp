// inbound/auth_pipeline.hpp: the inbound pipeline of the MX (port 25): sender authentication and the
// receiver's policy on its result.
//
// SECURITY: mail whose From: is in a domain we host (or a subdomain of one) must pass SPF or
// DKIM aligned with it, whatever that domain publishes: nobody outside may speak for our
// users. Otherwise the sender domain's DMARC policy decides (reject at SMTP time, quarantine
// to Junk). A message with more than one From: field or author domain is refused, since
// clients show one of them and DMARC can vouch for none. A valid ARC chain sealed last by a
// configured trusted forwarder that saw DMARC pass overrides a DMARC failure (both rules). Temporary DNS failures never turn
// into rejections: a 4xx asks the sender to retry where a 5xx would be wrong.
// Forwarded mail (an alias whose target is in another domain) is ARC-sealed by us, recording
// what we verified, so that the final receiver can trust our word when the forwarding breaks
// SPF (smtp/server.cpp rewrites the envelope sender with SRS as well).
// DMARC aggregate reports: with dmarc.send_reports the facts of each evaluation against a
// policy that asks for reports are recorded (app/dmarc_reports.cpp sends them); reports that
// others send about our domains are read from accepted messages and kept for
// `mailkeep report dmarc`. The message itself is delivered either way.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "arc/arc.hpp"
#include <atomic>
#include <chrono>

#include <boost/asio/thread_pool.hpp>

#include "base/log.hpp"
#include "dmarc/dmarc.hpp"
#include "dns/config.hpp"
#include "dns/deadline.hpp"
#include "dns/lookup.hpp"
#include "mailauth/assess.hpp"
#include "smtp/hooks.hpp"
#include "store/directory.hpp"
#include "store/keys.hpp"
#include "store/reports.hpp"
#include "store/roles.hpp"

namespace mk::inbound {

// The store roles the receiver policy uses: hosted domains, the DMARC report data, the
// forwarding domain's keys for the ARC seal.
struct AuthStore {
  store::Directory& directory;
  store::Reports& reports;
  store::Keys& keys;
  template <store::Provides<store::Directory, store::Reports, store::Keys> S>
  AuthStore(S& s) : directory(s), reports(s), keys(s) {}  // NOLINT: implicit by design
};

class AuthPipeline final : public smtp::Pipeline {
 public:
  struct Options {
    std::string authserv_id;                   // our host name
    std::vector<std::string> trusted_sealers;  // smtp.arc_trusted_sealers
    bool record_for_reports = false;           // dmarc.send_reports
    Duration report_interval{std::chrono::hours(24)};  // [dmarc] report_interval
    log::Logger log;                           // store failures on the way (the message goes on)
    Duration dns_budget = dns::Config{}.message_budget;        // [dns] message_budget
    Duration dns_query_timeout = dns::Config{}.query_timeout;  // [dns] query_timeout
    // check-message: decide exactly as the MX would, but keep nothing (no DMARC results
    // for reports, no reports found in the message).
    bool read_only = false;
    // Where the policy's store work runs (net/offload.hpp); null: in the caller's thread.
    boost::asio::thread_pool* work = nullptr;
  };
  AuthPipeline(dns::Lookup& dns, AuthStore store, Options o) : dns_(dns), store_(store), opt_(std::move(o)) {}

  boost::asio::awaitable<smtp::PipelineDecision> check(const smtp::Transaction& txn, const message::Parsed& msg,
                                                       std::string helo, std::string remote_ip) override;
  // check(), also handing out what was verified (for the spam filter's signals). Its
  // lookups go through `dns`, the message's deadline (message_dns()), which the caller may
  // share with the message's other lookups (the filter's DNS lists).
  boost::asio::awaitable<smtp::PipelineDecision> decide(const smtp::Transaction& txn, const message::Parsed& msg,
                                                        std::string helo, std::string remote_ip,
                                                        mailauth::Assessment& assessment, dns::DeadlineLookup& dns);
  // The DNS of one message under one deadline ([dns] message_budget, each query at most
  // [dns] query_timeout): every lookup the MX makes for a message goes through one.
  dns::DeadlineLookup message_dns() const { return dns::DeadlineLookup(dns_, opt_.dns_budget, opt_.dns_query_timeout); }

 private:
  bool hosted(std::string_view domain);  // the domain or one of its parents is ours
  // A valid ARC chain whose newest sealer we trust and which saw DMARC pass (RFC 8617 §7.2).
  bool arc_vouches(const arc::ChainResult& chain) const;
  // The facts of one evaluation, added up for the sender domain's aggregate report.
  void record(const mailauth::Assessment& a, const mailauth::Params& p, std::string_view reason,
              std::string_view disposition);
  // Aggregate reports about our domains found in an accepted message, stored for
  // `mailkeep report dmarc`; returns how many.
  std::size_t take_reports(const message::Parsed& msg);
  // RFC 8617 §5.1: the ARC set we add to a message we forward (an alias to another domain),
  // sealed with the forwarding domain's DKIM key; empty if it cannot be sealed.
  std::string arc_seal(const mailauth::Assessment& a, const mailauth::Params& p, std::string_view content,
                       const std::string& domain, std::vector<log::Field>& log);

  dns::Lookup& dns_;
  AuthStore store_;
  Options opt_;
  dmarc::OrgDomains orgs_;
  // A resolver outage is logged when it starts and when it ends, not for every message.
  std::atomic<bool> dns_outage_{false};
  std::atomic<std::uint64_t> dns_outages_{0};
};

}  // namespace mk::inbound
