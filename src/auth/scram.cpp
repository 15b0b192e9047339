#include "auth/scram.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <array>
#include <vector>

#include <fmt/format.h>

#include "auth/sasl.hpp"
#include "base/strings.hpp"
#include "message/codec.hpp"

namespace mk::auth {
namespace {

using Digest = std::array<unsigned char, SHA256_DIGEST_LENGTH>;

std::string bytes(const Digest& d) { return std::string(reinterpret_cast<const char*>(d.data()), d.size()); }

std::string hmac(std::string_view key, std::string_view data) {
  Digest out{};
  unsigned len = 0;
  HMAC(EVP_sha256(), key.data(), int(key.size()), reinterpret_cast<const unsigned char*>(data.data()), data.size(),
       out.data(), &len);
  return bytes(out);
}

std::string sha256(std::string_view data) {
  Digest out{};
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data());
  return bytes(out);
}

std::string salted_password(std::string_view password, std::string_view salt, int iterations) {
  Digest out{};
  PKCS5_PBKDF2_HMAC(password.data(), int(password.size()), reinterpret_cast<const unsigned char*>(salt.data()),
                    int(salt.size()), iterations, EVP_sha256(), int(out.size()), out.data());
  return bytes(out);
}

std::string random_bytes(std::size_t n) {
  std::string s(n, '\0');
  RAND_bytes(reinterpret_cast<unsigned char*>(s.data()), int(n));
  return s;
}

struct Secret {
  int iterations = 0;
  std::string salt, stored_key, server_key;
};

std::optional<Secret> parse_secret(std::string_view s) {
  // SCRAM-SHA-256$<iter>:<salt>$<StoredKey>:<ServerKey>
  constexpr std::string_view kPrefix = "SCRAM-SHA-256$";
  if (!s.starts_with(kPrefix)) return std::nullopt;
  s.remove_prefix(kPrefix.size());
  const auto colon1 = s.find(':'), dollar = s.find('$'), colon2 = s.rfind(':');
  if (colon1 == std::string_view::npos || dollar == std::string_view::npos || colon2 <= dollar) return std::nullopt;
  auto iter = parse_u64(s.substr(0, colon1));
  auto salt = sasl_base64_decode(s.substr(colon1 + 1, dollar - colon1 - 1));
  auto stored = sasl_base64_decode(s.substr(dollar + 1, colon2 - dollar - 1));
  auto server = sasl_base64_decode(s.substr(colon2 + 1));
  if (!iter || *iter < 4096 || *iter > 10000000 || !salt || !stored || !server || stored->size() != 32 ||
      server->size() != 32)
    return std::nullopt;
  return Secret{int(*iter), *salt, *stored, *server};
}

// "a=v,b=v": the value of attribute `name` among the comma-separated parts.
std::optional<std::string_view> attr(std::string_view msg, char name) {
  for (auto part : split(msg, ',')) {
    if (part.size() >= 2 && part[0] == name && part[1] == '=') return part.substr(2);
  }
  return std::nullopt;
}

// RFC 5802 §5.1: "=2C" is ',' and "=3D" is '='; any other '=' is malformed.
std::optional<std::string> decode_saslname(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '=') {
      out += s[i];
      continue;
    }
    if (s.substr(i, 3) == "=2C") out += ',';
    else if (s.substr(i, 3) == "=3D") out += '=';
    else return std::nullopt;
    i += 2;
  }
  return out;
}

bool printable_nonce(std::string_view n) {
  if (n.empty()) return false;
  for (unsigned char c : n)
    if (c < 0x21 || c > 0x7e || c == ',') return false;
  return true;
}

}  // namespace

std::string make_scram_secret(std::string_view password, int iterations, std::string_view given_salt) {
  const std::string salt = given_salt.empty() ? random_bytes(16) : std::string(given_salt);
  const std::string salted = salted_password(password, salt, iterations);
  const std::string client_key = hmac(salted, "Client Key");
  return fmt::format("SCRAM-SHA-256${}:{}${}:{}", iterations, message::base64_encode(salt),
                     message::base64_encode(sha256(client_key)),
                     message::base64_encode(hmac(salted, "Server Key")));
}

