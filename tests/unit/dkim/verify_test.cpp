// DKIM verification: the RFC 8463 example, round trips through our signer, and every way a
// signature must not pass (altered body or header, expiry, short keys, rsa-sha1, l=).
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "await.hpp"
#include "dkim/sign.hpp"
#include "dkim/tags.hpp"
#include "dkim/verify.hpp"
#include "dns/mock.hpp"

namespace mk::dkim {
namespace {

constexpr std::int64_t kNow = 1764547200;
constexpr std::string_view kDkimpyData = "/usr/lib/python3/dist-packages/dkim/tests/data/";

std::string crlf(std::string_view lf) {
  std::string out;
  for (char c : lf) {
    if (c == '\n') out += '\r';
    out += c;
  }
  return out;
}

std::string read(std::string_view path) {
  std::ifstream in{std::string(path)};
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<SigResult> check(dns::MockLookup& dns, const std::string& msg, std::int64_t now = kNow) {
  return test::await(verify(dns, msg, now));
}

// RFC 8463 Appendix A.3, byte for byte, with the keys of A.2 (tests/data/dkim/).
TEST(Verify, Rfc8463AppendixA) {
  dns::MockLookup dns;
  std::istringstream keys(read(std::string(MK_TEST_DATA) + "/dkim/rfc8463-a2.keys"));
  for (std::string line; std::getline(keys, line);) {
    const auto sp = line.find(' ');
    if (sp != std::string::npos) dns.add_txt(line.substr(0, sp), line.substr(sp + 1));
  }
  const std::string msg = read(std::string(MK_TEST_DATA) + "/dkim/rfc8463-a3.eml");
  ASSERT_NE(msg.find("t=1528637909"), std::string::npos);
  auto r = check(dns, msg);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].algorithm, "rsa-sha256");
  EXPECT_EQ(r[0].status, Status::pass) << r[0].problem;
  EXPECT_EQ(r[1].algorithm, "ed25519-sha256");
  EXPECT_EQ(r[1].status, Status::pass) << r[1].problem;
  EXPECT_EQ(r[1].identity, "@football.example.com");
  std::string altered = msg;
  altered.replace(altered.find("Subject: Is dinner ready?"), 25, "Subject: Is dinner ready!");
  for (const auto& x : check(dns, altered)) EXPECT_EQ(x.status, Status::fail);
}

// The RFC 8463 message signed by python3-dkim (simple/simple) with the same keys, as its
// test data ships it.
TEST(Verify, Rfc8463MessageSignedByDkimpy) {
  dns::MockLookup dns;
  dns.add_txt("brisbane._domainkey.football.example.com",
              "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=");
  std::string rsa_key = read(std::string(kDkimpyData) + "test.txt");
  while (!rsa_key.empty() && (rsa_key.back() == '\n' || rsa_key.back() == '\r')) rsa_key.pop_back();
  ASSERT_FALSE(rsa_key.empty());
  dns.add_txt("test._domainkey.football.example.com", rsa_key);
  const std::string msg = crlf(read(std::string(kDkimpyData) + "rfc6376.signed.msg"));
  auto r = check(dns, msg);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].status, Status::pass) << r[0].problem;
  EXPECT_EQ(r[0].algorithm, "ed25519-sha256");
  EXPECT_EQ(r[1].status, Status::pass) << r[1].problem;
  EXPECT_EQ(r[1].key_bits, 1024);
  // One changed byte in the body breaks both.
  std::string altered = msg;
  altered.replace(altered.find("hungry"), 6, "HUNGRY");
  r = check(dns, altered);
  EXPECT_EQ(r[0].status, Status::fail);
  EXPECT_EQ(r[0].problem, "body hash did not verify");
  EXPECT_EQ(r[1].status, Status::fail);
}

struct Signer {
  KeyPair ed = *generate_key(Algorithm::ed25519_sha256);
  KeyPair rsa = *generate_key(Algorithm::rsa_sha256);
  dns::MockLookup dns;
  Signer() {
    dns.add_txt("e1._domainkey.example.org", dns_txt(Algorithm::ed25519_sha256, ed.public_b64));
    dns.add_txt("r1._domainkey.example.org", dns_txt(Algorithm::rsa_sha256, rsa.public_b64));
  }
  std::string sign_msg(const std::string& msg) {
    auto sig = sign(msg, "example.org",
                    {{"e1", Algorithm::ed25519_sha256, ed.private_pem}, {"r1", Algorithm::rsa_sha256, rsa.private_pem}},
                    kNow);
    return *sig + msg;
  }
};

const std::string kMsg =
    "From: Alice <alice@example.org>\r\nTo: bob@example.net\r\nSubject: lunch\r\n"
    "Date: Tue, 01 Dec 2026 08:00:00 +0000\r\nMessage-ID: <1@example.org>\r\n\r\nAt noon?\r\n";

TEST(Verify, OwnSignaturesPassAndAlterationsFail) {
  Signer s;
  const std::string signed_msg = s.sign_msg(kMsg);
  auto r = check(s.dns, signed_msg);
  ASSERT_EQ(r.size(), 2u);
  for (const auto& x : r) {
    EXPECT_EQ(x.status, Status::pass) << x.problem;
    EXPECT_EQ(x.domain, "example.org");
  }
  EXPECT_EQ(r[1].key_bits, 2048);

  std::string subject = signed_msg;
  subject.replace(subject.find("lunch"), 5, "dinner");
  for (const auto& x : check(s.dns, subject)) {
    EXPECT_EQ(x.status, Status::fail);
    EXPECT_EQ(x.problem, "signature did not verify");
  }
  // A second From: added above the signed one (oversigning catches it).
  for (const auto& x : check(s.dns, "From: mallory@evil.example\r\n" + signed_msg)) EXPECT_EQ(x.status, Status::fail);
  // Relaxed canonicalization: whitespace changes in transit are fine.
  std::string rewrapped = signed_msg;
  rewrapped.replace(rewrapped.find("Subject: lunch"), 14, "Subject:   lunch");
  for (const auto& x : check(s.dns, rewrapped)) EXPECT_EQ(x.status, Status::pass) << x.problem;
}

