// auth/login.hpp: checking a protocol login (IMAP LOGIN/AUTHENTICATE, SMTP AUTH) against the
// store. One place, so every protocol gets the same rules: user names are matched
// case-insensitively, disabled accounts cannot log in, and an unknown user costs the same
// argon2id verification as a wrong password, so timing does not reveal which accounts exist.
// A successful login also derives the account's SCRAM verifier if it has none.
#pragma once

#include <optional>
#include <string_view>

#include "store/store.hpp"

namespace mk::auth {

std::optional<store::Account> check_login(store::Store& store, std::string_view user, std::string_view password);

}  // namespace mk::auth
