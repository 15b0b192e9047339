// tlspolicy/mta_sts.hpp: SMTP MTA Strict Transport Security (RFC 8461), the pure parts: the
// _mta-sts TXT record, the policy file, MX pattern matching and the HTTP response that
// carries the policy. All input is untrusted (fuzzed: fuzz/mta_sts.cpp).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mk::tlspolicy {

enum class StsMode { none, testing, enforce };
std::string_view to_string(StsMode m);

struct StsPolicy {
  std::string id;  // from the TXT record at fetch time
  StsMode mode = StsMode::none;
  std::vector<std::string> mx;  // patterns, lower-case: "mx.example.net", "*.example.net"
  std::int64_t max_age = 0;     // seconds
  std::int64_t fetched = 0;     // unix seconds
  bool expired(std::int64_t now) const { return fetched + max_age <= now; }
  // Whether an MX host name satisfies the policy (RFC 8461 §4.1).
  bool allows(std::string_view mx_host) const;
};

// A "v=VERSION; key=value; ..." TXT record (MTA-STS, TLS-RPT): the fields after the version,
// in order; nullopt unless the first field is v=version and every field has a "=".
using TagList = std::vector<std::pair<std::string_view, std::string_view>>;
std::optional<TagList> parse_versioned_txt(std::string_view txt, std::string_view version);

// "v=STSv1; id=20160831085700Z;" -> the id; nullopt if not a valid STSv1 record.
std::optional<std::string> parse_sts_txt(std::string_view txt);

// The policy file (RFC 8461 §3.2); nullopt if it is not a valid STSv1 policy.
std::optional<StsPolicy> parse_sts_policy(std::string_view body);

// The policy a hosted domain serves at https://mta-sts.DOMAIN/.well-known/mta-sts.txt
// (RFC 8461 §3.2), CRLF lines; parse_sts_policy reads it back unchanged.
std::string render_sts_policy(StsMode mode, const std::vector<std::string>& mx, std::int64_t max_age);
// The policy mailkeep serves for each hosted domain: enforce, with the one MX this instance
// is, for a week (RFC 8461 §3.2 max_age: long enough to protect between a sender's visits,
// short enough that a change of MX reaches every sender within days). The HTTPS listener
// serves exactly this text and the published _mta-sts TXT record's id is derived from it.
inline constexpr std::int64_t kServedMaxAge = 7 * 24 * 3600;
std::string served_sts_policy(std::string_view mx_host);

// The _mta-sts TXT record announcing that policy: "v=STSv1; id=ID". The id (RFC 8461 §3.1:
// 1-32 letters and digits) is derived from the policy text, so it changes exactly when the
// policy does and senders fetch the new one.
std::string sts_txt_for(std::string_view policy);

// "*.example.net" matches exactly one leftmost label; other patterns match exactly.
bool mx_pattern_matches(std::string_view pattern, std::string_view host);

// An HTTP/1.1 response: status, and the body (chunked transfer coding decoded).
struct HttpResponse {
  int status = 0;
  std::string content_type;
  std::string body;
};
std::optional<HttpResponse> parse_http_response(std::string_view raw, std::size_t max_body);

// RFC 8461 §3.3: policies larger than this are refused.
inline constexpr std::size_t kMaxPolicySize = 64 * 1024;

}  // namespace mk::tlspolicy
