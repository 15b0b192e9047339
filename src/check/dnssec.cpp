// check/dnssec.cpp: does mailkeep's resolver validate DNSSEC (see dnssec.hpp).
#include "check/dnssec.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "base/strings.hpp"
#include "check/lookup.hpp"

namespace mk::check {

std::string trust_anchor_zone(std::string_view text) {
  for (auto line : split(text, '\n')) {
    line = trim(line);
    if (line.empty() || line.front() == ';' || line.front() == '$') continue;
    const auto end = line.find_first_of(" \t");
    return to_lower(line.substr(0, end));
  }
  return {};
}

Validation judge_validation(const ResolverSetup& s, const Result<dns::Answer>& dnskey) {
  constexpr std::string_view kSubject = "DNSSEC validation by mailkeep's resolver";
  const std::string upstream_fix =
      s.upstream.empty()
          ? fmt::format("make sure {} is the current trust anchor (Debian package dns-root-data)", s.trust_anchor)
          : fmt::format("use [dns] upstream resolvers that pass DNSSEC signatures through (now {}), or leave "
                        "upstream empty so mailkeep resolves from the root servers itself",
                        fmt::join(s.upstream, ", "));
  if (!s.dnssec)
    return {false, Finding::failed("dnssec", std::string(kSubject),
                                   "turned off ([dns] dnssec = false): signed records cannot be told from forged "
                                   "ones, and outbound DANE is off",
                                   "set dnssec = true in [dns]")};
  const std::string zone = s.anchor_zone.empty() ? "." : s.anchor_zone;
  if (transient(dnskey))
    return {false, Finding::unknown("dnssec", std::string(kSubject),
                                    fmt::format("the DNSKEY of {} could not be looked up ({})", zone, failure_text(dnskey)),
                                    s.upstream.empty() ? "let mailkeep reach DNS servers on the Internet (UDP and TCP port 53)"
                                                       : "make sure the [dns] upstream resolvers answer")};
  if (dnskey->secure) return {true, Finding::pass("dnssec", std::string(kSubject))};
  const std::string why = dnskey->bogus ? fmt::format("its answer fails validation: {}", dnskey->why_bogus.empty() ? "bogus" : dnskey->why_bogus)
                                        : "its answer came back unsigned";
  return {false, Finding::failed("dnssec", std::string(kSubject),
                                 fmt::format("your resolver does not validate DNSSEC: asked for the DNSKEY of {} (the "
                                             "trust anchor's zone), {}",
                                             zone, why),
                                 upstream_fix)};
}

}  // namespace mk::check
