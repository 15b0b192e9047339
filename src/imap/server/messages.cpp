// Message commands: FETCH, STORE, COPY, MOVE, EXPUNGE (and UID forms), APPEND.
#include <algorithm>
#include <ctime>
#include <set>

#include <fmt/format.h>

#include "base/strings.hpp"
#include "imap/proto/encode.hpp"
#include "imap/proto/fetch.hpp"
#include "imap/proto/summary.hpp"
#include "imap/server/session.hpp"
#include "imap/server/summary_cache.hpp"
#include "message/codec.hpp"
#include "message/header.hpp"
#include "message/mime.hpp"

namespace mk::imap {
namespace {

std::string internal_date(std::int64_t t) {
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::time_t tt = t;
  std::tm tm{};
  gmtime_r(&tt, &tm);
  return fmt::format("\"{:02d}-{}-{} {:02d}:{:02d}:{:02d} +0000\"", tm.tm_mday, kMonths[tm.tm_mon],
                     tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

// Above this many messages a FETCH reads the whole mailbox index rather than naming UIDs.
constexpr std::size_t kInListLimit = 500;
// On a summary cache miss, FETCH reads the stored summaries of this many messages at once
// (about 1 KiB each): one store call per batch instead of one per message.
constexpr std::size_t kSummaryBatch = 1000;
// A FETCH response is handed to the connection in pieces of about this size.
constexpr std::size_t kFetchChunk = 256 * 1024;

std::string literal(std::string_view data) { return fmt::format("{{{}}}\r\n", data.size()) + std::string(data); }

std::string apply_partial(std::string s, const FetchAtt& a) {
  if (!a.partial) return s;
  if (a.partial->first >= s.size()) return {};
  return s.substr(a.partial->first, a.partial->second);
}

// The index row of a message of a FETCH (infos by UID); nullptr if it was expunged meanwhile.
const store::MessageInfo* info_for(const std::vector<store::MessageInfo>& infos, std::uint32_t uid) {
  auto it = std::lower_bound(infos.begin(), infos.end(), uid,
                             [](const store::MessageInfo& m, std::uint32_t u) { return m.uid < u; });
  return (it != infos.end() && it->uid == uid) ? &*it : nullptr;
}

}  // namespace

std::shared_ptr<const Summary> Session::stored_summary(PendingFetch& f, const store::MessageInfo& info) {
  if (f.next >= f.stored_end) {
    // Read the summaries of this message and the next ones in one call.
    std::vector<std::uint32_t> batch;
    std::size_t end = f.next;
    for (; end < f.uids.size() && batch.size() < kSummaryBatch; ++end)
      if (info_for(f.infos, f.uids[end])) batch.push_back(f.uids[end]);
    f.stored.clear();
    f.stored_end = end;
    auto got = store_.mail.read_summaries(selected_->id, batch);
    if (!got) {
      // Not fatal: these messages are parsed instead, as if they had none.
      store_warning_ = "reading stored summaries: " + got.error().message;
      return nullptr;
    }
    f.stored.reserve(batch.size());
    for (std::size_t i = 0; i < batch.size(); ++i) f.stored.emplace_back(batch[i], std::move(got.value()[i]));
    std::sort(f.stored.begin(), f.stored.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  }
  auto it = std::lower_bound(f.stored.begin(), f.stored.end(), info.uid,
                             [](const auto& e, std::uint32_t u) { return e.first < u; });
  if (it == f.stored.end() || it->first != info.uid || !it->second) return nullptr;
  auto decoded = decode_summary(std::move(*it->second));  // each message is answered once
  it->second.reset();
  // One that does not decode (damaged, or of another version) is rendered again and replaced.
  if (!decoded) return nullptr;
  auto sm = std::make_shared<const Summary>(std::move(*decoded));
  if (cfg_.cache) cfg_.cache->put(info.blob, sm);
  return sm;
}

void Session::save_backfill(PendingFetch& f) {
  if (f.backfill.empty()) return;
  // Best effort: the client has its answer either way; the next FETCH parses them again.
  if (auto st = store_.mail.save_summaries(selected_->id, f.backfill); !st)
    store_warning_ = fmt::format("saving {} summaries: {}", f.backfill.size(), st.error().message);
  f.backfill.clear();
}

Output Session::cmd_fetch(const CommandHead& h, Cursor& c) {
  std::optional<SeqSet> set;
  if (!c.sp() || !(set = parse_seq_set(c)) || !c.sp()) return {tagged(h, "BAD", "Syntax: FETCH set items")};
  std::string error;
  auto atts = parse_fetch_atts(c, error);
  if (!atts) return {tagged(h, "BAD", error)};
  std::optional<std::uint64_t> changed_since;
  bool vanished = false;
  if (c.sp()) {
    // fetch-modifiers: (CHANGEDSINCE n [VANISHED]) (RFC 7162 §3.1.4, §3.2.6)
    if (!c.consume('(') || !c.keyword("CHANGEDSINCE") || !c.sp() || !(changed_since = c.number64()))
      return {tagged(h, "BAD", "Unsupported FETCH modifier")};
    if (c.sp()) {
      if (!c.keyword("VANISHED")) return {tagged(h, "BAD", "Unsupported FETCH modifier")};
      if (!qresync_ || !h.uid) return {tagged(h, "BAD", "VANISHED needs UID FETCH with QRESYNC enabled")};
      vanished = true;
    }
    if (!c.consume(')')) return {tagged(h, "BAD", "Unsupported FETCH modifier")};
    condstore_ = true;
  }
  if (!c.eof()) return {tagged(h, "BAD", "Unexpected arguments")};
  auto& s = *selected_;
  const auto idx = resolve(*set, h.uid);
  if (!h.uid && !set->saved) {
    for (auto [a, b] : set->ranges)
      if ((a != kStar && a > s.msgs.size()) || (b != kStar && b > s.msgs.size()))
        return {tagged(h, "BAD", "Invalid message sequence number")};
  }
  bool needs_data = false, needs_mime = false, wants_summary = false, sets_seen = false,
       wants_modseq = condstore_;
  for (const auto& a : *atts) {
    using K = FetchAtt::Kind;
    if (a.kind == K::envelope || a.kind == K::body || a.kind == K::body_structure) wants_summary = true;
    if (a.kind == K::rfc822 || a.kind == K::rfc822_header || a.kind == K::rfc822_text ||
        a.kind == K::body_section || a.kind == K::binary || a.kind == K::binary_size)
      needs_data = true;
    if (a.kind == K::rfc822_header || a.kind == K::rfc822_text || a.kind == K::binary ||
        a.kind == K::binary_size ||
        (a.kind == K::body_section && (!a.section.part.empty() || a.section.text != Section::Text::none)))
      needs_mime = true;
    if ((a.kind == K::body_section && !a.peek) || (a.kind == K::binary && !a.peek) || a.kind == K::rfc822 ||
        a.kind == K::rfc822_text)
      sets_seen = true;
    if (a.kind == K::modseq) wants_modseq = true;
  }
  auto f = std::make_unique<PendingFetch>();
  f->head = h;
  f->atts = std::move(*atts);
  f->changed_since = changed_since;
  f->needs_data = needs_data;
  f->needs_mime = needs_mime;
  f->wants_summary = wants_summary;
  f->sets_seen = sets_seen;
  f->wants_modseq = wants_modseq;
  {
    // Whole-mailbox sweeps (1:*) read the mailbox in one scan instead of a huge IN list.
    std::vector<std::uint32_t> uids;
    uids.reserve(idx.size());
    for (auto i : idx) uids.push_back(s.msgs[i].uid);
    auto got = idx.size() > kInListLimit ? store_.mail.list_messages(s.id) : store_.mail.messages_by_uid(s.id, uids);
    if (!got) return {tagged(h, "NO", "[SERVERBUG] Cannot read mailbox")};
    f->infos = std::move(got.value());
  }
  if (sets_seen && !s.read_only) {
    std::vector<std::uint32_t> unseen;
    for (auto i : idx)
      if (!store::has_flag(*s.msgs[i].flags, "\\Seen")) unseen.push_back(s.msgs[i].uid);
    if (!unseen.empty()) {
      auto r = store_.mail.update_flags(s.id, unseen, {store::FlagUpdate::Op::add, {"\\Seen"}, {}});
      if (r) {
        for (const auto& ch : r->changed)
          for (auto& info : f->infos)
            if (info.uid == ch.uid) info.flags = ch.flags, info.modseq = ch.modseq;
      }
    }
  }
  // FETCH answers by sequence number; keep the UIDs, since numbers may shift only at updates().
  f->uids.reserve(idx.size());
  for (auto i : idx) f->uids.push_back(s.msgs[i].uid);
  std::string out;
  if (vanished) {
    auto gone = store_.mail.expunged_since(s.id, *changed_since);
    std::vector<std::uint32_t> v;
    if (gone)
      for (auto u : *gone)
        if (set->contains(u, s.uidnext)) v.push_back(u);
    if (!v.empty()) out += "* VANISHED (EARLIER) " + compact_set(v) + "\r\n";
  }
  fetch_ = std::move(f);
  Output o = on_more();
  o.data.insert(0, out);
  return o;
}

Output Session::on_more() {
  // The response goes out in pieces of about kFetchChunk bytes: a 1:* sweep over a large
  // mailbox costs bounded memory, and the client parses while the server renders.
  auto& f = *fetch_;
  const CommandHead h = f.head;  // a copy: fetch_ is released before the tagged reply
  auto& s = *selected_;
  const auto& atts = f.atts;
  const bool needs_data = f.needs_data, needs_mime = f.needs_mime, wants_summary = f.wants_summary,
             sets_seen = f.sets_seen, wants_modseq = f.wants_modseq;
  const auto& changed_since = f.changed_since;
  std::string out;
  auto fail = [&](std::string_view status, std::string_view text) {
    save_backfill(f);
    fetch_.reset();
    return Output{out + tagged(h, status, text)};
  };
  for (; f.next < f.uids.size() && out.size() < kFetchChunk; ++f.next) {
    auto pos = index_of_uid(f.uids[f.next]);
    if (!pos) continue;
    const std::size_t i = *pos;
    auto& e = s.msgs[i];
    const store::MessageInfo* info = info_for(f.infos, e.uid);
    if (!info) continue;  // expunged by another session; reported at the next update
    if (changed_since && info->modseq <= *changed_since) continue;
    // Items go straight into the response (message bodies are not copied again).
    out += fmt::format("* {} FETCH (", i + 1);
    bool first = true;
    auto add = [&](std::string_view x) {
      if (!first) out += ' ';
      out += x;
      first = false;
    };
    bool has_uid = false, has_flags = false;
    for (const auto& a : atts) has_uid |= a.kind == FetchAtt::Kind::uid;
    // RFC 9051 §6.4.8: UID FETCH always returns UID.
    if (h.uid && !has_uid) add(fmt::format("UID {}", e.uid));
    const bool flags_changed = *e.flags != info->flags;
    if (flags_changed) e.flags = intern(info->flags);
    e.modseq = info->modseq;
    // ENVELOPE/BODY/BODYSTRUCTURE come from the shared cache, else from the summary stored
    // with the message (after a restart); the message is read only for the items that need
    // its bytes, and parsed only when a part is needed or it has no usable summary (stored
    // before summaries were, or damaged): then the summary is rendered and saved with it.
    std::shared_ptr<const Summary> summary;
    if (wants_summary && cfg_.cache) summary = cfg_.cache->get(info->blob);
    if (wants_summary && !summary) summary = stored_summary(f, *info);
    std::string data;
    std::optional<message::Part> mime;
    if (needs_data || (wants_summary && !summary)) {
      auto d = store_.mail.read_message(*info);
      if (!d) return fail("NO", "[SERVERBUG] Cannot read message");
      data = std::move(d.value());
      if (needs_mime || (wants_summary && !summary)) mime = message::parse_mime(data);
      if (wants_summary && !summary) {
        auto sm = std::make_shared<const Summary>(summarize(*mime));
        f.backfill.emplace_back(info->uid, encode_summary(*sm));
        if (cfg_.cache) cfg_.cache->put(info->blob, sm);
        summary = std::move(sm);
      }
    }
    for (const auto& a : atts) {
      using K = FetchAtt::Kind;
      switch (a.kind) {
        case K::uid: add(fmt::format("UID {}", e.uid)); break;
        case K::flags: add(fmt::format("FLAGS ({})", flags_out(e))), has_flags = true; break;
        case K::internaldate: add("INTERNALDATE " + internal_date(info->internaldate)); break;
        case K::rfc822_size: add(fmt::format("RFC822.SIZE {}", data.empty() ? info->size : data.size())); break;
        case K::modseq: break;  // added below
        case K::envelope: add("ENVELOPE "), out += summary->envelope(); break;
        case K::body_structure: add("BODYSTRUCTURE "), out += summary->bodystructure(); break;
        case K::body: add("BODY "), out += summary->body(); break;
        case K::rfc822: add("RFC822 " + literal(data)); break;
        case K::rfc822_header: add("RFC822.HEADER " + literal(mime->header_text(data))); break;
        case K::rfc822_text: add("RFC822.TEXT " + literal(mime->body(data))); break;
        case K::body_section: {
          if (a.section.part.empty() && a.section.text == Section::Text::none) {
            // Whole message: no parse, and no copy beyond the one into the response.
            std::string_view body = data;
            if (a.partial) body = a.partial->first >= body.size() ? std::string_view() : body.substr(a.partial->first, a.partial->second);
            add(fmt::format("{} {{{}}}\r\n", a.name, body.size()));
            out += body;
            break;
          }
          auto bytes = section_bytes(data, *mime, a.section);
          add(a.name + " " + (bytes ? literal(apply_partial(std::move(*bytes), a)) : std::string("NIL")));
          break;
        }
        case K::binary:
        case K::binary_size: {
          const message::Part* p = message::find_part(*mime, a.section.part);
          if (!p || p->is_multipart()) return fail("NO", "[UNKNOWN-CTE] No such part or not a leaf part");
          if (p->encoding != "7bit" && p->encoding != "8bit" && p->encoding != "binary" &&
              p->encoding != "base64" && p->encoding != "quoted-printable")
            return fail("NO", "[UNKNOWN-CTE] Unknown Content-Transfer-Encoding");
          std::string decoded = a.section.part.empty() ? std::string(p->body(data))
                                                        : message::decode_transfer(p->body(data), p->encoding);
          if (a.kind == K::binary_size) add(fmt::format("{} {}", a.name, decoded.size()));
          else add(a.name + " " + (decoded.find('\0') != std::string::npos ? "~" : "") + literal(apply_partial(decoded, a)));
          break;
        }
      }
    }
    // A \Seen change is reported with FLAGS.
    if (sets_seen && flags_changed && !has_flags) add(fmt::format("FLAGS ({})", flags_out(e)));
    if (wants_modseq) add(fmt::format("MODSEQ ({})", e.modseq));
    out += ")\r\n";
  }
  // Saved after each piece: a client that leaves in the middle of a sweep loses none.
  save_backfill(f);
  if (f.next < f.uids.size()) return {std::move(out), Next::more};
  fetch_.reset();
  return {out + updates(h.uid) + tagged(h, "OK", "FETCH completed")};
}

Output Session::cmd_store(const CommandHead& h, Cursor& c) {
  std::optional<SeqSet> set;
  if (!c.sp() || !(set = parse_seq_set(c)) || !c.sp()) return {tagged(h, "BAD", "Syntax: STORE set item flags")};
  store::FlagUpdate u;
  if (c.consume('(')) {
    std::optional<std::uint64_t> n;
    if (!c.keyword("UNCHANGEDSINCE") || !c.sp() || !(n = c.number64()) || !c.consume(')') || !c.sp())
      return {tagged(h, "BAD", "Unsupported STORE modifier")};
    u.unchanged_since = *n;
    condstore_ = true;
  }
  if (c.consume('+')) u.op = store::FlagUpdate::Op::add;
  else if (c.consume('-')) u.op = store::FlagUpdate::Op::remove;
  else u.op = store::FlagUpdate::Op::replace;
  bool silent;
  if (c.keyword("FLAGS.SILENT")) silent = true;
  else if (c.keyword("FLAGS")) silent = false;
  else return {tagged(h, "BAD", "Syntax: STORE set [+-]FLAGS[.SILENT] (flags)")};
  if (!c.sp()) return {tagged(h, "BAD", "Missing flags")};
  if (c.peek('(')) {
    auto f = parse_flag_list(c);
    if (!f) return {tagged(h, "BAD", "Invalid flag list")};
    u.flags = std::move(*f);
  } else {
    do {
      auto f = parse_flag(c);
      if (!f) return {tagged(h, "BAD", "Invalid flag")};
      u.flags.push_back(std::move(*f));
    } while (c.sp());
  }
  if (!c.eof()) return {tagged(h, "BAD", "Unexpected arguments")};
  for (const auto& f : u.flags)
    if (f == "\\Recent") return {tagged(h, "BAD", "\\Recent cannot be stored")};
  auto& s = *selected_;
  if (s.read_only) return {tagged(h, "NO", "[READ-ONLY] Mailbox is read-only")};
  const auto idx = resolve(*set, h.uid);
  std::vector<std::uint32_t> uids;
  for (auto i : idx) uids.push_back(s.msgs[i].uid);
  auto r = store_.mail.update_flags(s.id, uids, u);
  if (!r) return {store_failure(h, r.error())};
  std::string out;
  for (const auto& ch : r->changed) {
    auto i = index_of_uid(ch.uid);
    if (!i) continue;
    s.msgs[*i].flags = intern(ch.flags);
    s.msgs[*i].modseq = ch.modseq;
    if (!silent || u.unchanged_since)
      out += fmt::format("* {} FETCH ({}FLAGS ({}){})\r\n", *i + 1, h.uid ? fmt::format("UID {} ", ch.uid) : "",
                         flags_out(s.msgs[*i]), condstore_ ? fmt::format(" MODSEQ ({})", ch.modseq) : "");
  }
  if (!r->changed.empty()) s.modseq = std::max(s.modseq, r->changed.back().modseq);
  std::string code;
  if (!r->failed.empty()) {
    std::vector<std::uint32_t> failed = r->failed;
    if (!h.uid) {
      for (auto& f : failed) f = std::uint32_t(*index_of_uid(f) + 1);
    }
    code = "[MODIFIED " + compact_set(failed) + "] ";
  }
  return {out + updates(h.uid) + tagged(h, "OK", code + "STORE completed")};
}

Output Session::cmd_copy(const CommandHead& h, Cursor& c, bool move) {
  std::optional<SeqSet> set;
  std::optional<std::string> dest;
  if (!c.sp() || !(set = parse_seq_set(c)) || !c.sp() || !(dest = mailbox_arg(c)) || !c.eof())
    return {tagged(h, "BAD", move ? "Syntax: MOVE set mailbox" : "Syntax: COPY set mailbox")};
  auto& s = *selected_;
  if (move && s.read_only) return {tagged(h, "NO", "[READ-ONLY] Mailbox is read-only")};
  auto mb = store_.mail.find_mailbox(account_id_, *dest);
  if (!mb || !*mb) return {tagged(h, "NO", "[TRYCREATE] No such mailbox")};
  std::vector<std::uint32_t> uids;
  for (auto i : resolve(*set, h.uid)) uids.push_back(s.msgs[i].uid);
  if (uids.empty()) return {tagged(h, "OK", move ? "MOVE completed" : "COPY completed")};
  if (!move) {
    std::uint64_t bytes = 0;
    if (auto infos = store_.mail.messages_by_uid(s.id, uids))
      for (const auto& m : *infos) bytes += m.size;
    if (auto acct = account(); acct && acct->over_quota(bytes))
      return {tagged(h, "NO", "[OVERQUOTA] Not enough room for the copies")};
  }
  auto r = store_.mail.copy_messages(s.id, uids, (*mb)->id, move);
  if (!r) return {store_failure(h, r.error())};
  std::vector<std::uint32_t> from, to;
  for (auto [a, b] : r->uids) from.push_back(a), to.push_back(b);
  // Into Junk: the user says spam; out of it (except to Trash): ham. From Junk to Trash
  // without reading it (how most clients delete): spam.
  const auto source = store_.mail.mailbox_by_id(s.id);
  const bool from_junk = source && source->special_use == "\\Junk";
  const bool to_junk = (*mb)->special_use == "\\Junk";
  const bool to_trash = (*mb)->special_use == "\\Trash";
  if (from_junk != to_junk && !to_trash && !to.empty()) {
    train_event_ = train_event(to_junk, (*mb)->id, to);
    // The user's own messages (Sent, Drafts) and what they threw away say nothing of what
    // others send that they want.
    const bool kept_is_wanted = to_junk && source && source->special_use != "\\Sent" &&
                                source->special_use != "\\Drafts" &&
                                source->special_use != "\\Trash";
    if (kept_is_wanted) {
      std::vector<std::uint32_t> moved = from;
      std::sort(moved.begin(), moved.end());
      auto& kept = train_event_->kept;
      train_event_->kept_mailbox = s.id;
      train_event_->kept_uidnext = source->uidnext;
      // From the newest message older than the newest moved one (the view is in UID order).
      const auto older =
          std::lower_bound(s.msgs.begin(), s.msgs.end(), moved.back(),
                           [](const SeqEntry& e, std::uint32_t uid) { return e.uid < uid; });
      for (std::size_t i = std::size_t(older - s.msgs.begin()), scanned = 0;
           i-- > 0 && scanned < TrainEvent::kMaxKeptScanned && kept.size() < TrainEvent::kMaxKept;
           ++scanned) {
        const auto& m = s.msgs[i];
        if (std::binary_search(moved.begin(), moved.end(), m.uid)) continue;
        const std::string& flags = *m.flags;
        if (store::has_flag(flags, "\\Seen") && !store::has_flag(flags, "\\Deleted"))
          kept.push_back(m.uid);
      }
    }
  } else if (from_junk && to_trash) {
    TrainEvent ev = train_event(true, (*mb)->id, {});
    ev.unread_deletion = true;
    for (auto [a, b] : r->uids)
      if (auto i = index_of_uid(a); i && !store::has_flag(*s.msgs[*i].flags, "\\Seen"))
        ev.uids.push_back(b);
    if (!ev.uids.empty() && TrainEvent::judged_deletion(r->uids.size(), ev.uids.size(), s.msgs.size()))
      train_event_ = std::move(ev);
  }
  const std::string copyuid = fmt::format("[COPYUID {} {} {}]", r->uidvalidity, compact_set(from), compact_set(to));
  if (!move) return {updates(h.uid) + tagged(h, "OK", copyuid + " COPY completed")};
  // RFC 6851 §4.3: COPYUID goes in an untagged OK before the EXPUNGEs.
  return {"* OK " + copyuid + " Moved\r\n" + updates(true) + tagged(h, "OK", "MOVE completed")};
}

Output Session::cmd_expunge(const CommandHead& h, Cursor& c) {
  std::optional<SeqSet> set;
  if (h.uid && (!c.sp() || !(set = parse_seq_set(c)))) return {tagged(h, "BAD", "Syntax: UID EXPUNGE set")};
  if (!c.eof()) return {tagged(h, "BAD", "Unexpected arguments")};
  auto& s = *selected_;
  if (s.read_only) return {tagged(h, "NO", "[READ-ONLY] Mailbox is read-only")};
  std::vector<std::uint32_t> uids;
  const auto idx = set ? resolve(*set, true) : std::vector<std::size_t>();
  for (std::size_t i = 0; i < s.msgs.size(); ++i) {
    if (!store::has_flag(*s.msgs[i].flags, "\\Deleted")) continue;
    if (set && !std::binary_search(idx.begin(), idx.end(), i)) continue;
    uids.push_back(s.msgs[i].uid);
  }
  if (!uids.empty()) {
    auto unread = unread_junk(uids);
    auto r = store_.mail.expunge(s.id, uids);
    if (!r) return {store_failure(h, r.error())};
    expunged_unread(std::move(unread), *r);
  }
  return {updates(true) + tagged(h, "OK", "EXPUNGE completed")};
}

Session::TrainEvent Session::train_event(bool spam, std::int64_t mailbox, std::vector<std::uint32_t> uids) const {
  TrainEvent ev;
  ev.account_id = account_id_;
  ev.spam = spam;
  ev.mailbox = mailbox;
  ev.uids = std::move(uids);
  return ev;
}

std::optional<Session::TrainEvent> Session::unread_junk(const std::vector<std::uint32_t>& uids) {
  const auto mb = store_.mail.mailbox_by_id(selected_->id);
  if (!mb || mb->special_use != "\\Junk") return std::nullopt;
  auto infos = store_.mail.messages_by_uid(selected_->id, uids);
  if (!infos) return std::nullopt;  // learning is not worth failing the EXPUNGE for
  std::size_t unread = 0;
  for (const auto& info : *infos) unread += !store::has_flag(info.flags, "\\Seen");
  if (!TrainEvent::judged_deletion(infos->size(), unread, selected_->msgs.size())) return std::nullopt;
  TrainEvent ev = train_event(true, selected_->id, {});
  ev.unread_deletion = true;
  for (const auto& info : *infos) {
    if (ev.gone.size() == TrainEvent::kMaxGone) break;
    if (store::has_flag(info.flags, "\\Seen") || info.size > TrainEvent::kMaxGoneBytes) continue;
    auto text = store_.mail.read_message(info);
    if (!text) continue;
    ev.uids.push_back(info.uid);
    ev.gone.push_back({info.blob, std::move(*text)});
  }
  if (ev.gone.empty()) return std::nullopt;
  return ev;
}

void Session::expunged_unread(std::optional<TrainEvent> ev, const std::vector<std::uint32_t>& removed) {
  if (!ev) return;
  std::vector<std::uint32_t> gone = removed;
  std::sort(gone.begin(), gone.end());
  std::size_t kept = 0;
  for (std::size_t i = 0; i < ev->uids.size(); ++i) {
    if (!std::binary_search(gone.begin(), gone.end(), ev->uids[i])) continue;  // another session's meanwhile
    if (kept != i) {  // (a self-move would empty the text)
      ev->uids[kept] = ev->uids[i];
      ev->gone[kept] = std::move(ev->gone[i]);
    }
    ++kept;
  }
  ev->uids.resize(kept);
  ev->gone.resize(kept);
  if (kept > 0) train_event_ = std::move(ev);
}

Output Session::cmd_append(const CommandHead& h, Cursor& c) {
  // APPEND mailbox 1*(SP [flag-list SP] [date-time SP] literal)  (RFC 3502 MULTIAPPEND)
  std::optional<std::string> name;
  if (!c.sp() || !(name = mailbox_arg(c)) || !c.sp())
    return {tagged(h, "BAD", "Syntax: APPEND mailbox [flags] [date] message")};
  auto mb = store_.mail.find_mailbox(account_id_, *name);
  std::vector<store::NewMessage> msgs;
  std::uint64_t total = 0;
  do {
    std::vector<std::string> flags;
    if (c.peek('(')) {
      auto f = parse_flag_list(c);
      if (!f || !c.sp()) return {tagged(h, "BAD", "Invalid flag list")};
      flags = std::move(*f);
    }
    std::optional<std::int64_t> date;
    if (c.peek('"')) {
      date = parse_date_time(c);
      if (!date || !c.sp()) return {tagged(h, "BAD", "Invalid date-time")};
    }
    auto data = c.string(true);
    if (!data) return {tagged(h, "BAD", "Missing message literal")};
    if (data->empty()) return {tagged(h, "NO", "Empty message")};
    if (data->size() > cfg_.max_append_size) return {tagged(h, "NO", "[TOOBIG] Message too large")};
    total += data->size();
    store::NewMessage m;
    m.data = std::make_shared<const std::string>(std::move(*data));
    // Parsed once, here: its summary goes into the index with it, so no FETCH of ENVELOPE or
    // BODYSTRUCTURE reads and parses it again, not even after a restart; the store is handed
    // its Message-ID too, rather than reading the header again.
    {
      const auto mime = message::parse_mime(*m.data);
      m.summary = encode_summary(summarize(mime));
      const auto ids = message::msg_ids(message::header_value(mime.headers, "Message-ID").value_or(""), 1);
      m.message_id = ids.empty() ? std::string() : ids[0];
    }
    std::set<std::string> fs(flags.begin(), flags.end());
    fs.erase("\\Recent");
    for (const auto& f : fs) m.flags += (m.flags.empty() ? "" : " ") + f;
    m.internaldate = date.value_or(std::time(nullptr));
    m.deliveries.push_back(store::Delivery{account_id_, *name, "", "", true});
    msgs.push_back(std::move(m));
  } while (c.sp());
  if (!c.eof()) return {tagged(h, "BAD", "Unexpected data after the message")};
  if (!mb || !*mb) return {tagged(h, "NO", "[TRYCREATE] No such mailbox")};
  if (auto acct = account(); acct && acct->over_quota(total))
    return {tagged(h, "NO", "[OVERQUOTA] Mailbox is full")};
  append_ = std::move(msgs);
  append_tag_ = h.tag;
  return {"", Next::append};
}

std::vector<store::NewMessage> Session::take_append() {
  auto m = std::move(append_);
  append_.clear();
  return m;
}

Output Session::on_appended(const store::DeliverResult& r) {
  CommandHead h{append_tag_, "APPEND", false};
  if (!r) return {store_failure(h, r.error(), "TRYCREATE")};
  std::vector<std::uint32_t> uids;
  for (const auto& at : *r) uids.push_back(at.uid);
  return {updates() + tagged(h, "OK", fmt::format("[APPENDUID {} {}] APPEND completed", r->front().uidvalidity,
                                                 compact_set(uids)))};
}

}  // namespace mk::imap
