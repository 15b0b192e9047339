// SEARCH and UID SEARCH (RFC 9051 §6.4.4), with ESEARCH results (RFC 4731/9051 RETURN)
// and SEARCHRES "$" (RFC 5182): the criteria, parsed by imap/proto/search_key.hpp, are
// evaluated here over the selected mailbox; SORT and THREAD (sort_thread.cpp) use the same
// evaluation. Header and text keys match case-insensitively on decoded text: encoded words
// in headers and transfer encodings and charsets in bodies are decoded before matching, so a
// search finds what the user sees.
#include "imap/server/search.hpp"

#include <fmt/format.h>

#include "base/strings.hpp"
#include "imap/proto/search_key.hpp"
#include "imap/server/session.hpp"
#include "message/codec.hpp"
#include "message/header.hpp"
#include "message/mime.hpp"

namespace mk::imap {
namespace {

std::string lower_decoded_header(SearchMsg& m, const std::string& name) {
  std::string out;
  for (const auto& h : m.part().headers)
    if (iequals(h.name, name)) out += to_lower(message::decode_words(message::unfold(h.value))) + "\n";
  return out;
}

void collect_text(const message::Part& p, std::string_view msg, std::string& out, int depth) {
  if (depth > kMaxNesting) return;
  if (p.is_multipart() || p.is_message()) {
    for (const auto& c : p.children) collect_text(c, msg, out, depth + 1);
    return;
  }
  if (p.type != "text") return;
  std::string text = message::decode_transfer(p.body(msg), p.encoding);
  std::string charset = "us-ascii";
  for (const auto& [k, v] : p.type_params)
    if (k == "charset") charset = v;
  if (auto u = message::to_utf8(text, charset)) text = std::move(*u);
  out += to_lower(text);
  out += '\n';
}

// The words of the Date: header ("Mon", "2", "Jan", "2023", "10:00:00", "+0000"), or none.
std::vector<std::string> date_words(SearchMsg& m) {
  std::vector<std::string> out;
  auto v = message::header_value(m.part().headers, "Date");
  if (!v) return out;
  for (auto& ch : *v)
    if (ch == ',') ch = ' ';
  for (auto w : split(*v, ' '))
    if (!w.empty()) out.emplace_back(w);
  return out;
}

// The day of the Date: header, loosely parsed, else the internal date (SENTBEFORE etc.,
// which ignore time and zone).
std::int64_t sent_date(SearchMsg& m) {
  const auto w = date_words(m);
  for (std::size_t i = 0; i + 2 < w.size(); ++i) {
    const std::string text = fmt::format("{}-{}-{}", w[i], w[i + 1], w[i + 2]);
    Cursor c(text);  // a Cursor views its input: keep the string alive
    if (auto d = parse_date(c)) return *d;
  }
  return m.info.internaldate;
}

bool eval(const SearchKey& k, SearchMsg& m) {
  using K = SearchKey::Kind;
  constexpr std::int64_t kDay = 86400;
  auto day = [](std::int64_t t) { return t - ((t % kDay) + kDay) % kDay; };
  switch (k.kind) {
    case K::all: return true;
    case K::recent: return m.e.recent;
    case K::flag_set: return store::has_flag(*m.e.flags, k.name);
    case K::flag_unset: return !store::has_flag(*m.e.flags, k.name);
    case K::header:
      if (k.value.empty()) return !lower_decoded_header(m, k.name).empty() || k.name == "SUBJECT";
      return lower_decoded_header(m, k.name).find(k.value) != std::string::npos;
    case K::body: {
      std::string t;
      collect_text(m.part(), m.bytes(), t, 0);
      return t.find(k.value) != std::string::npos;
    }
    case K::text: {
      std::string t = to_lower(message::decode_words(std::string(m.part().header_text(m.bytes()))));
      collect_text(m.part(), m.bytes(), t, 0);
      return t.find(k.value) != std::string::npos;
    }
    case K::before: return day(m.info.internaldate) < k.number;
    case K::on: return day(m.info.internaldate) == k.number;
    case K::since: return day(m.info.internaldate) >= k.number;
    case K::sent_before: return day(sent_date(m)) < k.number;
    case K::sent_on: return day(sent_date(m)) == k.number;
    case K::sent_since: return day(sent_date(m)) >= k.number;
    case K::larger: return std::int64_t(m.info.size) > k.number;
    case K::smaller: return std::int64_t(m.info.size) < k.number;
    case K::uid: return k.set.contains(m.e.uid, m.max_uid);
    case K::seq: return k.set.contains(m.seq, m.max_seq);
    case K::not_: return !eval(k.kids[0], m);
    case K::or_: return eval(k.kids[0], m) || eval(k.kids[1], m);
    case K::and_:
      for (const auto& kid : k.kids)
        if (!eval(kid, m)) return false;
      return true;
    case K::modseq: return std::int64_t(m.e.modseq) >= k.number;
  }
  return false;
}

}  // namespace

std::int64_t sent_date_exact(SearchMsg& m) {
  const auto w = date_words(m);
  for (std::size_t i = 0; i + 4 < w.size(); ++i) {
    const std::string text = fmt::format("\"{}-{}-{} {} {}\"", w[i].size() == 1 ? " " + w[i] : w[i],
                                         w[i + 1], w[i + 2], w[i + 3], w[i + 4]);
    Cursor c(text);
    if (auto t = parse_date_time(c)) return *t;
  }
  return sent_date(m);
}

std::optional<std::string> charset_arg(Cursor& c, bool required) {
  std::optional<std::string> cs;
  if (required) {
    if (!(cs = c.astring()) || !c.sp()) return std::string("BAD Missing charset");
  } else if (c.keyword("CHARSET")) {
    if (!c.sp() || !(cs = c.astring()) || !c.sp()) return std::string("BAD Syntax: CHARSET name");
  }
  if (cs && !iequals(*cs, "UTF-8") && !iequals(*cs, "US-ASCII"))
    return std::string("NO [BADCHARSET (UTF-8 US-ASCII)] Unsupported charset");
  return std::nullopt;
}

// Parses the search keys (the cursor is after "CHARSET x" if any) and evaluates them over
// the selected mailbox. On success, hits holds 0-based indices into selected_->msgs.
std::optional<std::string> Session::match(Cursor& c, std::vector<store::MessageInfo>& infos,
                                          std::vector<std::size_t>& hits) {
  const auto parsed = parse_search_keys(c);
  if (!parsed) return std::string(parsed.error.text());
  const SearchKey& root = *parsed.keys;
  auto& s = *selected_;
  auto all = store_.mail.list_messages(s.id);
  if (!all) return std::string("[SERVERBUG] Cannot read mailbox");
  infos = std::move(all.value());
  const std::uint32_t max_uid = s.msgs.empty() ? 0 : s.msgs.back().uid;
  std::size_t j = 0;
  for (std::size_t i = 0; i < s.msgs.size(); ++i) {
    while (j < infos.size() && infos[j].uid < s.msgs[i].uid) ++j;
    if (j >= infos.size() || infos[j].uid != s.msgs[i].uid) continue;
    SearchMsg m{s.msgs[i], infos[j], store_.mail, std::uint32_t(i + 1), std::uint32_t(s.msgs.size()), max_uid, {}, {}};
    if (eval(root, m)) hits.push_back(i);
  }
  return std::nullopt;
}

Output Session::cmd_search(const CommandHead& h, Cursor& c) {
  if (!c.sp()) return {tagged(h, "BAD", "Syntax: SEARCH keys")};
  std::vector<std::string> ret;
  bool esearch = false;
  if (c.keyword("RETURN")) {
    esearch = true;
    if (!c.sp() || !c.consume('(')) return {tagged(h, "BAD", "Syntax: RETURN (options)")};
    while (auto a = c.atom()) {
      ret.push_back(to_upper(*a));
      if (!c.sp()) break;
    }
    if (!c.consume(')') || !c.sp()) return {tagged(h, "BAD", "Syntax: RETURN (options)")};
    if (ret.empty()) ret.push_back("ALL");
    for (const auto& r : ret)
      if (r != "MIN" && r != "MAX" && r != "ALL" && r != "COUNT" && r != "SAVE")
        return {tagged(h, "BAD", "Unknown RETURN option " + r)};
  } else if (rev2_) {
    esearch = true;
    ret.push_back("ALL");
  }
  if (auto e = charset_arg(c, false)) return {h.tag + " " + *e + "\r\n"};
  std::vector<store::MessageInfo> infos;
  std::vector<std::size_t> idx;
  if (auto e = match(c, infos, idx)) return {tagged(h, e->starts_with("[") ? "NO" : "BAD", *e)};
  auto& s = *selected_;
  std::vector<std::uint32_t> hits_seq, hits_uid;
  for (auto i : idx) {
    hits_seq.push_back(std::uint32_t(i + 1));
    hits_uid.push_back(s.msgs[i].uid);
  }
  const auto& hits = h.uid ? hits_uid : hits_seq;
  std::string out;
  if (!esearch) {
    out = "* SEARCH";
    for (auto n : hits) out += " " + std::to_string(n);
    out += "\r\n";
  } else {
    out = fmt::format("* ESEARCH (TAG \"{}\"){}", h.tag, h.uid ? " UID" : "");
    for (const auto& r : ret) {
      if (r == "MIN" && !hits.empty()) out += fmt::format(" MIN {}", hits.front());
      if (r == "MAX" && !hits.empty()) out += fmt::format(" MAX {}", hits.back());
      if (r == "ALL" && !hits.empty()) out += " ALL " + compact_set(hits);
      if (r == "COUNT") out += fmt::format(" COUNT {}", hits.size());
      if (r == "SAVE") search_saved_ = hits_uid;
    }
    out += "\r\n";
    // SAVE alone returns no ESEARCH response (RFC 5182 §2.4).
    if (ret.size() == 1 && ret[0] == "SAVE") out.clear();
  }
  return {out + updates(h.uid) + tagged(h, "OK", "SEARCH completed")};
}

}  // namespace mk::imap
