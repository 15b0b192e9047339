#include "auth/app_password.hpp"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <algorithm>

#include <fmt/format.h>

#include "base/strings.hpp"

namespace mk::auth {

Result<std::string> parse_scopes(std::string_view scopes) {
  std::vector<std::string> out;
  for (auto s : split(scopes, ',')) {
    const std::string scope = to_lower(trim(s));
    if (scope.empty()) continue;
    if (std::find(std::begin(kScopes), std::end(kScopes), scope) == std::end(kScopes))
      return err(fmt::format("unknown scope \"{}\"; use imap, submission or both (\"imap,submission\")", scope));
    if (std::find(out.begin(), out.end(), scope) == out.end()) out.push_back(scope);
  }
  if (out.empty()) return err("an app password needs at least one scope (imap, submission)");
  std::sort(out.begin(), out.end());
  std::string joined;
  for (const auto& s : out) joined += (joined.empty() ? "" : ",") + s;
  return joined;
}

bool in_scope(std::string_view scopes, std::string_view service) {
  for (auto s : split(scopes, ','))
    if (s == service) return true;
  return false;
}

std::string app_password_hash(std::string_view password) {
  unsigned char d[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(password.data()), password.size(), d);
  return hex(std::string_view(reinterpret_cast<char*>(d), sizeof d));
}

std::optional<store::AppPassword> match_app_password(const std::vector<store::AppPassword>& list,
                                                     std::string_view password, std::string_view service) {
  const std::string h = app_password_hash(password);
  std::optional<store::AppPassword> found;
  for (const auto& p : list) {
    // Every entry is compared, in constant time, whatever matched before.
    const bool same = p.hash.size() == h.size() && CRYPTO_memcmp(p.hash.data(), h.data(), h.size()) == 0;
    if (same && in_scope(p.scopes, service)) found = p;
  }
  return found;
}

}  // namespace mk::auth
