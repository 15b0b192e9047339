#include "net/cert_store.hpp"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/tls1.h>
#include <openssl/x509v3.h>

#include <cstring>

#include <fmt/format.h>

#include "base/read_file.hpp"
#include "base/strings.hpp"

namespace mk::net {

namespace {

struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct ChainFree {
  void operator()(STACK_OF(X509) * s) const { sk_X509_pop_free(s, X509_free); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using ChainPtr = std::unique_ptr<STACK_OF(X509), ChainFree>;

// The largest certificate chain or key file read (real ones are a few KiB).
constexpr std::size_t kMaxPem = 1 << 20;
// RFC 8737 §3: the ALPN protocol of TLS-ALPN-01, as a length-prefixed wire string.
constexpr unsigned char kAcmeAlpn[] = {10, 'a', 'c', 'm', 'e', '-', 't', 'l', 's', '/', '1'};

std::string openssl_error() {
  unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

// The index of a connection's "answered as a TLS-ALPN-01 challenge" mark.
int challenge_mark() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

std::int64_t unix_time(const ASN1_TIME* t) {
  std::tm tm{};
  if (ASN1_TIME_to_tm(t, &tm) != 1) return 0;
  return std::int64_t(timegm(&tm));
}

std::vector<std::string> dns_names(X509* x) {
  std::vector<std::string> out;
  auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(x, NID_subject_alt_name, nullptr, nullptr));
  if (!names) return out;
  for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* n = sk_GENERAL_NAME_value(names, i);
    if (n->type != GEN_DNS) continue;
    const auto* s = n->d.dNSName;
    out.push_back(to_lower(std::string_view(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                                            std::size_t(ASN1_STRING_length(s)))));
  }
  GENERAL_NAMES_free(names);
  return out;
}

// The server_name of a ClientHello's SNI extension (RFC 6066 §3), lower-case; "" if none.
std::string sni_of(SSL* ssl) {
  const unsigned char* p = nullptr;
  std::size_t len = 0;
  if (SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_server_name, &p, &len) != 1 || len < 5) return {};
  const std::size_t list = (std::size_t(p[0]) << 8) | p[1];
  if (list + 2 != len || p[2] != TLSEXT_NAMETYPE_host_name) return {};
  const std::size_t n = (std::size_t(p[3]) << 8) | p[4];
  if (n + 5 > len) return {};
  return to_lower(std::string_view(reinterpret_cast<const char*>(p + 5), n));
}

// Whether the ClientHello's ALPN list (RFC 7301 §3.1) offers acme-tls/1.
bool offers_acme(SSL* ssl) {
  const unsigned char* p = nullptr;
  std::size_t len = 0;
  if (SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_application_layer_protocol_negotiation, &p, &len) != 1 || len < 2)
    return false;
  const std::size_t list = (std::size_t(p[0]) << 8) | p[1];
  if (list + 2 != len) return false;
  for (std::size_t i = 2; i < len;) {
    const std::size_t n = p[i];
    if (i + 1 + n > len) return false;
    if (n + 1 == sizeof kAcmeAlpn && std::memcmp(p + i, kAcmeAlpn, sizeof kAcmeAlpn) == 0) return true;
    i += 1 + n;
  }
  return false;
}

Result<ChainPtr> read_chain(std::string_view pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), int(pem.size()));
  ChainPtr chain(sk_X509_new_null());
  while (X509* x = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) sk_X509_push(chain.get(), x);
  ERR_clear_error();  // the end of the input reads as an error
  BIO_free(bio);
  if (sk_X509_num(chain.get()) == 0) return err("no certificate in the chain");
  return chain;
}

}  // namespace

struct CertStore::Identity {
  X509Ptr leaf;
  ChainPtr chain;  // the certificates after the leaf
  PkeyPtr key;
};

CertStore::CertStore() = default;
CertStore::~CertStore() = default;

Result<CertStore::Info> describe_chain(std::string_view chain_pem) {
  auto chain = read_chain(chain_pem);
  if (!chain) return chain.error();
  X509* leaf = sk_X509_value(chain->get(), 0);
  CertStore::Info info;
  info.names = dns_names(leaf);
  info.not_before = unix_time(X509_get0_notBefore(leaf));
  info.not_after = unix_time(X509_get0_notAfter(leaf));
  char buf[512];
  X509_NAME_oneline(X509_get_issuer_name(leaf), buf, sizeof buf);
  info.issuer = buf;
  info.self_signed = X509_NAME_cmp(X509_get_issuer_name(leaf), X509_get_subject_name(leaf)) == 0;
  return info;
}

