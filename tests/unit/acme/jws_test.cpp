// Tests of acme/jws.hpp: the JWK and its RFC 7638 thumbprint against values computed with
// Python's cryptography package, key authorizations (RFC 8555 §8.1), and JWS checked by an
// independent verifier (acme_util.hpp: OpenSSL directly, its own base64url).
#include "acme/jws.hpp"

#include <gtest/gtest.h>

#include "acme/proto.hpp"
#include "acme_util.hpp"

namespace mk::acme {
namespace {

using namespace mk::test::acme;

TEST(AccountKey, JwkAndThumbprintMatchAnIndependentComputation) {
  struct Case {
    const char* pem;
    const char* jwk;
    const char* thumbprint;
  } cases[] = {
      {kAccountKey, kAccountJwk, kAccountThumbprint},  // PKCS#8
      {kZeroXKey, kZeroXJwk, kZeroXThumbprint},        // SEC1, x with a leading zero byte
  };
  for (const auto& c : cases) {
    auto key = AccountKey::from_pem(c.pem);
    ASSERT_TRUE(key) << key.error().message;
    EXPECT_EQ(key->jwk(), c.jwk);
    EXPECT_EQ(key->thumbprint(), c.thumbprint);
  }
}

std::string pem_of(EVP_PKEY* k) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, k, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<std::size_t>(len));
  BIO_free(bio);
  EVP_PKEY_free(k);
  return out;
}

TEST(AccountKey, RefusesKeysThatAreNotP256) {
  const std::string rsa = pem_of(EVP_RSA_gen(2048));
  const std::string p384 = pem_of(EVP_EC_gen("P-384"));
  ASSERT_NE(rsa.find("PRIVATE KEY"), std::string::npos);
  for (const std::string& pem : {rsa, p384, std::string("not a key"), std::string()}) {
    auto key = AccountKey::from_pem(pem);
    EXPECT_FALSE(key) << pem.substr(0, 40);
  }
}

TEST(KeyAuthorization, IsTokenDotThumbprint) {
  auto key = AccountKey::from_pem(kAccountKey);
  ASSERT_TRUE(key);
  // RFC 8555 §8.1.
  EXPECT_EQ(key_authorization("evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA", *key),
            std::string("evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA.") + kAccountThumbprint);
}

TEST(Jws, VerifiesAndCarriesTheRightProtectedHeader) {
  auto key = AccountKey::from_pem(kAccountKey);
  ASSERT_TRUE(key);
  auto pub = load_key(kAccountKey);
  struct Case {
    std::string kid;
    std::optional<std::string> payload;
  } cases[] = {
      {"", std::string(R"({"termsOfServiceAgreed":true})")},  // newAccount: jwk
      {"https://ca.example/acct/1", std::string(R"({"identifiers":[]})")},  // kid
      {"https://ca.example/acct/1", std::nullopt},  // POST-as-GET
      {"https://ca.example/acct/1", std::string("{}")},  // a challenge response
  };
  for (const auto& c : cases) {
    auto text = sign_jws(*key, JwsHeader{"https://ca.example/new-order", "bm9uY2U", c.kid}, c.payload);
    ASSERT_TRUE(text) << text.error().message;
    Jws jws = check_jws(*text, pub.get());
    ASSERT_EQ(jws.error, "") << *text;
    EXPECT_EQ(jws.header.at("alg").as_string(), "ES256");
    EXPECT_EQ(jws.header.at("nonce").as_string(), "bm9uY2U");
    EXPECT_EQ(jws.header.at("url").as_string(), "https://ca.example/new-order");
    // RFC 8555 §6.2: exactly one of jwk and kid.
    if (c.kid.empty()) {
      EXPECT_FALSE(jws.header.contains("kid"));
      ASSERT_TRUE(jws.header.contains("jwk"));
      EXPECT_EQ(boost::json::serialize(jws.header.at("jwk")), kAccountJwk);
    } else {
      EXPECT_FALSE(jws.header.contains("jwk"));
      EXPECT_EQ(jws.header.at("kid").as_string(), c.kid);
    }
    EXPECT_EQ(jws.header.size(), 4u);
    if (c.payload) {
      EXPECT_FALSE(jws.payload_empty);
      EXPECT_EQ(jws.payload, *c.payload);
    } else {
      EXPECT_TRUE(jws.payload_empty);  // §6.3: "", not "{}" or "e30"
    }
  }
}

TEST(Jws, ATamperedJwsFailsTheVerifier) {
  // The verifier itself must be able to say no, or the test above proves nothing.
  auto key = AccountKey::from_pem(kAccountKey);
  ASSERT_TRUE(key);
  auto text = sign_jws(*key, JwsHeader{"https://ca.example/x", "bm9uY2U", "k"}, std::string("{}"));
  ASSERT_TRUE(text);
  auto pub = load_key(kAccountKey);
  // Another payload under the same protected header and signature.
  std::string tampered = *text;
  const std::string was = "\"payload\":\"" + base64url_encode("{}") + "\"";
  ASSERT_NE(tampered.find(was), std::string::npos);
  tampered.replace(tampered.find(was), was.size(), "\"payload\":\"" + base64url_encode("[]") + "\"");
  EXPECT_EQ(check_jws(tampered, pub.get()).error, "signature does not verify");
  auto other = load_key(kZeroXKey);
  EXPECT_EQ(check_jws(*text, other.get()).error, "signature does not verify");
}

TEST(NewKey, IsAUsableP256AccountKey) {
  auto pem = new_p256_key_pem();
  ASSERT_TRUE(pem) << pem.error().message;
  EXPECT_NE(pem->find("BEGIN PRIVATE KEY"), std::string::npos);
  auto key = AccountKey::from_pem(*pem);
  ASSERT_TRUE(key) << key.error().message;
  auto again = new_p256_key_pem();
  ASSERT_TRUE(again);
  EXPECT_NE(*pem, *again);
  auto text = sign_jws(*key, JwsHeader{"u", "n", ""}, std::nullopt);
  ASSERT_TRUE(text);
  EXPECT_EQ(check_jws(*text, load_key(*pem).get()).error, "");
}

}  // namespace
}  // namespace mk::acme
