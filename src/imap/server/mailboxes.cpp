// Mailbox commands: SELECT/EXAMINE, CREATE, DELETE, RENAME, (UN)SUBSCRIBE, NAMESPACE,
// GETQUOTA(ROOT), CLOSE/UNSELECT (LIST and LSUB: list.cpp; STATUS: status.cpp). Names are
// UTF-8 inside mailkeep; IMAP4rev1 clients see modified UTF-7 unless they ENABLE UTF8=ACCEPT
// or IMAP4rev2. "/" separates levels.
#include <set>

#include <fmt/format.h>

#include "base/strings.hpp"
#include "imap/proto/encode.hpp"
#include "imap/server/session.hpp"

namespace mk::imap {
namespace {

constexpr std::size_t kMaxMailboxName = 1000;
constexpr char kDelimiter = '/';
constexpr const char* kSystemFlags = "\\Answered \\Flagged \\Deleted \\Seen \\Draft";

bool valid_name(std::string_view n) {
  if (n.empty() || n.size() > kMaxMailboxName || n.front() == '/' || n.back() == '/') return false;
  if (n.find("//") != std::string_view::npos) return false;
  for (unsigned char c : n)
    if (c < 0x20 || c == 0x7f || c == '*' || c == '%') return false;
  return true;
}

}  // namespace

std::optional<std::string> Session::mailbox_arg(Cursor& c) {
  auto raw = c.astring();
  if (!raw) return std::nullopt;
  std::string name = *raw;
  if (!utf8_) {
    auto d = mutf7_decode(name);
    if (!d) return std::nullopt;
    name = *d;
  }
  // RFC 9051 §5.1: INBOX is case-insensitive, also as the first level of a path.
  if (iequals(name, "INBOX")) name = "INBOX";
  else if (name.size() > 6 && iequals(name.substr(0, 6), "INBOX/")) name = "INBOX" + name.substr(5);
  return name;
}

std::string Session::mailbox_out(const std::string& name) const {
  return imap_string(utf8_ ? name : mutf7_encode(name));
}

Output Session::cmd_select(const CommandHead& h, Cursor& c, bool read_only) {
  std::optional<std::string> name;
  if (!c.sp() || !(name = mailbox_arg(c))) return {tagged(h, "BAD", "Syntax: SELECT mailbox")};
  bool condstore_param = false;
  struct Resync {
    std::uint32_t uidvalidity;
    std::uint64_t modseq;
    std::optional<SeqSet> known;
  };
  std::optional<Resync> resync;
  if (c.sp()) {
    // select-params: (CONDSTORE) or (QRESYNC (uidvalidity modseq [known-uids ...]))
    if (!c.consume('(')) return {tagged(h, "BAD", "Unsupported SELECT parameter")};
    if (c.keyword("CONDSTORE")) {
      condstore_param = true;
    } else if (c.keyword("QRESYNC")) {
      if (!qresync_) return {tagged(h, "BAD", "QRESYNC is not enabled")};
      std::optional<std::uint32_t> uv;
      std::optional<std::uint64_t> ms;
      if (!c.sp() || !c.consume('(') || !(uv = c.nz_number()) || !c.sp() || !(ms = c.number64()))
        return {tagged(h, "BAD", "Syntax: QRESYNC (uidvalidity modseq [known-uids])")};
      Resync r{*uv, *ms, std::nullopt};
      if (c.sp() && !c.peek('(')) {
        r.known = parse_seq_set(c);
        if (!r.known) return {tagged(h, "BAD", "Invalid known-uids")};
        c.sp();
      }
      if (c.consume('(')) {  // seq-match-data: accepted, not needed (we keep expunge records)
        int depth = 1;
        while (!c.eof() && depth > 0) {
          if (c.consume('(')) ++depth;
          else if (c.consume(')')) --depth;
          else if (!c.atom()) c.sp();
        }
      }
      if (!c.consume(')')) return {tagged(h, "BAD", "Syntax: QRESYNC (uidvalidity modseq [known-uids])")};
      resync = r;
    } else {
      return {tagged(h, "BAD", "Unsupported SELECT parameter")};
    }
    if (!c.consume(')')) return {tagged(h, "BAD", "Unsupported SELECT parameter")};
  }
  if (!c.eof()) return {tagged(h, "BAD", "Unexpected arguments")};
  std::string out;
  if (selected_) out += "* OK [CLOSED] Previous mailbox closed\r\n";
  selected_.reset();
  auto mb = store_.mail.find_mailbox(account_id_, *name);
  if (!mb || !*mb) return {out + tagged(h, "NO", "[NONEXISTENT] No such mailbox")};
  if (!load_selected((*mb)->id, read_only)) return {out + tagged(h, "NO", "[SERVERBUG] Cannot open mailbox")};
  if (condstore_param) condstore_ = true;
  auto& s = *selected_;
  std::set<std::string> keywords;
  for (const auto& m : s.msgs)
    for (auto f : split(*m.flags, ' '))
      if (!f.empty() && f[0] != '\\') keywords.emplace(f);
  std::string kw;
  for (const auto& k : keywords) kw += " " + k;
  out += fmt::format("* FLAGS ({}{})\r\n", kSystemFlags, kw);
  out += fmt::format("* OK [PERMANENTFLAGS ({}{} \\*)] Flags permitted\r\n", kSystemFlags, kw);
  out += fmt::format("* {} EXISTS\r\n", s.msgs.size());
  if (!rev2_) {
    out += fmt::format("* {} RECENT\r\n", recent_count());
    for (std::size_t i = 0; i < s.msgs.size(); ++i) {
      if (!store::has_flag(*s.msgs[i].flags, "\\Seen")) {
        out += fmt::format("* OK [UNSEEN {}] First unseen\r\n", i + 1);
        break;
      }
    }
  }
  out += fmt::format("* OK [UIDVALIDITY {}] UIDs valid\r\n", s.uidvalidity);
  out += fmt::format("* OK [UIDNEXT {}] Predicted next UID\r\n", s.uidnext);
  out += fmt::format("* OK [HIGHESTMODSEQ {}] Highest\r\n", s.modseq);
  if (rev2_) out += fmt::format("* LIST () \"/\" {}\r\n", mailbox_out(s.name));
  if (resync && resync->uidvalidity == s.uidvalidity) {
    // RFC 7162 §3.2.5: what vanished and what changed since the client's last sync.
    auto gone = store_.mail.expunged_since(s.id, resync->modseq);
    if (gone && !gone->empty()) {
      std::vector<std::uint32_t> v;
      for (auto u : *gone)
        if (!resync->known || resync->known->contains(u, s.uidnext)) v.push_back(u);
      if (!v.empty()) out += "* VANISHED (EARLIER) " + compact_set(v) + "\r\n";
    }
    auto changed = store_.mail.changed_since(s.id, resync->modseq);
    if (changed) {
      for (const auto& m : *changed) {
        auto i = index_of_uid(m.uid);
        if (i) out += fmt::format("* {} FETCH (UID {} FLAGS ({}) MODSEQ ({}))\r\n", *i + 1, m.uid, m.flags, m.modseq);
      }
    }
  }
  out += tagged(h, "OK", read_only ? "[READ-ONLY] EXAMINE completed" : "[READ-WRITE] SELECT completed");
  return {out};
}

Output Session::cmd_create(const CommandHead& h, Cursor& c) {
  std::optional<std::string> name;
  if (!c.sp() || !(name = mailbox_arg(c))) return {tagged(h, "BAD", "Syntax: CREATE mailbox")};
  while (!name->empty() && name->back() == kDelimiter) name->pop_back();  // "foo/" creates foo
  if (!valid_name(*name)) return {tagged(h, "NO", "[CANNOT] Invalid mailbox name")};
  if (*name == "INBOX") return {tagged(h, "NO", "[ALREADYEXISTS] INBOX always exists")};
  // Create missing parents too (RFC 9051 §6.3.4).
  std::string path;
  for (auto part : split(*name, kDelimiter)) {
    path += (path.empty() ? "" : "/") + std::string(part);
    auto existing = store_.mail.find_mailbox(account_id_, path);
    if (!existing) return {tagged(h, "NO", "[SERVERBUG] Cannot create mailbox")};
    if (*existing) {
      if (path == *name) return {tagged(h, "NO", "[ALREADYEXISTS] Mailbox already exists")};
      continue;
    }
    if (auto r = store_.mail.create_mailbox(account_id_, path, ""); !r) return {store_failure(h, r.error())};
  }
  return {tagged(h, "OK", "CREATE completed")};
}

Output Session::cmd_delete(const CommandHead& h, Cursor& c) {
  std::optional<std::string> name;
  if (!c.sp() || !(name = mailbox_arg(c)) || !c.eof()) return {tagged(h, "BAD", "Syntax: DELETE mailbox")};
  if (*name == "INBOX") return {tagged(h, "NO", "[CANNOT] INBOX cannot be deleted")};
  auto mb = store_.mail.find_mailbox(account_id_, *name);
  if (!mb || !*mb) return {tagged(h, "NO", "[NONEXISTENT] No such mailbox")};
  if (!(*mb)->special_use.empty()) return {tagged(h, "NO", "[CANNOT] Special-use mailboxes cannot be deleted")};
  if (selected_ && selected_->id == (*mb)->id) selected_.reset();
  if (auto r = store_.mail.delete_mailbox(account_id_, *name); !r) return {store_failure(h, r.error())};
  return {tagged(h, "OK", "DELETE completed")};
}

Output Session::cmd_rename(const CommandHead& h, Cursor& c) {
  std::optional<std::string> from, to;
  if (!c.sp() || !(from = mailbox_arg(c)) || !c.sp() || !(to = mailbox_arg(c)) || !c.eof())
    return {tagged(h, "BAD", "Syntax: RENAME from to")};
  if (!valid_name(*to) || *to == "INBOX") return {tagged(h, "NO", "[CANNOT] Invalid target name")};
  auto r = store_.mail.rename_mailbox(account_id_, *from, *to);
  if (!r) return {store_failure(h, r.error())};
  return {tagged(h, "OK", "RENAME completed")};
}

Output Session::cmd_subscribe(const CommandHead& h, Cursor& c, bool on) {
  std::optional<std::string> name;
  if (!c.sp() || !(name = mailbox_arg(c)) || !c.eof()) return {tagged(h, "BAD", "Syntax: SUBSCRIBE mailbox")};
  auto r = store_.mail.set_subscribed(account_id_, *name, on);
  if (!r) return {tagged(h, "NO", "[NONEXISTENT] No such mailbox")};
  return {tagged(h, "OK", on ? "SUBSCRIBE completed" : "UNSUBSCRIBE completed")};
}

std::optional<store::Account> Session::account() const {
  auto a = store_.accounts.directory.find_account(user_);
  if (!a || !*a) return std::nullopt;
  return **a;
}

Output Session::cmd_quota(const CommandHead& h, Cursor& c) {
  // RFC 9208: one quota root, "", covering the whole account, with the STORAGE resource.
  if (h.name == "SETQUOTA") return {tagged(h, "NO", "[NOPERM] Quotas are set by the administrator")};
  auto acct = account();
  if (!acct) return {tagged(h, "NO", "[SERVERBUG] Account not found")};
  const std::string quota = acct->quota_bytes == 0 ? std::string()
      : fmt::format("* QUOTA \"\" (STORAGE {} {})\r\n", (acct->used_bytes + 1023) / 1024, acct->quota_bytes / 1024);
  if (h.name == "GETQUOTA") {
    std::optional<std::string> root;
    if (!c.sp() || !(root = c.astring()) || !c.eof()) return {tagged(h, "BAD", "Syntax: GETQUOTA root")};
    if (!root->empty() || quota.empty()) return {tagged(h, "NO", "[NONEXISTENT] No such quota root")};
    return {quota + tagged(h, "OK", "GETQUOTA completed")};
  }
  std::optional<std::string> name;
  if (!c.sp() || !(name = mailbox_arg(c)) || !c.eof()) return {tagged(h, "BAD", "Syntax: GETQUOTAROOT mailbox")};
  auto mb = store_.mail.find_mailbox(account_id_, *name);
  if (!mb || !*mb) return {tagged(h, "NO", "[NONEXISTENT] No such mailbox")};
  return {fmt::format("* QUOTAROOT {}{}\r\n", mailbox_out(*name), quota.empty() ? "" : " \"\"") + quota +
          tagged(h, "OK", "GETQUOTAROOT completed")};
}

Output Session::cmd_namespace(const CommandHead& h, Cursor& c) {
  return {"* NAMESPACE ((\"\" \"/\")) NIL NIL\r\n" + tagged(h, "OK", "NAMESPACE completed")};
}

Output Session::cmd_close(const CommandHead& h, Cursor& c, bool expunge) {
  if (!c.eof()) return {tagged(h, "BAD", "No arguments expected")};
  if (expunge && !selected_->read_only) {
    std::vector<std::uint32_t> uids;
    for (const auto& m : selected_->msgs)
      if (store::has_flag(*m.flags, "\\Deleted")) uids.push_back(m.uid);
    // Silently (RFC 9051 §6.4.1): the client is told nothing either way, the log is.
    if (!uids.empty()) {
      auto unread = unread_junk(uids);
      if (auto r = store_.mail.expunge(selected_->id, uids); !r)
        store_error_ = "CLOSE expunge: " + r.error().message;
      else
        expunged_unread(std::move(unread), *r);
    }
  }
  selected_.reset();
  return {tagged(h, "OK", expunge ? "CLOSE completed" : "UNSELECT completed")};
}

}  // namespace mk::imap
