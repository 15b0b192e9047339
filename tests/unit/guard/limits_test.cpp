// Sending limits: each limit holds at its boundary, windows slide, and people the account
// wrote to before are not "new".
#include <gtest/gtest.h>

#include "guard/limits.hpp"
#include "unit/store/store_fixture.hpp"

namespace mk::guard {
namespace {

constexpr std::int64_t kNow = 1764547200;

class LimitsTest : public store::StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    ASSERT_TRUE(store_->add_domain("example.org").ok());
    id_ = *store_->add_account("alice@example.org", "x");
  }
  std::int64_t id_ = 0;
};

TEST_F(LimitsTest, NewRecipientsPerHour) {
  SendingLimits l(Limits{100, 500, 3}, *store_);
  EXPECT_FALSE(l.submit(id_, {"a@remote.example", "b@remote.example"}, kNow).hold);
  EXPECT_FALSE(l.submit(id_, {"a@remote.example"}, kNow + 1).hold);  // known now: not new
  EXPECT_FALSE(l.submit(id_, {"c@remote.example"}, kNow + 2).hold);
  auto d = l.submit(id_, {"d@remote.example"}, kNow + 3);
  EXPECT_TRUE(d.hold);
  EXPECT_EQ(d.reason, "more than 3 new recipients in an hour");
  EXPECT_FALSE(l.submit(id_, {"d@remote.example"}, kNow + 3601).hold);  // the hour has passed
  EXPECT_EQ(store_->new_correspondents(id_, {"A@remote.example", "z@remote.example"})->size(), 1u);
}

TEST_F(LimitsTest, MessagesAndRecipients) {
  SendingLimits l(Limits{2, 5, 100}, *store_);
  EXPECT_FALSE(l.submit(id_, {"a@r.example", "b@r.example"}, kNow).hold);
  EXPECT_FALSE(l.submit(id_, {"c@r.example"}, kNow).hold);
  EXPECT_EQ(l.submit(id_, {"a@r.example"}, kNow).reason, "more than 2 messages in an hour");
  EXPECT_FALSE(l.submit(id_, {}, kNow).hold);  // local-only mail is not counted
  EXPECT_EQ(l.submit(id_, {"1@r.example", "2@r.example", "3@r.example"}, kNow + 3600).reason,
            "more than 5 recipients in a day");
  l.forget(id_);
  EXPECT_FALSE(l.submit(id_, {"1@r.example", "2@r.example", "3@r.example"}, kNow + 3600).hold);
}

TEST_F(LimitsTest, StrictAfterANewNetworkCountsOnlyThatNetwork) {
  SendingLimits l(Limits{100, 500, 16}, *store_);  // strict: 16 / 8 = 2 new recipients
  for (int i = 0; i < 10; ++i)
    EXPECT_FALSE(l.submit(id_, {"f" + std::to_string(i) + "@r.example"}, kNow, "192.0.2.1").hold);
  EXPECT_FALSE(l.submit(id_, {"x1@r.example"}, kNow + 1, "203.0.113.9", true).hold);
  EXPECT_FALSE(l.submit(id_, {"x2@r.example"}, kNow + 1, "203.0.113.9", true).hold);
  auto d = l.submit(id_, {"x3@r.example"}, kNow + 1, "203.0.113.9", true);
  EXPECT_TRUE(d.hold);
  EXPECT_EQ(d.reason, "more than 2 new recipients in an hour right after a login from a new network");
  EXPECT_FALSE(l.submit(id_, {"f11@r.example"}, kNow + 2, "192.0.2.1").hold);  // the owner's network is not strict
}

}  // namespace
}  // namespace mk::guard
