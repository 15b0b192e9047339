// outbound/tlsrpt.hpp: SMTP TLS Reporting (RFC 8460): the _smtp._tls record, the JSON
// aggregate report, and the report message (gzip attachment, report-type=tlsrpt).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/store.hpp"

namespace mk::outbound {

// "v=TLSRPTv1; rua=mailto:a@example.net,https://..." -> the mailto addresses (https
// endpoints are not used). nullopt if not a TLSRPTv1 record.
std::optional<std::vector<std::string>> parse_tlsrpt_txt(std::string_view txt);

struct TlsReportMeta {
  std::string organization;  // our hostname
  std::string contact;       // "postmaster@<hostname>"
  std::string report_id;
  std::int64_t start = 0, end = 0;
};

// The report for one policy domain from its rows of one period.
std::string tlsrpt_json(const TlsReportMeta& meta, const std::vector<store::TlsResult>& rows);

// RFC 8460 §5.3: the email carrying the gzipped report.
std::string tlsrpt_message(const TlsReportMeta& meta, std::string_view policy_domain, std::string_view from,
                           const std::vector<std::string>& to, std::string_view json);


}  // namespace mk::outbound
