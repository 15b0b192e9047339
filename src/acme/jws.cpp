// acme/jws.cpp: ES256 JWS with OpenSSL 3's EVP interfaces (see jws.hpp).
#include "acme/jws.hpp"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <array>

#include "acme/proto.hpp"
#include "base/strings.hpp"

namespace mk::acme {
namespace {

// RFC 7518 §3.4: P-256 coordinates and signature halves are 32 octets.
constexpr int kP256Bytes = 32;

struct Free {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
  void operator()(BIO* p) const { BIO_free(p); }
  void operator()(BIGNUM* p) const { BN_free(p); }
  void operator()(ECDSA_SIG* p) const { ECDSA_SIG_free(p); }
};
template <class T>
using Ptr = std::unique_ptr<T, Free>;

std::string sha256(std::string_view data) {
  std::array<unsigned char, 32> md{};
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md.data(), &len, EVP_sha256(), nullptr);
  return std::string(reinterpret_cast<const char*>(md.data()), len);
}

// One coordinate of the public point, left-padded to 32 bytes (RFC 7518 §6.2.1.2).
std::optional<std::string> coordinate(EVP_PKEY* key, const char* name) {
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(key, name, &raw) != 1) return std::nullopt;
  Ptr<BIGNUM> bn(raw);
  std::string out(kP256Bytes, '\0');
  if (BN_bn2binpad(bn.get(), reinterpret_cast<unsigned char*>(out.data()), kP256Bytes) != kP256Bytes)
    return std::nullopt;
  return out;
}

}  // namespace

void AccountKey::Free::operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }

Result<AccountKey> AccountKey::from_pem(std::string_view pem) {
  Ptr<BIO> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return err("out of memory");
  EVP_PKEY* raw = PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr);
  ERR_clear_error();
  if (!raw) return err("the ACME account key is not a PEM private key");
  AccountKey k;
  k.key_ = std::shared_ptr<EVP_PKEY>(raw, AccountKey::Free{});
  char group[64] = {};
  if (!EVP_PKEY_is_a(raw, "EC") ||
      EVP_PKEY_get_utf8_string_param(raw, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, nullptr) != 1 ||
      std::string_view(group) != "prime256v1")
    return err("the ACME account key is not an ECDSA P-256 key");
  auto x = coordinate(raw, OSSL_PKEY_PARAM_EC_PUB_X);
  auto y = coordinate(raw, OSSL_PKEY_PARAM_EC_PUB_Y);
  if (!x || !y) return err("cannot read the ACME account key's public point");
  // RFC 7638 §3.2: required members only, lexicographic order, no whitespace.
  k.jwk_ = R"({"crv":"P-256","kty":"EC","x":")" + base64url_encode(*x) + R"(","y":")" +
           base64url_encode(*y) + "\"}";
  k.thumbprint_ = base64url_encode(sha256(k.jwk_));
  return k;
}

Result<std::string> AccountKey::sign(std::string_view data) const {
  Ptr<EVP_MD_CTX> ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key_.get()) != 1)
    return err("cannot start an ES256 signature");
  std::size_t len = 0;
  const auto* in = reinterpret_cast<const unsigned char*>(data.data());
  if (EVP_DigestSign(ctx.get(), nullptr, &len, in, data.size()) != 1) return err("cannot sign");
  std::string der(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(der.data()), &len, in, data.size()) != 1)
    return err("cannot sign");
  der.resize(len);
  // OpenSSL gives the DER ECDSA-Sig-Value; JWS wants R || S (RFC 7518 §3.4).
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  Ptr<ECDSA_SIG> sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));
  if (!sig) return err("cannot read the ECDSA signature");
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(sig.get(), &r, &s);
  std::string out(2 * kP256Bytes, '\0');
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  if (BN_bn2binpad(r, o, kP256Bytes) != kP256Bytes || BN_bn2binpad(s, o + kP256Bytes, kP256Bytes) != kP256Bytes)
    return err("ECDSA signature does not fit ES256");
  return out;
}

Result<std::string> sign_jws(const AccountKey& key, const JwsHeader& header,
                             const std::optional<std::string>& payload) {
  // RFC 8555 §6.2: alg, nonce, url, and exactly one of jwk and kid.
  std::string prot = R"({"alg":"ES256",)";
  if (header.kid.empty()) {
    prot += R"("jwk":)" + key.jwk();
  } else {
    prot += R"("kid":)";
    append_json_string(prot, header.kid);
  }
  prot += R"(,"nonce":)";
  append_json_string(prot, header.nonce);
  prot += R"(,"url":)";
  append_json_string(prot, header.url);
  prot += '}';
  const std::string prot64 = base64url_encode(prot);
  const std::string payload64 = payload ? base64url_encode(*payload) : std::string();
  auto sig = key.sign(prot64 + "." + payload64);
  if (!sig) return sig.error();
  return R"({"protected":")" + prot64 + R"(","payload":")" + payload64 + R"(","signature":")" +
         base64url_encode(*sig) + "\"}";
}

std::string key_authorization(std::string_view token, const AccountKey& key) {
  return std::string(token) + "." + key.thumbprint();
}

Result<std::string> new_p256_key_pem() {
  Ptr<EVP_PKEY> key(EVP_EC_gen("P-256"));
  if (!key) return err("cannot generate an EC key");
  Ptr<BIO> bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1)
    return err("cannot write the EC key");
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(len));
}

}  // namespace mk::acme
