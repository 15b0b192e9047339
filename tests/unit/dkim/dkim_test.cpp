// DKIM canonicalization against RFC 6376 §3.4.5 and RFC 8463's body hash; the shape of the
// signatures we make (the independent verifiers are in tests/integration/test_dkim.py).
#include <gtest/gtest.h>

#include <openssl/sha.h>

#include "dkim/canon.hpp"
#include "dkim/sign.hpp"
#include "message/codec.hpp"

namespace mk::dkim {
namespace {

std::string sha256_b64(std::string_view s) {
  unsigned char d[32];
  SHA256(reinterpret_cast<const unsigned char*>(s.data()), s.size(), d);
  return message::base64_encode(std::string_view(reinterpret_cast<char*>(d), 32));
}

// RFC 6376 §3.4.5
const std::string kExample = "A: X\r\nB : Y\t\r\n\tZ  \r\n\r\n C \r\nD \t E\r\n\r\n\r\n";

TEST(Canon, Rfc6376Example) {
  std::size_t body = 0;
  auto fields = split_header(kExample, body);
  ASSERT_EQ(fields.size(), 2u);
  EXPECT_EQ(canon_header(fields[0], Canon::relaxed) + canon_header(fields[1], Canon::relaxed), "a:X\r\nb:Y Z\r\n");
  EXPECT_EQ(canon_header(fields[0], Canon::simple) + canon_header(fields[1], Canon::simple),
            "A: X\r\nB : Y\t\r\n\tZ  \r\n");
  EXPECT_EQ(canon_body(std::string_view(kExample).substr(body), Canon::relaxed), " C\r\nD E\r\n");
  EXPECT_EQ(canon_body(std::string_view(kExample).substr(body), Canon::simple), " C \r\nD \t E\r\n");
}

TEST(Canon, EmptyBodies) {
  EXPECT_EQ(canon_body("", Canon::simple), "\r\n");
  EXPECT_EQ(canon_body("\r\n\r\n", Canon::simple), "\r\n");
  EXPECT_EQ(canon_body("", Canon::relaxed), "");
  EXPECT_EQ(canon_body(" \r\n\t\r\n", Canon::relaxed), "");
  EXPECT_EQ(canon_body("x", Canon::relaxed), "x\r\n");  // a missing final CRLF is added
}

TEST(Canon, Rfc8463BodyHash) {
  const std::string body = "Hi.\r\n\r\nWe lost the game.  Are you hungry yet?\r\n\r\nJoe.\r\n";
  EXPECT_EQ(sha256_b64(canon_body(body, Canon::relaxed)), "2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=");
}

TEST(Sign, OversignsAndCarriesBothAlgorithms) {
  auto ed = generate_key(Algorithm::ed25519_sha256);
  auto rsa = generate_key(Algorithm::rsa_sha256);
  ASSERT_TRUE(ed.ok() && rsa.ok());
  EXPECT_EQ(message::base64_decode(ed->public_b64).size(), 32u);
  EXPECT_TRUE(dns_txt(Algorithm::rsa_sha256, rsa->public_b64).starts_with("v=DKIM1; k=rsa; p=MIIBIjAN"));
  const std::string msg = "From: a@example.org\r\nTo: b@example.net\r\nSubject: s\r\nX-Other: 1\r\n\r\nbody\r\n";
  auto sig = sign(msg, "example.org",
                  {{"e1", Algorithm::ed25519_sha256, ed->private_pem}, {"r1", Algorithm::rsa_sha256, rsa->private_pem}},
                  1764547200);
  ASSERT_TRUE(sig.ok()) << sig.error().message;
  EXPECT_TRUE(sig->starts_with("DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed; d=example.org; s=e1;\r\n"
                               "\tt=1764547200; h=from:from:reply-to:subject:subject:to:to:cc\r\n\t :in-reply-to:references;"))
      << *sig;
  EXPECT_NE(sig->find("DKIM-Signature: v=1; a=rsa-sha256;"), std::string::npos);
  EXPECT_NE(sig->find("bh=" + sha256_b64("body\r\n") + ";"), std::string::npos);
  EXPECT_EQ(sig->find("x-other"), std::string::npos);
  EXPECT_FALSE(sign(msg, "example.org", {{"bad", Algorithm::rsa_sha256, "not a key"}}, 0).ok());
}

}  // namespace
}  // namespace mk::dkim
