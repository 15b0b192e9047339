// check/tls_chain.hpp on chains made here: a test CA, an intermediate, leaves with chosen
// names and lifetimes; judged against a trust store holding only the test CA.
#include "check/tls_chain.hpp"

#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>

namespace mk::check {
namespace {

using ::testing::HasSubstr;

constexpr std::time_t kDay = 86400;

struct KeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct CertFree {
  void operator()(X509* x) const { X509_free(x); }
};
using Key = std::unique_ptr<EVP_PKEY, KeyFree>;
using Cert = std::unique_ptr<X509, CertFree>;

Key new_key() { return Key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256")); }

void add_ext(X509* x, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer ? issuer : x, x, nullptr, nullptr, 0);
  X509_EXTENSION* e = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  ASSERT_NE(e, nullptr) << value;
  X509_add_ext(x, e, -1);
  X509_EXTENSION_free(e);
}

// A certificate for `key` named cn, signed by issuer (self-signed when null), valid from
// not_before to not_after; a CA or a TLS server certificate for `dns_name`.
Cert make_cert(EVP_PKEY* key, const char* cn, X509* issuer, EVP_PKEY* issuer_key, std::time_t not_before,
               std::time_t not_after, bool ca, const char* dns_name = nullptr) {
  static long serial = 1;
  Cert x(X509_new());
  X509_set_version(x.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x.get()), serial++);
  ASN1_TIME_set(X509_getm_notBefore(x.get()), not_before);
  ASN1_TIME_set(X509_getm_notAfter(x.get()), not_after);
  X509_set_pubkey(x.get(), key);
  X509_NAME* n = X509_get_subject_name(x.get());
  X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn), -1, -1, 0);
  X509_set_issuer_name(x.get(), issuer ? X509_get_subject_name(issuer) : n);
  add_ext(x.get(), issuer, NID_subject_key_identifier, "hash");
  add_ext(x.get(), issuer, NID_authority_key_identifier, "keyid:always");
  if (ca) {
    add_ext(x.get(), issuer, NID_basic_constraints, "critical,CA:TRUE");
    add_ext(x.get(), issuer, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    add_ext(x.get(), issuer, NID_basic_constraints, "critical,CA:FALSE");
    add_ext(x.get(), issuer, NID_ext_key_usage, "serverAuth");
    add_ext(x.get(), issuer, NID_subject_alt_name, (std::string("DNS:") + dns_name).c_str());
  }
  X509_sign(x.get(), issuer_key ? issuer_key : key, EVP_sha256());
  return x;
}

std::string der(X509* x) {
  unsigned char* buf = nullptr;
  const int n = i2d_X509(x, &buf);
  std::string out(reinterpret_cast<char*>(buf), std::size_t(n));
  OPENSSL_free(buf);
  return out;
}

std::string unhex(std::string_view h) {
  std::string out;
  for (std::size_t i = 0; i + 1 < h.size(); i += 2) out += char(std::stoi(std::string(h.substr(i, 2)), nullptr, 16));
  return out;
}

class TlsChain : public ::testing::Test {
 protected:
  void SetUp() override {
    now = std::time(nullptr);
    ca_key = new_key();
    ca = make_cert(ca_key.get(), "Test CA", nullptr, nullptr, now - kDay, now + 3650 * kDay, true);
    int_key = new_key();
    intermediate = make_cert(int_key.get(), "Test Intermediate", ca.get(), ca_key.get(), now - kDay, now + 1000 * kDay, true);
    leaf_key = new_key();
    trust = TrustStore(X509_STORE_new());
    X509_STORE_add_cert(trust.get(), ca.get());
  }
  Cert leaf(const char* name, std::time_t lifetime) {
    return make_cert(leaf_key.get(), name, intermediate.get(), int_key.get(), now - 3600, now + lifetime, false, name);
  }
  ChainInput input(std::vector<std::string> chain) {
    return ChainInput{"smtp 192.0.2.1:25", "mail.check.example", std::move(chain), now, std::nullopt,
                      "_25._tcp.mail.check.example"};
  }
  std::vector<std::string> lines(const ChainInput& in) {
    std::vector<std::string> out;
    for (const auto& f : judge_chain(in, trust.get())) out.push_back(render_line(f));
    return out;
  }

  std::time_t now = 0;
  Key ca_key, int_key, leaf_key;
  Cert ca, intermediate;
  TrustStore trust;
};

TEST_F(TlsChain, CompleteChainPasses) {
  auto l = leaf("mail.check.example", 90 * kDay);
  EXPECT_EQ(lines(input({der(l.get()), der(intermediate.get())})),
            std::vector<std::string>{"ok   smtp 192.0.2.1:25: certificate (valid for mail.check.example, 90 days left)"});
}

TEST_F(TlsChain, LeafWithoutItsIntermediateIsIncomplete) {
  auto l = leaf("mail.check.example", 90 * kDay);
  EXPECT_EQ(lines(input({der(l.get())})),
            std::vector<std::string>{
                "FAIL smtp 192.0.2.1:25: certificate: incomplete chain: only \"mail.check.example\" is served, without "
                "the intermediate certificate \"Test Intermediate\" that issued it (senders do not fetch it) \u2014 fix: "
                "serve the full chain: point [tls] cert at the file with the certificate followed by its intermediates "
                "(fullchain.pem), not the certificate alone"});
}

