// Tests for http/wellknown.hpp: each file read back by a real XML parser (pugixml) and its
// values checked; only hosted domains get an answer; what a client sends is escaped.
#include "http/wellknown.hpp"

#include <gtest/gtest.h>
#include <pugixml.hpp>

#include <string>

#include "tlspolicy/mta_sts.hpp"

namespace mk::http {
namespace {

MailSite site() {
  MailSite s;
  s.hostname = "mail.example.org";
  s.hosted = [](std::string_view d) { return d == "example.org"; };
  return s;
}

Request get(std::string host, std::string query = "") {
  Request r;
  r.method = "GET";
  r.tls = true;
  r.host = std::move(host);
  r.query = std::move(query);
  return r;
}

pugi::xml_document parse(const std::string& body) {
  pugi::xml_document doc;
  EXPECT_TRUE(doc.load_string(body.c_str())) << body;
  return doc;
}

TEST(WellKnown, MtaStsOnTheMtaStsNameOfAHostedDomain) {
  const Response r = mta_sts(site(), get("mta-sts.example.org"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "text/plain");
  auto p = tlspolicy::parse_sts_policy(r.body);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->mode, tlspolicy::StsMode::enforce);
  EXPECT_EQ(p->mx, std::vector<std::string>{"mail.example.org"});
  EXPECT_EQ(p->max_age, 604800);
  EXPECT_EQ(r.body, tlspolicy::served_sts_policy("mail.example.org"));
  for (const char* host : {"example.org", "mta-sts.other.example", "mta-sts.", "mail.example.org"})
    EXPECT_EQ(mta_sts(site(), get(host)).status, 404) << host;
}

TEST(WellKnown, AutoconfigListsImplicitTlsFirst) {
  for (const Request& req : {get("autoconfig.example.org"), get("mail.example.org", "emailaddress=me%40Example.ORG")}) {
    const Response r = autoconfig(site(), req);
    ASSERT_EQ(r.status, 200) << r.body;
    auto doc = parse(r.body);
    auto provider = doc.child("clientConfig").child("emailProvider");
    EXPECT_STREQ(provider.attribute("id").value(), "example.org");
    std::vector<std::string> got;
    for (auto s : provider.children())
      if (std::string(s.name()).ends_with("Server"))
        got.push_back(std::string(s.attribute("type").value()) + " " + s.child_value("hostname") + ":" +
                      s.child_value("port") + " " + s.child_value("socketType") + " " + s.child_value("username"));
    EXPECT_EQ(got, (std::vector<std::string>{"imap mail.example.org:993 SSL %EMAILADDRESS%",
                                             "imap mail.example.org:143 STARTTLS %EMAILADDRESS%",
                                             "smtp mail.example.org:465 SSL %EMAILADDRESS%",
                                             "smtp mail.example.org:587 STARTTLS %EMAILADDRESS%"}));
  }
  EXPECT_EQ(autoconfig(site(), get("autoconfig.other.example")).status, 404);
  EXPECT_EQ(autoconfig(site(), get("mail.example.org")).status, 400);
  EXPECT_EQ(autoconfig(site(), get("x", "emailaddress=nobody")).status, 400);
  EXPECT_EQ(autoconfig(site(), get("x", "emailaddress=a%40%5B192.0.2.1%5D")).status, 400);  // address literal
}

TEST(WellKnown, AutodiscoverAnswersWithTheAddressGiven) {
  Request req = get("autodiscover.example.org");
  req.method = "POST";
  req.body =
      "<?xml version=\"1.0\"?><Autodiscover xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/outlook/"
      "requestschema/2006\"><Request><EMailAddress> Me@Example.org </EMailAddress></Request></Autodiscover>";
  const Response r = autodiscover(site(), req);
  ASSERT_EQ(r.status, 200) << r.body;
  auto doc = parse(r.body);
  auto account = doc.child("Autodiscover").child("Response").child("Account");
  EXPECT_STREQ(account.child_value("Action"), "settings");
  std::vector<std::string> got;
  for (auto p : account.children("Protocol"))
    got.push_back(std::string(p.child_value("Type")) + " " + p.child_value("Server") + ":" + p.child_value("Port") + " " +
                  p.child_value("SSL") + " " + p.child_value("LoginName"));
  EXPECT_EQ(got, (std::vector<std::string>{"IMAP mail.example.org:993 on Me@example.org",
                                           "SMTP mail.example.org:465 on Me@example.org"}));
  req.body = "<EMailAddress>someone@other.example</EMailAddress>";
  EXPECT_EQ(autodiscover(site(), req).status, 404);
  for (const char* bad : {"", "<EMailAddress>no-at-sign</EMailAddress>", "<EMailAddress>a@example.org",
                          "<EMailAddress><![CDATA[a@example.org]]></EMailAddress>"}) {
    req.body = bad;
    EXPECT_EQ(autodiscover(site(), req).status, 400) << bad;
  }
  req.body = "<EMailAddress>" + std::string(400, 'a') + "@example.org</EMailAddress>";
  EXPECT_EQ(autodiscover(site(), req).status, 400);
}

TEST(WellKnown, AnAddressThatNeedsEscapingIsEscaped) {
  // A valid quoted local part with XML's special characters.
  Request req = get("x", "emailaddress=%22a%3Cb%3E%26c%22%40example.org");
  const Response r = apple_profile(site(), req);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body.find("<b>"), std::string::npos);
  auto doc = parse(r.body);
  bool found = false;
  for (auto key : doc.child("plist").child("dict").child("array").child("dict").children("key"))
    if (std::string(key.child_value()) == "EmailAddress") {
      EXPECT_STREQ(key.next_sibling().child_value(), "\"a<b>&c\"@example.org");
      found = true;
    }
  EXPECT_TRUE(found);
}

TEST(WellKnown, TheAppleProfileIsStablePerAddress) {
  const Response a = apple_profile(site(), get("x", "emailaddress=me%40example.org"));
  const Response b = apple_profile(site(), get("x", "emailaddress=me%40example.org"));
  const Response c = apple_profile(site(), get("x", "emailaddress=you%40example.org"));
  ASSERT_EQ(a.status, 200);
  EXPECT_EQ(a.content_type, "application/x-apple-aspen-config");
  EXPECT_EQ(a.body, b.body);
  EXPECT_NE(a.body, c.body);
  auto doc = parse(a.body);
  EXPECT_STREQ(doc.child("plist").child("dict").child("key").child_value(), "PayloadContent");
  EXPECT_EQ(apple_profile(site(), get("x", "emailaddress=me%40other.example")).status, 404);
  EXPECT_EQ(apple_profile(site(), get("x")).status, 400);
}

}  // namespace
}  // namespace mk::http
