// ARC: chains we seal verify, a second hop extends them, and any change breaks them.
#include <gtest/gtest.h>

#include "arc/arc.hpp"
#include "await.hpp"
#include "dns/mock.hpp"

namespace mk::arc {
namespace {

constexpr std::int64_t kNow = 1764547200;

struct Hop {
  Sealer sealer;
  Hop(const char* domain, dkim::Algorithm a, dns::MockLookup& dns) {
    auto k = dkim::generate_key(a);
    sealer = Sealer{domain, "arc", a, k->private_pem};
    dns.add_txt(std::string("arc._domainkey.") + domain, dkim::dns_txt(a, k->public_b64));
  }
  std::string seal_msg(dns::MockLookup& dns, const std::string& msg) {
    ChainResult before = test::await(verify(dns, msg, kNow));
    auto fields = seal(msg, sealer, "mx." + sealer.domain, "spf=pass smtp.mailfrom=a@example.org; dmarc=pass", before, kNow);
    EXPECT_TRUE(fields.ok()) << fields.error().message;
    return *fields + msg;
  }
};

const std::string kMsg = "From: a@example.org\r\nTo: list@lists.example\r\nSubject: hello\r\n\r\nbody\r\n";

TEST(Arc, NoChainIsNone) {
  dns::MockLookup dns;
  EXPECT_EQ(test::await(verify(dns, kMsg, kNow)).status, Chain::none);
}

TEST(Arc, SealedChainsVerifyAndExtend) {
  dns::MockLookup dns;
  Hop list("lists.example", dkim::Algorithm::rsa_sha256, dns);
  Hop relay("relay.example", dkim::Algorithm::ed25519_sha256, dns);
  const std::string once = list.seal_msg(dns, kMsg);
  EXPECT_NE(once.find("ARC-Seal: i=1; a=rsa-sha256; t=1764547200; cv=none;"), std::string::npos) << once;
  ChainResult r = test::await(verify(dns, once, kNow));
  EXPECT_EQ(r.status, Chain::pass) << r.problem;
  EXPECT_EQ(r.instances, 1);
  EXPECT_EQ(r.latest_results, "spf=pass smtp.mailfrom=a@example.org; dmarc=pass");
  // A second hop seals on top of the first.
  const std::string twice = relay.seal_msg(dns, once);
  EXPECT_NE(twice.find("cv=pass"), std::string::npos);
  r = test::await(verify(dns, twice, kNow));
  EXPECT_EQ(r.status, Chain::pass) << r.problem;
  ASSERT_EQ(r.sealers.size(), 2u);
  EXPECT_EQ(r.sealers[0], "lists.example");
  EXPECT_EQ(r.sealers[1], "relay.example");
}

TEST(Arc, ResultsWithLineBreaksStayInsideTheField) {
  dns::MockLookup dns;
  Hop list("lists.example", dkim::Algorithm::rsa_sha256, dns);
  auto fields = seal(kMsg, list.sealer, "mx.lists.example", "\r\n\tspf=pass;\r\n\tdkim=none\r\n", ChainResult{}, kNow);
  ASSERT_TRUE(fields.ok());
  EXPECT_EQ(fields->find("\r\n\r\n"), std::string::npos) << *fields;
  EXPECT_NE(fields->find("ARC-Authentication-Results: i=1; mx.lists.example;\r\n\tspf=pass;\r\n\tdkim=none\r\n"),
            std::string::npos) << *fields;
  EXPECT_EQ(test::await(verify(dns, *fields + kMsg, kNow)).status, Chain::pass);
}

TEST(Arc, ChangesBreakTheChain) {
  dns::MockLookup dns;
  Hop list("lists.example", dkim::Algorithm::rsa_sha256, dns);
  Hop relay("relay.example", dkim::Algorithm::ed25519_sha256, dns);
  const std::string twice = relay.seal_msg(dns, list.seal_msg(dns, kMsg));
  auto broken = [&](std::string m, std::string_view from, std::string_view to) {
    m.replace(m.find(from), from.size(), to);
    return test::await(verify(dns, m, kNow));
  };
  EXPECT_EQ(broken(twice, "body", "bodY").status, Chain::fail);                 // newest AMS
  EXPECT_EQ(broken(twice, "i=1; mx.lists.example", "i=1; mx.evil.example").status, Chain::fail);  // old AAR: seal
  EXPECT_EQ(broken(twice, "cv=pass", "cv=none").status, Chain::fail);
  // A set removed: the chain is incomplete.
  std::string m = twice;
  const auto start = m.find("ARC-Seal: i=2");
  m.erase(start, m.find("ARC-Message-Signature: i=2") - start);
  EXPECT_EQ(test::await(verify(dns, m, kNow)).status, Chain::fail);
}

}  // namespace
}  // namespace mk::arc
