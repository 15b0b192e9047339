// acme/x509.cpp: CSR, chain reading and the TLS-ALPN-01 certificate (see x509.hpp).
#include "acme/x509.hpp"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <array>
#include <ctime>
#include <memory>

#include <fmt/format.h>

#include "acme/jws.hpp"
#include "base/strings.hpp"

namespace mk::acme {
namespace {

// RFC 8737 §6.1: id-pe-acmeIdentifier.
constexpr const char* kAcmeIdentifierOid = "1.3.6.1.5.5.7.1.31";

struct Free {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(BIO* p) const { BIO_free(p); }
  void operator()(X509* p) const { X509_free(p); }
  void operator()(X509_REQ* p) const { X509_REQ_free(p); }
  void operator()(GENERAL_NAMES* p) const { GENERAL_NAMES_free(p); }
  void operator()(STACK_OF(X509_EXTENSION) * p) const { sk_X509_EXTENSION_pop_free(p, X509_EXTENSION_free); }
  void operator()(X509_EXTENSION* p) const { X509_EXTENSION_free(p); }
  void operator()(ASN1_OBJECT* p) const { ASN1_OBJECT_free(p); }
  void operator()(ASN1_OCTET_STRING* p) const { ASN1_OCTET_STRING_free(p); }
  void operator()(BIGNUM* p) const { BN_free(p); }
};
template <class T>
using Ptr = std::unique_ptr<T, Free>;

Result<Ptr<EVP_PKEY>> read_key(std::string_view pem) {
  Ptr<BIO> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  Ptr<EVP_PKEY> key(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  ERR_clear_error();
  if (!key) return err("the certificate key is not a PEM private key");
  if (!EVP_PKEY_is_a(key.get(), "EC") && !EVP_PKEY_is_a(key.get(), "RSA"))
    return err("the certificate key is neither EC nor RSA");
  return key;
}

// SANs as GENERAL_NAMES built one by one, so no name is ever read as OpenSSL's
// "DNS:a,DNS:b" configuration syntax.
Result<Ptr<GENERAL_NAMES>> dns_names(const std::vector<std::string>& names) {
  Ptr<GENERAL_NAMES> gens(GENERAL_NAMES_new());
  if (!gens) return err("out of memory");
  for (const auto& n : names) {
    ASN1_IA5STRING* ia5 = ASN1_IA5STRING_new();
    if (!ia5 || ASN1_STRING_set(ia5, n.data(), static_cast<int>(n.size())) != 1) {
      ASN1_IA5STRING_free(ia5);
      return err("out of memory");
    }
    GENERAL_NAME* gen = GENERAL_NAME_new();
    if (!gen) {
      ASN1_IA5STRING_free(ia5);
      return err("out of memory");
    }
    GENERAL_NAME_set0_value(gen, GEN_DNS, ia5);
    if (sk_GENERAL_NAME_push(gens.get(), gen) == 0) {
      GENERAL_NAME_free(gen);
      return err("out of memory");
    }
  }
  return gens;
}

Result<std::vector<Ptr<X509>>> read_chain(std::string_view pem) {
  std::vector<Ptr<X509>> out;
  Ptr<BIO> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return err("out of memory");
  for (;;) {
    char* name = nullptr;
    char* header = nullptr;
    unsigned char* data = nullptr;
    long len = 0;
    if (PEM_read_bio(bio.get(), &name, &header, &data, &len) != 1) break;
    const std::string block = name;
    OPENSSL_free(name);
    OPENSSL_free(header);
    const unsigned char* p = data;
    Ptr<X509> cert(block == "CERTIFICATE" ? d2i_X509(nullptr, &p, len) : nullptr);
    const bool whole = cert && p == data + len;
    OPENSSL_free(data);
    if (block != "CERTIFICATE") return err(fmt::format("the chain has a {} block", log_safe(block, 40)));
    if (!whole) return err("the chain has a certificate that does not parse");
    if (out.size() == kMaxChainLength) return err("the chain is longer than " + std::to_string(kMaxChainLength));
    out.push_back(std::move(cert));
  }
  ERR_clear_error();  // the end of the PEM text reads as an error
  if (out.empty()) return err("the chain has no certificate");
  return out;
}

Result<std::int64_t> unix_time(const ASN1_TIME* t) {
  std::tm tm{};
  if (!t || ASN1_TIME_to_tm(t, &tm) != 1) return err("the certificate has an unreadable validity time");
  return static_cast<std::int64_t>(::timegm(&tm));
}

std::string sha256(std::string_view data) {
  std::array<unsigned char, 32> md{};
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md.data(), &len, EVP_sha256(), nullptr);
  return std::string(reinterpret_cast<const char*>(md.data()), len);
}

}  // namespace

Result<std::string> make_csr_der(const std::vector<std::string>& names, std::string_view cert_key_pem) {
  if (names.empty()) return err("a CSR needs at least one name");
  auto key = read_key(cert_key_pem);
  if (!key) return key.error();
  Ptr<X509_REQ> req(X509_REQ_new());
  if (!req || X509_REQ_set_version(req.get(), X509_REQ_VERSION_1) != 1) return err("out of memory");
  // The CN is only a courtesy for old software; CAs read the SANs (RFC 8555 §7.4). A CN
  // holds 64 characters at most (RFC 5280 ub-common-name), so a longer first name goes
  // without one.
  X509_NAME* subject = X509_REQ_get_subject_name(req.get());
  if (names.front().size() <= 64 &&
      X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC,
                                 reinterpret_cast<const unsigned char*>(names.front().c_str()), -1, -1, 0) != 1)
    return err("cannot set the CSR subject");
  auto gens = dns_names(names);
  if (!gens) return gens.error();
  STACK_OF(X509_EXTENSION)* raw = nullptr;
  if (X509V3_add1_i2d(&raw, NID_subject_alt_name, gens->get(), 0, X509V3_ADD_DEFAULT) != 1)
    return err("cannot build the CSR's subjectAltName");
  Ptr<STACK_OF(X509_EXTENSION)> exts(raw);
  if (X509_REQ_add_extensions(req.get(), exts.get()) != 1) return err("cannot add the CSR's extensions");
  if (X509_REQ_set_pubkey(req.get(), key->get()) != 1) return err("cannot set the CSR key");
  if (X509_REQ_sign(req.get(), key->get(), EVP_sha256()) <= 0) {
    ERR_clear_error();
    return err("cannot sign the CSR");
  }
  unsigned char* der = nullptr;
  const int len = i2d_X509_REQ(req.get(), &der);
  if (len <= 0) return err("cannot encode the CSR");
  std::string out(reinterpret_cast<const char*>(der), static_cast<std::size_t>(len));
  OPENSSL_free(der);
  return out;
}

