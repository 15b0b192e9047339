// The MX's inbound chain (sender authentication, the DNS lists, the filter) on a real store
// and a mock DNS: one DNS deadline for every lookup of a message, the lists asked beside
// sender authentication, and the decision the server acts on.
#include <gtest/gtest.h>

#include <chrono>
#include <optional>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <sqlite3.h>

#include "dns/mock.hpp"
#include "inbound/auth_pipeline.hpp"
#include "inbound/spam_filter.hpp"
#include "message/address.hpp"
#include "log_capture.hpp"
#include "unit/store/store_fixture.hpp"

namespace mk::inbound {
namespace {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

// Never answers for names under `zone` (a list that has gone quiet) and counts the queries
// in flight together; everything else comes from the mock after one turn of the executor.
class StallingLookup final : public dns::Lookup {
 public:
  StallingLookup(dns::Lookup& inner, std::string zone) : inner_(inner), zone_(std::move(zone)) {}
  asio::awaitable<Result<dns::Answer>> query(std::string name, int type) override {
    ++in_flight_;
    max_in_flight_ = std::max(max_in_flight_, in_flight_);
    if (name.ends_with("." + zone_)) {
      ++stalled_;
      asio::steady_timer forever(co_await asio::this_coro::executor, std::chrono::hours(1));
      boost::system::error_code ec;
      co_await forever.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    } else {
      co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
    }
    auto r = co_await inner_.query(std::move(name), type);
    --in_flight_;
    co_return r;
  }
  int max_in_flight() const { return max_in_flight_; }
  int stalled() const { return stalled_; }

 private:
  dns::Lookup& inner_;
  std::string zone_;
  int in_flight_ = 0, max_in_flight_ = 0, stalled_ = 0;
};

class PipelineTest : public store::StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    alice_ = account_with_domain("alice@example.org");
    // The sender's domain publishes SPF and DMARC; its server has forward-confirmed rDNS.
    mock_.add_txt("sender.example", "v=spf1 ip4:192.0.2.10 -all");
    mock_.add_txt("_dmarc.sender.example", "v=DMARC1; p=none");
    mock_.add_ptr("10.2.0.192.in-addr.arpa", "mx.sender.example");
    mock_.add_address("mx.sender.example", "192.0.2.10");
    txn_.mail.path.mailbox = *message::parse_mailbox("bob@sender.example");
    txn_.rcpts.push_back({"alice@example.org", {smtp::Target::mailbox(alice_, "INBOX")}, {}});
  }

  // Runs the chain on `content` and returns its decision (the explanation in why_); the
  // io_context stops once the decision is there, abandoned lookups and all.
  // linger: how long the io_context keeps running after the decision (lookups the chain
  // abandoned end meanwhile, after the chain and its deadline are gone).
  // log: where the chain logs (none by default).
  smtp::PipelineDecision run(const std::string& content, Duration budget, filter::BlocklistConfig lists,
                             Duration linger = Duration::zero(), const log::Logger& log = log::Logger()) {
    AuthPipeline::Options o;
    o.authserv_id = "mx.example.org";
    o.dns_budget = budget;
    o.dns_query_timeout = budget;
    AuthPipeline auth(dns_, *store_, o);
    SpamModel model(dir_ + "/no.model");
    UserModels users(dir_ + "/spam", *store_, model, log::Logger());
    InboundPipeline chain(&auth, &dns_, std::move(lists), model, users, *store_, filter::Thresholds{}, log);
    const message::Parsed msg(content);
    asio::io_context io;
    std::optional<smtp::PipelineDecision> out;
    asio::co_spawn(io, [&]() -> asio::awaitable<void> {
      out = co_await chain.evaluate(txn_, msg, "mx.sender.example", "192.0.2.10", &why_);
    }, asio::detached);
    // Hang guard: far beyond any budget a test sets.
    const auto guard = Clock::now() + std::chrono::seconds(60);
    while (!out && Clock::now() < guard) io.run_one_for(std::chrono::milliseconds(100));
    EXPECT_TRUE(out.has_value()) << "the chain did not decide within the hang guard";
    if (linger > Duration::zero()) io.run_for(linger);
    return out.value_or(smtp::PipelineDecision{});
  }

