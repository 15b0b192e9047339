// Tests for setup/records.hpp: the records an instance asks its admin to publish, in both
// written forms, compared with golden output (tests/data/setup/), and the normalized keys
// `mailkeep check` compares with the DNS.
#include "setup/records.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>

#include "dkim/sign.hpp"
#include "tlspolicy/mta_sts.hpp"

namespace mk::setup {
namespace {

// RFC 8463 §A.2's Ed25519 public key, and a real 2048-bit RSA SubjectPublicKeyInfo (392
// base64 characters: its TXT value is longer than one 255-byte string).
constexpr const char* kEd25519 = "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";
constexpr const char* kRsa =
    "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA0Z7jjjQhNj8KAYvvs5Id6M7dwPKeT3qKaWJpoocXFzTnG5vmpa"
    "49QJ6A0JZBG94A1IPaG"
    "TxHzsjORSHxFBhKxrvLajz+U7D4b01X3G436E9PANZPYiyVBQkfBDGyc5TTZLgKo7IrWz3kxiGTuKD/"
    "bGgUTrTenVtbVC1YedP5M2cWW5wzmYR6KKOT"
    "0U+iYUQD6wP0VT+0yagh9xIzf7bWvH5Ul1SIXnGJ5OAGcDEwtRDEV78VIbNLdn+"
    "GtY2d52zuXvntZm40fvVADPFXN9Fwdr6jPKKlQYwOD0K1OMiyLG+5"
    "FR60ZQiL903JPtRHdt+anNsKUprnLJI5FXoL+NewawIDAQAB";
// SHA-256 of "" and of "foo"; the first in upper case, as some tools print digests.
constexpr const char* kTlsaCurrent =
    "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855";
constexpr const char* kTlsaNext =
    "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae";

std::string golden(const std::string& name) {
  std::ifstream f(std::string(MK_TEST_DATA) + "/setup/" + name);
  EXPECT_TRUE(f) << name;
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// One domain, example.org, whose mail server mail.example.org is in the domain's own zone:
// Ed25519 and RSA keys (and a new Ed25519 key waiting), both TLSA digests, both report
// addresses, the MTA-STS policy, and the server's addresses.
Inputs full() {
  Inputs in;
  in.host.hostname = "mail.example.org";
  in.host.addresses = {"192.0.2.25", "2001:db8::25"};
  in.host.tlsa_current = kTlsaCurrent;
  in.host.tlsa_next = kTlsaNext;
  in.host.caa_issuers = {std::string(kDefaultCaaIssuer)};
  DomainInput d;
  d.domain = "example.org";
  d.dkim = {{"mk20261201e", dkim::Algorithm::ed25519_sha256, kEd25519, "active"},
            {"mk20261201r", dkim::Algorithm::rsa_sha256, kRsa, "active"},
            {"mk20261208e", dkim::Algorithm::ed25519_sha256, kEd25519, "next"}};
  d.dmarc_rua = "dmarc-reports@example.org";
  d.tlsrpt_rua = "tls-reports@example.org";
  d.sts_policy = tlspolicy::served_sts_policy("mail.example.org");
  in.domains = {d};
  return in;
}

TEST(Records, ZoneFragmentIsTheGoldenOne) {
  EXPECT_EQ(render_zone(records(full()), {"DNS records for example.org and mail.example.org."}),
            golden("example.org.zone"));
}

TEST(Records, RowsAreTheGoldenOnes) {
  EXPECT_EQ(render_rows(records(full())), golden("example.org.rows"));
}

TEST(Records, EveryRecordOnceInTheOrderOfTheRules) {
  std::vector<std::string> got;
  for (const auto& r : records(full())) got.push_back(r.type + " " + r.owner);
  const std::vector<std::string> want = {
      "A mail.example.org",
      "AAAA mail.example.org",
      "TLSA _25._tcp.mail.example.org",
      "TLSA _25._tcp.mail.example.org",
      "CAA mail.example.org",
      "PTR 25.2.0.192.in-addr.arpa",
      "PTR 5.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa",
      "MX example.org",
      "TXT example.org",
      "TXT mk20261201e._domainkey.example.org",
      "TXT mk20261201r._domainkey.example.org",
      "TXT mk20261208e._domainkey.example.org",
      "TXT _dmarc.example.org",
      "TXT _mta-sts.example.org",
      "CNAME mta-sts.example.org",
      "TXT _smtp._tls.example.org",
      "SRV _submissions._tcp.example.org",
      "SRV _submission._tcp.example.org",
      "SRV _imaps._tcp.example.org",
      "SRV _imap._tcp.example.org",
      "SRV _pop3s._tcp.example.org",
      "SRV _pop3._tcp.example.org",
      "CNAME autoconfig.example.org",
      "CNAME autodiscover.example.org",
      "SRV _autodiscover._tcp.example.org",
  };
  EXPECT_EQ(got, want);
}

TEST(Records, TheRsaKeyIsSplitInto255ByteStrings) {
  const std::string text = dkim::dns_txt(dkim::Algorithm::rsa_sha256, kRsa);
  ASSERT_EQ(text.size(), 18u + 392u);  // "v=DKIM1; k=rsa; p=" and the key
  for (const auto& r : records(full())) {
    if (r.owner != "mk20261201r._domainkey.example.org") continue;
    EXPECT_EQ(r.value, "\"" + text.substr(0, 255) + "\" \"" + text.substr(255) + "\"");
    EXPECT_EQ(key_of(r).rdata, text);
    return;
  }
  FAIL() << "no RSA DKIM record";
}

TEST(Records, TxtStringsAreSplitAndEscaped) {
  struct Case {
    std::string text, want;
  } cases[] = {
      {"", "\"\""},
      {"v=spf1 mx -all", "\"v=spf1 mx -all\""},
      {"say \"hi\" \\ bye", "\"say \\\"hi\\\" \\\\ bye\""},
      {std::string(255, 'a'), "\"" + std::string(255, 'a') + "\""},
      {std::string(256, 'a'), "\"" + std::string(255, 'a') + "\" \"a\""},
      {std::string(510, 'b') + "c",
       "\"" + std::string(255, 'b') + "\" \"" + std::string(255, 'b') + "\" \"c\""},
      // An escape never straddles two strings: the split counts the text's bytes.
      {std::string(254, 'a') + "\"x", "\"" + std::string(254, 'a') + "\\\"\" \"x\""},
      {"tab\there", "\"tab\\009here\""},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(txt_strings(c.text), c.want) << c.text;
    EXPECT_EQ(normalize("x", "TXT", txt_strings(c.text)).rdata, c.text) << c.text;
  }
}

TEST(Records, RelativeNamesAreWhatWebFormsWant) {
  struct Case {
    const char *owner, *zone, *want;
  } cases[] = {
      {"example.org", "example.org", "@"},
      {"_dmarc.example.org", "example.org", "_dmarc"},
      {"mk1._domainkey.example.org", "example.org", "mk1._domainkey"},
      {"_25._tcp.mail.example.org", "example.org", "_25._tcp.mail"},
      {"mail.provider.net", "provider.net", "mail"},
      {"badexample.org", "example.org",
       "badexample.org."},  // not in the zone: a label must end there
      {"example.org", "", "example.org."},
  };
  for (const auto& c : cases)
    EXPECT_EQ(relative_name(c.owner, c.zone), c.want) << c.owner << " in " << c.zone;
}

// The server is named in another organization's zone (a provider's host, or the admin's
// other domain): its records go in that zone, the domain's records point there, and the
// domain without report addresses, keys or policy gets no rua, no TLS-RPT and no MTA-STS.
TEST(Records, AHostOutsideTheDomainHasItsOwnZone) {
  Inputs in;
  in.host.hostname = "mx1.provider.net";
  in.host.caa_issuers = {"LetsEncrypt.org"};
  in.domains = {{"example.org", {}, "", "", ""}};
  const auto rs = records(in);
  EXPECT_EQ(
      render_rows(rs),
      "\n"
      "Zone provider.net\n"
      "  name  full name         type  TTL   value\n"
      "  mx1   mx1.provider.net  CAA   3600  0 issue \"letsencrypt.org\"\n"
      "\n"
      "Zone example.org\n"
      "  name                full name                       type   TTL   value\n"
      "  @                   example.org                     MX     3600  10 mx1.provider.net.\n"
      "  @                   example.org                     TXT    3600  v=spf1 mx -all\n"
      "  _dmarc              _dmarc.example.org              TXT    3600  v=DMARC1; p=quarantine; "
      "adkim=s; aspf=s\n"
      "  _submissions._tcp   _submissions._tcp.example.org   SRV    3600  0 1 465 "
      "mx1.provider.net.\n"
      "  _submission._tcp    _submission._tcp.example.org    SRV    3600  10 1 587 "
      "mx1.provider.net.\n"
      "  _imaps._tcp         _imaps._tcp.example.org         SRV    3600  0 1 993 "
      "mx1.provider.net.\n"
      "  _imap._tcp          _imap._tcp.example.org          SRV    3600  10 1 143 "
      "mx1.provider.net.\n"
      "  _pop3s._tcp         _pop3s._tcp.example.org         SRV    3600  0 0 0 .\n"
      "  _pop3._tcp          _pop3._tcp.example.org          SRV    3600  0 0 0 .\n"
      "  autoconfig          autoconfig.example.org          CNAME  3600  mx1.provider.net.\n"
      "  autodiscover        autodiscover.example.org        CNAME  3600  mx1.provider.net.\n"
      "  _autodiscover._tcp  _autodiscover._tcp.example.org  SRV    3600  0 1 443 "
      "mx1.provider.net.\n");
}

// With two hosted domains, the host's records go in the zone of the one that holds it, and
// are listed once.
TEST(Records, HostRecordsOnceInTheZoneThatHoldsTheHost) {
  Inputs in;
  in.host.hostname = "mail.second.example";
  in.host.tlsa_current = kTlsaNext;
  in.domains = {{"first.example", {}, "", "", ""}, {"second.example", {}, "", "", ""}};
  int tlsa = 0;
  for (const auto& r : records(in)) {
    if (r.type != "TLSA") continue;
    ++tlsa;
    EXPECT_EQ(r.zone, "second.example");
    EXPECT_EQ(relative_name(r.owner, r.zone), "_25._tcp.mail");
  }
  EXPECT_EQ(tlsa, 1);
}

TEST(Records, NoCnameWhereTheHostItselfIs) {
  Inputs in;
  in.host.hostname = "autoconfig.example.org";
  in.domains = {{"example.org", {}, "", "", ""}};
  for (const auto& r : records(in))
    EXPECT_FALSE(r.type == "CNAME" && r.owner == "autoconfig.example.org");
}

TEST(Records, TheStsRecordIsTheServedPolicysFingerprint) {
  const auto policy = tlspolicy::served_sts_policy("Mail.Example.org");
  EXPECT_EQ(policy,
            "version: STSv1\r\nmode: enforce\r\nmx: mail.example.org\r\nmax_age: 604800\r\n");
  int found = 0;
  for (const auto& r : records(full())) {
    if (r.owner != "_mta-sts.example.org") continue;
    ++found;
    EXPECT_EQ(r.value, "\"" + tlspolicy::sts_txt_for(policy) + "\"");
  }
  EXPECT_EQ(found, 1);
}

// What ldns-read-zone and dig print for the records normalizes to the records' own keys.
TEST(Records, PublishedFormsNormalizeToTheSameKeys) {
  std::set<RecordKey> ours;
  for (const auto& r : records(full())) ours.insert(key_of(r));
  struct Case {
    const char *owner, *type, *rdata;
  } seen[] = {
      {"Mail.Example.org.", "a", "192.0.2.25"},
      {"mail.example.org.", "AAAA", "2001:0db8:0000::0025"},
      {"_25._tcp.mail.example.org.", "TLSA",
       "3 1 1 E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B 934CA495991B7852B855"},  // dig's
                                                                                    // grouping
      {"mail.example.org.", "CAA", "0 issue \"letsencrypt.org\""},
      {"example.org.", "MX", "10 MAIL.example.org"},
      {"example.org.", "TXT", "\"v=spf1 \" \"mx -all\""},
      {"example.org.", "TXT", "v=spf1 mx -all"},  // a web form's value, unquoted
      {"_submissions._tcp.example.org.", "SRV", "0  1 465 mail.example.org."},
      {"_pop3._tcp.example.org", "SRV", "0 0 0 ."},
      {"autoconfig.example.org.", "CNAME", "mail.example.org"},
  };
  for (const auto& s : seen)
    EXPECT_TRUE(ours.count(normalize(s.owner, s.type, s.rdata)))
        << s.owner << " " << s.type << " " << s.rdata;
  // And what differs stays different.
  EXPECT_FALSE(ours.count(normalize("example.org", "MX", "20 mail.example.org.")));
  EXPECT_FALSE(ours.count(normalize("example.org", "TXT", "\"v=spf1 mx ~all\"")));
  EXPECT_FALSE(ours.count(normalize("_25._tcp.mail.example.org", "TLSA",
                                    std::string("3 1 1 ") + std::string(64, '0'))));
}

TEST(Records, PlausibleFqdns) {
  struct Case {
    const char* name;
    bool want;
  } cases[] = {
      {"mail.example.org", true},
      {"example.org", true},
      {"MX1.Example.ORG.", true},
      {"a-b.example.co.uk", true},
      {"localhost", false},
      {"debian", false},
      {"mail.localdomain", false},
      {"box.local", false},
      {"mail.home.arpa", false},
      {"x.lan", false},
      {"10.0.0.1", false},
      {"-bad.example.org", false},
      {"bad-.example.org", false},
      {"under_score.example.org", false},
      {"exa mple.org", false},
      {"", false},
      {"org.", false},
      {"a..example.org", false},
  };
  for (const auto& c : cases) EXPECT_EQ(plausible_fqdn(c.name), c.want) << c.name;
}

}  // namespace
}  // namespace mk::setup
