#include "http/acme_challenge.hpp"

#include "base/strings.hpp"

namespace mk::http {
namespace {

constexpr std::string_view kPrefix = "/.well-known/acme-challenge/";
// RFC 8555 §8.1 asks for at least 128 bits of entropy (22 characters); CAs use 43.
constexpr std::size_t kMaxToken = 256;

bool is_token(std::string_view t) {
  if (t.empty() || t.size() > kMaxToken) return false;
  for (char c : t)
    if (!(is_alpha(c) || is_digit(c) || c == '-' || c == '_')) return false;
  return true;
}

}  // namespace

void AcmeChallenges::put(std::string token, std::string key_authorization) {
  std::lock_guard lock(mu_);
  answers_[std::move(token)] = std::move(key_authorization);
}

void AcmeChallenges::remove(const std::string& token) {
  std::lock_guard lock(mu_);
  answers_.erase(token);
}

std::optional<std::string> AcmeChallenges::get(std::string_view token) const {
  std::lock_guard lock(mu_);
  auto it = answers_.find(token);
  if (it == answers_.end()) return std::nullopt;
  return it->second;
}

void add_acme_challenge(Router& router, const AcmeChallenges& challenges) {
  router.add(
      {"GET"}, std::string(kPrefix),
      [&challenges](const Request& req) {
        const std::string_view token = std::string_view(req.path).substr(kPrefix.size());
        auto answer = is_token(token) ? challenges.get(token) : std::nullopt;
        if (!answer) return Response::text(404, "No such challenge.\n");
        Response r;
        r.content_type = "application/octet-stream";
        r.body = std::move(*answer);
        return r;
      },
      Over::both, /*prefix=*/true);
}

}  // namespace mk::http
