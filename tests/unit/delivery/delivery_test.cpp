// Who receives mail here (LocalRecipients), how a transaction becomes a delivery, and the one
// way server-generated mail is sent (ServerMail), on a real store.
#include <gtest/gtest.h>

#include <chrono>
#include <future>

#include "delivery/recipients.hpp"
#include "delivery/server_mail.hpp"
#include "imap/proto/summary.hpp"
#include "message/address.hpp"
#include "message/mime.hpp"
#include "unit/store/store_fixture.hpp"

namespace mk::delivery {
namespace {

using smtp::RcptVerdict;
using smtp::Target;

class DeliveryTest : public store::StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    alice_ = account_with_domain("alice@example.org");
    bob_ = account_with_domain("bob@example.org");
    ASSERT_TRUE(store_->add_alias("team@example.org", "alice@example.org").ok());
    ASSERT_TRUE(store_->add_alias("team@example.org", "bob@example.org").ok());
    ASSERT_TRUE(store_->add_alias("fwd@example.org", "someone@elsewhere.example").ok());
    ASSERT_TRUE(store_->add_alias("postmaster@example.org", "alice@example.org").ok());
  }
  RcptVerdict resolve(const std::string& address, const srs::Srs* srs = nullptr) {
    LocalRecipients r(*store_, srs);
    auto mb = message::parse_mailbox(address);
    EXPECT_TRUE(mb.ok()) << address;
    return r.resolve(*mb);
  }
  static std::int64_t now() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
  std::int64_t alice_ = 0, bob_ = 0;
};

TEST_F(DeliveryTest, AccountsAliasesAndSubAddresses) {
  EXPECT_EQ(resolve("Alice@Example.ORG").targets, std::vector{Target::mailbox(alice_, "INBOX")});
  EXPECT_EQ(resolve("team@example.org").targets,
            (std::vector{Target::mailbox(alice_, "INBOX"), Target::mailbox(bob_, "INBOX")}));
  EXPECT_EQ(resolve("fwd@example.org").targets, std::vector{Target::forward("someone@elsewhere.example")});
  // RFC 5233: the tag names the folder and keeps its case.
  EXPECT_EQ(resolve("alice+Lists@example.org").targets, std::vector{Target::mailbox(alice_, "Lists")});
  EXPECT_EQ(resolve("alice+@example.org").targets, std::vector{Target::mailbox(alice_, "INBOX")});
  EXPECT_EQ(resolve("nobody@example.org").kind, RcptVerdict::Kind::unknown_user);
  EXPECT_EQ(resolve("alice@elsewhere.example").kind, RcptVerdict::Kind::relay_denied);
  EXPECT_EQ(resolve("alice@[192.0.2.1]").kind, RcptVerdict::Kind::relay_denied);
}

TEST_F(DeliveryTest, PostmasterWithoutDomainAndFullMailboxes) {
  // RFC 5321 §4.1.1.3: "<Postmaster>" has no domain; postmaster@ of a hosted domain takes it.
  message::Mailbox pm;
  pm.local = "Postmaster";
  LocalRecipients r(*store_);
  EXPECT_EQ(r.resolve(pm).targets, std::vector{Target::mailbox(alice_, "INBOX")});
  ASSERT_TRUE(store_->set_quota("bob@example.org", 1).ok());
  ASSERT_TRUE(store_->deliver_sync(message(std::string(100, 'x'), bob_)).ok());
  EXPECT_EQ(resolve("bob@example.org").kind, RcptVerdict::Kind::mailbox_full);
  // An alias skips a full member rather than refusing everyone.
  EXPECT_EQ(resolve("team@example.org").targets, std::vector{Target::mailbox(alice_, "INBOX")});
}