Result<std::vector<std::string>> split_chain(std::string_view chain_pem) {
  auto chain = read_chain(chain_pem);
  if (!chain) return chain.error();
  std::vector<std::string> out;
  for (const auto& cert : *chain) {
    Ptr<BIO> bio(BIO_new(BIO_s_mem()));
    if (!bio || PEM_write_bio_X509(bio.get(), cert.get()) != 1) return err("cannot write a certificate");
    char* data = nullptr;
    const long len = BIO_get_mem_data(bio.get(), &data);
    out.emplace_back(data, static_cast<std::size_t>(len));
  }
  return out;
}

Result<Validity> chain_validity(std::string_view chain_pem) {
  auto chain = read_chain(chain_pem);
  if (!chain) return chain.error();
  X509* leaf = chain->front().get();
  auto nb = unix_time(X509_get0_notBefore(leaf));
  auto na = unix_time(X509_get0_notAfter(leaf));
  if (!nb) return nb.error();
  if (!na) return na.error();
  return Validity{*nb, *na};
}

Result<void> leaf_matches(std::string_view chain_pem, const std::vector<std::string>& names,
                    std::string_view key_pem) {
  auto chain = read_chain(chain_pem);
  if (!chain) return chain.error();
  X509* leaf = chain->front().get();
  auto key = read_key(key_pem);
  if (!key) return key.error();
  if (EVP_PKEY_eq(X509_get0_pubkey(leaf), key->get()) != 1) {
    ERR_clear_error();
    return err("the certificate is not for the certificate key");
  }
  Ptr<GENERAL_NAMES> sans(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(leaf, NID_subject_alt_name, nullptr, nullptr)));
  std::vector<std::string> have;
  for (int i = 0; sans && i < sk_GENERAL_NAME_num(sans.get()); ++i) {
    const GENERAL_NAME* gen = sk_GENERAL_NAME_value(sans.get(), i);
    if (gen->type != GEN_DNS) continue;
    const ASN1_IA5STRING* s = gen->d.dNSName;
    have.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                      static_cast<std::size_t>(ASN1_STRING_length(s)));
  }
  for (const auto& n : names) {
    bool found = false;
    for (const auto& h : have) found = found || iequals(h, n);
    if (!found) return err(fmt::format("the certificate does not name {}", n));
  }
  return {};
}