  static constexpr const char* kMsg =
      "From: Bob <bob@sender.example>\r\nTo: alice@example.org\r\nSubject: the plan\r\n"
      "Message-ID: <p1@sender.example>\r\n\r\nSee https://docs.link.example/plan for the plan.\r\n";
  dns::MockLookup mock_;
  StallingLookup dns_{mock_, "quiet-list.example"};
  smtp::Transaction txn_;
  InboundPipeline::Explanation why_;
  std::int64_t alice_ = 0;
};

TEST_F(PipelineTest, AcceptsAuthenticatedMailWithItsResults) {
  const auto d = run(kMsg, std::chrono::seconds(5), {});
  EXPECT_FALSE(d.reject.has_value());
  EXPECT_FALSE(d.junk);
  EXPECT_EQ(d.content, nullptr);  // nothing to rewrite
  EXPECT_NE(d.fields.find("Authentication-Results: mx.example.org;"), std::string::npos) << d.fields;
  EXPECT_NE(d.fields.find("spf=pass"), std::string::npos) << d.fields;
  EXPECT_NE(d.fields.find("X-Mailkeep-Spam: no"), std::string::npos) << d.fields;
  EXPECT_TRUE(why_.auth_checked);
  EXPECT_TRUE(why_.filtered);
  EXPECT_EQ(why_.auth.dmarc.result, dmarc::Outcome::pass);
}

// A store that cannot say what the recipient knows (their correspondents, the thread, the
// sender's past verdicts) does not stop the verdict, and the log says which reads failed.
TEST_F(PipelineTest, AVerdictTheStoreCannotInformIsMadeAndLogged) {
  {  // another connection takes the tables away, as a failing store would
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir_ + "/index.sqlite").c_str(), &db), SQLITE_OK);
    for (const char* sql : {"ALTER TABLE accounts RENAME COLUMN correspondents_version TO away",
                            "ALTER TABLE correspondents RENAME TO away1", "ALTER TABLE sender_verdicts RENAME TO away2",
                            "ALTER TABLE messages RENAME TO away3", "ALTER TABLE domains RENAME TO away4"})
      EXPECT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
    sqlite3_close(db);
  }
  test::LogCapture log(dir_ + "/log");
  ASSERT_TRUE(log.ok());
  const std::string reply = std::string(kMsg).insert(std::string(kMsg).find("\r\n\r\n"),
                                                      "\r\nIn-Reply-To: <earlier@example.org>");
  const auto d = run(reply, std::chrono::seconds(5), {}, Duration::zero(), log.logger());
  EXPECT_FALSE(d.reject.has_value());
  EXPECT_NE(d.fields.find("X-Mailkeep-Spam:"), std::string::npos) << d.fields;
  const std::string text = log.text();
  // One line for the recipient's verdict, naming each read (none had a list to stand in).
  const std::string recipient = log.line("filter.recipient_unread");
  EXPECT_NE(recipient.find("level=error"), std::string::npos) << text;
  EXPECT_NE(recipient.find("reads=\"correspondents' domains, thread, sender verdicts, correspondents\""),
            std::string::npos)
      << recipient;
  EXPECT_EQ(text.find("filter.recipient_unread", text.find("filter.recipient_unread") + 1), std::string::npos) << text;
  const std::string hosted = log.line("filter.hosted_domains_unread");
  EXPECT_NE(hosted.find("level=error"), std::string::npos) << text;
  EXPECT_NE(hosted.find("kept=false"), std::string::npos) << hosted;
}

