// store/error.hpp: what went wrong in a store call, as a code callers can act on.
//
// Every error a store backend returns carries one of these codes in Error::code; the message
// is for logs and operators, never for a peer (it may name tables or files). Callers map the
// code to their protocol's reply themselves: IMAP [NONEXISTENT]/[TRYCREATE], [ALREADYEXISTS],
// [OVERQUOTA], [UNAVAILABLE]; SMTP 451 4.3.0; CLI exit codes. A backend maps its own failures
// (SQLite result codes, later PostgreSQL SQLSTATEs) onto this list and nothing else.
#pragma once

#include <string>
#include <string_view>

#include "base/result.hpp"

namespace mk::store {

enum class Errc : int {
  not_found = 9001,  // no such account, mailbox, message, queue entry, ...
  already_exists,    // a unique name is taken (mailbox, account, alias, app password, ...)
  conflict,          // the data changed meanwhile, or the change breaks a rule of the data
  quota,             // the account's storage quota does not allow it
  unavailable,       // the database or the disk cannot serve now (busy, full, I/O error): retry later
  corrupt,           // stored data is unreadable: an operator must look
  invalid,           // the request itself is malformed (a bad address, a bad name)
};

inline Error error(Errc code, std::string message) { return Error{std::move(message), static_cast<int>(code)}; }

// The code of a store error; unavailable for an error that carries none (every failure that
// was not classified is treated as one to retry, never as "not found").
inline Errc errc(const Error& e) {
  if (e.code >= static_cast<int>(Errc::not_found) && e.code <= static_cast<int>(Errc::invalid))
    return static_cast<Errc>(e.code);
  return Errc::unavailable;
}
inline bool is(const Error& e, Errc code) { return errc(e) == code; }

inline std::string_view to_string(Errc c) {
  switch (c) {
    case Errc::not_found: return "not found";
    case Errc::already_exists: return "already exists";
    case Errc::conflict: return "conflict";
    case Errc::quota: return "over quota";
    case Errc::unavailable: return "unavailable";
    case Errc::corrupt: return "corrupt";
    case Errc::invalid: return "invalid";
  }
  return "unavailable";
}

}  // namespace mk::store