TEST_F(DeliveryTest, TransactionBecomesOneDeliveryPerMailbox) {
  smtp::Transaction t;
  t.message =
      "From: Sender <sender@elsewhere.example>\r\nSubject: x\r\nMessage-ID: <m1@elsewhere.example>\r\n"
      "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
      "--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b\r\nContent-Type: image/png\r\n"
      "Content-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n--b--\r\n";
  t.mail.path.mailbox = *message::parse_mailbox("sender@elsewhere.example");
  t.rcpts.push_back({"alice@example.org", resolve("alice@example.org").targets, {}});
  t.rcpts.push_back({"team@example.org", resolve("team@example.org").targets, {}});
  t.rcpts.push_back({"fwd@example.org", resolve("fwd@example.org").targets, {}});
  t.rcpts.push_back({"carol@remote.example", {Target::remote()}, {}});
  t.trace = "Received: from x.example by mx.example.org; Thu, 3 Dec 2026 10:00:00 +0000\r\n";
  const message::Parsed content(t.message);
  const auto m = to_new_message(t, content);
  // Stored as trace + content; the content is shared with the parse, not copied.
  EXPECT_EQ(m.head, t.trace);
  EXPECT_EQ(m.data.get(), content.shared_text().get());
  EXPECT_EQ(m.size(), t.trace.size() + t.message.size());
  EXPECT_EQ(m.message_id, "m1@elsewhere.example");
  ASSERT_EQ(m.deliveries.size(), 2u);  // alice once, although named directly and by the alias
  EXPECT_EQ(m.deliveries[0].account_id, alice_);
  EXPECT_EQ(m.deliveries[1].account_id, bob_);
  ASSERT_EQ(m.outbound.size(), 2u);
  EXPECT_EQ(m.outbound[0].rcpt, "someone@elsewhere.example");
  EXPECT_EQ(m.outbound[1].rcpt, "carol@remote.example");
  EXPECT_EQ(forward_domain(t), "example.org");
  // Filed here: it carries its IMAP summary, the one a FETCH would render from the bytes.
  ASSERT_TRUE(m.summary.has_value());
  auto decoded = imap::decode_summary(*m.summary);
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(*decoded, imap::summarize(message::parse_mime(t.trace + t.message)));
  bool elsewhere = false;
  EXPECT_EQ(local_accounts(t, elsewhere), (std::vector<std::int64_t>{alice_, bob_}));
  EXPECT_TRUE(elsewhere);
  EXPECT_EQ(sole_local_account(t), 0);
  t.rcpts.resize(1);
  EXPECT_EQ(sole_local_account(t), alice_);
  EXPECT_EQ(forward_domain(t), "");
}

TEST_F(DeliveryTest, ServerMailGoesWhereAnMxDeliveryWouldFromTheNullSender) {
  ServerMail mail(*store_, *store_, log::Logger());
  auto m = mail.prepare("Subject: x\r\n\r\nhi\r\n",
                        {"team@example.org", "fwd@example.org", "rua@reports.example", "nobody@example.org"}, "test");
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(m->mail_from, "");
  EXPECT_TRUE(m->summary.has_value());
  ASSERT_EQ(m->deliveries.size(), 2u);
  EXPECT_EQ(m->deliveries[0].account_id, alice_);
  EXPECT_EQ(m->deliveries[1].account_id, bob_);
  ASSERT_EQ(m->outbound.size(), 2u);  // the alias's forward and the remote address; not nobody@
  EXPECT_EQ(m->outbound[0].rcpt, "someone@elsewhere.example");
  EXPECT_EQ(m->outbound[1].rcpt, "rua@reports.example");
  for (const auto& o : m->outbound) EXPECT_EQ(o.dsn, "NOTIFY=NEVER");
  // Nobody at all who can receive it: an error, not a silent success.
  auto none = mail.prepare("x\r\n", {"nobody@example.org", "not an address"}, "test");
  ASSERT_FALSE(none.ok());
  EXPECT_TRUE(store::is(none.error(), store::Errc::not_found));
}

