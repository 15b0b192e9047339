// app/pipeline.hpp: the inbound pipeline of the MX (port 25): sender authentication and the
// receiver's policy on its result.
//
// SECURITY: mail whose From: is in a domain we host (or a subdomain of one) must pass SPF or
// DKIM aligned with it, whatever that domain publishes: nobody outside may speak for our
// users. Otherwise the sender domain's DMARC policy decides (reject at SMTP time, quarantine
// to Junk). A message with more than one From: field or author domain is refused, since
// clients show one of them and DMARC can vouch for none. A valid ARC chain sealed last by a
// configured trusted forwarder that saw DMARC pass overrides a DMARC failure (both rules). Temporary DNS failures never turn
// into rejections: a 4xx asks the sender to retry where a 5xx would be wrong.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "arc/arc.hpp"
#include "base/log.hpp"
#include "dmarc/dmarc.hpp"
#include "dns/lookup.hpp"
#include "smtp/server.hpp"
#include "store/store.hpp"

namespace mk::app {

class AuthPipeline final : public smtp::Pipeline {
 public:
  AuthPipeline(dns::Lookup& dns, store::Store& store, std::string authserv_id,
               std::vector<std::string> trusted_sealers)
      : dns_(dns), store_(store), authserv_id_(std::move(authserv_id)), trusted_sealers_(std::move(trusted_sealers)) {}

  boost::asio::awaitable<smtp::PipelineDecision> check(const smtp::Transaction& txn, std::string_view content,
                                                       std::string helo, std::string remote_ip) override;

 private:
  bool hosted(std::string_view domain);  // the domain or one of its parents is ours
  // A valid ARC chain whose newest sealer we trust and which saw DMARC pass (RFC 8617 §7.2).
  bool arc_vouches(const arc::ChainResult& chain) const;

  dns::Lookup& dns_;
  store::Store& store_;
  std::string authserv_id_;
  std::vector<std::string> trusted_sealers_;
  dmarc::OrgDomains orgs_;
};

}  // namespace mk::app