ScramServer::Step ScramServer::client_first(std::string_view msg) {
  using K = Step::Kind;
  // gs2-header: ("n" | "y" | "p=" cb-name) "," [ "a=" authzid ] ","
  if (msg.starts_with("p=")) return {K::failure, "channel binding is not supported"};
  if (!msg.starts_with("n,") && !msg.starts_with("y,")) return {K::failure, "malformed client-first message"};
  const auto second = msg.find(',', 2);
  if (second == std::string_view::npos) return {K::failure, "malformed client-first message"};
  // RFC 5802 §5.1 "a=": the identity to act as. Cyrus SASL clients (mbsync, mutt) name the
  // user itself there, which is the same login; anyone else is refused below.
  std::optional<std::string> authzid;
  if (second != 2) {
    if (msg.substr(2, 2) != "a=") return {K::failure, "malformed client-first message"};
    authzid = decode_saslname(msg.substr(4, second - 4));
    if (!authzid) return {K::failure, "malformed authorization identity"};
  }
  gs2_header_ = std::string(msg.substr(0, second + 1));
  client_first_bare_ = std::string(msg.substr(second + 1));
  if (client_first_bare_.starts_with("m=")) return {K::failure, "mandatory extension not supported"};
  auto n = attr(client_first_bare_, 'n');
  auto r = attr(client_first_bare_, 'r');
  if (!n || !r || !printable_nonce(*r)) return {K::failure, "malformed client-first message"};
  auto user = decode_saslname(*n);
  if (!user || user->empty()) return {K::failure, "malformed user name"};
  if (authzid && !authzid->empty() && !iequals(*authzid, *user))
    return {K::failure, "authorization identity is not supported"};
  user_ = *user;
  std::optional<Secret> secret;
  auto found = lookup_(user_);
  if (found) secret = parse_secret(found->secret);
  may_log_in_ = secret && found->may_log_in;
  if (!secret) {
    // A stable fake salt per name, so probing cannot tell unknown users from known ones; per
    // name as accounts are matched (auth/login.hpp: case-insensitively), or "Bob" and "bob"
    // getting one salt would say that the account exists.
    static const std::string kProcessKey = random_bytes(32);
    const std::string& key = fake_salt_key_.empty() ? kProcessKey : fake_salt_key_;
    secret = Secret{kScramIterations, hmac(key, to_lower(user_)).substr(0, 16), random_bytes(32), random_bytes(32)};
  }
  stored_key_ = secret->stored_key;
  server_key_ = secret->server_key;
  nonce_ = std::string(*r) + (nonce_suffix_.empty() ? message::base64_encode(random_bytes(18)) : nonce_suffix_);
  server_first_ = fmt::format("r={},s={},i={}", nonce_, message::base64_encode(secret->salt), secret->iterations);
  return {K::challenge, server_first_};
}

ScramServer::Step ScramServer::client_final(std::string_view msg) {
  using K = Step::Kind;
  const auto p = msg.rfind(",p=");
  if (p == std::string_view::npos) return {K::failure, "malformed client-final message"};
  const std::string_view without_proof = msg.substr(0, p);
  auto c = attr(without_proof, 'c');
  auto r = attr(without_proof, 'r');
  auto proof = sasl_base64_decode(msg.substr(p + 3));
  if (!c || !r || !proof || proof->size() != 32) return {K::failure, "malformed client-final message"};
  if (*c != message::base64_encode(gs2_header_)) return {K::failure, "channel binding data mismatch"};
  if (*r != nonce_) return {K::failure, "nonce mismatch"};
  const std::string auth_message = client_first_bare_ + "," + server_first_ + "," + std::string(without_proof);
  const std::string signature = hmac(stored_key_, auth_message);
  std::string client_key(32, '\0');
  for (std::size_t i = 0; i < 32; ++i) client_key[i] = char((*proof)[i] ^ signature[i]);
  const std::string check = sha256(client_key);
  const bool ok = CRYPTO_memcmp(check.data(), stored_key_.data(), 32) == 0;
  if (!ok || !may_log_in_) return {K::failure, "invalid credentials"};
  return {K::success, "v=" + message::base64_encode(hmac(server_key_, auth_message))};
}

}  // namespace mk::auth
