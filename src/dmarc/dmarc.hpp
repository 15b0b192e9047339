// dmarc/dmarc.hpp: DMARC evaluation (RFC 7489 §6.6, aware of DMARCbis): policy discovery,
// identifier alignment and the disposition the receiver applies.
//
// The organizational domain comes from the Public Suffix List (libpsl, Debian's publicsuffix
// list, else libpsl's built-in copy). DMARCbis additions honoured: np= for non-existent
// subdomains and t=y (testing: the policy is applied one step softer, like pct=).
// SECURITY: a DMARC result is only as good as its inputs: SPF and DKIM results from our own
// verifiers, and the From domain of a message with exactly one From address.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "dmarc/record.hpp"
#include "dns/lookup.hpp"

namespace mk::dmarc {

class OrgDomains {
 public:
  OrgDomains();
  ~OrgDomains();
  OrgDomains(const OrgDomains&) = delete;
  OrgDomains& operator=(const OrgDomains&) = delete;
  // The registrable domain ("mail.example.co.uk" -> "example.co.uk"); the name itself when it
  // is a public suffix or unknown. Input and output lower-case.
  std::string organizational(std::string_view domain) const;
  // Relaxed alignment: the same organizational domain; strict: the same name.
  bool aligned(std::string_view a, std::string_view b, bool strict) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

enum class Outcome { none, pass, fail, temperror, permerror };
std::string_view outcome_name(Outcome o);

struct Input {
  std::string from_domain;  // RFC5322.From domain, lower-case
  bool spf_pass = false;
  std::string spf_domain;   // the domain SPF checked (MAIL FROM, or HELO for the null sender)
  std::vector<std::string> dkim_pass_domains;  // d= of each passing DKIM signature
};

struct Verdict {
  Outcome result = Outcome::none;
  Policy policy = Policy::none;       // what the domain asks for this message (p, sp or np)
  Policy disposition = Policy::none;  // what to do: policy, softened by pct= / t=y; none on pass
  bool spf_aligned = false, dkim_aligned = false;
  std::string from_domain, org_domain;
  std::string policy_domain;  // where the record was found
  std::string dkim_domain;    // the aligned signer, if any
  std::optional<Record> record;
  std::string record_text;  // as published, for aggregate reports
  std::string problem;
};

// `sample` is a uniform random number in [0, 100) for pct= sampling.
boost::asio::awaitable<Verdict> evaluate(dns::Lookup& dns, const OrgDomains& orgs, Input in, int sample);

}  // namespace mk::dmarc
