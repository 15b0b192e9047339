#include "net/selfsigned.hpp"

#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <cstdio>
#include <memory>

#include <fmt/format.h>

namespace mk::net {
namespace {

struct Free {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(X509* p) const { X509_free(p); }
  void operator()(X509_EXTENSION* p) const { X509_EXTENSION_free(p); }
  void operator()(BIGNUM* p) const { BN_free(p); }
  void operator()(FILE* f) const { std::fclose(f); }
  void operator()(BIO* b) const { BIO_free(b); }
};

template <class T>
using Ptr = std::unique_ptr<T, Free>;

bool add_ext(X509* cert, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  Ptr<X509_EXTENSION> ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
  return ext && X509_add_ext(cert, ext.get(), -1) == 1;
}

}  // namespace

namespace {

// A self-signed certificate for `key`: serial random, valid from an hour ago for a year.
Result<Ptr<X509>> make_certificate(EVP_PKEY* key, const std::vector<std::string>& dns_names,
                                   const std::vector<std::string>& ip_addresses) {
  Ptr<X509> cert(X509_new());
  X509_set_version(cert.get(), 2);
  Ptr<BIGNUM> serial(BN_new());
  BN_rand(serial.get(), 64, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY);
  BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get()));
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 365L * 24 * 3600);
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  const std::string cn = dns_names.empty() ? "localhost" : dns_names.front();
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  std::string san;
  for (const auto& d : dns_names) san += (san.empty() ? "" : ",") + std::string("DNS:") + d;
  for (const auto& ip : ip_addresses) san += (san.empty() ? "" : ",") + std::string("IP:") + ip;
  if (!san.empty() && !add_ext(cert.get(), NID_subject_alt_name, san))
    return err("cannot add subjectAltName");
  add_ext(cert.get(), NID_basic_constraints, "critical,CA:FALSE");
  add_ext(cert.get(), NID_key_usage, "critical,digitalSignature");
  add_ext(cert.get(), NID_ext_key_usage, "serverAuth");
  if (X509_sign(cert.get(), key, EVP_sha256()) == 0) return err("cannot sign certificate");
  return cert;
}

Status write_certificate(const std::string& cert_file, X509* cert) {
  Ptr<FILE> cf(std::fopen(cert_file.c_str(), "w"));
  if (!cf || PEM_write_X509(cf.get(), cert) != 1) return err(fmt::format("cannot write {}", cert_file));
  return {};
}

}  // namespace

Status write_self_signed(const std::string& cert_file, const std::string& key_file,
                         const std::vector<std::string>& dns_names,
                         const std::vector<std::string>& ip_addresses) {
  Ptr<EVP_PKEY> key(EVP_EC_gen("P-256"));
  if (!key) return err("cannot generate EC key");
  auto cert = make_certificate(key.get(), dns_names, ip_addresses);
  if (!cert) return cert.error();

  const mode_t old = ::umask(077);
  Ptr<FILE> kf(std::fopen(key_file.c_str(), "w"));
  ::umask(old);
  if (!kf) return err(fmt::format("cannot write {}", key_file));
  if (PEM_write_PrivateKey(kf.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1)
    return err(fmt::format("cannot write {}", key_file));
  return write_certificate(cert_file, cert->get());
}

Result<SelfSignedPem> self_signed_pem(const std::vector<std::string>& dns_names,
                                     const std::vector<std::string>& ip_addresses) {
  Ptr<EVP_PKEY> key(EVP_EC_gen("P-256"));
  if (!key) return err("cannot generate EC key");
  auto cert = make_certificate(key.get(), dns_names, ip_addresses);
  if (!cert) return cert.error();
  auto pem = [](auto write) -> std::string {
    Ptr<BIO> bio(BIO_new(BIO_s_mem()));
    if (!bio || write(bio.get()) != 1) return {};
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio.get(), &data);
    return n > 0 ? std::string(data, std::size_t(n)) : std::string();
  };
  SelfSignedPem out;
  out.cert = pem([&](BIO* b) { return PEM_write_bio_X509(b, cert->get()); });
  out.key = pem([&](BIO* b) { return PEM_write_bio_PrivateKey(b, key.get(), nullptr, nullptr, 0, nullptr, nullptr); });
  if (out.cert.empty() || out.key.empty()) return err("cannot encode the self-signed certificate");
  return out;
}

Status write_self_signed_for_key(const std::string& cert_file, const std::string& key_file,
                                 const std::vector<std::string>& dns_names) {
  Ptr<FILE> kf(std::fopen(key_file.c_str(), "r"));
  if (!kf) return err(fmt::format("cannot read {}", key_file));
  Ptr<EVP_PKEY> key(PEM_read_PrivateKey(kf.get(), nullptr, nullptr, nullptr));
  if (!key) {
    ERR_clear_error();
    return err(fmt::format("{}: not a PEM private key", key_file));
  }
  auto cert = make_certificate(key.get(), dns_names, {});
  if (!cert) return cert.error();
  return write_certificate(cert_file, cert->get());
}

}  // namespace mk::net
