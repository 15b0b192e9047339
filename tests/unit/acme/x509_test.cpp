// Tests of acme/x509.hpp: the CSR read back with OpenSSL, chains from a test CA, and the
// TLS-ALPN-01 certificate's acmeIdentifier extension (RFC 8737 §3) byte for byte.
#include "acme/x509.hpp"

#include <gtest/gtest.h>

#include "acme/jws.hpp"
#include "acme_util.hpp"

namespace mk::acme {
namespace {

using namespace mk::test::acme;

std::vector<std::string> sans_of(GENERAL_NAMES* gens) {
  std::vector<std::string> out;
  for (int i = 0; gens && i < sk_GENERAL_NAME_num(gens); ++i) {
    const GENERAL_NAME* g = sk_GENERAL_NAME_value(gens, i);
    if (g->type == GEN_DNS)
      out.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(g->d.dNSName)),
                       static_cast<std::size_t>(ASN1_STRING_length(g->d.dNSName)));
  }
  return out;
}

TEST(Csr, CarriesTheNamesAndTheKeyAndVerifies) {
  auto key = new_p256_key_pem();
  ASSERT_TRUE(key);
  const std::vector<std::string> names = {"mail.example.org", "mta-sts.example.org", "autoconfig.example.org"};
  auto der = make_csr_der(names, *key);
  ASSERT_TRUE(der) << der.error().message;
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der->data());
  std::shared_ptr<X509_REQ> req(d2i_X509_REQ(nullptr, &p, static_cast<long>(der->size())), X509_REQ_free);
  ASSERT_TRUE(req);
  auto pub = load_key(*key);
  EXPECT_EQ(X509_REQ_verify(req.get(), pub.get()), 1);  // signed by the certificate key
  std::shared_ptr<EVP_PKEY> req_key(X509_REQ_get_pubkey(req.get()), EVP_PKEY_free);
  EXPECT_EQ(EVP_PKEY_eq(req_key.get(), pub.get()), 1);
  char cn[256] = {};
  X509_NAME_get_text_by_NID(X509_REQ_get_subject_name(req.get()), NID_commonName, cn, sizeof cn);
  EXPECT_STREQ(cn, "mail.example.org");
  STACK_OF(X509_EXTENSION)* exts = X509_REQ_get_extensions(req.get());
  ASSERT_NE(exts, nullptr);
  auto* gens = static_cast<GENERAL_NAMES*>(X509V3_get_d2i(exts, NID_subject_alt_name, nullptr, nullptr));
  EXPECT_EQ(sans_of(gens), names);
  GENERAL_NAMES_free(gens);
  sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
}

TEST(Csr, NamesAreNeverReadAsOpenSslConfiguration) {
  // A comma would split "DNS:a,DNS:b" if the SAN were built from a config string.
  auto key = new_p256_key_pem();
  ASSERT_TRUE(key);
  auto der = make_csr_der({"a.example,DNS:evil.example"}, *key);
  ASSERT_TRUE(der);
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der->data());
  std::shared_ptr<X509_REQ> req(d2i_X509_REQ(nullptr, &p, static_cast<long>(der->size())), X509_REQ_free);
  STACK_OF(X509_EXTENSION)* exts = X509_REQ_get_extensions(req.get());
  auto* gens = static_cast<GENERAL_NAMES*>(X509V3_get_d2i(exts, NID_subject_alt_name, nullptr, nullptr));
  EXPECT_EQ(sans_of(gens), std::vector<std::string>{"a.example,DNS:evil.example"});
  GENERAL_NAMES_free(gens);
  sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
}

TEST(Csr, RefusesBadKeysAndNoNames) {
  EXPECT_FALSE(make_csr_der({"a.example"}, "junk"));
  auto key = new_p256_key_pem();
  ASSERT_TRUE(key);
  EXPECT_FALSE(make_csr_der({}, *key));
}

struct Chain {
  std::string key, pem;
};
Chain issue_chain(TestCa& ca, const std::vector<std::string>& names, long nb, long na) {
  Chain c;
  c.key = *new_p256_key_pem();
  c.pem = ca.issue(*make_csr_der(names, c.key), names, nb, na);
  return c;
}

TEST(Chain, ValidityAndSplitting) {
  TestCa ca;
  Chain c = issue_chain(ca, {"mail.example.org"}, 1700000000, 1707776000);
  auto v = chain_validity(c.pem);
  ASSERT_TRUE(v) << v.error().message;
  EXPECT_EQ(v->not_before, 1700000000);
  EXPECT_EQ(v->not_after, 1707776000);
  auto parts = split_chain(c.pem);
  ASSERT_TRUE(parts);
  ASSERT_EQ(parts->size(), 2u);
  EXPECT_EQ((*parts)[0] + (*parts)[1], c.pem);
}