TEST_F(DeliveryTest, ServerMailReachesAFullMailbox) {
  // An attacker who fills a mailbox must not silence the alerts and bounces for it.
  ASSERT_TRUE(store_->set_quota("bob@example.org", 1).ok());
  ASSERT_TRUE(store_->deliver_sync(message(std::string(100, 'x'), bob_)).ok());
  ASSERT_EQ(resolve("bob@example.org").kind, RcptVerdict::Kind::mailbox_full);  // the MX still says 452
  ServerMail mail(*store_, *store_, log::Logger());
  auto m = mail.prepare("Subject: alert\r\n\r\nx\r\n", {"bob@example.org", "team@example.org"}, "alert");
  ASSERT_TRUE(m.ok()) << m.error().message;
  ASSERT_EQ(m->deliveries.size(), 2u);  // bob directly, and alice and bob through the alias, once each
  EXPECT_EQ(m->deliveries[0].account_id, bob_);
  EXPECT_EQ(m->deliveries[1].account_id, alice_);
}

TEST_F(DeliveryTest, BounceOfForwardedMailGoesStraightToTheOriginalSender) {
  const srs::Srs srs("secret");
  const auto rewritten = srs.forward("orig@sender.example", "example.org", now());
  ASSERT_TRUE(rewritten.has_value());
  ServerMail with_srs(*store_, *store_, log::Logger(), {}, &srs);
  auto m = with_srs.prepare("x\r\n", {*rewritten}, "dsn");
  ASSERT_TRUE(m.ok()) << m.error().message;
  ASSERT_EQ(m->outbound.size(), 1u);
  EXPECT_EQ(m->outbound[0].rcpt, "orig@sender.example");
  // Without the key the address is unknown here: never sent out to our own MX.
  ServerMail without(*store_, *store_, log::Logger());
  EXPECT_FALSE(without.prepare("x\r\n", {*rewritten}, "dsn").ok());
}

