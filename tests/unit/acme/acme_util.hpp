// tests/unit/acme/acme_util.hpp: what the ACME tests check our output with, written apart
// from src/acme so a mistake there cannot hide itself: a JWS verifier (OpenSSL directly,
// its own base64url decoding) and a small CA that signs a CSR.
#pragma once

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/json.hpp>


namespace mk::test::acme {

// Two fixed P-256 keys; their thumbprints were computed with Python's cryptography package
// (RFC 7638 §3: SHA-256 of {"crv","kty","x","y"} in that order, no whitespace).
inline constexpr const char* kAccountKey = R"(-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgGNBEhK3hR1dVy2YH
FjYtjiZjUBSljmxkAykYjlW/KoShRANCAAR2d2KYSGS6MbzxptwlVy/oBarSAmb5
wfOujJXuATIRuDeH8/rwSsCla9zvb5ADPkWTPnXNIdcJEnlmTytPNOiT
-----END PRIVATE KEY-----
)";
inline constexpr const char* kAccountJwk =
    R"({"crv":"P-256","kty":"EC","x":"dndimEhkujG88abcJVcv6AWq0gJm-cHzroyV7gEyEbg","y":"N4fz-vBKwKVr3O9vkAM-RZM-dc0h1wkSeWZPK0806JM"})";
inline constexpr const char* kAccountThumbprint = "j3Nx1ChUMVpa28_tmHAVVVRfYwNHBbZbREYFJyTujQY";
// SEC1 form, and its x coordinate starts with a zero byte (the JWK must keep all 32 bytes).
inline constexpr const char* kZeroXKey = R"(-----BEGIN EC PRIVATE KEY-----
MHcCAQEEIDubGlI1HpwVni/9mUf7jLYedTAHiGmsiJdvd9eseRRToAoGCCqGSM49
AwEHoUQDQgAEAHNzvzBNXg0b8GdJ0HpgXVEufROz1aK7TFDkqIjT0N6RW8xs1ACG
iL9HpfIAnogyXBf6h3O92grByUCOpp5/Bg==
-----END EC PRIVATE KEY-----
)";
inline constexpr const char* kZeroXJwk =
    R"({"crv":"P-256","kty":"EC","x":"AHNzvzBNXg0b8GdJ0HpgXVEufROz1aK7TFDkqIjT0N4","y":"kVvMbNQAhoi_R6XyAJ6IMlwX-odzvdoKwclAjqaefwY"})";
inline constexpr const char* kZeroXThumbprint = "10k_3bsf2SWd2DF5HAr1iyzCmQvvbYfrtklleIJk6YM";

// base64url through OpenSSL's plain base64 decoder: translate the alphabet, pad.
inline std::optional<std::string> b64u_decode(std::string s) {
  for (char& c : s) {
    if (c == '-') c = '+';
    else if (c == '_') c = '/';
    else if (c == '+' || c == '/' || c == '=') return std::nullopt;
  }
  const std::size_t pad = (4 - s.size() % 4) % 4;
  if (pad == 3) return std::nullopt;
  s.append(pad, '=');
  std::string out(s.size() / 4 * 3 + 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(s.data()), static_cast<int>(s.size()));
  if (n < 0) return std::nullopt;
  out.resize(static_cast<std::size_t>(n) - pad);
  return out;
}

inline std::shared_ptr<EVP_PKEY> load_key(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  EVP_PKEY* k = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  return std::shared_ptr<EVP_PKEY>(k, EVP_PKEY_free);
}

// A flattened JWS taken apart and checked: the signature is ES256 by `key`.
struct Jws {
  boost::json::object header;
  std::string payload;       // decoded
  bool payload_empty = false;  // "payload":"" (POST-as-GET)
  std::string error;         // empty when the JWS is well-formed and the signature verifies
};

inline bool es256_verify(EVP_PKEY* key, const std::string& signing_input, const std::string& raw_sig) {
  if (raw_sig.size() != 64) return false;
  ECDSA_SIG* sig = ECDSA_SIG_new();
  ECDSA_SIG_set0(sig, BN_bin2bn(reinterpret_cast<const unsigned char*>(raw_sig.data()), 32, nullptr),
                 BN_bin2bn(reinterpret_cast<const unsigned char*>(raw_sig.data()) + 32, 32, nullptr));
  unsigned char* der = nullptr;
  const int der_len = i2d_ECDSA_SIG(sig, &der);
  ECDSA_SIG_free(sig);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  const bool ok = EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, key) == 1 &&
                  EVP_DigestVerify(ctx, der, static_cast<std::size_t>(der_len),
                                   reinterpret_cast<const unsigned char*>(signing_input.data()),
                                   signing_input.size()) == 1;
  EVP_MD_CTX_free(ctx);
  OPENSSL_free(der);
  return ok;
}