TEST(Chain, RefusesWhatIsNotAChainOfCertificates) {
  TestCa ca;
  Chain c = issue_chain(ca, {"mail.example.org"}, 1700000000, 1707776000);
  std::string broken = c.pem;
  broken[broken.find('\n') + 10] ^= 0x01;  // a flipped base64 character in the leaf
  struct Case {
    std::string pem, error;
  } cases[] = {
      {"", "the chain has no certificate"},
      {"<html>500</html>", "the chain has no certificate"},
      {c.key + c.pem, "the chain has a PRIVATE KEY block"},
      {c.pem + c.key, "the chain has a PRIVATE KEY block"},
      {"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
       "the chain has a certificate that does not parse"},
  };
  for (const auto& k : cases) {
    auto v = chain_validity(k.pem);
    ASSERT_FALSE(v) << k.pem.substr(0, 60);
    EXPECT_EQ(v.error().message, k.error);
  }
  EXPECT_FALSE(chain_validity(broken));
  std::string eleven;
  for (int i = 0; i < 6; ++i) eleven += c.pem;  // 12 certificates
  EXPECT_EQ(split_chain(eleven).error().message, "the chain is longer than 10");
}

TEST(Chain, LeafMatchesNamesAndKey) {
  TestCa ca;
  Chain c = issue_chain(ca, {"mail.example.org", "MTA-STS.example.org"}, 1700000000, 1707776000);
  struct Case {
    std::vector<std::string> names;
    bool other_key;
    std::string error;  // "" for a match
  } cases[] = {
      {{"mail.example.org"}, false, ""},
      {{"mta-sts.example.org", "MAIL.example.org"}, false, ""},  // case-insensitive, any order
      {{"mail.example.org", "autoconfig.example.org"}, false, "the certificate does not name autoconfig.example.org"},
      {{"example.org"}, false, "the certificate does not name example.org"},
      {{"mail.example.org"}, true, "the certificate is not for the certificate key"},
  };
  const std::string other = *new_p256_key_pem();
  for (const auto& k : cases) {
    auto r = leaf_matches(c.pem, k.names, k.other_key ? other : c.key);
    EXPECT_EQ(r ? std::string() : r.error().message, k.error);
  }
}

TEST(TlsAlpn01, CertificateCarriesTheDigestInACriticalAcmeIdentifier) {
  const std::string ka = std::string("evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA.") + kAccountThumbprint;
  auto cc = tls_alpn01_certificate("mail.example.org", ka);
  ASSERT_TRUE(cc) << cc.error().message;
  BIO* bio = BIO_new_mem_buf(cc->cert_pem.data(), static_cast<int>(cc->cert_pem.size()));
  std::shared_ptr<X509> cert(PEM_read_bio_X509(bio, nullptr, nullptr, nullptr), X509_free);
  BIO_free(bio);
  ASSERT_TRUE(cert);
  // Self-signed with the key handed back.
  auto key = load_key(cc->key_pem);
  EXPECT_EQ(X509_verify(cert.get(), key.get()), 1);
  EXPECT_EQ(X509_check_private_key(cert.get(), key.get()), 1);
  // §3: a single dNSName SAN.
  auto* gens = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert.get(), NID_subject_alt_name, nullptr, nullptr));
  EXPECT_EQ(sans_of(gens), std::vector<std::string>{"mail.example.org"});
  EXPECT_EQ(sk_GENERAL_NAME_num(gens), 1);
  GENERAL_NAMES_free(gens);
  // §3: id-pe-acmeIdentifier, critical, extnValue = DER OCTET STRING of SHA-256(ka).
  ASN1_OBJECT* oid = OBJ_txt2obj("1.3.6.1.5.5.7.1.31", 1);
  const int at = X509_get_ext_by_OBJ(cert.get(), oid, -1);
  ASN1_OBJECT_free(oid);
  ASSERT_GE(at, 0);
  X509_EXTENSION* ext = X509_get_ext(cert.get(), at);
  EXPECT_EQ(X509_EXTENSION_get_critical(ext), 1);
  const ASN1_OCTET_STRING* value = X509_EXTENSION_get_data(ext);
  const std::string got(reinterpret_cast<const char*>(ASN1_STRING_get0_data(value)),
                        static_cast<std::size_t>(ASN1_STRING_length(value)));
  unsigned char md[32];
  SHA256(reinterpret_cast<const unsigned char*>(ka.data()), ka.size(), md);
  const std::string want = std::string("\x04\x20", 2) + std::string(reinterpret_cast<const char*>(md), 32);
  EXPECT_EQ(got, want);
  EXPECT_EQ(tls_alpn01_digest(ka), want.substr(2));
}

}  // namespace
}  // namespace mk::acme
