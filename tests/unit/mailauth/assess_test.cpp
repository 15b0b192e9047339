// Inbound sender authentication end to end on a mock DNS: the Authentication-Results field
// we write, and the removal of forged ones.
#include <gtest/gtest.h>

#include <algorithm>

#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "await.hpp"
#include "dkim/sign.hpp"
#include "dns/mock.hpp"
#include "mailauth/assess.hpp"

namespace mk::mailauth {
namespace {

constexpr std::int64_t kNow = 1764547200;

struct World {
  dns::MockLookup dns;
  dmarc::OrgDomains orgs;
  dkim::KeyPair key = *dkim::generate_key(dkim::Algorithm::ed25519_sha256);
  World() {
    dns.add_txt("example.org", "v=spf1 ip4:192.0.2.0/24 -all");
    dns.add_txt("_dmarc.example.org", "v=DMARC1; p=reject");
    dns.add_txt("sel._domainkey.example.org", dkim::dns_txt(dkim::Algorithm::ed25519_sha256, key.public_b64));
    dns.add_ptr("10.2.0.192.in-addr.arpa", "mx.example.org");
    dns.add_address("mx.example.org", "192.0.2.10");
  }
  std::string signed_msg(const std::string& msg) {
    return *dkim::sign(msg, "example.org", {{"sel", dkim::Algorithm::ed25519_sha256, key.private_pem}}, kNow) + msg;
  }
  static Params params(const char* ip, const char* mail_from, const char* helo = "mx.example.org") {
    Params p;
    p.ip = *IpAddr::parse(ip);
    p.helo = helo;
    p.mail_from = mail_from;
    p.authserv_id = "mail.ours.example";
    p.now = kNow;
    return p;
  }
  Assessment run(const std::string& content, const char* ip, const char* mail_from, const char* helo = "mx.example.org") {
    return test::await(assess(dns, orgs, params(ip, mail_from, helo), message::Parsed(content)));
  }
};

const std::string kMsg = "From: Alice <alice@example.org>\r\nTo: bob@ours.example\r\nSubject: hi\r\n\r\nHello\r\n";

void expect_all_pass(const Assessment& a) {
  EXPECT_EQ(a.spf.result, spf::Outcome::pass);
  ASSERT_EQ(a.dkim.size(), 1u);
  EXPECT_EQ(a.dkim[0].status, dkim::Status::pass);
  EXPECT_EQ(a.dmarc.result, dmarc::Outcome::pass);
  EXPECT_EQ(a.iprev, Iprev::pass);
  EXPECT_TRUE(a.helo_matches);
}

TEST(Assess, AllPass) {
  World w;
  auto a = w.run(w.signed_msg(kMsg), "192.0.2.10", "alice@example.org");
  expect_all_pass(a);
  const std::string b = a.dkim[0].b_prefix;
  EXPECT_EQ(a.header,
            "Authentication-Results: mail.ours.example;\r\n"
            "\tspf=pass smtp.mailfrom=alice@example.org;\r\n"
            "\tdkim=pass (256-bit key) header.d=example.org header.s=sel header.a=ed25519-sha256 header.b=" + b + ";\r\n"
            "\tdmarc=pass (p=reject dis=none) header.from=example.org;\r\n"
            "\tarc=none;\r\n"
            "\tiprev=pass policy.iprev=192.0.2.10 (mx.example.org)\r\n");
}

// Answers each query only after yielding to the executor once, and counts the queries in
// flight: lookups that wait for each other never overlap.
class YieldingLookup final : public dns::Lookup {
 public:
  explicit YieldingLookup(dns::Lookup& inner) : inner_(inner) {}
  boost::asio::awaitable<Result<dns::Answer>> query(std::string name, int type) override {
    ++in_flight_;
    max_in_flight_ = std::max(max_in_flight_, in_flight_);
    co_await boost::asio::post(co_await boost::asio::this_coro::executor, boost::asio::use_awaitable);
    auto r = co_await inner_.query(std::move(name), type);
    --in_flight_;
    co_return r;
  }
  int max_in_flight() const { return max_in_flight_; }

 private:
  dns::Lookup& inner_;
  int in_flight_ = 0, max_in_flight_ = 0;
};

TEST(Assess, IndependentLookupsRunAtOnce) {
  World w;
  YieldingLookup yielding(w.dns);
  const auto a = test::await(assess(yielding, w.orgs, World::params("192.0.2.10", "alice@example.org"),
                                    message::Parsed(w.signed_msg(kMsg))));
  // SPF, DKIM's key and reverse DNS were asked together, not one after another...
  EXPECT_GE(yielding.max_in_flight(), 3);
  // ...and the verdicts are those of the sequential order.
  expect_all_pass(a);
}

TEST(Assess, ForgedFromFailsDmarc) {
  World w;
  auto a = w.run(kMsg, "203.0.113.5", "bounce@spammer.example", "[203.0.113.5]");
  EXPECT_EQ(a.spf.result, spf::Outcome::none);
  EXPECT_EQ(a.dmarc.result, dmarc::Outcome::fail);
  EXPECT_EQ(a.dmarc.disposition, dmarc::Policy::reject);
  EXPECT_EQ(a.iprev, Iprev::permerror);
  EXPECT_FALSE(a.helo_matches);
  EXPECT_NE(a.header.find("dkim=none;"), std::string::npos) << a.header;
  // Two From fields: no single author domain, DMARC cannot pass.
  auto doubled = w.run("From: mallory@evil.example\r\n" + w.signed_msg(kMsg), "192.0.2.10", "alice@example.org");
  EXPECT_EQ(doubled.from_fields, 2u);
  EXPECT_EQ(doubled.dmarc.result, dmarc::Outcome::permerror);
}

TEST(Assess, UntrustedValuesAreQuoted) {
  World w;
  auto a = w.run(kMsg, "198.51.100.1", "\"we ird;\"@example.org");
  EXPECT_NE(a.header.find("smtp.mailfrom=\"\\\"we ird;\\\"@example.org\""), std::string::npos) << a.header;
}

TEST(StripOwnResults, RemovesOnlyOurs) {
  const std::string in =
      "Authentication-Results: MAIL.ours.example; dkim=pass\r\n header.d=ours.example\r\n"
      "Authentication-Results: mx.other.example; spf=pass\r\n"
      "Authentication-Results: mail.ours.example 1 (comment); spf=pass\r\n"
      "From: a@example.org\r\n\r\nAuthentication-Results: mail.ours.example; body line stays\r\n";
  std::size_t removed = 0;
  EXPECT_EQ(strip_own_results(message::Parsed(in), "mail.ours.example", &removed),
            "Authentication-Results: mx.other.example; spf=pass\r\n"
            "From: a@example.org\r\n\r\nAuthentication-Results: mail.ours.example; body line stays\r\n");
  EXPECT_EQ(removed, 2u);
}

}  // namespace
}  // namespace mk::mailauth
