#include "dkim/sign.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <memory>

#include <fmt/format.h>

#include "base/strings.hpp"
#include "dkim/canon.hpp"
#include "message/codec.hpp"

namespace mk::dkim {
namespace {

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct CtxFree {
  void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
};
struct MdFree {
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
};
struct BioFree {
  void operator()(BIO* p) const { BIO_free(p); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

Result<Pkey> load_private(std::string_view pem) {
  std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(pem.data(), int(pem.size())));
  Pkey key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) return err("cannot read DKIM private key");
  return key;
}

}  // namespace

Result<std::string> sign_data(Algorithm a, std::string_view pem, std::string_view header_data) {
  auto key = load_private(pem);
  if (!key) return key.error();
  std::unique_ptr<EVP_MD_CTX, MdFree> md(EVP_MD_CTX_new());
  // RFC 8463 §3: Ed25519 (PureEdDSA) signs the SHA-256 hash of the header data; RSA signs
  // the data with SHA-256 (RSASSA-PKCS1-v1_5).
  const std::string input = a == Algorithm::ed25519_sha256 ? sha256(header_data) : std::string(header_data);
  if (EVP_DigestSignInit(md.get(), nullptr, a == Algorithm::ed25519_sha256 ? nullptr : EVP_sha256(), nullptr,
                         key->get()) != 1)
    return err("DKIM signing setup failed");
  std::size_t len = 0;
  const auto* in = reinterpret_cast<const unsigned char*>(input.data());
  if (EVP_DigestSign(md.get(), nullptr, &len, in, input.size()) != 1) return err("DKIM signing failed");
  std::string sig(len, '\0');
  if (EVP_DigestSign(md.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, in, input.size()) != 1)
    return err("DKIM signing failed");
  sig.resize(len);
  return sig;
}

std::string fold_b64(std::string_view v) {
  std::string out;
  for (std::size_t i = 0; i < v.size(); i += 72) {
    if (i) out += "\r\n\t ";
    out += v.substr(i, 72);
  }
  return out;
}


std::string_view algorithm_name(Algorithm a) {
  return a == Algorithm::ed25519_sha256 ? "ed25519-sha256" : "rsa-sha256";
}

Result<KeyPair> generate_key(Algorithm a, int rsa_bits) {
  std::unique_ptr<EVP_PKEY_CTX, CtxFree> ctx(
      EVP_PKEY_CTX_new_id(a == Algorithm::ed25519_sha256 ? EVP_PKEY_ED25519 : EVP_PKEY_RSA, nullptr));
  EVP_PKEY* raw = nullptr;
  if (!ctx || EVP_PKEY_keygen_init(ctx.get()) != 1) return err("cannot set up DKIM key generation");
  if (a == Algorithm::rsa_sha256 && EVP_PKEY_CTX_set_rsa_keygen_bits(ctx.get(), rsa_bits) != 1)
    return err("cannot set the RSA key size");
  if (EVP_PKEY_keygen(ctx.get(), &raw) != 1) return err("DKIM key generation failed");
  Pkey key(raw);
  KeyPair kp;
  kp.algorithm = a;
  std::unique_ptr<BIO, BioFree> bio(BIO_new(BIO_s_mem()));
  if (PEM_write_bio_PrivateKey(bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1)
    return err("cannot encode the DKIM key");
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  kp.private_pem.assign(data, std::size_t(n));
  if (a == Algorithm::ed25519_sha256) {
    std::string pub(32, '\0');
    std::size_t len = pub.size();
    if (EVP_PKEY_get_raw_public_key(key.get(), reinterpret_cast<unsigned char*>(pub.data()), &len) != 1)
      return err("cannot read the Ed25519 public key");
    kp.public_b64 = message::base64_encode(pub.substr(0, len));
  } else {
    unsigned char* der = nullptr;
    const int len = i2d_PUBKEY(key.get(), &der);
    if (len <= 0) return err("cannot encode the RSA public key");
    kp.public_b64 = message::base64_encode(std::string_view(reinterpret_cast<char*>(der), std::size_t(len)));
    OPENSSL_free(der);
  }
  return kp;
}

std::string dns_txt(Algorithm a, std::string_view public_b64) {
  return fmt::format("v=DKIM1; k={}; p={}", a == Algorithm::ed25519_sha256 ? "ed25519" : "rsa", public_b64);
}

Result<std::string> sign(std::string_view message, std::string_view domain, const std::vector<SigningKey>& keys,
                         std::int64_t timestamp) {
  std::size_t body_start = 0;
  const auto fields = split_header(message, body_start);
  const std::string bh = message::base64_encode(sha256(canon_body(message.substr(body_start), Canon::relaxed)));
  // h=: each signed field once per occurrence, plus once more (oversigning).
  std::vector<std::string> h;
  for (auto name : kSignedFields) {
    std::size_t n = 0;
    for (const auto& f : fields) n += iequals(trim(f.name), name);
    if (n == 0 && name != "Reply-To" && name != "Cc" && name != "In-Reply-To" && name != "References") continue;
    for (std::size_t i = 0; i <= n; ++i) h.push_back(to_lower(name));
  }
  const std::string header_data = signed_fields(fields, h, Canon::relaxed);
  std::string out;
  for (const auto& key : keys) {
    std::string hlist;
    for (std::size_t i = 0; i < h.size(); ++i) {
      hlist += (i ? ":" : "") + h[i];
      if (i + 1 < h.size() && (i + 1) % 8 == 0) hlist += "\r\n\t ";
    }
    std::string field = fmt::format("DKIM-Signature: v=1; a={}; c=relaxed/relaxed; d={}; s={};\r\n\tt={}; h={};\r\n\tbh={};\r\n\tb=",
                                    algorithm_name(key.algorithm), domain, key.selector, timestamp, hlist, bh);
    // The signature covers this field with an empty b= and without its final CRLF.
    const auto colon = field.find(':');
    std::string data = header_data;
    std::string canon = canon_header(RawField{std::string_view(field).substr(0, colon), std::string_view(field).substr(colon + 1)},
                                     Canon::relaxed);
    canon.resize(canon.size() - 2);
    data += canon;
    auto sig = sign_data(key.algorithm, key.private_pem, data);
    if (!sig) return sig.error();
    out += field + fold_b64(message::base64_encode(*sig)) + "\r\n";
  }
  return out;
}

}  // namespace mk::dkim
