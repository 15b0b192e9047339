// check/records.hpp: the DNS records as published, compared with the records the admin was
// asked to publish (mailkeep quickstart, mailkeep domain dns).
//
// The comparison is semantic where the DNS is (owner names and name RDATA compare
// case-insensitively, a TXT record is the concatenation of its character-strings however they
// are split, TLSA data is hex in either case, CAA tags are case-insensitive) and byte-exact
// everywhere else (TXT text, CAA values, numbers). A published RRset may hold more than was
// asked for; only records that conflict with an expected one are findings: a second SPF,
// DMARC, MTA-STS or TLS-RPT record (each makes the receiver ignore both), another TXT record at
// a DKIM selector, another MX host or address.
// STANDARDS: RFC 1035 §5.1 (presentation form, including \" \\ and \DDD escapes), RFC 7208
// §4.5, RFC 7489 §6.6.3, RFC 8461 §3.1, RFC 8460 §3, RFC 6376 §3.6.2.2, RFC 8659 §4.1,
// RFC 6698 §2.2, RFC 7672 §2.2 (TLSA records count only when DNSSEC-validated).
// SECURITY: pure functions; published RDATA is untrusted and decoded by dns/rdata.hpp.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "check/finding.hpp"

namespace mk::check {

// A record to publish: owner name (with or without the final dot), type ("MX", "TXT", ...)
// and RDATA in zone-file presentation form ("10 mail.example.org.", "\"v=spf1 mx -all\"").
struct ExpectedRecord {
  std::string owner, type, value;
};

// One RRset as the resolver returned it (after retries).
struct PublishedRrset {
  std::string owner, type;
  std::string error;       // the lookup failed (timeout, SERVFAIL) every time: nothing is known
  bool nxdomain = false;   // the name does not exist
  bool secure = false;     // DNSSEC-validated
  bool bogus = false;      // DNSSEC validation failed
  std::string why_bogus;
  std::vector<std::string> rdata;  // wire-format RDATA of the records of `type`
};

// The type number of "MX", "TXT", ... (the types compare_records knows); nullopt otherwise.
std::optional<int> type_number(std::string_view type);

// RDATA reduced to what compares: from presentation form, or from wire form; nullopt when it
// does not parse. Names lower case with their final dot; TXT the concatenated bytes; TLSA
// "3 1 1 hex" with lower-case hex; CAA "0 issue \"value\"" with a lower-case tag.
std::optional<std::string> canonical_rdata(std::string_view type, std::string_view presentation);
std::optional<std::string> canonical_wire(std::string_view type, std::string_view rdata);
// A canonical value as a zone file shows it (TXT quoted and escaped, others as they are).
std::string presentation(std::string_view type, std::string_view canonical);

// "check.example TXT (SPF)", "_dmarc.check.example TXT (DMARC)", "check.example MX".
std::string describe(std::string_view owner, std::string_view type, std::string_view canonical);

// The findings of every expected RRset (one finding per problem, or one pass per RRset),
// in the order the RRsets first appear in `expected`. `validating`: the resolver validates
// DNSSEC, so an unsigned or bogus answer is the zone's doing; without it DNSSEC is not judged
// here (check/dnssec.hpp says so once).
std::vector<Finding> compare_records(const std::vector<ExpectedRecord>& expected,
                                     const std::vector<PublishedRrset>& published, bool validating);

}  // namespace mk::check
