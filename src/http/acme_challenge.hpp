// http/acme_challenge.hpp: the answers to ACME HTTP-01 challenges (RFC 8555 §8.3) that the
// ACME client has pending: a CA fetches http://NAME/.well-known/acme-challenge/TOKEN on port
// 80 and expects the key authorization. The client puts a token in before it asks the CA to
// validate and takes it out when the authorization is settled.
// SECURITY: only tokens put here are answered; a token is base64url (RFC 8555 §8.1) and
// anything else is refused before a lookup.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "http/message.hpp"
#include "http/router.hpp"

namespace mk::http {

class AcmeChallenges {
 public:
  void put(std::string token, std::string key_authorization);
  void remove(const std::string& token);
  std::optional<std::string> get(std::string_view token) const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::string, std::less<>> answers_;
};

// GET /.well-known/acme-challenge/TOKEN, on both ports (a CA may follow a redirect to 443).
void add_acme_challenge(Router& router, const AcmeChallenges& challenges);

}  // namespace mk::http
