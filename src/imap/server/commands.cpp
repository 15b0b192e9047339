// imap/server/commands.cpp: the IMAP command table: each command's name, the state it needs
// (RFC 9051 §3: not authenticated, authenticated, selected), whether it has a UID form, and
// its handler. Session::dispatch checks the state and the UID form here, in one place, so a
// handler runs only where the RFC allows it.
#include <array>
#include <string_view>

#include "imap/server/session.hpp"

namespace mk::imap {

struct Session::Command {
  std::string_view name;
  Need need;
  bool uid_form;  // also as "UID <name>" (RFC 9051 §6.4.9)
  Output (*handler)(Session&, const CommandHead&, Cursor&);
};

const Session::Command* Session::find_command(std::string_view name) {
  using S = Session;
  using H = const CommandHead&;
  using C = Cursor&;
  // One row per command reads as a table.
  // clang-format off
  static const std::array<Command, 36> kCommands = {{
      // Any state (RFC 9051 §6.1).
      {"CAPABILITY", Need::any, false, [](S& s, H h, C c) { return s.cmd_capability(h, c); }},
      {"NOOP", Need::any, false, [](S& s, H h, C c) { return s.cmd_noop(h, c); }},
      {"LOGOUT", Need::any, false, [](S& s, H h, C c) { return s.cmd_logout(h, c); }},
      {"ID", Need::any, false, [](S& s, H h, C c) { return s.cmd_id(h, c); }},  // RFC 2971
      // Not authenticated (§6.2).
      {"STARTTLS", Need::not_authenticated, false, [](S& s, H h, C c) { return s.cmd_starttls(h, c); }},
      {"LOGIN", Need::not_authenticated, false, [](S& s, H h, C c) { return s.cmd_login(h, c); }},
      {"AUTHENTICATE", Need::not_authenticated, false, [](S& s, H h, C c) { return s.cmd_authenticate(h, c); }},
      // Authenticated (§6.3).
      {"SELECT", Need::authenticated, false, [](S& s, H h, C c) { return s.cmd_select(h, c, false); }},
      {"EXAMINE", Need::authenticated, false, [](S& s, H h, C c) { return s.cmd_select(h, c, true); }},
      {"CREATE", Need::authenticated, false, [](S& s, H h, C c) { return s.cmd_create(h, c); }},
      {"DELETE", Need::authenticated, false, [](S& s, H h, C c) { return s.cmd_delete(h, c); }},
      {"RENAME", Need::authenticated, false, [](S& s, H h, C c) { return s.cmd_rename(h, c); }},
      {"SUBSCRIBE", Need::authenticated, false, [](S& s, H h, C c) { return s.cmd_subscribe(h, c, true); }},
      {"UNSUBSCRIBE", Need::authenticated, false, [](S& s, H h, C c) { return s.cmd_subscribe(h, c, false); }},
      {"LIST", Need::authenticated, false, [](S& s, H h, C c) { return s.cmd_list(h, c, false); }},
      {"LSUB", Need::authenticated, false, [](S& s, H h, C c) { return s.cmd_list(h, c, true); }},
      {"NAMESPACE", Need::authenticated, false, [](S& s, H h, C c) { return s.cmd_namespace(h, c); }},
      {"STATUS", Need::authenticated, false, [](S& s, H h, C c) { return s.cmd_status(h, c); }},
      {"APPEND", Need::authenticated, false, [](S& s, H h, C c) { return s.cmd_append(h, c); }},
      {"ENABLE", Need::authenticated, false, [](S& s, H h, C c) { return s.cmd_enable(h, c); }},
      {"IDLE", Need::authenticated, false, [](S& s, H h, C c) { return s.cmd_idle(h, c); }},  // RFC 2177
      {"COMPRESS", Need::authenticated, false, [](S& s, H h, C c) { return s.cmd_compress(h, c); }},  // RFC 4978
      {"GETQUOTAROOT", Need::authenticated, false, [](S& s, H h, C c) { return s.cmd_quota(h, c); }},  // RFC 9208
      {"GETQUOTA", Need::authenticated, false, [](S& s, H h, C c) { return s.cmd_quota(h, c); }},
      {"SETQUOTA", Need::authenticated, false, [](S& s, H h, C c) { return s.cmd_quota(h, c); }},
      // Selected (§6.4).
      {"CHECK", Need::selected, false, [](S& s, H h, C c) { return s.cmd_check(h, c); }},
      {"CLOSE", Need::selected, false, [](S& s, H h, C c) { return s.cmd_close(h, c, true); }},
      {"UNSELECT", Need::selected, false, [](S& s, H h, C c) { return s.cmd_close(h, c, false); }},
      {"EXPUNGE", Need::selected, true, [](S& s, H h, C c) { return s.cmd_expunge(h, c); }},
      {"SEARCH", Need::selected, true, [](S& s, H h, C c) { return s.cmd_search(h, c); }},
      {"SORT", Need::selected, true, [](S& s, H h, C c) { return s.cmd_sort(h, c, false); }},  // RFC 5256
      {"THREAD", Need::selected, true, [](S& s, H h, C c) { return s.cmd_sort(h, c, true); }},
      {"FETCH", Need::selected, true, [](S& s, H h, C c) { return s.cmd_fetch(h, c); }},
      {"STORE", Need::selected, true, [](S& s, H h, C c) { return s.cmd_store(h, c); }},
      {"COPY", Need::selected, true, [](S& s, H h, C c) { return s.cmd_copy(h, c, false); }},
      {"MOVE", Need::selected, true, [](S& s, H h, C c) { return s.cmd_copy(h, c, true); }},  // RFC 6851
  }};
  // clang-format on
  for (const auto& cmd : kCommands)
    if (cmd.name == name) return &cmd;
  return nullptr;
}

Output Session::dispatch(const CommandHead& h, Cursor& c) {
  const Command* cmd = find_command(h.name);
  if (!cmd) return {tagged(h, "BAD", "Unknown command")};
  if (h.uid && !cmd->uid_form) return {tagged(h, "BAD", "Unknown UID command")};
  const bool authed = account_id_ != 0;
  switch (cmd->need) {
    case Need::any: break;
    case Need::not_authenticated:
      if (authed) return {tagged(h, "BAD", "Already authenticated")};
      break;
    case Need::authenticated:
      if (!authed) return {tagged(h, "BAD", "Log in first")};
      break;
    case Need::selected:
      if (!authed) return {tagged(h, "BAD", "Log in first")};
      if (!selected_) return {tagged(h, "BAD", "No mailbox selected")};
      break;
  }
  return cmd->handler(*this, h, c);
}

}  // namespace mk::imap
