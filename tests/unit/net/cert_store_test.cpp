// Tests for net/cert_store.hpp: real TLS handshakes (OpenSSL client and server over a BIO
// pair, no socket) show which certificate a connection is given: the one set last, never
// one whose key does not match, and the TLS-ALPN-01 certificate only to a client asking for
// acme-tls/1 with the challenge's name (the certificate acme::tls_alpn01_certificate makes).
#include "net/cert_store.hpp"

#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "acme/x509.hpp"
#include "base/read_file.hpp"
#include "net/selfsigned.hpp"
#include "net/tls.hpp"

namespace mk::net {
namespace {

struct Handshake {
  bool ok = false;
  std::vector<std::string> names;  // the presented leaf's dNSNames
  std::string alpn;
  std::string acme_extension;  // DER of the acmeIdentifier extension value, if present
};

class CertStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "cert-store-" + std::to_string(::getpid());
    ::mkdir(dir_.c_str(), 0700);
    for (const char* n : {"a", "b"}) {
      const std::string host = std::string(n) + ".example.org";
      ASSERT_TRUE(write_self_signed(path(n, "cert"), path(n, "key"), {host}, {}).ok());
    }
    auto ctx = make_server_tls(path("a", "cert"), path("a", "key"), TlsMin::tls12);
    ASSERT_TRUE(ctx.ok());
    server_ctx_ = *ctx;
    store_.install(server_ctx_->native_handle());
  }
  void TearDown() override {
    for (const char* n : {"a", "b"})
      for (const char* k : {"cert", "key"}) ::unlink(path(n, k).c_str());
    ::rmdir(dir_.c_str());
  }
  std::string path(const std::string& n, const std::string& kind) { return dir_ + "/" + n + "-" + kind + ".pem"; }
  std::string pem(const std::string& n, const std::string& kind) { return *read_file(path(n, kind), 1 << 20); }

  // A full handshake between an OpenSSL client (SNI, ALPN as given) and the server context.
  Handshake connect(const std::string& sni, const std::string& alpn = "") {
    Handshake h;
    SSL_CTX* cctx = SSL_CTX_new(TLS_client_method());
    SSL* client = SSL_new(cctx);
    SSL* server = SSL_new(server_ctx_->native_handle());
    BIO *cb = nullptr, *sb = nullptr;
    BIO_new_bio_pair(&cb, 0, &sb, 0);
    SSL_set_bio(client, cb, cb);
    SSL_set_bio(server, sb, sb);
    SSL_set_connect_state(client);
    SSL_set_accept_state(server);
    if (!sni.empty()) SSL_set_tlsext_host_name(client, sni.c_str());
    if (!alpn.empty()) {
      std::string wire = std::string(1, char(alpn.size())) + alpn;
      SSL_set_alpn_protos(client, reinterpret_cast<const unsigned char*>(wire.data()), unsigned(wire.size()));
    }
    for (int i = 0; i < 20; ++i) {
      const int c = SSL_do_handshake(client), s = SSL_do_handshake(server);
      if (c == 1 && s == 1) {
        h.ok = true;
        break;
      }
      const int ce = SSL_get_error(client, c), se = SSL_get_error(server, s);
      if ((c != 1 && ce != SSL_ERROR_WANT_READ && ce != SSL_ERROR_WANT_WRITE) ||
          (s != 1 && se != SSL_ERROR_WANT_READ && se != SSL_ERROR_WANT_WRITE))
        break;
    }
    ERR_clear_error();
    if (h.ok) {
      X509* peer = SSL_get1_peer_certificate(client);
      auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(peer, NID_subject_alt_name, nullptr, nullptr));
      for (int i = 0; names && i < sk_GENERAL_NAME_num(names); ++i) {
        auto* n = sk_GENERAL_NAME_value(names, i);
        if (n->type == GEN_DNS)
          h.names.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(n->d.dNSName)),
                               ASN1_STRING_length(n->d.dNSName));
      }
      GENERAL_NAMES_free(names);
      ASN1_OBJECT* oid = OBJ_txt2obj("1.3.6.1.5.5.7.1.31", 1);
      const int at = X509_get_ext_by_OBJ(peer, oid, -1);
      if (at >= 0) {
        X509_EXTENSION* ext = X509_get_ext(peer, at);
        EXPECT_EQ(X509_EXTENSION_get_critical(ext), 1);
        const ASN1_OCTET_STRING* v = X509_EXTENSION_get_data(ext);
        h.acme_extension.assign(reinterpret_cast<const char*>(ASN1_STRING_get0_data(v)), ASN1_STRING_length(v));
      }
      ASN1_OBJECT_free(oid);
      X509_free(peer);
      const unsigned char* p = nullptr;
      unsigned len = 0;
      SSL_get0_alpn_selected(client, &p, &len);
      h.alpn.assign(reinterpret_cast<const char*>(p), len);
    }
    SSL_free(client);
    SSL_free(server);
    SSL_CTX_free(cctx);
    return h;
  }

  std::string dir_;
  std::shared_ptr<TlsContext> server_ctx_;
  CertStore store_;
};

