// SCRAM-SHA-256 server side against the RFC 7677 §3 example exchange, and its failure paths.
#include "auth/scram.hpp"

#include <gtest/gtest.h>

#include "message/codec.hpp"

namespace mk::auth {
namespace {

// RFC 7677 §3: user "user", password "pencil", 4096 iterations.
const std::string kSalt = message::base64_decode("W22ZaJ0SNY7soEsUEjb6gQ==");
const std::string kClientFirst = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO";
const std::string kServerFirst =
    "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
const std::string kClientFinal =
    "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
const std::string kServerFinal = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";

ScramServer rfc_server(std::string* seen_user = nullptr) {
  static const std::string secret = make_scram_secret("pencil", 4096, kSalt);
  return ScramServer(
      [seen_user](const std::string& u) -> std::optional<std::string> {
        if (seen_user) *seen_user = u;
        if (u == "user") return secret;
        return std::nullopt;
      },
      "", "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0");
}

using K = ScramServer::Step::Kind;

TEST(Scram, Rfc7677Example) {
  auto s = rfc_server();
  auto first = s.client_first(kClientFirst);
  ASSERT_EQ(first.kind, K::challenge) << first.data;
  EXPECT_EQ(first.data, kServerFirst);
  auto fin = s.client_final(kClientFinal);
  ASSERT_EQ(fin.kind, K::success) << fin.data;
  EXPECT_EQ(fin.data, kServerFinal);
}

// RFC 5802 §5.1: an authorization identity that names the user itself (as Cyrus SASL
// clients send it) is the same login; the channel-binding data then covers it.
TEST(Scram, AuthzidOfTheUserItself) {
  std::string user;
  auto s = rfc_server(&user);
  auto first = s.client_first("n,a=User,n=user,r=rOprNGfwEbeRWgbNEkqO");
  ASSERT_EQ(first.kind, K::challenge) << first.data;
  EXPECT_EQ(user, "user");
  // c= must be the base64 of "n,a=User,": the RFC's final message ("biws" is "n,,") is refused.
  EXPECT_EQ(s.client_final(kClientFinal).data, "channel binding data mismatch");
}

TEST(Scram, WrongProofAndWrongPasswordFail) {
  auto s = rfc_server();
  ASSERT_EQ(s.client_first(kClientFirst).kind, K::challenge);
  std::string bad = kClientFinal;
  bad[bad.size() - 5] = bad[bad.size() - 5] == 'A' ? 'B' : 'A';
  EXPECT_EQ(s.client_final(bad).data, "invalid credentials");
  // The same exchange against a verifier made from another password.
  static const std::string other = make_scram_secret("pencils", 4096, kSalt);
  ScramServer s2([](const std::string&) { return std::optional<std::string>(other); }, "", "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0");
  ASSERT_EQ(s2.client_first(kClientFirst).kind, K::challenge);
  EXPECT_EQ(s2.client_final(kClientFinal).kind, K::failure);
}

TEST(Scram, UnknownUserGetsAStableChallengeThenFails) {
  auto a = rfc_server(), b = rfc_server();
  auto fa = a.client_first("n,,n=nobody,r=abc");
  auto fb = b.client_first("n,,n=nobody,r=abc");
  ASSERT_EQ(fa.kind, K::challenge);
  // Same salt and iterations on every attempt, like a real account.
  EXPECT_EQ(fa.data.substr(fa.data.find(",s=")), fb.data.substr(fb.data.find(",s=")));
  EXPECT_NE(fa.data.find(",i=10000"), std::string::npos);
  const std::string nonce = fa.data.substr(2, fa.data.find(',') - 2);
  EXPECT_EQ(a.client_final("c=biws,r=" + nonce + ",p=" + message::base64_encode(std::string(32, 'x'))).kind, K::failure);
}

// A known account that may not log in now (locked, breached, app passwords only) shows the
// challenge it showed before, its own salt and iterations, and then fails even the right proof
// as a wrong password does: an unknown user's challenge would tell that locking it worked.
TEST(Scram, RefusedAccountKeepsItsChallengeAndFailsAtTheProof) {
  static const std::string secret = make_scram_secret("pencil", 4096, kSalt);
  ScramServer s([](const std::string&) { return std::optional<ScramServer::Verifier>(ScramServer::Verifier{secret, false}); }, "",
                "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0");
  auto first = s.client_first(kClientFirst);
  ASSERT_EQ(first.kind, K::challenge) << first.data;
  EXPECT_EQ(first.data, kServerFirst);
  auto fin = s.client_final(kClientFinal);
  EXPECT_EQ(fin.kind, K::failure);
  EXPECT_EQ(fin.data, "invalid credentials");
}

// An unknown user's salt comes from the key the server keeps: the same from every ScramServer
// built with that key (so after a restart), whatever the case of the name (accounts are
// matched case-insensitively), and another with another key.
TEST(Scram, UnknownUserSaltDerivesFromThePersistentKey) {
  auto salt = [](const std::string& key, const std::string& user) {
    ScramServer s([](const std::string&) { return std::optional<std::string>(); }, key);
    auto first = s.client_first("n,,n=" + user + ",r=abc");
    EXPECT_EQ(first.kind, K::challenge) << first.data;
    return first.data.substr(first.data.find(",s="));
  };
  const std::string key1(32, 'k'), key2(32, 'q');
  EXPECT_EQ(salt(key1, "nobody@example.org"), salt(key1, "nobody@example.org"));
  EXPECT_EQ(salt(key1, "Nobody@Example.org"), salt(key1, "nobody@example.org"));
  EXPECT_NE(salt(key1, "nobody@example.org"), salt(key2, "nobody@example.org"));
  EXPECT_NE(salt(key1, "nobody@example.org"), salt(key1, "someone@example.org"));
  EXPECT_TRUE(salt(key1, "nobody@example.org").ends_with(",i=10000"));
}

TEST(Scram, MalformedMessages) {
  std::string user;
  auto s = rfc_server(&user);
  EXPECT_EQ(s.client_first("p=tls-unique,,n=user,r=x").data, "channel binding is not supported");
  EXPECT_EQ(rfc_server().client_first("n,a=admin,n=user,r=x").data, "authorization identity is not supported");
  EXPECT_EQ(rfc_server().client_first("n,x=admin,n=user,r=x").data, "malformed client-first message");
  EXPECT_EQ(rfc_server().client_first("n,a=ad=min,n=user,r=x").data, "malformed authorization identity");
  EXPECT_EQ(rfc_server().client_first("n,,m=ext,n=user,r=x").data, "mandatory extension not supported");
  EXPECT_EQ(rfc_server().client_first("n,,n=us=3Fer,r=x").data, "malformed user name");
  EXPECT_EQ(rfc_server().client_first("x,,n=user,r=x").kind, K::failure);
  EXPECT_EQ(rfc_server().client_first("n,,n=user").kind, K::failure);
  auto t = rfc_server(&user);
  ASSERT_EQ(t.client_first("n,,n=a=2Cb=3Dc,r=x").kind, K::challenge);
  EXPECT_EQ(user, "a,b=c");
  auto u = rfc_server();
  ASSERT_EQ(u.client_first(kClientFirst).kind, K::challenge);
  EXPECT_EQ(u.client_final("c=biws,r=rOprNGfwEbeRWgbNEkqOwrong,p=" + message::base64_encode(std::string(32, 'x'))).data,
            "nonce mismatch");
  auto v = rfc_server();
  ASSERT_EQ(v.client_first(kClientFirst).kind, K::challenge);
  EXPECT_EQ(v.client_final("c=eSws,r=x,p=AAAA").kind, K::failure);
  EXPECT_EQ(v.client_final("no proof").kind, K::failure);
}

}  // namespace
}  // namespace mk::auth
