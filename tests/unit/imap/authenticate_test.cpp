// AUTHENTICATE SCRAM-SHA-256 (imap/server/authenticate.cpp) driven through a session after
// STARTTLS: a client that computes its proof from the password (RFC 5802 §3) logs in, with
// and without SASL-IR (and with an authzid of itself), and checks the server's signature; "*" cancels; a wrong password, an
// unknown user and an account that requires app passwords all fail the same way, each as a
// failed login for the brute-force gate; nothing is offered or accepted before TLS; a
// malformed exchange is a BAD.
#include <gtest/gtest.h>

#include <ctime>
#include <functional>
#include <initializer_list>
#include <string>
#include <vector>

#include "auth/password.hpp"
#include "auth/scram.hpp"
#include "auth/throttle.hpp"
#include "imap/server/session.hpp"
#include "message/codec.hpp"
#include "unit/imap/scram_client.hpp"
#include "unit/store/store_fixture.hpp"

namespace mk::imap {
namespace {

using mk::test::ScramClient;

const std::string kUser = "me@example.org";
const std::string kPassword = "correct horse battery";

class ImapScram : public store::StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    ASSERT_TRUE(store_->add_domain("example.org").ok());
    ASSERT_TRUE(store_->add_account(kUser, *auth::hash_password(kPassword)).ok());
    // The verifier as `account passwd` stores it (fewer iterations, for the test's time).
    ASSERT_TRUE(store_->set_scram(kUser, auth::make_scram_secret(kPassword, 4096)).ok());
    s_ = tls_session();
  }
  std::unique_ptr<Session> tls_session(const auth::LoginPolicy* login = nullptr) {
    SessionConfig cfg;
    cfg.tls_available = true;
    cfg.login = login;
    auto s = std::make_unique<Session>(cfg, *store_, "192.0.2.7");
    EXPECT_EQ(s->on_command("t STARTTLS").next, Next::start_tls);
    s->on_tls();
    return s;
  }
  std::string run(std::string_view line) { return s_->on_command(line).data; }
  // "+ <base64>\r\n" -> <base64>
  static std::string challenge(const std::string& reply) {
    EXPECT_TRUE(reply.starts_with("+ ") && reply.ends_with("\r\n")) << reply;
    return reply.size() < 4 ? std::string() : reply.substr(2, reply.size() - 4);
  }
  std::unique_ptr<Session> s_;
};

TEST_F(ImapScram, OfferedOnlyAfterTls) {
  SessionConfig cfg;
  cfg.tls_available = true;
  Session plain(cfg, *store_, "192.0.2.7");
  EXPECT_EQ(plain.greeting().find("AUTH="), std::string::npos) << plain.greeting();
  ScramClient c{kUser, kPassword};
  EXPECT_EQ(plain.on_command("a AUTHENTICATE SCRAM-SHA-256 " + c.first()).data,
            "a NO [PRIVACYREQUIRED] Authentication is disabled before STARTTLS\r\n");
  EXPECT_FALSE(plain.take_auth_event());
  const std::string caps = run("c CAPABILITY");
  EXPECT_NE(caps.find(" AUTH=SCRAM-SHA-256 AUTH=PLAIN\r\n"), std::string::npos) << caps;
}

// With SASL-IR and without; and with an authorization identity that names the user itself,
// as Cyrus SASL clients (mbsync) send it.
TEST_F(ImapScram, LogsInWithAndWithoutInitialResponse) {
  for (const int variant : {0, 1, 2}) {
    const bool sasl_ir = variant != 0;
    s_ = tls_session();
    ScramClient c{kUser, kPassword};
    if (variant == 2) c.authzid = "Me@Example.org";
    std::string first;
    if (sasl_ir) {
      first = run("a AUTHENTICATE SCRAM-SHA-256 " + c.first());
    } else {
      ASSERT_EQ(run("a AUTHENTICATE scram-sha-256"), "+ \r\n");
      first = run(c.first());
    }
    const std::string final = c.final(challenge(first));
    ASSERT_FALSE(final.empty()) << first;
    // The server's signature comes as a last challenge, which the client checks; it tells
    // the client the password is right, so the books hear of the login now...
    EXPECT_EQ(run(final), "+ " + message::base64_encode(c.server_signature) + "\r\n");
    EXPECT_FALSE(s_->logged_in());
    auto ev = s_->take_auth_event();
    ASSERT_TRUE(ev);
    EXPECT_TRUE(ev->ok);
    EXPECT_EQ(ev->user, kUser);
    // ...and answers with an empty response (RFC 4422 §4).
    const std::string ok = run("");
    EXPECT_TRUE(ok.starts_with("a OK [CAPABILITY IMAP4rev1 ")) << ok;
    EXPECT_EQ(ok.find("AUTH="), std::string::npos) << ok;
    EXPECT_TRUE(s_->logged_in());
    EXPECT_EQ(s_->user(), kUser);
    EXPECT_FALSE(s_->take_auth_event());  // ...and once
    EXPECT_EQ(run("n NOOP"), "n OK NOOP completed\r\n");
  }
}

