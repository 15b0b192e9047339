// check/records.hpp: published RRsets against the expected records, as a table of cases.
#include "check/records.hpp"

#include <gtest/gtest.h>

#include "dns/rdata.hpp"

namespace mk::check {
namespace {

using namespace std::string_literals;

const std::string kDkimKey = "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";

std::vector<ExpectedRecord> expected() {
  return {{"check.example", "MX", "10 mail.check.example."},
          {"check.example", "TXT", "\"v=spf1 mx -all\""},
          {"sel._domainkey.check.example", "TXT", "\"" + kDkimKey + "\""},
          {"_dmarc.check.example", "TXT", "\"v=DMARC1; p=quarantine; adkim=s; aspf=s\""}};
}

PublishedRrset rrset(std::string owner, std::string type, std::vector<std::string> rdata) {
  PublishedRrset p;
  p.owner = std::move(owner);
  p.type = std::move(type);
  p.rdata = std::move(rdata);
  return p;
}

// What a correct zone serves for expected().
std::vector<PublishedRrset> correct() {
  return {rrset("check.example", "MX", {dns::encode_mx(10, "mail.check.example")}),
          rrset("check.example", "TXT", {dns::encode_txt("v=spf1 mx -all")}),
          rrset("sel._domainkey.check.example", "TXT", {dns::encode_txt(kDkimKey)}),
          rrset("_dmarc.check.example", "TXT", {dns::encode_txt("v=DMARC1; p=quarantine; adkim=s; aspf=s")})};
}

// The lines of the findings that are not passes.
std::vector<std::string> problems(const std::vector<Finding>& fs) {
  std::vector<std::string> out;
  for (const auto& f : fs)
    if (!f.ok()) out.push_back(render_line(f));
  return out;
}

PublishedRrset& find(std::vector<PublishedRrset>& v, std::string_view owner) {
  for (auto& r : v)
    if (r.owner == owner && r.type == "TXT") return r;
  return v.front();
}

struct Case {
  const char* name;
  void (*change)(std::vector<PublishedRrset>&);
  std::vector<std::string> want;  // the failure lines, in order
};

TEST(CompareRecords, Table) {
  const Case cases[] = {
      {"correct zone", [](std::vector<PublishedRrset>&) {}, {}},
      {"missing DKIM (name does not exist)",
       [](std::vector<PublishedRrset>& v) {
         auto& r = find(v, "sel._domainkey.check.example");
         r.rdata.clear();
         r.nxdomain = true;
       },
       {"FAIL sel._domainkey.check.example TXT (DKIM): not published (sel._domainkey.check.example does not exist) "
        "\u2014 fix: publish: sel._domainkey.check.example. 3600 IN TXT \"" + kDkimKey + "\""}},
      {"wrong SPF",
       [](std::vector<PublishedRrset>& v) { find(v, "check.example").rdata = {dns::encode_txt("v=spf1 a -all")}; },
       {"FAIL check.example TXT (SPF): is \"v=spf1 a -all\", expected \"v=spf1 mx -all\" \u2014 fix: replace it with: "
        "check.example. 3600 IN TXT \"v=spf1 mx -all\""}},
      {"extra conflicting SPF",
       [](std::vector<PublishedRrset>& v) {
         find(v, "check.example").rdata.push_back(dns::encode_txt("v=spf1 include:other.example ~all"));
       },
       {"FAIL check.example TXT (SPF): a second SPF record: with two, SPF fails for every message (RFC 7208 §4.5): "
        "\"v=spf1 include:other.example ~all\" \u2014 fix: remove: check.example. 3600 IN TXT \"v=spf1 "
        "include:other.example ~all\""}},
      {"unrelated TXT beside the SPF record is fine",
       [](std::vector<PublishedRrset>& v) {
         find(v, "check.example").rdata.push_back(dns::encode_txt("google-site-verification=abc"));
       },
       {}},
      {"TXT split into other character-strings is the same record",
       [](std::vector<PublishedRrset>& v) {
         // Two character-strings cut in the middle of a tag: 10 bytes, then the rest.
         find(v, "sel._domainkey.check.example").rdata = {char(10) + kDkimKey.substr(0, 10) +
                                                          char(kDkimKey.size() - 10) + kDkimKey.substr(10)};
       },
       {}},
      {"TXT differing in case is another record",
       [](std::vector<PublishedRrset>& v) { find(v, "check.example").rdata = {dns::encode_txt("v=spf1 MX -all")}; },
       {"FAIL check.example TXT (SPF): is \"v=spf1 MX -all\", expected \"v=spf1 mx -all\" \u2014 fix: replace it with: "
        "check.example. 3600 IN TXT \"v=spf1 mx -all\""}},
      {"MX target in upper case is the same name",
       [](std::vector<PublishedRrset>& v) { v[0].rdata = {dns::encode_mx(10, "MAIL.Check.Example")}; },
       {}},
      {"MX with another preference",
       [](std::vector<PublishedRrset>& v) { v[0].rdata = {dns::encode_mx(20, "mail.check.example")}; },
       {"FAIL check.example MX: is 20 mail.check.example., expected 10 mail.check.example. \u2014 fix: replace it "
        "with: check.example. 3600 IN MX 10 mail.check.example."}},
      {"MX missing (no data)", [](std::vector<PublishedRrset>& v) { v[0].rdata.clear(); },
       {"FAIL check.example MX: not published \u2014 fix: publish: check.example. 3600 IN MX 10 mail.check.example."}},
      {"a lookup that failed is not a missing record",
       [](std::vector<PublishedRrset>& v) {
         auto& r = find(v, "_dmarc.check.example");
         r.rdata.clear();
         r.error = "SERVFAIL";
       },
       {"?    _dmarc.check.example TXT (DMARC): could not check: the lookup failed: SERVFAIL \u2014 fix: make sure "
        "the DNS servers of the zone answer for _dmarc.check.example (dig TXT _dmarc.check.example.), then run the "
        "check again"}},
      {"a second DMARC record",
       [](std::vector<PublishedRrset>& v) {
         find(v, "_dmarc.check.example").rdata.push_back(dns::encode_txt("v=DMARC1; p=none"));
       },
       {"FAIL _dmarc.check.example TXT (DMARC): a second DMARC record: with two, receivers apply no DMARC policy "
        "(RFC 7489 §6.6.3): \"v=DMARC1; p=none\" \u2014 fix: remove: _dmarc.check.example. 3600 IN TXT "
        "\"v=DMARC1; p=none\""}},
  };
  for (const auto& c : cases) {
    auto pub = correct();
    c.change(pub);
    EXPECT_EQ(problems(compare_records(expected(), pub, false)), c.want) << c.name;
  }
}

TEST(CompareRecords, PassesNameEachRrset) {
  auto fs = compare_records(expected(), correct(), false);
  ASSERT_EQ(fs.size(), 4u);
  EXPECT_EQ(render_line(fs[0]), "ok   check.example MX");
  EXPECT_EQ(render_line(fs[1]), "ok   check.example TXT (SPF)");
  EXPECT_EQ(render_line(fs[2]), "ok   sel._domainkey.check.example TXT (DKIM)");
  EXPECT_EQ(render_line(fs[3]), "ok   _dmarc.check.example TXT (DMARC)");
}

TEST(CompareRecords, Dnssec) {
  const std::vector<ExpectedRecord> tlsa = {
      {"_25._tcp.mail.check.example", "TLSA", "3 1 1 ABCDEF0123"},
      {"_25._tcp.mail.check.example", "TLSA", "3 1 1 aaaa"}};
  auto pub = rrset("_25._tcp.mail.check.example", "TLSA",
                   {dns::encode_tlsa({3, 1, 1, "\xab\xcd\xef\x01\x23"s}), dns::encode_tlsa({3, 1, 1, "\xaa\xaa"s})});
  // Hex in either case; unsigned while the resolver does not validate: not judged here.
  EXPECT_EQ(problems(compare_records(tlsa, {pub}, false)), std::vector<std::string>{});
  // A validating resolver: senders ignore unsigned TLSA records.
  EXPECT_EQ(problems(compare_records(tlsa, {pub}, true)),
            std::vector<std::string>{"FAIL _25._tcp.mail.check.example TLSA (DANE): published, but not DNSSEC-signed: "
                                     "sending servers ignore TLSA records that are not (RFC 7672 §2.2) \u2014 fix: turn on "
                                     "DNSSEC for the zone at your DNS provider (and publish its DS record at the "
                                     "registrar)"});
  pub.secure = true;
  EXPECT_EQ(problems(compare_records(tlsa, {pub}, true)), std::vector<std::string>{});
  // Bogus: the signature is wrong, whatever the content.
  auto spf = rrset("check.example", "TXT", {dns::encode_txt("v=spf1 mx -all")});
  spf.bogus = true;
  spf.why_bogus = "signature crypto failed";
  const std::vector<ExpectedRecord> want_spf = {{"check.example", "TXT", "\"v=spf1 mx -all\""}};
  EXPECT_EQ(problems(compare_records(want_spf, {spf}, true)),
            std::vector<std::string>{"FAIL check.example TXT (SPF): the answer fails DNSSEC validation (signature "
                                     "crypto failed): senders treat it as an attack and use none of it \u2014 fix: "
                                     "re-sign the zone at your DNS provider, or if you stopped signing it, remove its DS "
                                     "record at your registrar"});
  // Without validation the content is what counts.
  EXPECT_EQ(problems(compare_records(want_spf, {spf}, false)), std::vector<std::string>{});
}

TEST(CompareRecords, MoreTypes) {
  const std::vector<ExpectedRecord> want = {
      {"_submissions._tcp.check.example", "SRV", "0 1 465 mail.check.example."},
      {"check.example", "CAA", "0 issue \"letsencrypt.org\""},
      {"mta-sts.check.example", "CNAME", "mail.check.example."},
      {"mail.check.example", "AAAA", "2001:db8:0:0::1"}};
  std::vector<PublishedRrset> pub = {
      rrset("_submissions._tcp.check.example.", "SRV", {dns::encode_srv({0, 1, 465, "mail.check.example"})}),
      rrset("CHECK.example", "CAA",
            {dns::encode_caa({0, "ISSUE", "letsencrypt.org"}), dns::encode_caa({0, "iodef", "mailto:a@check.example"})}),
      rrset("mta-sts.check.example", "CNAME", {dns::encode_name("mail.check.example")}),
      rrset("mail.check.example", "AAAA", {*dns::encode_address("2001:db8::1")})};
  EXPECT_EQ(problems(compare_records(want, pub, false)), std::vector<std::string>{});
  pub[1].rdata = {dns::encode_caa({0, "issue", "pki.goog"})};
  pub[3].rdata.push_back(*dns::encode_address("2001:db8::2"));
  EXPECT_EQ(problems(compare_records(want, pub, false)),
            (std::vector<std::string>{
                "FAIL check.example CAA: not published (found only 0 issue \"pki.goog\") \u2014 fix: publish: "
                "check.example. 3600 IN CAA 0 issue \"letsencrypt.org\"",
                "FAIL mail.check.example AAAA: another address: whoever connects to it does not reach this server: "
                "2001:db8::2 \u2014 fix: remove: mail.check.example. 3600 IN AAAA 2001:db8::2"}));
}

TEST(CanonicalRdata, PresentationForms) {
  struct Row {
    const char* type;
    const char* in;
    std::optional<std::string> out;
  };
  const Row rows[] = {
      {"TXT", "\"v=spf1 \" \"mx -all\"", "v=spf1 mx -all"},
      {"TXT", "\"a\\\"b\\\\c\\065\"", "a\"b\\cA"},
      {"TXT", "\"unterminated", std::nullopt},
      {"MX", "10 Mail.Example.ORG", "10 mail.example.org."},
      {"MX", "70000 mail.example.org.", std::nullopt},
      {"TLSA", "3 1 1 AB cd", "3 1 1 abcd"},
      {"TLSA", "3 1 1 xyz", std::nullopt},
      {"CAA", "0 Issue \"letsencrypt.org\"", "0 issue \"letsencrypt.org\""},
      {"SRV", "0 1 993 mail.example.org.", "0 1 993 mail.example.org."},
      {"A", "192.0.2.1", "192.0.2.1"},
      {"A", "2001:db8::1", std::nullopt},
      {"AAAA", "2001:DB8:0::1", "2001:db8::1"},
      {"HINFO", "x y", std::nullopt},
  };
  for (const auto& r : rows) EXPECT_EQ(canonical_rdata(r.type, r.in), r.out) << r.type << " " << r.in;
  EXPECT_EQ(presentation("TXT", std::string(300, 'a')), "\"" + std::string(255, 'a') + "\" \"" + std::string(45, 'a') + "\"");
  EXPECT_EQ(presentation("TXT", "say \"hi\""), "\"say \\\"hi\\\"\"");
}

}  // namespace
}  // namespace mk::check
