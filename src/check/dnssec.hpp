// check/dnssec.hpp: whether mailkeep's own resolver validates DNSSEC, asked once.
//
// "Your record is wrong" and "your resolver does not validate" are different problems with
// different fixes, and a checker that mixes them blames the admin's zone for the resolver's
// failings (or the other way round). So before any record is judged, the resolver is asked
// for a name that is signed for certain: the DNSKEY RRset of the zone its trust anchor is
// for (the root for Debian's root.key). A secure answer means validation works, and from
// then on an unsigned or bogus answer is the zone's doing; anything else is reported here,
// once, and DNSSEC is not judged record by record.
// STANDARDS: RFC 4033 §5 (validating resolvers, trust anchors), RFC 4035 §4.3 (secure,
// insecure, bogus).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "check/finding.hpp"
#include "dns/lookup.hpp"

namespace mk::check {

// The owner name of the first record in a trust anchor file (DS or DNSKEY lines, zone-file
// form, ';' comments): "." for the root's; "" when there is none.
std::string trust_anchor_zone(std::string_view file_text);

struct ResolverSetup {
  bool dnssec = true;                 // [dns] dnssec
  std::string trust_anchor;           // [dns] trust_anchor (the file, for the messages)
  std::string anchor_zone;            // trust_anchor_zone() of it
  std::vector<std::string> upstream;  // [dns] upstream; empty: full recursion
};

struct Validation {
  bool validating = false;
  Finding finding;
};

// The verdict on the answer to "ANCHOR_ZONE DNSKEY".
Validation judge_validation(const ResolverSetup& setup, const Result<dns::Answer>& dnskey);

}  // namespace mk::check
