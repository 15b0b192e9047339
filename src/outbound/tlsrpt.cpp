#include "outbound/tlsrpt.hpp"


#include <chrono>
#include <ctime>
#include <map>

#include <fmt/format.h>

#include "base/strings.hpp"
#include "message/codec.hpp"
#include "message/compress.hpp"
#include "message/report_mail.hpp"
#include "smtp/session.hpp"
#include "tlspolicy/mta_sts.hpp"

namespace mk::outbound {
namespace {

std::string json_string(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') out += '\\', out += char(c);
    else if (c < 0x20) out += fmt::format("\\u{:04x}", c);
    else out += char(c);
  }
  return out + "\"";
}

std::string iso(std::int64_t t) {
  char buf[32];
  std::tm tm{};
  const std::time_t tt = t;
  ::gmtime_r(&tt, &tm);
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string json_lines(std::string_view joined) {
  std::string out = "[";
  bool first = true;
  for (auto l : split(joined, '\n')) {
    if (l.empty()) continue;
    out += (first ? "" : ", ") + json_string(l);
    first = false;
  }
  return out + "]";
}

}  // namespace

std::optional<std::vector<std::string>> parse_tlsrpt_txt(std::string_view txt) {
  auto tags = tlspolicy::parse_versioned_txt(txt, "TLSRPTv1");
  if (!tags) return std::nullopt;
  std::vector<std::string> out;
  for (const auto& [key, value] : *tags) {
    if (key != "rua") continue;
    for (auto uri : split(value, ',')) {
      uri = trim(uri);
      if (uri.starts_with("mailto:") && uri.find('@') != std::string_view::npos && uri.size() < 320)
        out.emplace_back(uri.substr(7));
    }
  }
  return out;
}

std::string tlsrpt_json(const TlsReportMeta& meta, const std::vector<store::TlsResult>& rows) {
  // One "policies" entry per policy type seen for the domain.
  std::map<std::string, std::vector<const store::TlsResult*>> by_type;
  for (const auto& r : rows) by_type[r.policy_type].push_back(&r);
  std::string out = "{\n";
  out += fmt::format("  \"organization-name\": {},\n", json_string(meta.organization));
  out += fmt::format("  \"date-range\": {{\"start-datetime\": \"{}\", \"end-datetime\": \"{}\"}},\n", iso(meta.start),
                     iso(meta.end));
  out += fmt::format("  \"contact-info\": {},\n", json_string(meta.contact));
  out += fmt::format("  \"report-id\": {},\n", json_string(meta.report_id));
  out += "  \"policies\": [";
  bool first_policy = true;
  for (const auto& [type, list] : by_type) {
    std::int64_t ok = 0, failed = 0;
    std::string details;
    for (const auto* r : list) {
      if (r->result_type.empty()) {
        ok += r->count;
        continue;
      }
      failed += r->count;
      details += fmt::format("{}\n        {{\"result-type\": {}, \"receiving-mx-hostname\": {}{}, \"failed-session-count\": {}}}",
                             details.empty() ? "" : ",", json_string(r->result_type), json_string(r->mx_host),
                             r->ip.empty() ? "" : ", \"receiving-ip\": " + json_string(r->ip), r->count);
    }
    const auto* any = list.front();
    out += first_policy ? "\n" : ",\n";
    first_policy = false;
    out += "    {\n";
    out += fmt::format("      \"policy\": {{\"policy-type\": {}, \"policy-string\": {}, \"policy-domain\": {}",
                       json_string(type), json_lines(any->policy_string), json_string(any->policy_domain));
    if (!any->mx_pattern.empty()) out += ", \"mx-host\": " + json_lines(any->mx_pattern);
    out += "},\n";
    out += fmt::format("      \"summary\": {{\"total-successful-session-count\": {}, \"total-failure-session-count\": {}}},\n",
                       ok, failed);
    out += fmt::format("      \"failure-details\": [{}{}]\n", details, details.empty() ? "" : "\n      ");
    out += "    }";
  }
  out += "\n  ]\n}\n";
  return out;
}


std::string tlsrpt_message(const TlsReportMeta& meta, std::string_view policy_domain, std::string_view from,
                           const std::vector<std::string>& to, std::string_view json) {
  message::ReportMail r;
  r.from = std::string(from);
  r.from_name = "TLS reporting";
  r.to = to;
  r.subject = fmt::format("Report Domain: {} Submitter: {} Report-ID: <{}>", policy_domain, meta.organization,
                          meta.report_id);
  r.date = smtp::rfc5322_date(std::chrono::system_clock::now());
  r.message_id = fmt::format("{}@{}", meta.report_id, meta.organization);
  r.extra_headers = fmt::format("TLS-Report-Domain: {}\r\nTLS-Report-Submitter: {}\r\n", policy_domain, meta.organization);
  r.content_type = "multipart/report; report-type=tlsrpt";
  r.text = fmt::format("This is an aggregate TLS report from {} for {} (RFC 8460).", meta.organization, policy_domain);
  r.attachment_type = "application/tlsrpt+gzip";
  r.attachment_name = fmt::format("{}!{}!{}!{}!{}.json.gz", meta.organization, policy_domain, meta.start, meta.end,
                                  meta.report_id);
  r.attachment = message::gzip(json);
  return message::report_mail(r);
}

}  // namespace mk::outbound