Status CertStore::set(std::string_view chain_pem, std::string_view key_pem) {
  auto chain = read_chain(chain_pem);
  if (!chain) return chain.error();
  BIO* kb = BIO_new_mem_buf(key_pem.data(), int(key_pem.size()));
  PkeyPtr key(PEM_read_bio_PrivateKey(kb, nullptr, nullptr, nullptr));
  BIO_free(kb);
  if (!key) return err("cannot read the private key: " + openssl_error());
  auto id = std::make_shared<Identity>();
  id->leaf.reset(sk_X509_shift(chain->get()));
  id->chain = std::move(*chain);
  id->key = std::move(key);
  if (X509_check_private_key(id->leaf.get(), id->key.get()) != 1)
    return err("the private key does not belong to the certificate");
  std::lock_guard lock(mu_);
  current_ = std::move(id);
  return {};
}

Status CertStore::load(const std::string& chain_file, const std::string& key_file) {
  auto chain = read_file(chain_file, kMaxPem);
  if (!chain) return err(fmt::format("{} (the certificate chain)", chain.error().message));
  auto key = read_file(key_file, kMaxPem);
  if (!key) return err(fmt::format("{} (the private key)", key.error().message));
  if (auto s = set(*chain, *key); !s) return err(fmt::format("{} and {}: {}", chain_file, key_file, s.error().message));
  return {};
}

std::optional<CertStore::Info> CertStore::current() const {
  auto id = identity();
  if (!id) return std::nullopt;
  Info info;
  info.names = dns_names(id->leaf.get());
  info.not_before = unix_time(X509_get0_notBefore(id->leaf.get()));
  info.not_after = unix_time(X509_get0_notAfter(id->leaf.get()));
  char buf[512];
  X509_NAME_oneline(X509_get_issuer_name(id->leaf.get()), buf, sizeof buf);
  info.issuer = buf;
  info.self_signed = X509_NAME_cmp(X509_get_issuer_name(id->leaf.get()), X509_get_subject_name(id->leaf.get())) == 0;
  return info;
}

Status CertStore::put_challenge(const std::string& name, std::string_view cert_pem, std::string_view key_pem) {
  auto chain = read_chain(cert_pem);
  if (!chain) return chain.error();
  BIO* kb = BIO_new_mem_buf(key_pem.data(), int(key_pem.size()));
  PkeyPtr key(PEM_read_bio_PrivateKey(kb, nullptr, nullptr, nullptr));
  BIO_free(kb);
  if (!key) return err("cannot read the challenge key: " + openssl_error());
  auto id = std::make_shared<Identity>();
  id->leaf.reset(sk_X509_shift(chain->get()));
  id->chain = std::move(*chain);
  id->key = std::move(key);
  if (X509_check_private_key(id->leaf.get(), id->key.get()) != 1)
    return err("the challenge key does not belong to its certificate");
  std::lock_guard lock(mu_);
  challenges_[to_lower(name)] = std::move(id);
  return {};
}

void CertStore::remove_challenge(const std::string& name) {
  std::lock_guard lock(mu_);
  challenges_.erase(to_lower(name));
}

std::shared_ptr<const CertStore::Identity> CertStore::identity() const {
  std::lock_guard lock(mu_);
  return current_;
}

std::shared_ptr<const CertStore::Identity> CertStore::challenge(std::string_view name) const {
  std::lock_guard lock(mu_);
  auto it = challenges_.find(name);
  return it == challenges_.end() ? nullptr : it->second;
}

void CertStore::install(SSL_CTX* ctx) {
  SSL_CTX_set_client_hello_cb(ctx, &CertStore::on_client_hello, this);
  SSL_CTX_set_alpn_select_cb(ctx, &CertStore::on_alpn, this);
}

int CertStore::on_client_hello(SSL* ssl, int* alert, void* arg) {
  auto* self = static_cast<CertStore*>(arg);
  if (offers_acme(ssl)) {
    // RFC 8737 §3: only a name with a pending challenge is answered; the connection
    // carries nothing else.
    auto id = self->challenge(sni_of(ssl));
    if (!id || SSL_use_cert_and_key(ssl, id->leaf.get(), id->key.get(), id->chain.get(), 1) != 1) {
      *alert = SSL_AD_UNRECOGNIZED_NAME;
      return SSL_CLIENT_HELLO_ERROR;
    }
    SSL_set_ex_data(ssl, challenge_mark(), self);
    return SSL_CLIENT_HELLO_SUCCESS;
  }
  if (auto id = self->identity())
    if (SSL_use_cert_and_key(ssl, id->leaf.get(), id->key.get(), id->chain.get(), 1) != 1) {
      *alert = SSL_AD_INTERNAL_ERROR;
      return SSL_CLIENT_HELLO_ERROR;
    }
  return SSL_CLIENT_HELLO_SUCCESS;  // no certificate set yet: the context's own
}

int CertStore::on_alpn(SSL* ssl, const unsigned char** out, unsigned char* outlen, const unsigned char*, unsigned int,
                       void*) {
  if (!SSL_get_ex_data(ssl, challenge_mark())) return SSL_TLSEXT_ERR_NOACK;  // mail protocols: no ALPN
  *out = kAcmeAlpn + 1;
  *outlen = kAcmeAlpn[0];
  return SSL_TLSEXT_ERR_OK;
}

}  // namespace mk::net
