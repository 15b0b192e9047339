// The MX remembering who writes (inbound/correspondence.hpp): which addresses of a received
// message a reply may answer (never its Cc list, authenticated or not); and, through the real chain
// with a mock DNS, that accepted mail is recorded for its recipient and junked mail is not.
#include <gtest/gtest.h>

#include <chrono>
#include <optional>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include "dns/mock.hpp"
#include "inbound/auth_pipeline.hpp"
#include "inbound/correspondence.hpp"
#include "message/address.hpp"
#include "unit/store/store_fixture.hpp"

namespace mk::inbound {
namespace {

namespace asio = boost::asio;

constexpr const char* kHeader =
    "From: Bob <Bob@Sender.example>\r\nTo: alice@example.org, carol@sender.example\r\n"
    "Cc: dave@elsewhere.example\r\nReply-To: team@sender.example\r\nSubject: plan\r\n"
    "Message-ID: <p1@sender.example>\r\n\r\nhello\r\n";

TEST(Correspondence, WhatAReplyMayAnswer) {
  struct Row {
    const char* name;
    std::string msg;
    bool authenticated;
    std::string author;
    std::vector<std::string> answerable;
  };
  const Row rows[] = {
      {"the author and Reply-To; never To or Cc", kHeader, true, "bob@sender.example",
       {"bob@sender.example", "team@sender.example"}},
      {"unauthenticated: the same", kHeader, false, "bob@sender.example", {"bob@sender.example", "team@sender.example"}},
      {"one Reply-To address only",
       "From: bob@sender.example\r\nReply-To: a@x.example, b@x.example\r\nReply-To: c@x.example\r\n"
       "Message-ID: <p1@sender.example>\r\n\r\nhi\r\n",
       false, "bob@sender.example", {"bob@sender.example", "a@x.example"}},
      {"no single author: nothing", "From: a@x.example, b@y.example\r\nMessage-ID: <m@x>\r\n\r\nhi\r\n", true, "", {}},
      {"no From: nothing", "Subject: x\r\n\r\nhi\r\n", false, "", {}},
  };
  for (const auto& r : rows) {
    const message::Parsed msg(r.msg);
    const auto got = received_of(msg, r.authenticated);
    EXPECT_EQ(got.author, r.author) << r.name;
    EXPECT_EQ(got.answerable, r.answerable) << r.name;
    if (!r.author.empty()) {
      EXPECT_EQ(got.message_id, "p1@sender.example") << r.name;
      EXPECT_EQ(got.authenticated, r.authenticated) << r.name;
    }
  }
}

TEST(Correspondence, AuthenticatedMeansAnAlignedPass) {
  mailauth::Assessment a;
  EXPECT_FALSE(author_authenticated(a));
  a.dmarc.spf_aligned = true;  // no DMARC record, but SPF passed for the From: domain
  EXPECT_TRUE(author_authenticated(a));
  a = {};
  a.dmarc.dkim_aligned = true;
  EXPECT_TRUE(author_authenticated(a));
  a = {};
  a.dmarc.result = dmarc::Outcome::pass;
  EXPECT_TRUE(author_authenticated(a));
}

class RecorderTest : public store::StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    alice_ = account_with_domain("alice@example.org");
    mock_.add_txt("sender.example", "v=spf1 ip4:192.0.2.10 -all");
    txn_.mail.path.mailbox = *message::parse_mailbox("bob@sender.example");
    txn_.rcpts.push_back({"alice@example.org", {smtp::Target::mailbox(alice_, "INBOX")}, {}});
  }
  smtp::PipelineDecision run(const std::string& content, const std::string& ip) {
    AuthPipeline::Options o;
    o.authserv_id = "mx.example.org";
    AuthPipeline auth(mock_, *store_, o);
    SpamModel model(dir_ + "/no.model");
    UserModels users(dir_ + "/spam", *store_, model, log::Logger());
    InboundPipeline chain(&auth, &mock_, {}, model, users, *store_, thresholds_, log::Logger());
    Correspondence recorder(chain, *store_, log::Logger());
    const message::Parsed msg(content);
    asio::io_context io;
    std::optional<smtp::PipelineDecision> out;
    asio::co_spawn(io, [&]() -> asio::awaitable<void> {
      out = co_await recorder.check(txn_, msg, "mx.sender.example", ip);
    }, asio::detached);
    io.run_for(std::chrono::seconds(60));
    EXPECT_TRUE(out.has_value());
    // The record is queued (store::Reputation::record_received) and written no later than the
    // mail handed to the store after it: as the MX stores the message next, so does the test.
    EXPECT_TRUE(store_->deliver_sync(message("after the check\r\n", alice_)).ok());
    return out.value_or(smtp::PipelineDecision{});
  }
  dns::MockLookup mock_;
  smtp::Transaction txn_;
  filter::Thresholds thresholds_;
  std::int64_t alice_ = 0;
};

