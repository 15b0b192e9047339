// setup/records.hpp: the DNS records an instance asks its admin to publish, computed once from
// plain inputs, and their two written forms: a zone-file fragment and name/type/value rows for
// a DNS provider's web form. `mailkeep quickstart` and `mailkeep domain dns` print them through
// the same renderers, and `mailkeep check` compares the published DNS with the same list
// (RecordKey), so the three can never disagree.
//
// STANDARDS: RFC 1035 §5.1 (presentation form; TXT character-strings of at most 255 bytes,
// §3.3.14), RFC 5321 §5.1 (MX), RFC 7208 (SPF), RFC 6376 and RFC 8463 (DKIM), RFC 7489
// (DMARC), RFC 8461 (MTA-STS), RFC 8460 (TLS-RPT), RFC 6186 and RFC 8314 §5.1 (SRV for mail
// clients), RFC 2782 (SRV; target "." = service not offered), RFC 8659 (CAA), RFC 7672 and
// RFC 7218 (TLSA "3 1 1" = DANE-EE, SPKI, SHA-256).
//
// SECURITY: pure functions of their inputs; no I/O. Inputs come from the admin and the store
// (trusted); normalize() also reads what other tools print from the DNS (untrusted, bounded by
// its caller), and only ever copies or drops bytes.
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "dkim/sign.hpp"

namespace mk::setup {

// One hour: short enough that a mistake is fixed the same day, long enough not to matter.
inline constexpr std::uint32_t kTtl = 3600;
// RFC 8461 §3.2: max_age of the policy we serve; a week is what the RFC's example uses and
// what large senders cache.

// The CA allowed to issue the server's certificates until an [acme] setting chooses one.
inline constexpr std::string_view kDefaultCaaIssuer = "letsencrypt.org";

// The addresses quickstart makes aliases of the first account: RFC 2142 §2 (postmaster;
// abuse, §4) and the two report addresses below.
inline constexpr std::string_view kRoleAliases[] = {"postmaster", "abuse", "dmarc-reports",
                                                    "tls-reports"};
// Where a domain's DMARC and TLS-RPT records ask for reports: the first of these local parts
// that reaches someone here (an account or an alias); none: no rua (no record for TLS-RPT).
inline constexpr std::string_view kDmarcReportLocals[] = {"dmarc-reports", "postmaster"};
inline constexpr std::string_view kTlsReportLocals[] = {"tls-reports", "postmaster"};

// Whether a name can be a mail domain or a mail server's name on the Internet: a
// letter-digit-hyphen host name (RFC 1123 §2.1) of at least two labels whose last label is
// not numeric, outside the names reserved for local use (RFC 6761 localhost and invalid,
// RFC 6762 local, home.arpa of RFC 8375, and the customary localdomain, lan, internal).
bool plausible_fqdn(std::string_view name);

struct Record {
  std::string owner;  // absolute, lower case, without the final dot: "_dmarc.example.org"
  std::string type;   // "MX", "TXT", "CNAME", "SRV", "CAA", "TLSA", "A", "AAAA", "PTR"
  std::uint32_t ttl = kTtl;
  // RDATA in zone-file presentation form: names absolute with their final dot, TXT as quoted
  // character-strings of at most 255 bytes each.
  std::string value;
  std::string why;   // one short line for the admin
  std::string zone;  // the zone it is published in; empty for PTR (the address owner's zone)
  bool operator==(const Record&) const = default;
};

struct DkimKeyInput {
  std::string selector;
  dkim::Algorithm algorithm = dkim::Algorithm::ed25519_sha256;
  std::string public_b64;
  std::string state;  // "active", "next", "retired"
};

struct DomainInput {
  std::string domain;  // lower case
  std::vector<DkimKeyInput> dkim;
  std::string dmarc_rua;  // where DMARC aggregate reports go; empty: the record asks for none
  std::string
      tlsrpt_rua;  // where TLS-RPT reports go; empty: no record (RFC 8460 §3: rua is required)
  std::string
      sts_policy;  // the MTA-STS policy served (tlspolicy::served_sts_policy); empty: no MTA-STS records
};

// The records about the server itself, published once however many domains it hosts.
struct HostInput {
  std::string hostname;                // lower case
  std::vector<std::string> addresses;  // its public IPv4/IPv6 addresses, when known
  std::string tlsa_current,
      tlsa_next;  // SHA-256 of the keys' SubjectPublicKeyInfo, hex; empty: none
  std::vector<std::string> caa_issuers;  // CAs allowed to issue its certificates: "letsencrypt.org"
};

struct Inputs {
  HostInput host;
  std::vector<DomainInput> domains;
};

// Every record to publish: the host's first (A, AAAA, TLSA, CAA, PTR), then each domain's.
std::vector<Record> records(const Inputs& in);

// A zone-file fragment (absolute names, one "; why" comment above each record), grouped by
// zone. `notes` are printed first as comments; PTR records are printed as comments, since
// they belong to the address owner's zone, not the admin's.
std::string render_zone(const std::vector<Record>& records,
                        const std::vector<std::string>& notes = {});
// Rows for a DNS provider's web form, grouped by zone: the name relative to the zone ("@" for
// the zone itself, "_dmarc" for _dmarc.example.org), the full name, type, TTL and value (TXT
// as its text, without quotes or splits: what web forms want).
std::string render_rows(const std::vector<Record>& records);

// A record reduced to what the DNS must serve, for comparing what is published with what
// should be: owner lower case without the final dot, type upper case, RDATA normalized (names
// lower case with their final dot, TXT as its concatenated text, TLSA hex lower case without
// spaces, addresses in RFC 5952 form, CAA values unquoted).
struct RecordKey {
  std::string owner, type, rdata;
  auto operator<=>(const RecordKey&) const = default;
};
RecordKey key_of(const Record& r);
// The same for a record as another tool prints it (ldns-read-zone, dig, a web form's value).
RecordKey normalize(std::string_view owner, std::string_view type, std::string_view rdata);

// A TXT value as presentation-form character-strings of at most 255 bytes (RFC 1035
// §3.3.14), with '"' and '\' escaped.
std::string txt_strings(std::string_view text);

// The name as the zone's web form wants it: "@" for the zone itself, the labels below it,
// or the absolute name with its final dot when it is not in the zone.
std::string relative_name(std::string_view owner, std::string_view zone);

}  // namespace mk::setup
