// DMARC aggregate reports: the XML we write reads back the same, reports are found in gzip
// and plain XML attachments, and hostile XML is refused without harm.
#include <gtest/gtest.h>

#include "dmarc/report.hpp"
#include "message/codec.hpp"
#include "message/compress.hpp"

namespace mk::dmarc {
namespace {

Aggregate sample() {
  Aggregate a;
  a.org_name = "mx.ours.example";
  a.email = "postmaster@mx.ours.example";
  a.report_id = "1764547200.sender.example.abc";
  a.begin = 1764547200;
  a.end = 1764633599;
  a.domain = "sender.example";
  a.policy = *parse_record("v=DMARC1; p=reject; adkim=s");
  ReportRow r;
  r.source_ip = "192.0.2.1";
  r.count = 3;
  r.disposition = "none";
  r.dkim = "pass";
  r.spf = "fail";
  r.header_from = "sender.example";
  r.envelope_from = "bounce.example";
  r.dkim_results.push_back({"sender.example", "s1", "pass"});
  r.spf_result = AuthResult{"bounce.example", "", "fail"};
  a.rows.push_back(r);
  r.source_ip = "2001:db8::1";
  r.count = 1;
  r.disposition = "reject";
  r.dkim = "fail";
  r.reason = "";
  r.dkim_results.clear();
  a.rows.push_back(r);
  return a;
}

TEST(Report, XmlRoundTrip) {
  const std::string xml = aggregate_xml(sample());
  EXPECT_NE(xml.find("<policy_published>"), std::string::npos);
  EXPECT_NE(xml.find("<adkim>s</adkim>"), std::string::npos);
  auto a = parse_aggregate_xml(xml);
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_EQ(a->report_id, "1764547200.sender.example.abc");
  EXPECT_EQ(a->domain, "sender.example");
  EXPECT_EQ(a->policy.p, Policy::reject);
  EXPECT_TRUE(a->policy.strict_dkim);
  ASSERT_EQ(a->rows.size(), 2u);
  EXPECT_EQ(a->rows[0].count, 3u);
  EXPECT_EQ(a->rows[0].dkim_results.at(0).selector, "s1");
  EXPECT_EQ(a->rows[1].source_ip, "2001:db8::1");
  EXPECT_EQ(a->rows[1].disposition, "reject");
  EXPECT_EQ(a->rows[1].spf_result->domain, "bounce.example");
}

TEST(Report, FoundInMessages) {
  const std::string xml = aggregate_xml(sample());
  const std::string gz = message::base64_encode(message::gzip(xml));
  const std::string msg =
      "From: r@reporter.example\r\nSubject: Report Domain: sender.example Submitter: r Report-ID: <1>\r\n"
      "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
      "--b\r\nContent-Type: text/plain\r\n\r\nhello\r\n"
      "--b\r\nContent-Type: application/gzip; name=\"r!sender.example!1!2.xml.gz\"\r\n"
      "Content-Transfer-Encoding: base64\r\n\r\n" + gz + "\r\n"
      "--b\r\nContent-Type: text/xml\r\n\r\n" + xml + "\r\n--b--\r\n";
  auto reports = reports_in_message(msg);
  ASSERT_EQ(reports.size(), 2u);
  EXPECT_EQ(reports[0].rows.size(), 2u);
  EXPECT_EQ(reports[1].org_name, "mx.ours.example");
}

TEST(Report, HostileInput) {
  EXPECT_FALSE(parse_aggregate_xml("<feedback><report_metadata>").ok());
  EXPECT_FALSE(parse_aggregate_xml("<other/>").ok());
  // Entities are not expanded: a "billion laughs" document stays small and has no domain.
  const std::string laughs =
      "<?xml version=\"1.0\"?><!DOCTYPE f [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;\">]>"
      "<feedback><policy_published><domain>&b;</domain></policy_published></feedback>";
  auto a = parse_aggregate_xml(laughs);
  EXPECT_TRUE(!a.ok() || a->domain.size() < 64);
  // A gzip bomb: 64 MiB of zeros compress to ~64 KiB; decompression stops at the bound.
  const std::string zeros(64u << 20, '\0');
  EXPECT_FALSE(message::gunzip(message::gzip(zeros), kMaxReportXml).ok());
}

}  // namespace
}  // namespace mk::dmarc