// Each refusal: the reply, and whether the gate hears of a failed login (and as whom).
TEST_F(ImapScram, Failures) {
  ASSERT_TRUE(store_->add_account("apps@example.org", *auth::hash_password(kPassword)).ok());
  ASSERT_TRUE(store_->set_scram("apps@example.org", auth::make_scram_secret(kPassword, 4096)).ok());
  ASSERT_TRUE(store_->set_require_app_passwords("apps@example.org", true).ok());
  struct Row {
    const char* why;
    std::string user, password;
  };
  for (const Row& r : {Row{"wrong password", kUser, "wrong horse"},
                       Row{"unknown user", "nobody@example.org", kPassword},
                       Row{"app passwords required", "apps@example.org", kPassword}}) {
    s_ = tls_session();
    ScramClient c{r.user, r.password};
    const std::string final = c.final(challenge(run("a AUTHENTICATE SCRAM-SHA-256 " + c.first())));
    ASSERT_FALSE(final.empty()) << r.why;
    EXPECT_EQ(run(final), "a NO [AUTHENTICATIONFAILED] Invalid credentials\r\n") << r.why;
    auto ev = s_->take_auth_event();
    ASSERT_TRUE(ev) << r.why;
    EXPECT_FALSE(ev->ok) << r.why;
    EXPECT_EQ(ev->user, r.user) << r.why;
    EXPECT_FALSE(s_->logged_in()) << r.why;
    // The session takes commands again.
    EXPECT_EQ(run("n NOOP"), "n OK NOOP completed\r\n") << r.why;
  }
}

TEST_F(ImapScram, CancelAndMalformedExchanges) {
  ScramClient c{kUser, kPassword};
  struct Row {
    std::vector<std::string> lines;  // sent in turn; the reply to the last is checked
    std::string reply;
  };
  const std::string nonce_mismatch = message::base64_encode("c=biws,r=other,p=" + message::base64_encode(std::string(32, 'p')));
  for (const Row& r : std::initializer_list<Row>{
           // RFC 9051 §6.2.2: "*" cancels, at any step.
           {{"a AUTHENTICATE SCRAM-SHA-256", "*"}, "a BAD Authentication cancelled\r\n"},
           {{"a AUTHENTICATE SCRAM-SHA-256 " + c.first(), "*"}, "a BAD Authentication cancelled\r\n"},
           {{"a AUTHENTICATE SCRAM-SHA-256 " + c.first(), nonce_mismatch}, "a BAD SCRAM: nonce mismatch\r\n"},
           // RFC 4959 §3: "=" is an empty initial response, which SCRAM cannot start with.
           {{"a AUTHENTICATE SCRAM-SHA-256 ="}, "a BAD SCRAM: malformed client-first message\r\n"},
           {{"a AUTHENTICATE SCRAM-SHA-256 not-base64!"}, "a BAD Invalid base64 in the SASL response\r\n"},
           {{"a AUTHENTICATE SCRAM-SHA-256", "bm90IGJhc2U2NA"}, "a BAD Invalid base64 in the SASL response\r\n"},
           {{"a AUTHENTICATE SCRAM-SHA-256 " + message::base64_encode("p=tls-unique,,n=me,r=abc")},
            "a BAD SCRAM: channel binding is not supported\r\n"},
           {{"a AUTHENTICATE SCRAM-SHA-256 " + message::base64_encode("n,a=other@example.org,n=me,r=abc")},
            "a BAD SCRAM: authorization identity is not supported\r\n"},
           {{"a AUTHENTICATE SCRAM-SHA-256 a b"}, "a BAD Invalid initial response\r\n"},
           {{"a AUTHENTICATE CRAM-MD5"}, "a NO Unsupported authentication mechanism\r\n"},
       }) {
    s_ = tls_session();
    std::string got;
    for (const auto& l : r.lines) got = run(l);
    EXPECT_EQ(got, r.reply) << r.lines.front();
    EXPECT_FALSE(s_->take_auth_event()) << r.lines.front();  // a malformed exchange is no guess
    EXPECT_EQ(run("n NOOP"), "n OK NOOP completed\r\n") << r.lines.front();
  }
}

