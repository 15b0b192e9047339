// tests/unit/imap/scram_client.hpp: the client side of SCRAM-SHA-256 (RFC 5802 §3 with
// SHA-256, RFC 7677) for the IMAP tests, written from the RFC apart from the server code it
// checks: it computes the proof from the password and the signature the server must send.
#pragma once

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <string>
#include <string_view>
#include <utility>

#include "message/codec.hpp"

namespace mk::test {

inline std::string hmac(std::string_view key, std::string_view data) {
  unsigned char out[32];
  unsigned len = 0;
  HMAC(EVP_sha256(), key.data(), int(key.size()), reinterpret_cast<const unsigned char*>(data.data()), data.size(),
       out, &len);
  return std::string(reinterpret_cast<char*>(out), 32);
}

class ScramClient {
 public:
  ScramClient(std::string u, std::string p) : user(std::move(u)), password(std::move(p)) {}
  std::string user, password, nonce = "rOprNGfwEbeRWgbNEkqO";
  std::string authzid;           // sent as "a=" when set
  std::string server_signature;  // "v=...", known once final() ran
  std::string gs2_header() const { return "n," + (authzid.empty() ? "" : "a=" + authzid) + ","; }
  std::string client_first_bare() const { return "n=" + user + ",r=" + nonce; }
  // The client-first message, base64.
  std::string first() const { return message::base64_encode(gs2_header() + client_first_bare()); }
  // The client-final message (base64) for a server-first message (base64), or "" if malformed.
  std::string final(const std::string& server_first_b64) {
    const std::string sf = message::base64_decode(server_first_b64);
    auto field = [&](char c) -> std::string {
      const auto p = sf.find(std::string(1, c) + "=");
      if (p == std::string::npos) return {};
      return sf.substr(p + 2, sf.find(',', p) - p - 2);
    };
    const std::string r = field('r'), salt = message::base64_decode(field('s')), iter = field('i');
    if (!r.starts_with(nonce) || iter.empty()) return {};
    const int iterations = std::stoi(iter);
    unsigned char salted[32];
    PKCS5_PBKDF2_HMAC(password.data(), int(password.size()), reinterpret_cast<const unsigned char*>(salt.data()),
                      int(salt.size()), iterations, EVP_sha256(), 32, salted);
    const std::string salted_s(reinterpret_cast<char*>(salted), 32);
    const std::string client_key = hmac(salted_s, "Client Key");
    unsigned char stored[32];
    SHA256(reinterpret_cast<const unsigned char*>(client_key.data()), 32, stored);
    const std::string without_proof = "c=" + message::base64_encode(gs2_header()) + ",r=" + r;
    const std::string auth_message = client_first_bare() + "," + sf + "," + without_proof;
    const std::string signature = hmac(std::string(reinterpret_cast<char*>(stored), 32), auth_message);
    std::string proof(32, '\0');
    for (int i = 0; i < 32; ++i) proof[i] = char(client_key[i] ^ signature[i]);
    server_signature = "v=" + message::base64_encode(hmac(hmac(salted_s, "Server Key"), auth_message));
    return message::base64_encode(without_proof + ",p=" + message::base64_encode(proof));
  }
};

}  // namespace mk::test
