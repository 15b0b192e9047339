// auth/app_password.hpp: app passwords: one random password per mail client, limited to the
// services it needs (imap, submission), listed with their last use and revocable one by one.
// An account can require them: then its own password no longer works for IMAP or SMTP, so a
// phished or reused account password alone cannot read or send its mail.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/store.hpp"

namespace mk::auth {

inline constexpr std::string_view kScopes[] = {"imap", "submission"};
inline constexpr std::size_t kAppPasswordLength = 20;  // ~117 bits from a 58-letter alphabet

// "imap,submission" checked and normalized; an error names the unknown scope.
Result<std::string> parse_scopes(std::string_view scopes);
bool in_scope(std::string_view scopes, std::string_view service);

std::string app_password_hash(std::string_view password);  // hex SHA-256

// The app password of the account that matches and may be used for `service`, if any.
std::optional<store::AppPassword> match_app_password(const std::vector<store::AppPassword>& list,
                                                     std::string_view password, std::string_view service);

}  // namespace mk::auth
