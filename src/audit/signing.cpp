#include "audit/signing.hpp"

#include <sodium.h>
#include <sys/stat.h>

#include <optional>

#include "base/read_file.hpp"
#include "base/strings.hpp"
#include "base/write_file.hpp"

namespace mk::audit {
namespace {

constexpr std::string_view kPrefix = "ed25519:";
constexpr std::size_t kMaxKeyFile = 4096;

std::string b64(std::string_view raw) {
  std::string out(sodium_base64_encoded_len(raw.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(raw.data()),
                    raw.size(), sodium_base64_VARIANT_ORIGINAL);
  out.resize(out.size() - 1);  // the terminating NUL
  return out;
}

std::optional<std::string> unb64(std::string_view text, std::size_t want) {
  std::string out(want, '\0');
  std::size_t len = 0;
  const std::string in(text);
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), in.c_str(),
                        in.size(), nullptr, &len, nullptr, sodium_base64_VARIANT_ORIGINAL) != 0 ||
      len != want)
    return std::nullopt;
  return out;
}

bool ready() {
  static const bool ok = sodium_init() >= 0;
  return ok;
}

}  // namespace

Result<SigningKey> SigningKey::load_or_create(const std::string& path) {
  if (!ready()) return err("libsodium cannot start");
  SigningKey k;
  k.secret_.assign(crypto_sign_SECRETKEYBYTES, '\0');
  std::string pub(crypto_sign_PUBLICKEYBYTES, '\0');
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    auto text = read_file(path, kMaxKeyFile);
    if (!text) return text.error();
    std::string_view b64text = *text;
    while (!b64text.empty() && (b64text.back() == '\n' || b64text.back() == '\r'))
      b64text.remove_suffix(1);
    auto secret = unb64(trim(b64text), crypto_sign_SECRETKEYBYTES);
    if (!secret)
      return err(path +
                 ": not a log signing key (delete it to make a new one, then give the collector "
                 "the new public key)");
    // The file holds libsodium's seed-then-public-key; both halves must belong together, or
    // the heartbeats would be signed with a key the collector was not given.
    std::string derived(crypto_sign_SECRETKEYBYTES, '\0');
    crypto_sign_seed_keypair(reinterpret_cast<unsigned char*>(pub.data()),
                             reinterpret_cast<unsigned char*>(derived.data()),
                             reinterpret_cast<const unsigned char*>(secret->data()));
    if (derived != *secret)
      return err(
          path +
          ": a damaged log signing key (its halves do not match); delete it to make a new one");
    k.secret_ = std::move(derived);
  } else {
    crypto_sign_keypair(reinterpret_cast<unsigned char*>(pub.data()),
                        reinterpret_cast<unsigned char*>(k.secret_.data()));
    if (auto s = write_file_atomic(path, b64(k.secret_) + "\n", 0600); !s) return s.error();
  }
  k.public_ = std::string(kPrefix) + b64(pub);
  return k;
}

std::string SigningKey::sign(std::string_view data) const {
  std::string sig(crypto_sign_BYTES, '\0');
  crypto_sign_detached(reinterpret_cast<unsigned char*>(sig.data()), nullptr,
                       reinterpret_cast<const unsigned char*>(data.data()), data.size(),
                       reinterpret_cast<const unsigned char*>(secret_.data()));
  return b64(sig);
}

bool valid_public_key(std::string_view public_key) {
  return ready() && public_key.starts_with(kPrefix) &&
         unb64(public_key.substr(kPrefix.size()), crypto_sign_PUBLICKEYBYTES).has_value();
}

bool verify_signature(std::string_view public_key, std::string_view data,
                      std::string_view signature_b64) {
  if (!ready() || !public_key.starts_with(kPrefix)) return false;
  auto pub = unb64(public_key.substr(kPrefix.size()), crypto_sign_PUBLICKEYBYTES);
  auto sig = unb64(signature_b64, crypto_sign_BYTES);
  if (!pub || !sig) return false;
  return crypto_sign_verify_detached(reinterpret_cast<const unsigned char*>(sig->data()),
                                     reinterpret_cast<const unsigned char*>(data.data()),
                                     data.size(),
                                     reinterpret_cast<const unsigned char*>(pub->data())) == 0;
}

}  // namespace mk::audit