inline Jws check_jws(const std::string& text, EVP_PKEY* key) {
  Jws out;
  boost::system::error_code ec;
  auto v = boost::json::parse(text, ec);
  if (ec || !v.is_object()) {
    out.error = "not a JSON object";
    return out;
  }
  auto& o = v.as_object();
  if (o.size() != 3 || !o.contains("protected") || !o.contains("payload") || !o.contains("signature")) {
    out.error = "not exactly protected, payload, signature";
    return out;
  }
  const std::string prot(o["protected"].as_string());
  const std::string payload(o["payload"].as_string());
  const std::string sig(o["signature"].as_string());
  auto h = b64u_decode(prot);
  auto p = b64u_decode(payload);
  auto s = b64u_decode(sig);
  if (!h || !p || !s) {
    out.error = "bad base64url";
    return out;
  }
  auto hv = boost::json::parse(*h, ec);
  if (ec || !hv.is_object()) {
    out.error = "protected header is not a JSON object";
    return out;
  }
  out.header = hv.as_object();
  out.payload = *p;
  out.payload_empty = payload.empty();
  if (!es256_verify(key, prot + "." + payload, *s)) out.error = "signature does not verify";
  return out;
}

// A CA for the tests: signs a CSR's key and SANs into a leaf; the chain is leaf + CA.
class TestCa {
 public:
  TestCa() : key_(EVP_EC_gen("P-256"), EVP_PKEY_free), cert_(X509_new(), X509_free) {
    X509* c = cert_.get();
    X509_set_version(c, X509_VERSION_3);
    ASN1_INTEGER_set(X509_get_serialNumber(c), 1);
    X509_gmtime_adj(X509_getm_notBefore(c), -3600);
    X509_gmtime_adj(X509_getm_notAfter(c), 3600 * 24);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(c), "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("test CA"), -1, -1, 0);
    X509_set_issuer_name(c, X509_get_subject_name(c));
    X509_set_pubkey(c, key_.get());
    X509_sign(c, key_.get(), EVP_sha256());
  }
  // names: the SANs to write (normally the CSR's); validity fixed for the test to check.
  std::string issue(const std::string& csr_der, const std::vector<std::string>& names, long not_before,
                    long not_after) {
    const unsigned char* p = reinterpret_cast<const unsigned char*>(csr_der.data());
    X509_REQ* req = d2i_X509_REQ(nullptr, &p, static_cast<long>(csr_der.size()));
    EXPECT_NE(req, nullptr);
    if (!req) return {};
    X509* leaf = X509_new();
    X509_set_version(leaf, X509_VERSION_3);
    ASN1_INTEGER_set(X509_get_serialNumber(leaf), ++serial_);
    ASN1_TIME_set(X509_getm_notBefore(leaf), not_before);
    ASN1_TIME_set(X509_getm_notAfter(leaf), not_after);
    X509_set_issuer_name(leaf, X509_get_subject_name(cert_.get()));
    EVP_PKEY* pub = X509_REQ_get_pubkey(req);
    X509_set_pubkey(leaf, pub);
    EVP_PKEY_free(pub);
    X509_REQ_free(req);
    std::string san;
    for (const auto& n : names) san += (san.empty() ? "DNS:" : ",DNS:") + n;
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, cert_.get(), leaf, nullptr, nullptr, 0);
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_alt_name, san.c_str());
    X509_add_ext(leaf, ext, -1);
    X509_EXTENSION_free(ext);
    X509_sign(leaf, key_.get(), EVP_sha256());
    std::string out = pem(leaf) + pem(cert_.get());
    X509_free(leaf);
    return out;
  }

 private:
  static std::string pem(X509* c) {
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(bio, c);
    char* data = nullptr;
    const long len = BIO_get_mem_data(bio, &data);
    std::string out(data, static_cast<std::size_t>(len));
    BIO_free(bio);
    return out;
  }
  std::shared_ptr<EVP_PKEY> key_;
  std::shared_ptr<X509> cert_;
  long serial_ = 1;
};

}  // namespace mk::test::acme