TEST_F(CertStoreTest, NewConnectionsGetTheCertificateSetLast) {
  // Nothing set yet: the context's own certificate.
  EXPECT_EQ(connect("a.example.org").names, std::vector<std::string>{"a.example.org"});
  ASSERT_TRUE(store_.load(path("b", "cert"), path("b", "key")).ok());
  EXPECT_EQ(connect("a.example.org").names, std::vector<std::string>{"b.example.org"});
  ASSERT_TRUE(store_.set(pem("a", "cert"), pem("a", "key")).ok());
  EXPECT_EQ(connect("").names, std::vector<std::string>{"a.example.org"});
  auto info = store_.current();
  ASSERT_TRUE(info);
  EXPECT_EQ(info->names, std::vector<std::string>{"a.example.org"});
  EXPECT_TRUE(info->self_signed);
  EXPECT_GT(info->not_after, std::int64_t(::time(nullptr)) + 300 * 24 * 3600);
}

TEST_F(CertStoreTest, ACertificateWithAnotherKeyIsRefused) {
  ASSERT_TRUE(store_.set(pem("a", "cert"), pem("a", "key")).ok());
  auto s = store_.set(pem("b", "cert"), pem("a", "key"));
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("does not belong"), std::string::npos);
  EXPECT_FALSE(store_.set("not a certificate", pem("a", "key")).ok());
  EXPECT_FALSE(store_.load(dir_ + "/missing.pem", path("a", "key")).ok());
  EXPECT_EQ(connect("a.example.org").names, std::vector<std::string>{"a.example.org"});  // unchanged
}

TEST_F(CertStoreTest, TlsAlpn01AnswersOnlyItsNameAndOnlyToAcmeClients) {
  ASSERT_TRUE(store_.set(pem("a", "cert"), pem("a", "key")).ok());
  const std::string key_authorization = "token-123.thumbprint-456";
  auto challenge = acme::tls_alpn01_certificate("mail.example.org", key_authorization);
  ASSERT_TRUE(challenge.ok());
  ASSERT_TRUE(store_.put_challenge("Mail.Example.ORG", challenge->cert_pem, challenge->key_pem).ok());
  EXPECT_FALSE(store_.put_challenge("x.example.org", challenge->cert_pem, pem("a", "key")).ok());  // not its key
  // RFC 8737 §3: the extension's value is the DER OCTET STRING of SHA-256(key authorization).
  unsigned char digest[32];
  EVP_Digest(key_authorization.data(), key_authorization.size(), digest, nullptr, EVP_sha256(), nullptr);
  const std::string expected = std::string("\x04\x20", 2) + std::string(reinterpret_cast<char*>(digest), 32);

  const Handshake acme = connect("mail.example.org", "acme-tls/1");
  ASSERT_TRUE(acme.ok);
  EXPECT_EQ(acme.alpn, "acme-tls/1");
  EXPECT_EQ(acme.names, std::vector<std::string>{"mail.example.org"});
  EXPECT_EQ(acme.acme_extension, expected);

  // The same name without acme-tls/1: the ordinary certificate, no ALPN, no extension.
  const Handshake normal = connect("mail.example.org", "http/1.1");
  ASSERT_TRUE(normal.ok);
  EXPECT_EQ(normal.names, std::vector<std::string>{"a.example.org"});
  EXPECT_EQ(normal.alpn, "");
  EXPECT_EQ(normal.acme_extension, "");

  // acme-tls/1 for a name without a challenge: refused.
  EXPECT_FALSE(connect("other.example.org", "acme-tls/1").ok);
  store_.remove_challenge("mail.example.org");
  EXPECT_FALSE(connect("mail.example.org", "acme-tls/1").ok);
}

TEST(DescribeChain, NamesAndExpiry) {
  EXPECT_FALSE(describe_chain("").ok());
  EXPECT_FALSE(describe_chain("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n").ok());
}

}  // namespace
}  // namespace mk::net
