// Correspondence the MX saw (store/reputation.hpp): writers and whether one was ever
// authenticated, which received message may be answered to whom, the counts trust reads,
// how long received mail is remembered, and the link domains the server has seen.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>

#include "unit/store/store_fixture.hpp"

namespace mk::store {
namespace {

constexpr std::int64_t kT = 1764547200;

class Correspondence : public StoreSuite {};
MK_EVERY_BACKEND(Correspondence);

TEST_P(Correspondence, WritersAndWhatTheirMailMayBeAnsweredTo) {
  const std::int64_t id = account_with_domain("me@example.org");
  const std::int64_t other = account_with_domain("you@example.org");
  ASSERT_TRUE(store_->add_received(id, {"Alice@Partner.example", true, "a1@partner", {"alice@partner.example", "team@partner.example"}}, kT).ok());
  ASSERT_TRUE(store_->add_received(id, {"bob@else.example", false, "b1@else", {"bob@else.example"}}, kT).ok());
  // Authenticated once is enough; a later unauthenticated message does not undo it.
  ASSERT_TRUE(store_->add_received(id, {"alice@partner.example", false, "a2@partner", {"alice@partner.example"}}, kT + 1).ok());
  EXPECT_EQ(*store_->authenticated_writers(id, {"ALICE@partner.example", "bob@else.example", "x@y.example"}),
            std::vector<std::string>{"alice@partner.example"});
  EXPECT_TRUE(store_->authenticated_writers(other, {"alice@partner.example"})->empty());
  // Answerable: only for the message named, only to its addresses.
  EXPECT_EQ(*store_->answerable(id, {"bob@else.example", "alice@partner.example"}, {"b1@else"}),
            std::vector<std::string>{"bob@else.example"});
  EXPECT_EQ(*store_->answerable(id, {"Team@partner.example", "bob@else.example"}, {"zz@x", "a1@partner"}),
            std::vector<std::string>{"team@partner.example"});
  EXPECT_TRUE(store_->answerable(id, {"bob@else.example"}, {"a2@partner"})->empty());
  EXPECT_TRUE(store_->answerable(other, {"bob@else.example"}, {"b1@else"})->empty());
  EXPECT_TRUE(store_->answerable(id, {"bob@else.example"}, {})->empty());
}

TEST_P(Correspondence, AnsweredMeansAuthenticatedMailAfterTheAccountWrote) {
  const std::int64_t id = account_with_domain("me@example.org");
  ASSERT_TRUE(store_->add_correspondents(id, {"a@r.example", "b@r.example", "c@r.example", "d@r.example"}, kT).ok());
  ASSERT_TRUE(store_->add_received(id, {"a@r.example", true, "", {}}, kT + 10).ok());      // answered
  ASSERT_TRUE(store_->add_received(id, {"b@r.example", false, "", {}}, kT + 10).ok());     // not authenticated
  ASSERT_TRUE(store_->add_received(id, {"e@r.example", true, "", {}}, kT + 10).ok());      // never written to
  ASSERT_TRUE(store_->add_received(id, {"d@r.example", true, "", {}}, kT - 10).ok());      // wrote before, not after
  auto c = store_->correspondence(id, 100);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->writers, 3);  // authenticated writers only: b's mail could be anyone's
  EXPECT_EQ(c->answered, 1);
  EXPECT_EQ(c->answered_addresses, std::vector<std::string>{"a@r.example"});
  EXPECT_EQ(store_->correspondence(id, 2)->writers, 2);  // capped
}

// A capped list of answers is spread over their domains: many answers from one domain do not
// crowd out the others (guard/trust.hpp counts a few per domain).
TEST_P(Correspondence, AnsweredAddressesSpreadOverDomains) {
  const std::int64_t id = account_with_domain("me@example.org");
  std::vector<std::string> many;
  for (int i = 0; i < 10; ++i) many.push_back("p" + std::to_string(i) + "@big.example");
  many.push_back("x@small.example");
  many.push_back("y@other.example");
  ASSERT_TRUE(store_->add_correspondents(id, many, kT).ok());
  for (const auto& a : many) ASSERT_TRUE(store_->add_received(id, {a, true, "", {}}, kT + 10).ok());
  auto c = store_->correspondence(id, 4);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->answered, 4);
  auto got = c->answered_addresses;
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, (std::vector<std::string>{"p0@big.example", "p1@big.example", "x@small.example", "y@other.example"}));
}