// After the server's signature the client knows its password is right: whatever it answers
// then (the empty response, "*", anything else), the verified proof is a successful login
// in the books (the login history, the new-network alert), once; only the empty response
// logs the session in.
TEST_F(ImapScram, VerifiedProofIsRecordedWhateverFollows) {
  struct Row {
    std::string answer, reply;
    bool logged_in;
  };
  for (const Row& r : {Row{"*", "a BAD Authentication cancelled\r\n", false},
                       Row{message::base64_encode("more"), "a BAD Expected an empty response\r\n", false},
                       Row{"", "a OK [CAPABILITY", true}}) {
    s_ = tls_session();
    ScramClient c{kUser, kPassword};
    const std::string final = c.final(challenge(run("a AUTHENTICATE SCRAM-SHA-256 " + c.first())));
    ASSERT_EQ(challenge(run(final)), message::base64_encode(c.server_signature)) << r.answer;
    auto ev = s_->take_auth_event();
    ASSERT_TRUE(ev) << r.answer;
    EXPECT_TRUE(ev->ok) << r.answer;
    EXPECT_EQ(ev->user, kUser) << r.answer;
    EXPECT_TRUE(run(r.answer).starts_with(r.reply)) << r.answer;
    EXPECT_FALSE(s_->take_auth_event()) << r.answer;
    EXPECT_EQ(s_->logged_in(), r.logged_in) << r.answer;
  }
}

// A known account refused for now (locked for this network, flagged as breached, app
// passwords only) shows the salt and iterations it showed before the refusal, and fails the
// right password's proof exactly as a wrong password: a failed login for the gate. Were it
// to get an unknown user's challenge, the change would tell an attacker the account exists.
TEST_F(ImapScram, RefusedAccountKeepsItsChallenge) {
  auth::ThrottleConfig tcfg;
  tcfg.account_failures_before_lock = 5;
  auth::Throttle throttle(tcfg, nullptr);
  auth::LoginPolicy policy;
  policy.throttle = &throttle;
  policy.scram_salt_key = std::string(32, 'k');
  struct Row {
    std::string user;
    std::function<void()> refuse;
  };
  const std::int64_t now = std::time(nullptr);
  const Row rows[] = {
      {"locked@example.org",
       [&] {
         for (int i = 0; i < 5; ++i)
           (void)throttle.failed(*IpAddr::parse("203.0.113." + std::to_string(i)), "locked@example.org", now);
       }},
      {"breached@example.org", [&] { ASSERT_TRUE(store_->set_password_breached("breached@example.org").ok()); }},
      {"apps@example.org", [&] { ASSERT_TRUE(store_->set_require_app_passwords("apps@example.org", true).ok()); }},
  };
  // "s=<salt>,i=<iterations>" of the challenge to a client-first message.
  auto salt = [&](const std::string& user) {
    s_ = tls_session(&policy);
    ScramClient c{user, kPassword};
    const std::string first = message::base64_decode(challenge(run("a AUTHENTICATE SCRAM-SHA-256 " + c.first())));
    run("*");
    return first.substr(first.find(",s="));
  };
  for (const Row& r : rows) {
    ASSERT_TRUE(store_->add_account(r.user, *auth::hash_password(kPassword)).ok());
    ASSERT_TRUE(store_->set_scram(r.user, auth::make_scram_secret(kPassword, 4096)).ok());
    const std::string before = salt(r.user);
    EXPECT_TRUE(before.ends_with(",i=4096")) << r.user << before;
    r.refuse();
    EXPECT_EQ(salt(r.user), before) << r.user;
    s_ = tls_session(&policy);
    ScramClient c{r.user, kPassword};
    const std::string final = c.final(challenge(run("a AUTHENTICATE SCRAM-SHA-256 " + c.first())));
    EXPECT_EQ(run(final), "a NO [AUTHENTICATIONFAILED] Invalid credentials\r\n") << r.user;
    auto ev = s_->take_auth_event();
    ASSERT_TRUE(ev) << r.user;
    EXPECT_FALSE(ev->ok) << r.user;
    EXPECT_FALSE(s_->logged_in()) << r.user;
  }
  // An unknown user's salt is the one the kept key gives, in every session.
  EXPECT_EQ(salt("nobody@example.org"), salt("nobody@example.org"));
}

}  // namespace
}  // namespace mk::imap