std::string tls_alpn01_digest(std::string_view key_authorization) { return sha256(key_authorization); }

Result<ChallengeCertificate> tls_alpn01_certificate(const std::string& name,
                                                    std::string_view key_authorization) {
  auto key_pem = new_p256_key_pem();
  if (!key_pem) return key_pem.error();
  auto key = read_key(*key_pem);
  if (!key) return key.error();
  Ptr<X509> cert(X509_new());
  if (!cert || X509_set_version(cert.get(), X509_VERSION_3) != 1) return err("out of memory");
  Ptr<BIGNUM> serial(BN_new());
  if (!serial || BN_rand(serial.get(), 64, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1 ||
      !BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get())))
    return err("cannot set a serial number");
  // The CA checks it within minutes; a short validity limits a certificate that leaks.
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 7 * 24 * 3600);
  X509_NAME* subject = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("ACME challenge"),
                             -1, -1, 0);
  X509_set_issuer_name(cert.get(), subject);
  if (X509_set_pubkey(cert.get(), key->get()) != 1) return err("cannot set the key");
  // §3: exactly one SAN dNSName, the name being validated.
  auto gens = dns_names({name});
  if (!gens) return gens.error();
  if (X509_add1_ext_i2d(cert.get(), NID_subject_alt_name, gens->get(), 0, X509V3_ADD_DEFAULT) != 1)
    return err("cannot add the subjectAltName");
  // §3: critical; extnValue is the DER of Authorization ::= OCTET STRING (SIZE (32)).
  const std::string digest = tls_alpn01_digest(key_authorization);
  Ptr<ASN1_OCTET_STRING> inner(ASN1_OCTET_STRING_new());
  if (!inner || ASN1_OCTET_STRING_set(inner.get(), reinterpret_cast<const unsigned char*>(digest.data()),
                                      static_cast<int>(digest.size())) != 1)
    return err("out of memory");
  unsigned char* der = nullptr;
  const int der_len = i2d_ASN1_OCTET_STRING(inner.get(), &der);
  if (der_len <= 0) return err("cannot encode the acmeIdentifier");
  Ptr<ASN1_OCTET_STRING> value(ASN1_OCTET_STRING_new());
  const bool set = value && ASN1_OCTET_STRING_set(value.get(), der, der_len) == 1;
  OPENSSL_free(der);
  if (!set) return err("out of memory");
  Ptr<ASN1_OBJECT> oid(OBJ_txt2obj(kAcmeIdentifierOid, 1));
  Ptr<X509_EXTENSION> ext(oid ? X509_EXTENSION_create_by_OBJ(nullptr, oid.get(), 1, value.get()) : nullptr);
  if (!ext || X509_add_ext(cert.get(), ext.get(), -1) != 1) return err("cannot add the acmeIdentifier");
  if (X509_sign(cert.get(), key->get(), EVP_sha256()) <= 0) {
    ERR_clear_error();
    return err("cannot sign the challenge certificate");
  }
  Ptr<BIO> bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert.get()) != 1) return err("cannot write the certificate");
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  return ChallengeCertificate{std::string(data, static_cast<std::size_t>(len)), std::move(*key_pem)};
}

}  // namespace mk::acme