TEST_F(TlsChain, ExpiresInTenDays) {
  auto l = leaf("mail.check.example", 10 * kDay);
  auto got = lines(input({der(l.get()), der(intermediate.get())}));
  ASSERT_EQ(got.size(), 1u);
  EXPECT_THAT(got[0], HasSubstr("FAIL smtp 192.0.2.1:25: certificate: the certificate expires in 10 days ("));
  EXPECT_THAT(got[0], HasSubstr("fix: renew it now and restart mailkeep"));
  // More than 21 days is enough; 21 days, or 20 and a bit, is not.
  auto ok = leaf("mail.check.example", kMinDaysLeft * kDay + 3600);
  EXPECT_EQ(lines(input({der(ok.get()), der(intermediate.get())})).front().substr(0, 4), "ok  ");
  for (std::time_t left : {kMinDaysLeft * kDay, (kMinDaysLeft - 1) * kDay + 60}) {
    auto short_one = leaf("mail.check.example", left);
    EXPECT_THAT(lines(input({der(short_one.get()), der(intermediate.get())})).front(),
                HasSubstr("expires in 21 days"));
  }
}

TEST_F(TlsChain, Expired) {
  auto l = make_cert(leaf_key.get(), "mail.check.example", intermediate.get(), int_key.get(), now - 100 * kDay,
                     now - kDay, false, "mail.check.example");
  auto got = lines(input({der(l.get()), der(intermediate.get())}));
  ASSERT_EQ(got.size(), 1u);
  EXPECT_THAT(got[0], HasSubstr("the certificate expired on "));
}

TEST_F(TlsChain, WrongName) {
  auto l = leaf("other.example", 90 * kDay);
  EXPECT_EQ(lines(input({der(l.get()), der(intermediate.get())})),
            std::vector<std::string>{
                "FAIL smtp 192.0.2.1:25: certificate: the certificate is for other.example, not mail.check.example "
                "\u2014 fix: get a certificate that names mail.check.example (mailkeep's ACME manager asks for it when "
                "[acme] directory is set)"});
}

TEST_F(TlsChain, SelfSignedAndUntrusted) {
  auto self = make_cert(leaf_key.get(), "mail.check.example", nullptr, nullptr, now - 3600, now + 90 * kDay, false,
                        "mail.check.example");
  EXPECT_THAT(lines(input({der(self.get())})).front(), HasSubstr("certificate: the certificate is self-signed"));
  TrustStore empty(X509_STORE_new());
  auto l = leaf("mail.check.example", 90 * kDay);
  auto fs = judge_chain(input({der(l.get()), der(intermediate.get()), der(ca.get())}), empty.get());
  ASSERT_FALSE(fs.empty());
  EXPECT_THAT(render_line(fs.front()), HasSubstr("the chain ends in \"Test CA\", a CA that is not trusted here"));
}

TEST_F(TlsChain, Tlsa) {
  auto l = leaf("mail.check.example", 90 * kDay);
  const std::string leaf_der = der(l.get());
  const std::string want = tlsa_311(leaf_der);
  ASSERT_EQ(want.size(), 6u + 64u);
  const std::string digest = unhex(want.substr(6));
  auto in = input({leaf_der, der(intermediate.get())});

  in.tlsa = std::vector<dns::Tlsa>{{3, 1, 1, digest}};
  auto got = lines(in);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[1], "ok   smtp 192.0.2.1:25: TLSA _25._tcp.mail.check.example matches the served key");

  // The next key's record beside a stale one: a match is a match.
  in.tlsa = std::vector<dns::Tlsa>{{3, 1, 1, std::string(32, 'x')}, {3, 1, 1, digest}};
  EXPECT_EQ(lines(in)[1].substr(0, 4), "ok  ");

  // DANE-TA on the served intermediate, exact certificate.
  in.tlsa = std::vector<dns::Tlsa>{{2, 0, 0, der(intermediate.get())}};
  EXPECT_EQ(lines(in)[1].substr(0, 4), "ok  ");

  // Only a stale key published.
  in.tlsa = std::vector<dns::Tlsa>{{3, 1, 1, std::string(32, '\x01')}};
  std::string stale;
  for (int i = 0; i < 32; ++i) stale += "01";
  EXPECT_EQ(lines(in)[1],
            "FAIL smtp 192.0.2.1:25: TLSA _25._tcp.mail.check.example: no TLSA record matches the certificate served "
            "(3 1 1 " + stale + "): senders that use DANE will not deliver \u2014 fix: publish "
            "_25._tcp.mail.check.example. 3600 IN TLSA " + want +
                " (the key served now), keep the record of the next key, and remove the others");

  // PKIX usages are unusable for SMTP (RFC 7672 §3.1.3), even when they match.
  in.tlsa = std::vector<dns::Tlsa>{{1, 1, 1, digest}};
  EXPECT_THAT(lines(in)[1], HasSubstr("none of the TLSA records is usable for SMTP"));
}

TEST(DaysUntil, RoundsUp) {
  EXPECT_EQ(days_until(1000 + 10 * kDay, 1000), 10);
  EXPECT_EQ(days_until(1000 + 10 * kDay - 5, 1000), 10);
  EXPECT_EQ(days_until(1000 + 10 * kDay + 5, 1000), 11);
  EXPECT_EQ(days_until(1000, 1000), 0);
  EXPECT_EQ(days_until(10, 1000), 0);
}

}  // namespace
}  // namespace mk::check