TEST_F(PipelineTest, DnsListsShareTheMessagesDeadline) {
  // The list's own timeout is an hour: only the message's deadline can end its lookups.
  filter::BlocklistConfig lists;
  lists.dnsbl = {"quiet-list.example"};
  lists.uribl = {"quiet-list.example"};
  lists.timeout = std::chrono::hours(1);
  const auto budget = std::chrono::milliseconds(400);
  const auto started = Clock::now();
  const auto d = run(kMsg, budget, lists);
  // Sender authentication answered and decided; the lists were abandoned at the deadline,
  // said so, and counted nothing.
  EXPECT_FALSE(d.reject.has_value());
  EXPECT_NE(d.fields.find("spf=pass"), std::string::npos) << d.fields;
  EXPECT_GE(dns_.stalled(), 2);  // the client's address and the link's domain
  ASSERT_FALSE(why_.list_notes.empty());
  for (const auto& note : why_.list_notes) {
    EXPECT_NE(note.find("quiet-list.example"), std::string::npos) << note;
    EXPECT_NE(note.find("in time"), std::string::npos) << note;
  }
  EXPECT_EQ(why_.verdict.summary().find("DNSBL"), std::string::npos);
  // The lists waited for the deadline (a lower bound: the server imposes it)...
  EXPECT_GE(Clock::now() - started, budget);
  // ...and were asked beside sender authentication, not after it.
  EXPECT_GE(dns_.max_in_flight(), 4);
}

TEST_F(PipelineTest, ListLookupsAbandonedEarlyEndSafelyLater) {
  // The lists stop waiting (their own 100 ms) long before the message's per-query limit
  // (800 ms): their queries end after the chain, and its DNS deadline, are gone. Under ASan a
  // query that still used the deadline object would be a use after free.
  filter::BlocklistConfig lists;
  lists.dnsbl = {"quiet-list.example"};
  lists.timeout = std::chrono::milliseconds(100);
  const auto d = run(kMsg, std::chrono::milliseconds(800), lists, std::chrono::milliseconds(1500));
  EXPECT_FALSE(d.reject.has_value());
  ASSERT_EQ(why_.list_notes.size(), 1u);
  EXPECT_NE(why_.list_notes[0].find("no answer within 100 ms"), std::string::npos) << why_.list_notes[0];
}

TEST_F(PipelineTest, ARefusalLeavesNoLookupBehindUnsafe) {
  // Mail claiming a hosted domain without authenticating is refused while the lists still
  // wait: the chain returns early and its queries end later.
  filter::BlocklistConfig lists;
  lists.dnsbl = {"quiet-list.example"};
  lists.timeout = std::chrono::milliseconds(100);
  const std::string forged = "From: Alice <alice@example.org>\r\nSubject: pay this\r\n\r\nnow\r\n";
  const auto d = run(forged, std::chrono::milliseconds(800), lists, std::chrono::milliseconds(1500));
  ASSERT_TRUE(d.reject.has_value());
  EXPECT_EQ(d.reject->code, 550);
}

TEST_F(PipelineTest, AuthorsThatCannotAllBeReadAreRefused) {
  // Empty groups push a hosted author past what the parser reads: refused, not judged on the
  // authors it did read.
  std::string from = "From: bob@sender.example";
  for (int i = 0; i < 200; ++i) from += ", :;";
  const auto d = run(from + ", alice@example.org\r\nSubject: x\r\n\r\nhi\r\n", std::chrono::seconds(5), {});
  ASSERT_TRUE(d.reject.has_value());
  EXPECT_EQ(d.reject->code, 550);
  EXPECT_NE(d.reject->lines[0].find("too large to check"), std::string::npos) << d.reject->lines[0];
  EXPECT_EQ(why_.auth.dmarc.result, dmarc::Outcome::permerror);
}

TEST_F(PipelineTest, ForgedResultsAreRemovedAndTheVerdictIsOnWhatIsDelivered) {
  const std::string forged =
      std::string("Authentication-Results: mx.example.org; spf=pass; dmarc=pass\r\n") + kMsg;
  const auto d = run(forged, std::chrono::seconds(5), {});
  ASSERT_NE(d.content, nullptr);
  EXPECT_EQ(d.content->text(), kMsg);
  EXPECT_EQ(d.content->message_id(), "p1@sender.example");
  bool logged = false;
  for (const auto& f : d.log) logged |= f.key == "forged_ar_removed";
  EXPECT_TRUE(logged);
}

}  // namespace
}  // namespace mk::inbound
