// Submission (587/465) on the sans-I/O session: AUTH only over TLS, PLAIN and LOGIN exchanges,
// sender ownership of MAIL FROM and From:, relay for the authenticated only, and the Date
// and Message-ID the server adds.
#include <gtest/gtest.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "base/strings.hpp"
#include "message/codec.hpp"
#include "smtp/session.hpp"

namespace mk::smtp {
namespace {

class LocalOnly : public Recipients {
 public:
  RcptVerdict resolve(const message::Mailbox& mb) override {
    if (mb.domain != "example.org") return {RcptVerdict::Kind::relay_denied, {}};
    if (to_lower(mb.local) == "bob") return {RcptVerdict::Kind::accept, {Target::mailbox(2, "INBOX")}};
    return {RcptVerdict::Kind::unknown_user, {}};
  }
};

class Policy : public SubmissionPolicy {
 public:
  std::optional<AuthIdentity> authenticate(std::string_view user, std::string_view pass) override {
    ++attempts;
    if (to_lower(user) == "alice@example.org" && pass == "s3cret pass") return AuthIdentity{1, "alice@example.org"};
    return std::nullopt;
  }
  std::optional<ScramIdentity> scram_account(std::string_view user) override {
    if (to_lower(user) != "alice@example.org") return std::nullopt;
    static const std::string secret = auth::make_scram_secret("s3cret pass", 4096);
    return ScramIdentity{AuthIdentity{1, "alice@example.org"}, secret, alice_may_log_in};
  }
  bool may_send_as(const AuthIdentity& who, const std::string& address) override {
    return to_lower(address) == who.address || to_lower(address) == "team@example.org";
  }
  int attempts = 0;
  bool alice_may_log_in = true;
};

struct Sub {
  LocalOnly rcpts;
  Policy policy;
  std::unique_ptr<Session> s;
  Sub() {
    SessionConfig cfg;
    cfg.hostname = "mail.example.org";
    cfg.starttls_available = true;
    cfg.submission = true;
    s = std::make_unique<Session>(cfg, rcpts, ConnInfo{"c1", "192.0.2.7", "192.0.2.1"}, &policy);
  }
  std::string cmd(std::string_view line) {
    auto st = s->on_command(line);
    return st.reply ? st.reply->wire() : "";
  }
  void tls_and_ehlo() {
    ASSERT_EQ(s->on_command("EHLO client.example").reply->code, 250);
    ASSERT_EQ(s->on_command("STARTTLS").next, Next::start_tls);
    s->on_tls(TlsInfo{"TLSv1.3", "TLS_AES_256_GCM_SHA384", 256});
    ASSERT_EQ(s->on_command("EHLO client.example").reply->code, 250);
  }
  void login() {
    tls_and_ehlo();
    ASSERT_EQ(cmd("AUTH PLAIN " + message::base64_encode(std::string("\0alice@example.org\0s3cret pass", 30))),
              "235 2.7.0 Authentication successful\r\n");
  }
  // DATA with content; returns the message as it would be delivered, or the refusal.
  std::string send(const std::string& content, std::string& reply) {
    EXPECT_EQ(cmd("DATA").substr(0, 3), "354");
    std::size_t used = 0;
    auto st = s->on_data(content + ".\r\n", used);
    EXPECT_TRUE(st.has_value());
    if (st->next != Next::deliver) {
      reply = st->reply ? st->reply->wire() : "";
      return "";
    }
    std::string msg = s->transaction().trace + s->transaction().message;
    reply = s->on_delivered(true, "").reply->wire();
    return msg;
  }
};

TEST(Submission, NoAuthBeforeTls) {
  Sub t;
  auto ehlo = t.s->on_command("EHLO client.example").reply->wire();
  EXPECT_EQ(ehlo.find("AUTH"), std::string::npos) << ehlo;
  EXPECT_NE(ehlo.find("STARTTLS"), std::string::npos);
  EXPECT_EQ(t.cmd("AUTH PLAIN AGFsaWNlAHg="), "538 5.7.11 Encryption required for requested authentication mechanism\r\n");
  EXPECT_EQ(t.cmd("MAIL FROM:<alice@example.org>"), "530 5.7.0 Must issue a STARTTLS command first\r\n");
  EXPECT_EQ(t.policy.attempts, 0);
}

TEST(Submission, AuthIsRequiredAndOfferedOverTls) {
  Sub t;
  t.tls_and_ehlo();
  auto ehlo = t.s->on_command("EHLO client.example").reply->wire();
  EXPECT_NE(ehlo.find("250-AUTH SCRAM-SHA-256 PLAIN LOGIN\r\n"), std::string::npos) << ehlo;
  EXPECT_EQ(t.cmd("MAIL FROM:<alice@example.org>"), "530 5.7.0 Authentication required\r\n");
  EXPECT_EQ(t.cmd("AUTH CRAM-MD5"), "504 5.5.4 Unrecognized authentication type; use SCRAM-SHA-256, PLAIN or LOGIN\r\n");
  EXPECT_EQ(t.cmd("AUTH PLAIN " + message::base64_encode(std::string("\0alice@example.org\0wrong", 24))),
            "535 5.7.8 Authentication credentials invalid\r\n");
  EXPECT_EQ(t.cmd("AUTH PLAIN not*base64"), "501 5.5.2 Invalid PLAIN response\r\n");
  // Acting as another user (authzid) is not allowed.
  EXPECT_EQ(t.cmd("AUTH PLAIN " + message::base64_encode(std::string("bob@example.org\0alice@example.org\0s3cret pass", 45))),
            "535 5.7.8 Authentication credentials invalid\r\n");
  // PLAIN without an initial response: an empty challenge, then the response.
  EXPECT_EQ(t.cmd("AUTH PLAIN"), "334 \r\n");
  EXPECT_TRUE(t.s->expecting_auth_response());
  EXPECT_EQ(t.cmd(message::base64_encode(std::string("\0alice@example.org\0s3cret pass", 30))),
            "235 2.7.0 Authentication successful\r\n");
  EXPECT_FALSE(t.s->expecting_auth_response());
  EXPECT_EQ(t.cmd("AUTH PLAIN"), "503 5.5.1 Already authenticated\r\n");
}

TEST(Submission, AuthLoginAndCancel) {
  Sub t;
  t.tls_and_ehlo();
  EXPECT_EQ(t.cmd("AUTH LOGIN"), "334 VXNlcm5hbWU6\r\n");
  EXPECT_EQ(t.cmd("*"), "501 5.0.0 Authentication cancelled\r\n");
  EXPECT_EQ(t.cmd("AUTH LOGIN " + message::base64_encode("alice@example.org")), "334 UGFzc3dvcmQ6\r\n");
  EXPECT_EQ(t.cmd(message::base64_encode("s3cret pass")), "235 2.7.0 Authentication successful\r\n");
  ASSERT_TRUE(t.s->identity().has_value());
  EXPECT_EQ(t.s->identity()->account_id, 1);
}

// A SCRAM-SHA-256 client (RFC 5802 §3) computing its proof from the password.
std::string hmac(std::string_view key, std::string_view data) {
  unsigned char out[32];
  unsigned len = 0;
  HMAC(EVP_sha256(), key.data(), int(key.size()), reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
  return std::string(reinterpret_cast<char*>(out), 32);
}

// The server's signature tells the client its password is right, so the verified proof is a
// login for the books then (take_verified_login), once, whether the client completes the
// exchange or cancels; only completing it authenticates the session. An account that may not
// log in now shows the same salt as before and fails the right proof like a wrong password.
TEST(Submission, AuthScramSha256) {
 enum Variant { complete, cancel, refused };
 std::string first_salt;
 for (const Variant v : {complete, cancel, refused}) {
  Sub t;
  t.tls_and_ehlo();
  t.policy.alice_may_log_in = v != refused;
  const std::string client_first_bare = "n=alice@example.org,r=fyko+d2lbbFgONRv9qkxdawL";
  EXPECT_EQ(t.cmd("AUTH SCRAM-SHA-256"), "334 \r\n");
  auto challenge = t.cmd(message::base64_encode("n,," + client_first_bare));
  ASSERT_EQ(challenge.substr(0, 4), "334 ") << challenge;
  const std::string server_first = message::base64_decode(challenge.substr(4, challenge.size() - 6));
  auto field = [&](char c) {
    auto p = server_first.find(std::string(1, c) + "=");
    return server_first.substr(p + 2, server_first.find(',', p) - p - 2);
  };
  const std::string nonce = field('r'), salt = message::base64_decode(field('s'));
  if (first_salt.empty()) first_salt = field('s') + "," + field('i');
  EXPECT_EQ(field('s') + "," + field('i'), first_salt);
  const int iterations = std::stoi(server_first.substr(server_first.find("i=") + 2));
  unsigned char salted[32];
  const std::string pw = "s3cret pass";
  PKCS5_PBKDF2_HMAC(pw.data(), int(pw.size()), reinterpret_cast<const unsigned char*>(salt.data()), int(salt.size()),
                    iterations, EVP_sha256(), 32, salted);
  const std::string salted_s(reinterpret_cast<char*>(salted), 32);
  const std::string client_key = hmac(salted_s, "Client Key");
  unsigned char stored[32];
  SHA256(reinterpret_cast<const unsigned char*>(client_key.data()), 32, stored);
  const std::string without_proof = "c=biws,r=" + nonce;
  const std::string auth_message = client_first_bare + "," + server_first + "," + without_proof;
  const std::string signature = hmac(std::string(reinterpret_cast<char*>(stored), 32), auth_message);
  std::string proof(32, '\0');
  for (int i = 0; i < 32; ++i) proof[i] = char(client_key[i] ^ signature[i]);
  auto fin = t.cmd(message::base64_encode(without_proof + ",p=" + message::base64_encode(proof)));
  if (v == refused) {
    EXPECT_EQ(fin, "535 5.7.8 Authentication credentials invalid\r\n");
    EXPECT_FALSE(t.s->take_verified_login());
    EXPECT_FALSE(t.s->identity().has_value());
    continue;
  }
  const std::string expected_v = "v=" + message::base64_encode(hmac(hmac(salted_s, "Server Key"), auth_message));
  EXPECT_EQ(fin, "334 " + message::base64_encode(expected_v) + "\r\n");
  EXPECT_FALSE(t.s->identity().has_value());  // not before the client's final empty response
  EXPECT_EQ(t.s->take_verified_login(), "alice@example.org");
  if (v == cancel) {
    EXPECT_EQ(t.cmd("*"), "501 5.0.0 Authentication cancelled\r\n");
    EXPECT_FALSE(t.s->identity().has_value());
  } else {
    EXPECT_EQ(t.cmd(""), "235 2.7.0 Authentication successful\r\n");
    ASSERT_TRUE(t.s->identity().has_value());
    EXPECT_EQ(t.s->identity()->address, "alice@example.org");
  }
  EXPECT_FALSE(t.s->take_verified_login());
 }
}

TEST(Submission, AuthScramFailures) {
  Sub t;
  t.tls_and_ehlo();
  // Unknown user: a normal-looking challenge, then the usual failure.
  auto ch = t.cmd("AUTH SCRAM-SHA-256 " + message::base64_encode("n,,n=eve@example.org,r=abcdef"));
  ASSERT_EQ(ch.substr(0, 4), "334 ");
  const std::string sf = message::base64_decode(ch.substr(4, ch.size() - 6));
  const std::string nonce = sf.substr(2, sf.find(',') - 2);
  EXPECT_EQ(t.cmd(message::base64_encode("c=biws,r=" + nonce + ",p=" + message::base64_encode(std::string(32, 'p')))),
            "535 5.7.8 Authentication credentials invalid\r\n");
  EXPECT_FALSE(t.s->expecting_auth_response());
  EXPECT_EQ(t.cmd("AUTH SCRAM-SHA-256 " + message::base64_encode("p=tls-server-end-point,,n=a,r=b")),
            "501 5.5.2 SCRAM: channel binding is not supported\r\n");
  EXPECT_EQ(t.cmd("AUTH SCRAM-SHA-256"), "334 \r\n");
  EXPECT_EQ(t.cmd("*"), "501 5.0.0 Authentication cancelled\r\n");
  EXPECT_EQ(t.cmd("MAIL FROM:<alice@example.org>"), "530 5.7.0 Authentication required\r\n");
}

TEST(Submission, StartTlsForgetsTheLogin) {
  Sub t;
  t.login();
  // A second STARTTLS is refused, and a fresh TLS session would start unauthenticated.
  EXPECT_EQ(t.cmd("STARTTLS"), "503 5.5.1 TLS already active\r\n");
  t.s->on_tls(TlsInfo{"TLSv1.3", "x", 256});
  EXPECT_FALSE(t.s->identity().has_value());
}

TEST(Submission, SenderMustBeOwned) {
  Sub t;
  t.login();
  EXPECT_EQ(t.cmd("MAIL FROM:<mallory@example.org>"),
            "553 5.7.1 Sender address rejected: not owned by alice@example.org\r\n");
  EXPECT_EQ(t.cmd("MAIL FROM:<team@example.org>"), "250 2.1.0 Sender OK\r\n");
  EXPECT_EQ(t.cmd("RCPT TO:<someone@elsewhere.example>"), "250 2.1.5 Recipient OK\r\n");
  EXPECT_EQ(t.cmd("RCPT TO:<nobody@example.org>"), "550 5.1.1 Recipient address rejected: user unknown\r\n");
  EXPECT_EQ(t.cmd("RCPT TO:<x@[192.0.2.9]>"), "550 5.1.2 Address literals are not accepted as recipients\r\n");
  std::string reply;
  t.send("From: Mallory <mallory@example.org>\r\nSubject: x\r\n\r\nhi\r\n", reply);
  EXPECT_EQ(reply, "550 5.7.1 From: address mallory@example.org is not owned by alice@example.org\r\n");
  ASSERT_EQ(t.cmd("MAIL FROM:<alice@example.org>").substr(0, 3), "250");
  ASSERT_EQ(t.cmd("RCPT TO:<bob@example.org>").substr(0, 3), "250");
  t.send("Subject: no from\r\n\r\nhi\r\n", reply);
  EXPECT_EQ(reply, "550 5.6.0 Message has no From: header\r\n");
  // A second From: field after an owned one would get past the check: refused.
  ASSERT_EQ(t.cmd("MAIL FROM:<alice@example.org>").substr(0, 3), "250");
  ASSERT_EQ(t.cmd("RCPT TO:<bob@example.org>").substr(0, 3), "250");
  t.send("From: alice@example.org\r\nFrom: ceo@example.org\r\nSubject: x\r\n\r\nhi\r\n", reply);
  EXPECT_EQ(reply, "550 5.6.0 Message has more than one From: header\r\n");
}

TEST(Submission, AuthorsThatCannotAllBeReadAreRefused) {
  Sub t;
  t.login();
  std::string reply;
  auto attempt = [&](const std::string& header) {
    EXPECT_EQ(t.cmd("MAIL FROM:<alice@example.org>").substr(0, 3), "250");
    EXPECT_EQ(t.cmd("RCPT TO:<bob@example.org>").substr(0, 3), "250");
    t.send(header + "Subject: x\r\n\r\nhi\r\n", reply);
    return reply;
  };
  const std::string kTooLarge = "550 5.6.0 Message header or From: address list too large to check\r\n";
  // Empty groups pad the list so that the parser stops before the foreign author.
  std::string padded = "From: alice@example.org";
  for (int i = 0; i < 200; ++i) padded += ", g" + std::to_string(i) + ":;";
  EXPECT_EQ(attempt(padded + ", ceo@example.org\r\n"), kTooLarge);
  // Groups of one owned member each, then one more group with the foreign author.
  std::string groups = "From: ";
  for (int i = 0; i < 100; ++i) groups += "g" + std::to_string(i) + ": alice@example.org;, ";
  EXPECT_EQ(attempt(groups + "last: ceo@example.org;\r\n"), kTooLarge);
  // A second From: hidden past the header's field limit.
  std::string filler = "From: alice@example.org\r\n";
  for (int i = 0; i < 2100; ++i) filler += "X-Filler: " + std::to_string(i) + "\r\n";
  EXPECT_EQ(attempt(filler + "From: ceo@example.org\r\n"), kTooLarge);
  // Many owned addresses within the limits still pass.
  std::string many = "From: alice@example.org";
  for (int i = 0; i < 50; ++i) many += ", alice@example.org";
  EXPECT_EQ(attempt(many + "\r\n").substr(0, 3), "250");
}

TEST(Submission, RemoteAndLocalRecipientsAndAddedHeaders) {
  Sub t;
  t.login();
  ASSERT_EQ(t.cmd("MAIL FROM:<alice@example.org> AUTH=<>").substr(0, 3), "250");
  ASSERT_EQ(t.cmd("RCPT TO:<bob@example.org>").substr(0, 3), "250");
  ASSERT_EQ(t.cmd("RCPT TO:<carol@elsewhere.example> NOTIFY=FAILURE").substr(0, 3), "250");
  ASSERT_EQ(t.cmd("RCPT TO:<dave@elsewhere.example>").substr(0, 3), "250");
  ASSERT_EQ(t.cmd("RCPT TO:<Carol@elsewhere.example>").substr(0, 3), "250");  // case differs: kept
  const auto& rc = t.s->transaction().rcpts;
  ASSERT_EQ(rc.size(), 4u);
  EXPECT_EQ(rc[0].targets, std::vector{Target::mailbox(2, "INBOX")});
  EXPECT_TRUE(rc[1].remote());
  EXPECT_FALSE(rc[0].remote());
  EXPECT_EQ(t.s->transaction().account_id, 1);
  std::string reply;
  auto msg = t.send("From: Alice <alice@example.org>\r\nTo: bob@example.org\r\nSubject: hi\r\n\r\nbody\r\n", reply);
  EXPECT_EQ(reply.substr(0, 10), "250 2.0.0 ");
  EXPECT_TRUE(msg.starts_with("Received: from client.example ([192.0.2.7])\r\n\tby mail.example.org (mailkeep) with ESMTPSA id "))
      << msg;
  EXPECT_EQ(msg.find("Return-Path:"), std::string::npos);
  const auto hdr_end = msg.find("\r\n\r\n");
  const auto date = msg.find("\r\nDate: "), mid = msg.find("\r\nMessage-ID: <");
  EXPECT_LT(date, hdr_end);
  EXPECT_LT(mid, hdr_end);
  EXPECT_NE(msg.find("@mail.example.org>\r\n", mid), std::string::npos);
  EXPECT_TRUE(msg.ends_with("\r\n\r\nbody\r\n"));
  // A message that has both keeps its own.
  ASSERT_EQ(t.cmd("MAIL FROM:<alice@example.org>").substr(0, 3), "250");
  ASSERT_EQ(t.cmd("RCPT TO:<bob@example.org>").substr(0, 3), "250");
  msg = t.send("Date: Mon, 30 Nov 2026 10:00:00 +0000\r\nMessage-ID: <a@b>\r\nFrom: alice@example.org\r\n\r\nx\r\n", reply);
  EXPECT_EQ(msg.find("Date: ", msg.find("Date: ") + 1), std::string::npos);
  EXPECT_EQ(msg.find("Message-ID: <", msg.find("Message-ID: <a@b>") + 1), std::string::npos);
}

TEST(Submission, Port25NeverOffersAuth) {
  LocalOnly rcpts;
  SessionConfig cfg;
  cfg.starttls_available = true;
  Session s(cfg, rcpts, ConnInfo{"c", "192.0.2.7", "192.0.2.1"});
  s.on_command("EHLO x.example");
  s.on_command("STARTTLS");
  s.on_tls(TlsInfo{"TLSv1.3", "x", 256});
  EXPECT_EQ(s.on_command("EHLO x.example").reply->wire().find("AUTH"), std::string::npos);
  EXPECT_EQ(s.on_command("AUTH PLAIN AGFAYgBj").reply->code, 502);
  s.on_command("MAIL FROM:<a@b.example>");
  EXPECT_EQ(s.on_command("RCPT TO:<x@elsewhere.example>").reply->wire(), "554 5.7.1 Relay access denied\r\n");
}

}  // namespace
}  // namespace mk::smtp