TEST_F(RecorderTest, AcceptedMailIsRecordedJunkIsNot) {
  const std::string ok = "From: Bob <bob@sender.example>\r\nTo: alice@example.org\r\nSubject: plan\r\n"
                         "Message-ID: <p1@sender.example>\r\n\r\nSee https://docs.link.example/plan\r\n";
  EXPECT_FALSE(run(ok, "192.0.2.10").reject);  // SPF pass, aligned with From:
  EXPECT_EQ(*store_->authenticated_writers(alice_, {"bob@sender.example"}),
            std::vector<std::string>{"bob@sender.example"});
  EXPECT_EQ(*store_->answerable(alice_, {"bob@sender.example"}, {"p1@sender.example"}),
            std::vector<std::string>{"bob@sender.example"});
  EXPECT_NE(store_->link_domains_seen({"link.example"})->front(), 0);
  // From elsewhere: SPF fails, not authenticated, yet answerable.
  const std::string forged = "From: eve@sender.example\r\nTo: alice@example.org\r\nSubject: hi\r\n"
                             "Message-ID: <e1@sender.example>\r\n\r\nhello\r\n";
  EXPECT_FALSE(run(forged, "203.0.113.5").reject);
  EXPECT_TRUE(store_->authenticated_writers(alice_, {"eve@sender.example"})->empty());
  EXPECT_EQ(store_->answerable(alice_, {"eve@sender.example"}, {"e1@sender.example"})->size(), 1u);
  // Into Junk (a filter strict enough that SPF's failure sends it there): not recorded.
  thresholds_ = filter::Thresholds{0.5, 0.9, 100};
  const std::string junk = "From: mallory@sender.example\r\nTo: alice@example.org\r\nSubject: hi\r\n"
                           "Message-ID: <j1@sender.example>\r\n\r\nhttp://junk-only.example/\r\n";
  EXPECT_TRUE(run(junk, "203.0.113.5").junk);
  EXPECT_TRUE(store_->answerable(alice_, {"mallory@sender.example"}, {"j1@sender.example"})->empty());
  EXPECT_EQ(store_->link_domains_seen({"junk-only.example"})->front(), 0);
  thresholds_ = filter::Thresholds{};
  // GTUBE is refused at SMTP time: nothing of it is recorded.
  const std::string spam = "From: spam@sender.example\r\nTo: alice@example.org\r\nSubject: x\r\n"
                           "Message-ID: <s1@sender.example>\r\n\r\n"
                           "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X http://spam-only.example/\r\n";
  EXPECT_TRUE(run(spam, "192.0.2.10").reject);
  EXPECT_TRUE(store_->answerable(alice_, {"spam@sender.example"}, {"s1@sender.example"})->empty());
  EXPECT_EQ(store_->link_domains_seen({"spam-only.example"})->front(), 0);
  EXPECT_EQ(store_->correspondence(alice_, 100)->writers, 1);  // the authenticated one
}

// Tagged mail (or suspected phishing) is delivered but recorded as nothing: its author is no
// one to answer freely and its links stay fresh for containment (review of issue 18).
TEST_F(RecorderTest, TaggedMailIsNotRecorded) {
  thresholds_ = filter::Thresholds{0.5, 100, 100};  // SPF's failure alone tags
  const std::string forged = "From: eve@sender.example\r\nTo: alice@example.org\r\nSubject: hi\r\n"
                             "Message-ID: <t1@sender.example>\r\n\r\nhttp://tagged-only.example/\r\n";
  const auto d = run(forged, "203.0.113.5");
  EXPECT_FALSE(d.reject);
  EXPECT_FALSE(d.junk);
  EXPECT_TRUE(store_->answerable(alice_, {"eve@sender.example"}, {"t1@sender.example"})->empty());
  EXPECT_EQ(store_->link_domains_seen({"tagged-only.example"})->front(), 0);
}

}  // namespace
}  // namespace mk::inbound