TEST_F(DeliveryTest, AnAccountForwardsItsOwnMail) {
  auto carol = account_with_domain("carol@example.org");
  // Elsewhere, with a copy kept: the forward is the account's own (its verdict, its Junk).
  ASSERT_TRUE(store_->set_forward(alice_, "alice@elsewhere.example", true).ok());
  EXPECT_EQ(resolve("alice@example.org").targets,
            (std::vector{Target::mailbox(alice_, "INBOX"), Target::forward("alice@elsewhere.example", alice_)}));
  // A tag's folder is the kept copy's.
  EXPECT_EQ(resolve("alice+Lists@example.org").targets,
            (std::vector{Target::mailbox(alice_, "Lists"), Target::forward("alice@elsewhere.example", alice_)}));
  // Through an alias: the member's forwarding applies too.
  EXPECT_EQ(resolve("team@example.org").targets,
            (std::vector{Target::mailbox(alice_, "INBOX"), Target::forward("alice@elsewhere.example", alice_),
                         Target::mailbox(bob_, "INBOX")}));
  // No copy kept: the forward alone, and a full mailbox does not refuse it.
  ASSERT_TRUE(store_->set_forward(alice_, "alice@elsewhere.example", false).ok());
  EXPECT_EQ(resolve("alice@example.org").targets, std::vector{Target::forward("alice@elsewhere.example", alice_)});
  ASSERT_TRUE(store_->set_quota("alice@example.org", 1).ok());
  ASSERT_TRUE(store_->deliver_sync(message(std::string(100, 'x'), alice_)).ok());
  EXPECT_EQ(resolve("alice@example.org").targets, std::vector{Target::forward("alice@elsewhere.example", alice_)});
  // ...but a kept copy needs room.
  ASSERT_TRUE(store_->set_forward(alice_, "alice@elsewhere.example", true).ok());
  EXPECT_EQ(resolve("alice@example.org").kind, RcptVerdict::Kind::mailbox_full);
  ASSERT_TRUE(store_->set_quota("alice@example.org", 0).ok());
  // Held by containment: forwarding pauses, the mail stays here whatever `keep` says.
  ASSERT_TRUE(store_->set_forward(alice_, "alice@elsewhere.example", false).ok());
  ASSERT_TRUE(store_->set_outbound_hold(alice_, "more than 5 new recipients in an hour").ok());
  EXPECT_EQ(resolve("alice@example.org").targets, std::vector{Target::mailbox(alice_, "INBOX")});
  ASSERT_TRUE(store_->set_outbound_hold(alice_, "").ok());
  // To another account here: one step, its own forwarding not followed.
  ASSERT_TRUE(store_->set_forward(alice_, "bob@example.org", false).ok());
  ASSERT_TRUE(store_->set_forward(bob_, "carol@example.org", false).ok());
  EXPECT_EQ(resolve("alice@example.org").targets, std::vector{Target::mailbox(bob_, "INBOX")});
  EXPECT_EQ(resolve("bob@example.org").targets, std::vector{Target::mailbox(carol, "INBOX")});
  ASSERT_TRUE(store_->set_forward(bob_, "", true).ok());
  // A target here that is gone: the mail stays with the account, never lost, within its quota.
  ASSERT_TRUE(store_->set_forward(alice_, "gone@example.org", false).ok());
  EXPECT_EQ(resolve("alice@example.org").targets, std::vector{Target::mailbox(alice_, "INBOX")});
  ASSERT_TRUE(store_->set_quota("alice@example.org", 1).ok());
  EXPECT_EQ(resolve("alice@example.org").kind, RcptVerdict::Kind::mailbox_full);
  ASSERT_TRUE(store_->set_quota("alice@example.org", 0).ok());
  // A full member of an alias who forwards without a copy still forwards; one who keeps a
  // copy is skipped, the alias still delivers to the others.
  ASSERT_TRUE(store_->set_forward(alice_, "alice@elsewhere.example", false).ok());
  ASSERT_TRUE(store_->set_quota("alice@example.org", 1).ok());
  EXPECT_EQ(resolve("team@example.org").targets,
            (std::vector{Target::forward("alice@elsewhere.example", alice_), Target::mailbox(bob_, "INBOX")}));
  ASSERT_TRUE(store_->set_forward(alice_, "alice@elsewhere.example", true).ok());
  EXPECT_EQ(resolve("team@example.org").targets, std::vector{Target::mailbox(bob_, "INBOX")});
  ASSERT_TRUE(store_->set_quota("alice@example.org", 0).ok());
  // Server mail (a security alert, a bounce) is always kept here as well.
  ASSERT_TRUE(store_->set_forward(alice_, "alice@elsewhere.example", false).ok());
  ServerMail mail(*store_, *store_, log::Logger());
  auto m = mail.prepare("Subject: alert\r\n\r\nx\r\n", {"alice@example.org"}, "alert");
  ASSERT_TRUE(m.ok()) << m.error().message;
  ASSERT_EQ(m->deliveries.size(), 1u);
  EXPECT_EQ(m->deliveries[0].account_id, alice_);
  ASSERT_EQ(m->outbound.size(), 1u);
  EXPECT_EQ(m->outbound[0].rcpt, "alice@elsewhere.example");
}