TEST(Verify, KeyProblems) {
  Signer s;
  const std::string signed_msg = s.sign_msg(kMsg);
  dns::MockLookup none;
  auto r = check(none, signed_msg);
  EXPECT_EQ(r[0].status, Status::permerror);
  dns::MockLookup failing;
  failing.fail("e1._domainkey.example.org");
  failing.fail("r1._domainkey.example.org");
  EXPECT_EQ(check(failing, signed_msg)[0].status, Status::temperror);
  dns::MockLookup revoked;
  revoked.add_txt("e1._domainkey.example.org", "v=DKIM1; k=ed25519; p=");
  r = check(revoked, signed_msg);
  EXPECT_EQ(r[0].status, Status::permerror);
  EXPECT_EQ(r[0].problem, "key revoked (empty p=)");
  // The Ed25519 key published for the RSA selector: algorithm mismatch.
  dns::MockLookup swapped;
  swapped.add_txt("r1._domainkey.example.org", dns_txt(Algorithm::ed25519_sha256, s.ed.public_b64));
  EXPECT_EQ(check(swapped, signed_msg)[1].status, Status::permerror);
}

TEST(Verify, ShortRsaKeysAreRefused) {
  auto small = generate_key(Algorithm::rsa_sha256, 512);
  ASSERT_TRUE(small.ok());
  dns::MockLookup dns;
  dns.add_txt("s._domainkey.example.org", dns_txt(Algorithm::rsa_sha256, small->public_b64));
  auto sig = sign(kMsg, "example.org", {{"s", Algorithm::rsa_sha256, small->private_pem}}, kNow);
  ASSERT_TRUE(sig.ok());
  auto r = check(dns, *sig + kMsg);
  EXPECT_EQ(r[0].status, Status::permerror);
  EXPECT_EQ(r[0].key_bits, 512);
}

// Builds a signature field by hand around our signer's output, changing tags.
std::string with_tags(const std::string& signed_msg, std::string_view from, std::string_view to) {
  std::string out = signed_msg;
  const auto p = out.find(from);
  if (p != std::string::npos) out.replace(p, from.size(), to);
  return out;
}

TEST(Verify, SignatureSyntaxAndPolicy) {
  Signer s;
  const std::string signed_msg = s.sign_msg(kMsg);
  // Changing any tag invalidates the signature (the field itself is signed); these checks
  // must fire before that.
  EXPECT_EQ(check(s.dns, with_tags(signed_msg, "a=ed25519-sha256", "a=rsa-sha1"))[0].problem,
            "rsa-sha1 is not accepted (RFC 8301)");
  EXPECT_EQ(check(s.dns, with_tags(signed_msg, "v=1;", "v=2;"))[0].status, Status::permerror);
  EXPECT_EQ(check(s.dns, with_tags(signed_msg, "t=1764547200;", "t=1764547200; x=1764547300;"), kNow + 1000)[0].problem,
            "signature expired");
  EXPECT_EQ(check(s.dns, with_tags(signed_msg, "d=example.org;", "d=example.org; i=a@example.com;"))[0].problem,
            "i= is not within d=");
  EXPECT_EQ(check(s.dns, with_tags(signed_msg, "d=example.org;", "d=example.org; d=example.com;"))[0].problem,
            "duplicate tag 'd'");
}

TEST(Verify, LengthLimitedSignaturesDoNotPassWithAppendedContent) {
  // python3-dkim and OpenDKIM can sign with l=; make one by hand with our canonicalization.
  dns::MockLookup dns;
  auto key = generate_key(Algorithm::ed25519_sha256);
  dns.add_txt("e._domainkey.example.org", dns_txt(Algorithm::ed25519_sha256, key->public_b64));
  // Sign with our signer, then check that l= equal to the body length passes and a shorter
  // body claim with extra content is "policy" (verified by the integration test with dkimpy,
  // which can produce l=; here: the over-long l= case).
  auto sig = sign(kMsg, "example.org", {{"e", Algorithm::ed25519_sha256, key->private_pem}}, kNow);
  ASSERT_TRUE(sig.ok());
  const std::string m = with_tags(*sig + kMsg, "t=1764547200;", "t=1764547200; l=999;");
  auto r = check(dns, m);
  EXPECT_EQ(r[0].status, Status::permerror);
  EXPECT_EQ(r[0].problem, "l= is longer than the body");
}

TEST(Tags, Syntax) {
  auto t = TagList::parse(" v=1; a = rsa-sha256 ;\r\n\tb=abc\r\n def; ");
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ(*t->find("a"), "rsa-sha256");
  EXPECT_EQ(strip_whitespace(*t->find("b")), "abcdef");
  EXPECT_FALSE(TagList::parse("v=1;;a=b").ok());
  EXPECT_FALSE(TagList::parse("1v=1").ok());
  EXPECT_FALSE(TagList::parse("v").ok());
  EXPECT_EQ(without_b_value(" a=1; b=xyz \r\n abc; bh=q"), " a=1; b=; bh=q");
}

}  // namespace
}  // namespace mk::dkim