TEST_P(Correspondence, ReceivedMailIsForgottenAfterItsTime) {
  const std::int64_t id = account_with_domain("me@example.org");
  ASSERT_TRUE(store_->add_received(id, {"old@r.example", true, "old@r", {"old@r.example"}}, kT).ok());
  const std::int64_t later = kT + Reputation::kReceivedKeepSeconds + 1;
  ASSERT_TRUE(store_->add_received(id, {"new@r.example", true, "new@r", {"new@r.example"}}, later).ok());
  EXPECT_TRUE(store_->answerable(id, {"old@r.example"}, {"old@r"})->empty());
  EXPECT_TRUE(store_->authenticated_writers(id, {"old@r.example"})->empty());
  EXPECT_EQ(store_->correspondence(id, 100)->writers, 1);
}

TEST_P(Correspondence, LinkDomainsKeepWhenFirstSeen) {
  EXPECT_EQ(*store_->link_domains_seen({"a.example", "b.example"}), (std::vector<std::int64_t>{0, 0}));
  ASSERT_TRUE(store_->add_link_domains({"A.example"}, kT).ok());
  ASSERT_TRUE(store_->add_link_domains({"a.example", "b.example"}, kT + 50).ok());
  EXPECT_EQ(*store_->link_domains_seen({"a.example", "b.example", "c.example"}),
            (std::vector<std::int64_t>{kT, kT + 50, 0}));
  ASSERT_TRUE(store_->add_link_domains({}, kT).ok());
}

// The MX's record is queued, not awaited; it is written no later than the mail handed to the
// store after it, so a message is never visible without its record. A failure reaches `done`.
TEST_P(Correspondence, TheMxRecordIsCommittedWithTheMailAfterIt) {
  const std::int64_t id = account_with_domain("me@example.org");
  const std::int64_t other = account_with_domain("you@example.org");
  std::atomic<int> outcomes{0}, failures{0};
  auto done = [&](Status st) {
    if (!st) ++failures;
    ++outcomes;
  };
  store_->record_received({id, other}, {"carol@partner.example", true, "c1@partner", {"carol@partner.example"}},
                          {"Links.example"}, kT, done);
  ASSERT_TRUE(store_->deliver_sync(message("after the record\r\n", id)).ok());
  // Delivered: the record is there, for both accounts, with its link domain.
  EXPECT_EQ(outcomes.load(), 1);
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(*store_->authenticated_writers(id, {"carol@partner.example"}),
            std::vector<std::string>{"carol@partner.example"});
  EXPECT_EQ(*store_->authenticated_writers(other, {"carol@partner.example"}),
            std::vector<std::string>{"carol@partner.example"});
  EXPECT_EQ(*store_->answerable(id, {"carol@partner.example"}, {"c1@partner"}),
            std::vector<std::string>{"carol@partner.example"});
  EXPECT_EQ(*store_->link_domains_seen({"links.example"}), std::vector<std::int64_t>{kT});
  // A record for an account that does not exist breaks its foreign key: reported, and the
  // mail after it is stored all the same.
  store_->record_received({id + other + 1000}, {"dave@partner.example", true, "d1@partner", {}}, {}, kT, done);
  ASSERT_TRUE(store_->deliver_sync(message("after a failed record\r\n", id)).ok());
  EXPECT_EQ(outcomes.load(), 2);
  EXPECT_EQ(failures.load(), 1);
}

}  // namespace
}  // namespace mk::store
