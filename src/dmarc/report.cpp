#include "dmarc/report.hpp"

#include <pugixml.hpp>

#include <sstream>

#include "base/strings.hpp"
#include "message/codec.hpp"
#include "message/compress.hpp"
#include "message/mime.hpp"

namespace mk::dmarc {
namespace {

constexpr std::size_t kMaxField = 255;
constexpr std::size_t kMaxAuthResults = 32;

void text(pugi::xml_node parent, const char* name, std::string_view value) {
  parent.append_child(name).text().set(std::string(value).c_str());
}

std::string get(pugi::xml_node n, const char* path) {
  std::string v = n.first_element_by_path(path).text().as_string();
  v = std::string(trim(v));
  if (v.size() > kMaxField) v.resize(kMaxField);
  return log_safe(v, kMaxField);
}

std::int64_t get_int(pugi::xml_node n, const char* path) {
  auto v = parse_u64(get(n, path));
  return v && *v < std::uint64_t(INT64_MAX) ? std::int64_t(*v) : 0;
}

std::optional<Policy> policy_of(const std::string& s) {
  if (s == "none") return Policy::none;
  if (s == "quarantine") return Policy::quarantine;
  if (s == "reject") return Policy::reject;
  return std::nullopt;
}

// What a report attachment holds, by its type and name: gzip, zip or plain XML.
std::optional<std::string> report_xml(const message::Part& p, std::string_view msg) {
  const std::string type = p.type + "/" + p.subtype;
  std::string name;
  for (const auto& [k, v] : p.disposition_params)
    if (k == "filename") name = to_lower(v);
  for (const auto& [k, v] : p.type_params)
    if (k == "name" && name.empty()) name = to_lower(v);
  const std::string body = message::decode_transfer(p.body(msg), p.encoding);
  const bool gz = type == "application/gzip" || type == "application/x-gzip" || name.ends_with(".gz");
  const bool zip = type == "application/zip" || type == "application/x-zip-compressed" || name.ends_with(".zip");
  const bool xml = type == "text/xml" || type == "application/xml" || name.ends_with(".xml");
  if (gz) {
    auto r = message::gunzip(body, kMaxReportXml);
    return r ? std::optional<std::string>(std::move(*r)) : std::nullopt;
  }
  if (zip) {
    auto r = message::unzip_first(body, ".xml", kMaxReportXml);
    return r ? std::optional<std::string>(std::move(*r)) : std::nullopt;
  }
  if (xml && body.size() <= kMaxReportXml) return body;
  return std::nullopt;
}

void collect(const message::Part& p, std::string_view msg, std::vector<Aggregate>& out) {
  if (p.is_multipart()) {
    for (const auto& c : p.children) collect(c, msg, out);
    return;
  }
  if (auto xml = report_xml(p, msg))
    if (auto a = parse_aggregate_xml(*xml)) out.push_back(std::move(*a));
}

}  // namespace

std::string aggregate_xml(const Aggregate& a) {
  pugi::xml_document doc;
  auto decl = doc.append_child(pugi::node_declaration);
  decl.append_attribute("version") = "1.0";
  decl.append_attribute("encoding") = "UTF-8";
  auto fb = doc.append_child("feedback");
  text(fb, "version", "1.0");
  auto meta = fb.append_child("report_metadata");
  text(meta, "org_name", a.org_name);
  text(meta, "email", a.email);
  text(meta, "report_id", a.report_id);
  auto range = meta.append_child("date_range");
  text(range, "begin", std::to_string(a.begin));
  text(range, "end", std::to_string(a.end));
  auto pp = fb.append_child("policy_published");
  text(pp, "domain", a.domain);
  text(pp, "adkim", a.policy.strict_dkim ? "s" : "r");
  text(pp, "aspf", a.policy.strict_spf ? "s" : "r");
  text(pp, "p", policy_name(a.policy.p));
  text(pp, "sp", policy_name(a.policy.sp.value_or(a.policy.p)));
  if (a.policy.np) text(pp, "np", policy_name(*a.policy.np));
  text(pp, "pct", std::to_string(a.policy.pct));
  for (const auto& r : a.rows) {
    auto rec = fb.append_child("record");
    auto row = rec.append_child("row");
    text(row, "source_ip", r.source_ip);
    text(row, "count", std::to_string(r.count));
    auto pe = row.append_child("policy_evaluated");
    text(pe, "disposition", r.disposition);
    text(pe, "dkim", r.dkim);
    text(pe, "spf", r.spf);
    if (!r.reason.empty()) text(pe.append_child("reason"), "type", r.reason);
    auto ids = rec.append_child("identifiers");
    if (!r.envelope_from.empty()) text(ids, "envelope_from", r.envelope_from);
    text(ids, "header_from", r.header_from);
    auto ar = rec.append_child("auth_results");
    for (const auto& d : r.dkim_results) {
      auto n = ar.append_child("dkim");
      text(n, "domain", d.domain);
      if (!d.selector.empty()) text(n, "selector", d.selector);
      text(n, "result", d.result);
    }
    if (r.spf_result) {
      auto n = ar.append_child("spf");
      text(n, "domain", r.spf_result->domain);
      text(n, "scope", "mfrom");
      text(n, "result", r.spf_result->result);
    }
  }
  std::ostringstream os;
  doc.save(os, "  ", pugi::format_default, pugi::encoding_utf8);
  return os.str();
}

Result<Aggregate> parse_aggregate_xml(std::string_view xml) {
  if (xml.size() > kMaxReportXml) return err("report too large");
  pugi::xml_document doc;
  // parse_minimal plus escapes: no DOCTYPE processing, no entity expansion beyond the five
  // predefined ones and character references.
  const auto res = doc.load_buffer(xml.data(), xml.size(), pugi::parse_minimal | pugi::parse_escapes);
  if (!res) return err(std::string("invalid XML: ") + res.description());
  const auto fb = doc.child("feedback");
  if (!fb) return err("not a DMARC aggregate report (no <feedback>)");
  Aggregate a;
  a.org_name = get(fb, "report_metadata/org_name");
  a.email = get(fb, "report_metadata/email");
  a.report_id = get(fb, "report_metadata/report_id");
  a.begin = get_int(fb, "report_metadata/date_range/begin");
  a.end = get_int(fb, "report_metadata/date_range/end");
  a.domain = to_lower(get(fb, "policy_published/domain"));
  if (a.domain.empty() || a.report_id.empty()) return err("report without a domain or report_id");
  if (auto p = policy_of(get(fb, "policy_published/p"))) a.policy.p = *p;
  a.policy.sp = policy_of(get(fb, "policy_published/sp"));
  a.policy.strict_dkim = get(fb, "policy_published/adkim") == "s";
  a.policy.strict_spf = get(fb, "policy_published/aspf") == "s";
  for (auto rec : fb.children("record")) {
    if (a.rows.size() >= kMaxReportRows) break;
    ReportRow r;
    r.source_ip = get(rec, "row/source_ip");
    r.count = std::uint64_t(get_int(rec, "row/count"));
    r.disposition = get(rec, "row/policy_evaluated/disposition");
    r.dkim = get(rec, "row/policy_evaluated/dkim");
    r.spf = get(rec, "row/policy_evaluated/spf");
    r.reason = get(rec, "row/policy_evaluated/reason/type");
    r.header_from = to_lower(get(rec, "identifiers/header_from"));
    r.envelope_from = to_lower(get(rec, "identifiers/envelope_from"));
    for (auto d : rec.child("auth_results").children("dkim")) {
      if (r.dkim_results.size() >= kMaxAuthResults) break;
      r.dkim_results.push_back({to_lower(get(d, "domain")), get(d, "selector"), get(d, "result")});
    }
    if (auto s = rec.child("auth_results").child("spf"))
      r.spf_result = AuthResult{to_lower(get(s, "domain")), "", get(s, "result")};
    a.rows.push_back(std::move(r));
  }
  return a;
}

std::vector<Aggregate> reports_in_message(std::string_view message) {
  std::vector<Aggregate> out;
  collect(message::parse_mime(message), message, out);
  return out;
}

std::vector<Aggregate> reports_in_message(std::string_view message, const message::Part& root) {
  std::vector<Aggregate> out;
  collect(root, message, out);
  return out;
}

}  // namespace mk::dmarc
