// dmarc/report.hpp: DMARC aggregate reports (RFC 7489 §7.2, Appendix C; DMARCbis adds
// <version> and <np>): writing the XML we send, reading the XML others send about our
// domains, and finding reports in a received message (gzip, zip or plain XML attachments).
// SECURITY: reports come from anyone. Decompression and XML size are bounded, the XML parser
// expands no entities and fetches nothing, and counts are clamped.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "dmarc/record.hpp"

#include "message/mime.hpp"

namespace mk::dmarc {

inline constexpr std::size_t kMaxReportXml = 16u << 20;  // decompressed
inline constexpr std::size_t kMaxReportRows = 100000;

struct AuthResult {
  std::string domain, selector, result;  // selector: DKIM only
};

struct ReportRow {
  std::string source_ip;
  std::uint64_t count = 0;
  std::string disposition;   // none, quarantine, reject
  std::string dkim, spf;     // aligned results: pass or fail
  std::string reason;        // policy override type (trusted_forwarder, sampled_out, local_policy...)
  std::string header_from, envelope_from;
  std::vector<AuthResult> dkim_results;
  std::optional<AuthResult> spf_result;
};

struct Aggregate {
  std::string org_name, email, report_id;
  std::int64_t begin = 0, end = 0;
  std::string domain;  // policy_published
  Record policy;
  std::vector<ReportRow> rows;
};

std::string aggregate_xml(const Aggregate& a);
Result<Aggregate> parse_aggregate_xml(std::string_view xml);

// Every aggregate report attached to a message (CRLF), in order; damaged attachments are
// skipped.
std::vector<Aggregate> reports_in_message(std::string_view message);
// The same, in a message the caller parsed already (root: message::parse_mime(message)).
std::vector<Aggregate> reports_in_message(std::string_view message, const message::Part& root);

}  // namespace mk::dmarc