TEST_F(DeliveryTest, SpamIsNotForwardedButKeptInTheAccount) {
  ASSERT_TRUE(store_->set_forward(alice_, "alice@elsewhere.example", false).ok());
  ASSERT_TRUE(store_->set_forward(bob_, "bob@elsewhere.example", true).ok());
  smtp::Transaction t;
  t.message = "From: x@spam.example\r\nSubject: win\r\n\r\nhi\r\n";
  t.mail.path.mailbox = *message::parse_mailbox("x@spam.example");
  t.rcpts.push_back({"alice@example.org", resolve("alice@example.org").targets, {}});
  t.rcpts.push_back({"bob@example.org", resolve("bob@example.org").targets, {}});
  t.rcpts.push_back({"fwd@example.org", resolve("fwd@example.org").targets, {}});
  bool elsewhere = false;
  EXPECT_EQ(local_accounts(t, elsewhere), (std::vector<std::int64_t>{alice_, bob_}));
  EXPECT_TRUE(elsewhere);  // the alias's forward
  // A forward-only account is still the sole account of its mail (its own model and Junk).
  smtp::Transaction only = t;
  only.rcpts.resize(1);
  EXPECT_EQ(sole_local_account(only), alice_);
  EXPECT_EQ(forward_domain(only), "example.org");  // SRS and the ARC seal in its name
  // Junk for alice only: her forward becomes a copy here; bob's and the alias's go on.
  smtp::Transaction one = t;
  keep_junk_here(one, false, {alice_});
  EXPECT_EQ(one.rcpts[0].targets, std::vector{Target::mailbox(alice_, "INBOX")});
  EXPECT_EQ(one.rcpts[1].targets, t.rcpts[1].targets);
  EXPECT_EQ(one.rcpts[2].targets, t.rcpts[2].targets);
  // Junk for everyone: bob keeps his one copy, nothing of theirs leaves; an alias has no
  // mailbox here and forwards as it did.
  keep_junk_here(t, true, {});
  EXPECT_EQ(t.rcpts[0].targets, std::vector{Target::mailbox(alice_, "INBOX")});
  EXPECT_EQ(t.rcpts[1].targets, std::vector{Target::mailbox(bob_, "INBOX")});
  EXPECT_EQ(t.rcpts[2].targets, std::vector{Target::forward("someone@elsewhere.example")});
  const message::Parsed content(t.message);
  const auto m = to_new_message(t, content);
  ASSERT_EQ(m.outbound.size(), 1u);
  EXPECT_EQ(m.outbound[0].rcpt, "someone@elsewhere.example");
  // An alias and an account forwarding to the same address: one copy leaves.
  ASSERT_TRUE(store_->set_forward(alice_, "someone@elsewhere.example", true).ok());
  smtp::Transaction both;
  both.message = t.message;
  both.rcpts.push_back({"alice@example.org", resolve("alice@example.org").targets, {}});
  both.rcpts.push_back({"fwd@example.org", resolve("fwd@example.org").targets, {}});
  const auto m2 = to_new_message(both, content);
  ASSERT_EQ(m2.outbound.size(), 1u);
  EXPECT_EQ(m2.deliveries.size(), 1u);
}

TEST_F(DeliveryTest, SendIsDurableAndWakesTheQueueOnlyForRemoteRecipients) {
  int wakes = 0;
  ServerMail mail(*store_, *store_, log::Logger(), [&wakes] { ++wakes; });
  ASSERT_TRUE(mail.send("Subject: a\r\n\r\nlocal\r\n", {"alice@example.org"}, "test").ok());
  EXPECT_EQ(wakes, 0);
  EXPECT_EQ(store_->list_messages(inbox(alice_))->size(), 1u);
  ASSERT_TRUE(mail.send("Subject: b\r\n\r\nremote\r\n", {"rua@reports.example"}, "test").ok());
  EXPECT_EQ(wakes, 1);
  auto q = store_->list_queue();
  ASSERT_TRUE(q.ok());
  ASSERT_EQ(q->size(), 1u);
  EXPECT_EQ((*q)[0].mail_from, "");
  EXPECT_EQ((*q)[0].rcpts.at(0).rcpt, "rua@reports.example");

  std::promise<Status> done;
  mail.send_async("Subject: c\r\n\r\nasync\r\n", {"bob@example.org", "x@reports.example"}, "test",
                  [&done](Status st) { done.set_value(st); });
  auto fut = done.get_future();
  ASSERT_EQ(fut.wait_for(std::chrono::seconds(60)), std::future_status::ready);  // hang guard
  EXPECT_TRUE(fut.get().ok());
  EXPECT_EQ(wakes, 2);
  EXPECT_EQ(store_->list_messages(inbox(bob_))->size(), 1u);
}

}  // namespace
}  // namespace mk::delivery
