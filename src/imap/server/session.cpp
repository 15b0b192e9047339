#include "imap/server/session.hpp"

#include <fmt/format.h>

#include "base/strings.hpp"
#include "imap/proto/encode.hpp"
#include "imap/server/account_slots.hpp"
#include "message/codec.hpp"

namespace mk::imap {

Session::Session(SessionConfig cfg, SessionStore store, std::string remote_ip)
    : cfg_(std::move(cfg)),
      flag_table_(cfg_.flags ? cfg_.flags : &own_flags_),
      store_(store),
      remote_ip_(std::move(remote_ip)) {}

std::string Session::store_failure(const CommandHead& h, const Error& e, std::string_view missing) {
  const auto code = store::errc(e);
  if (code != store::Errc::not_found && code != store::Errc::already_exists) store_error_ = e.message;
  switch (code) {
    case store::Errc::not_found: return tagged(h, "NO", fmt::format("[{}] No such mailbox or message", missing));
    case store::Errc::already_exists: return tagged(h, "NO", "[ALREADYEXISTS] Mailbox already exists");
    case store::Errc::quota: return tagged(h, "NO", "[OVERQUOTA] Not enough room");
    case store::Errc::conflict: return tagged(h, "NO", "[INUSE] The mailbox changed meanwhile; try again");
    case store::Errc::invalid: return tagged(h, "NO", "[CANNOT] The server cannot do that");
    case store::Errc::corrupt: return tagged(h, "NO", "[SERVERBUG] Stored data is damaged; the error is logged");
    case store::Errc::unavailable: break;
  }
  return tagged(h, "NO", "[UNAVAILABLE] Storage is unavailable; try again later");
}

std::string Session::tagged(const CommandHead& h, std::string_view status, std::string_view text) {
  return fmt::format("{} {} {}\r\n", h.tag, status, text);
}

std::string Session::bad(std::string_view tag, std::string_view text) {
  return fmt::format("{} BAD {}\r\n", tag.empty() ? "*" : tag, text);
}

std::string Session::capabilities() const {
  std::string c = "IMAP4rev1 IMAP4rev2 LITERAL+ SASL-IR ID ENABLE IDLE NAMESPACE UNSELECT UIDPLUS MOVE "
                  "CHILDREN LIST-EXTENDED LIST-STATUS SPECIAL-USE CONDSTORE QRESYNC MULTIAPPEND SORT THREAD=ORDEREDSUBJECT THREAD=REFERENCES COMPRESS=DEFLATE UTF8=ACCEPT ESEARCH SEARCHRES QUOTA QUOTA=RES-STORAGE";
  if (!tls_ && cfg_.tls_available) c += " STARTTLS LOGINDISABLED";
  // No mechanism before TLS (PRODUCT.md: no AUTH before TLS), as on submission.
  if (tls_ && account_id_ == 0) c += " AUTH=SCRAM-SHA-256 AUTH=PLAIN";
  return c;
}

std::string Session::greeting() const {
  return fmt::format("* OK [CAPABILITY {}] {} mailkeep IMAP ready\r\n", capabilities(), cfg_.hostname);
}

Output Session::on_frame_error(Frame ev) {
  switch (ev) {
    case Frame::line_too_long:
      return {"* BAD [TOOBIG] Command line too long\r\n"};
    case Frame::literal_too_big:
      return {"* NO [TOOBIG] Literal too large\r\n"};
    case Frame::too_many_literals:
      return {"* BAD Too many literals in one command\r\n"};
    default:
      return {"* BAD Protocol error\r\n"};
  }
}

Output Session::on_command(std::string_view framed) {
  if (auth_pending_) return on_auth_response(framed);
  Cursor c(framed);
  std::string error;
  auto h = parse_head(c, error);
  if (!h) {
    // Answer with the tag when it is valid, else untagged (never echo "+", which a client
    // would read as a continuation request).
    Cursor t(framed);
    auto tag = t.atom();
    const bool tag_ok = tag && tag->find('+') == std::string_view::npos && tag->size() <= 64;
    return {bad(tag_ok ? *tag : std::string_view(), error)};
  }
  return dispatch(*h, c);
}

Output Session::cmd_noop(const CommandHead& h, Cursor&) { return {updates() + tagged(h, "OK", "NOOP completed")}; }

Output Session::cmd_logout(const CommandHead& h, Cursor&) {
  return {"* BYE Logging out\r\n" + tagged(h, "OK", "LOGOUT completed"), Next::close};
}

Output Session::cmd_starttls(const CommandHead& h, Cursor& c) {
  if (tls_) return {tagged(h, "BAD", "TLS already active")};
  if (!cfg_.tls_available) return {tagged(h, "NO", "TLS not available")};
  if (!c.eof()) return {tagged(h, "BAD", "STARTTLS takes no arguments")};
  return {tagged(h, "OK", "Begin TLS negotiation now"), Next::start_tls};
}

Output Session::cmd_compress(const CommandHead& h, Cursor& c) {
  // RFC 4978: raw DEFLATE in both directions once this OK has been sent.
  auto mech = c.sp() ? c.atom() : std::nullopt;
  if (!mech || !c.eof()) return {tagged(h, "BAD", "Syntax: COMPRESS DEFLATE")};
  if (!iequals(*mech, "DEFLATE")) return {tagged(h, "NO", "Unknown compression mechanism")};
  if (compressed_) return {tagged(h, "NO", "[COMPRESSIONACTIVE] Compression is already on")};
  compressed_ = true;
  return {tagged(h, "OK", "DEFLATE active"), Next::compress};
}

Output Session::cmd_check(const CommandHead& h, Cursor&) { return {updates() + tagged(h, "OK", "CHECK completed")}; }

Output Session::cmd_capability(const CommandHead& h, Cursor& c) {
  if (!c.eof()) return {tagged(h, "BAD", "CAPABILITY takes no arguments")};
  return {"* CAPABILITY " + capabilities() + "\r\n" + tagged(h, "OK", "CAPABILITY completed")};
}

Output Session::on_tls() {
  tls_ = true;
  return {};
}

Output Session::cmd_enable(const CommandHead& h, Cursor& c) {
  std::string enabled;
  while (c.sp()) {
    auto a = c.atom();
    if (!a) return {tagged(h, "BAD", "Syntax: ENABLE capability...")};
    if (iequals(*a, "UTF8=ACCEPT") && !utf8_) utf8_ = true, enabled += " UTF8=ACCEPT";
    else if (iequals(*a, "IMAP4rev2") && !rev2_) rev2_ = true, utf8_ = true, enabled += " IMAP4rev2";
    else if (iequals(*a, "CONDSTORE") && !condstore_) condstore_ = true, enabled += " CONDSTORE";
    else if (iequals(*a, "QRESYNC") && !qresync_) qresync_ = condstore_ = true, enabled += " QRESYNC";
  }
  return {"* ENABLED" + enabled + "\r\n" + tagged(h, "OK", "ENABLE completed")};
}

Output Session::cmd_id(const CommandHead& h, Cursor& c) {
  // RFC 2971: id = "ID" SP ("(" string SP nstring *(SP string SP nstring) ")" / nil), at
  // most 30 pairs. We keep the name and version to tell the user about a new client.
  if (!c.sp()) return {bad(h.tag, "ID needs a parameter list or NIL")};
  std::string name, version;
  if (!c.keyword("NIL")) {
    if (!c.consume('(')) return {bad(h.tag, "ID needs a parameter list or NIL")};
    for (int pairs = 0; !c.consume(')'); ++pairs) {
      if (pairs == 30 || (pairs > 0 && !c.sp())) return {bad(h.tag, "Bad ID parameter list")};
      auto field = c.string();
      if (!field || !c.sp()) return {bad(h.tag, "Bad ID parameter list")};
      auto value = c.nstring();
      if (!value) return {bad(h.tag, "Bad ID parameter list")};
      if (iequals(*field, "name")) name = *value;
      if (iequals(*field, "version")) version = *value;
    }
  }
  if (!c.eof()) return {bad(h.tag, "Unexpected characters after ID")};
  std::string client = name.empty() ? std::string() : version.empty() ? name : name + " " + version;
  for (auto& ch : client)
    if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f) ch = ' ';
  if (client.size() > 100) client.resize(100);
  if (!client.empty() && client != client_) {
    client_ = client;
    if (logged_in()) client_event_ = client_;
  }
  return {"* ID (\"name\" \"mailkeep\")\r\n" + tagged(h, "OK", "ID completed")};
}

Output Session::cmd_idle(const CommandHead& h, Cursor& c) {
  if (!c.eof()) return {tagged(h, "BAD", "IDLE takes no arguments")};
  idle_tag_ = h.tag;
  return {"+ idling\r\n" + updates(), Next::idle};
}

Output Session::on_idle_line(std::string_view line) {
  CommandHead h{idle_tag_, "IDLE", false};
  idle_tag_.clear();
  if (!iequals(trim(line), "DONE")) return {tagged(h, "BAD", "Expected DONE")};
  return {updates() + tagged(h, "OK", "IDLE terminated")};
}

}  // namespace mk::imap
