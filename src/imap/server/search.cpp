// SEARCH and UID SEARCH (RFC 9051 §6.4.4), with ESEARCH results (RFC 4731/9051 RETURN)
// and SEARCHRES "$" (RFC 5182): the criteria, parsed by imap/proto/search_key.hpp, are
// evaluated here over the selected mailbox. Header and text keys match case-insensitively on
// decoded text: encoded words in headers and transfer encodings and charsets in bodies are
// decoded before matching, so a search finds what the user sees.
#include <algorithm>
#include <deque>
#include <functional>
#include <memory>
#include <unordered_map>

#include <fmt/format.h>

#include "base/strings.hpp"
#include "imap/proto/search_key.hpp"
#include "imap/server/session.hpp"
#include "message/codec.hpp"
#include "message/header.hpp"
#include "message/mime.hpp"

namespace mk::imap {
namespace {

struct Msg {
  const SeqEntry& e;
  const store::MessageInfo& info;
  store::Mail& store;
  std::uint32_t seq;
  std::uint32_t max_seq;
  std::uint32_t max_uid;
  std::optional<std::string> data;
  std::optional<message::Part> mime;
  const std::string& bytes() {
    if (!data) {
      auto d = store.read_message(info);
      data = d ? std::move(d.value()) : std::string();
    }
    return *data;
  }
  const message::Part& part() {
    if (!mime) mime = message::parse_mime(bytes());
    return *mime;
  }
};

bool has_flag(const std::string& flags, const std::string& f) {
  for (auto x : split(flags, ' '))
    if (iequals(x, f)) return true;
  return false;
}

std::string lower_decoded_header(Msg& m, const std::string& name) {
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
std::vector<std::string> date_words(Msg& m) {
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
std::int64_t sent_date(Msg& m) {
  const auto w = date_words(m);
  for (std::size_t i = 0; i + 2 < w.size(); ++i) {
    const std::string text = fmt::format("{}-{}-{}", w[i], w[i + 1], w[i + 2]);
    Cursor c(text);  // a Cursor views its input: keep the string alive
    if (auto d = parse_date(c)) return *d;
  }
  return m.info.internaldate;
}

// The Date: header with time of day and zone (RFC 5256 DATE), else sent_date().
std::int64_t sent_date_exact(Msg& m) {
  const auto w = date_words(m);
  for (std::size_t i = 0; i + 4 < w.size(); ++i) {
    const std::string text = fmt::format("\"{}-{}-{} {} {}\"", w[i].size() == 1 ? " " + w[i] : w[i],
                                         w[i + 1], w[i + 2], w[i + 3], w[i + 4]);
    Cursor c(text);
    if (auto t = parse_date_time(c)) return *t;
  }
  return sent_date(m);
}

bool eval(const SearchKey& k, Msg& m) {
  using K = SearchKey::Kind;
  constexpr std::int64_t kDay = 86400;
  auto day = [](std::int64_t t) { return t - ((t % kDay) + kDay) % kDay; };
  switch (k.kind) {
    case K::all: return true;
    case K::recent: return m.e.recent;
    case K::flag_set: return has_flag(*m.e.flags, k.name);
    case K::flag_unset: return !has_flag(*m.e.flags, k.name);
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
    Msg m{s.msgs[i], infos[j], store_.mail, std::uint32_t(i + 1), std::uint32_t(s.msgs.size()), max_uid, {}, {}};
    if (eval(root, m)) hits.push_back(i);
  }
  return std::nullopt;
}

namespace {

// CHARSET name (SEARCH: optional; SORT/THREAD: required). Returns an error response text.
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

}  // namespace

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

// RFC 5256 §2.1: the base subject, for SORT SUBJECT and THREAD=ORDEREDSUBJECT.
std::string base_subject(std::string_view raw) {
  std::string s;
  for (char ch : message::decode_words(raw)) {
    const bool ws = ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
    if (ws) {
      if (!s.empty() && s.back() != ' ') s += ' ';
    } else {
      s += ch;
    }
  }
  auto trim_ws = [&] {
    while (!s.empty() && s.back() == ' ') s.pop_back();
    while (!s.empty() && s.front() == ' ') s.erase(0, 1);
  };
  for (bool changed = true; changed;) {
    changed = false;
    trim_ws();
    // (2) trailing "(fwd)"
    while (s.size() >= 5 && iequals(std::string_view(s).substr(s.size() - 5), "(fwd)")) {
      s.resize(s.size() - 5);
      trim_ws();
      changed = true;
    }
    // (3)-(5) leading "re:", "fw:", "fwd:" with an optional [blob], and leading [blob]s
    for (bool again = true; again;) {
      again = false;
      std::size_t i = 0;
      while (i < s.size() && s[i] == '[') {
        auto close = s.find(']', i);
        if (close == std::string::npos || close + 1 >= s.size()) break;
        std::size_t j = close + 1;
        while (j < s.size() && s[j] == ' ') ++j;
        if (j >= s.size()) break;  // a blob that is the whole subject stays
        i = j;
      }
      for (const char* prefix : {"re", "fwd", "fw"}) {
        const std::size_t n = std::char_traits<char>::length(prefix);
        if (s.size() >= i + n && iequals(std::string_view(s).substr(i, n), prefix)) {
          std::size_t j = i + n;
          while (j < s.size() && s[j] == ' ') ++j;
          if (j < s.size() && s[j] == '[') {
            auto close = s.find(']', j);
            if (close != std::string::npos) {
              j = close + 1;
              while (j < s.size() && s[j] == ' ') ++j;
            }
          }
          if (j < s.size() && s[j] == ':') {
            s.erase(0, j + 1);
            trim_ws();
            again = changed = true;
            break;
          }
        }
      }
      if (!again && i > 0) {
        s.erase(0, i);
        again = changed = true;
      }
    }
    // (6) "[fwd: ... ]" wrapper
    if (s.size() > 6 && iequals(std::string_view(s).substr(0, 5), "[fwd:") && s.back() == ']') {
      s = s.substr(5, s.size() - 6);
      changed = true;
    }
  }
  return to_lower(s);
}

namespace {

std::string first_mailbox(const message::Part& p, const char* header) {
  auto v = message::header_value(p.headers, header);
  if (!v) return {};
  for (const auto& a : message::parse_address_list(*v))
    if (!a.group_start && !a.group_end) return to_lower(a.local);
  return {};
}

}  // namespace

std::string thread_references(std::size_t n, const std::function<ThreadMsg(std::size_t)>& get) {
  // RFC 5256 §4, steps 1-6.
  struct Node {
    std::optional<ThreadMsg> msg;
    Node* parent = nullptr;
    std::vector<Node*> kids;
  };
  std::deque<Node> pool;
  std::unordered_map<std::string, Node*> by_id;
  auto node_for = [&](const std::string& id) {
    auto& slot = by_id[id];
    if (!slot) slot = &pool.emplace_back();
    return slot;
  };
  auto is_ancestor = [](const Node* a, const Node* b) {  // is a an ancestor of b (or b itself)?
    for (const Node* x = b; x; x = x->parent)
      if (x == a) return true;
    return false;
  };
  auto unlink = [](Node* child) {
    if (!child->parent) return;
    auto& v = child->parent->kids;
    v.erase(std::remove(v.begin(), v.end(), child), v.end());
    child->parent = nullptr;
  };
  auto link = [&](Node* parent, Node* child) {
    if (child->parent || is_ancestor(child, parent)) return;
    child->parent = parent;
    parent->kids.push_back(child);
  };
  std::size_t unique = 0;
  for (std::size_t k = 0; k < n; ++k) {
    ThreadMsg m = get(k);
    // (1A) a missing or duplicate Message-ID gets a unique one
    std::string id = m.msgid;
    if (id.empty() || (by_id.count(id) && by_id[id]->msg)) id = "\x01unique" + std::to_string(unique++);
    Node* self = node_for(id);
    // (1B) link the References chain
    Node* prev = nullptr;
    for (const auto& ref : m.refs) {
      if (ref == id) continue;
      Node* cur = node_for(ref);
      if (prev) link(prev, cur);
      prev = cur;
    }
    // (1C) this message's parent is the last reference
    if (prev && is_ancestor(self, prev)) prev = nullptr;
    unlink(self);
    if (prev) link(prev, self);
    self->msg = std::move(m);
  }
  // (2) root set
  std::vector<Node*> roots;
  for (auto& x : pool)
    if (!x.parent) roots.push_back(&x);
  // (3) prune dummies
  std::function<void(std::vector<Node*>&, Node*, bool)> prune = [&](std::vector<Node*>& list, Node* parent, bool root) {
    for (std::size_t i = 0; i < list.size();) {
      Node* x = list[i];
      prune(x->kids, x, false);
      if (!x->msg && x->kids.empty()) {
        list.erase(list.begin() + std::ptrdiff_t(i));
      } else if (!x->msg && (!root || x->kids.size() == 1)) {
        std::vector<Node*> kids = x->kids;
        for (Node* k : kids) k->parent = parent;
        list.erase(list.begin() + std::ptrdiff_t(i));
        list.insert(list.begin() + std::ptrdiff_t(i), kids.begin(), kids.end());
        i += kids.size();
      } else {
        ++i;
      }
    }
  };
  prune(roots, nullptr, true);
  // (4) sort by date (a dummy sorts by its first child)
  std::function<std::int64_t(const Node*)> date = [&](const Node* x) -> std::int64_t {
    if (x->msg) return x->msg->date;
    return x->kids.empty() ? 0 : date(x->kids.front());
  };
  std::function<void(std::vector<Node*>&)> sort_list = [&](std::vector<Node*>& v) {
    for (Node* x : v) sort_list(x->kids);
    std::stable_sort(v.begin(), v.end(), [&](const Node* a, const Node* b) {
      const auto da = date(a), db = date(b);
      if (da != db) return da < db;
      const auto na = a->msg ? a->msg->num : 0u, nb = b->msg ? b->msg->num : 0u;
      return na < nb;
    });
  };
  sort_list(roots);
  // (5) merge root threads that share a base subject
  auto subject_of = [](const Node* x) -> const ThreadMsg* {
    return x->msg ? &*x->msg : (x->kids.empty() ? nullptr : (x->kids.front()->msg ? &*x->kids.front()->msg : nullptr));
  };
  std::unordered_map<std::string, Node*> table;
  for (Node* r : roots) {
    const ThreadMsg* m = subject_of(r);
    if (!m || m->subject.empty()) continue;
    auto [it, fresh] = table.emplace(m->subject, r);
    if (fresh) continue;
    Node* old = it->second;
    const ThreadMsg* om = subject_of(old);
    if ((!r->msg && old->msg) || (old->msg && r->msg && om && om->reply && !m->reply)) it->second = r;
  }
  std::vector<Node*> merged;
  for (Node* r : roots) {
    const ThreadMsg* m = subject_of(r);
    Node* keep = (m && !m->subject.empty()) ? table[m->subject] : r;
    if (keep == r) {
      merged.push_back(r);
      continue;
    }
    if (!keep->msg && !r->msg) {  // (b) both dummies: merge children
      for (Node* k : r->kids) k->parent = keep, keep->kids.push_back(k);
    } else if (!keep->msg) {  // (a) keep is a dummy: r becomes its child
      r->parent = keep, keep->kids.push_back(r);
    } else if (r->msg && m->reply && !subject_of(keep)->reply) {  // (c) a reply joins the original
      r->parent = keep, keep->kids.push_back(r);
    } else {  // (d) otherwise both become children of a new dummy
      Node* d = &pool.emplace_back();
      std::replace(merged.begin(), merged.end(), keep, d);
      keep->parent = d, d->kids.push_back(keep);
      r->parent = d, d->kids.push_back(r);
      table[m->subject] = d;
    }
  }
  for (Node* r : merged) sort_list(r->kids);
  sort_list(merged);
  // (6) render: "(3 6 (4 23)(44 7 96))"
  std::function<std::string(const Node*)> render = [&](const Node* x) -> std::string {
    std::string s;
    if (x->msg) s = std::to_string(x->msg->num);
    if (x->kids.size() == 1 && x->msg) return s + " " + render(x->kids.front());
    if (!x->kids.empty() && x->msg) s += " ";
    for (const Node* k : x->kids) s += "(" + render(k) + ")";
    return s;
  };
  std::string out;
  for (const Node* r : merged) out += "(" + render(r) + ")";
  return out;
}

Output Session::cmd_sort(const CommandHead& h, Cursor& c, bool thread) {
  // SORT (criteria) charset keys / THREAD algorithm charset keys (RFC 5256)
  struct Crit {
    std::string key;
    bool reverse;
  };
  std::vector<Crit> crits;
  if (!c.sp()) return {tagged(h, "BAD", "Missing arguments")};
  bool references = false;
  if (thread) {
    auto algo = c.atom();
    if (algo && iequals(*algo, "REFERENCES")) references = true;
    else if (!algo || !iequals(*algo, "ORDEREDSUBJECT"))
      return {tagged(h, "BAD", "Unsupported threading algorithm")};
  } else {
    if (!c.consume('(')) return {tagged(h, "BAD", "Syntax: SORT (criteria) charset keys")};
    bool reverse = false;
    while (!c.consume(')')) {
      auto a = c.atom();
      if (!a) return {tagged(h, "BAD", "Invalid sort criteria")};
      std::string k = to_upper(*a);
      if (k == "REVERSE") {
        reverse = true;
      } else if (k == "ARRIVAL" || k == "CC" || k == "DATE" || k == "FROM" || k == "SIZE" ||
                 k == "SUBJECT" || k == "TO") {
        crits.push_back({k, reverse});
        reverse = false;
      } else {
        return {tagged(h, "BAD", "Unknown sort criterion " + k)};
      }
      c.sp();
    }
    if (crits.empty()) return {tagged(h, "BAD", "Empty sort criteria")};
  }
  if (!c.sp()) return {tagged(h, "BAD", "Missing charset")};
  if (auto e = charset_arg(c, true)) return {h.tag + " " + *e + "\r\n"};
  std::vector<store::MessageInfo> infos;
  std::vector<std::size_t> idx;
  if (auto e = match(c, infos, idx)) return {tagged(h, e->starts_with("[") ? "NO" : "BAD", *e)};
  auto& s = *selected_;
  // Sort keys, computed once per hit.
  struct Row {
    std::size_t i;
    std::int64_t arrival, date, size;
    std::string subject, from, to, cc;
    std::string msgid;
    std::vector<std::string> refs;
    bool reply = false;  // the subject had a reply/forward prefix
  };
  std::vector<Row> rows;
  const std::uint32_t max_uid = s.msgs.empty() ? 0 : s.msgs.back().uid;
  std::size_t j = 0;
  for (auto i : idx) {
    while (j < infos.size() && infos[j].uid < s.msgs[i].uid) ++j;
    Msg m{s.msgs[i], infos[j], store_.mail, std::uint32_t(i + 1), std::uint32_t(s.msgs.size()), max_uid, {}, {}};
    Row r{i, infos[j].internaldate, 0, std::int64_t(infos[j].size), {}, {}, {}, {}, {}, {}, false};
    const auto& part = m.part();
    r.date = sent_date_exact(m);
    r.subject = base_subject(message::header_value(part.headers, "Subject").value_or(""));
    r.from = first_mailbox(part, "From");
    r.to = first_mailbox(part, "To");
    r.cc = first_mailbox(part, "Cc");
    if (references) {
      const auto ids = [](std::string_view v) { return message::msg_ids(v, 10000); };
      auto id = ids(message::header_value(part.headers, "Message-ID").value_or(""));
      if (!id.empty()) r.msgid = id[0];
      r.refs = ids(message::header_value(part.headers, "References").value_or(""));
      if (r.refs.empty()) {
        auto irt = ids(message::header_value(part.headers, "In-Reply-To").value_or(""));
        if (!irt.empty()) r.refs.push_back(irt[0]);
      }
      const std::string raw_subject = to_lower(message::decode_words(
          message::header_value(part.headers, "Subject").value_or("")));
      r.reply = !raw_subject.empty() && base_subject(raw_subject) != trim(raw_subject);
    }
    rows.push_back(std::move(r));
  }
  std::string out;
  auto num = [&](const Row& r) { return h.uid ? s.msgs[r.i].uid : std::uint32_t(r.i + 1); };
  if (!thread) {
    std::stable_sort(rows.begin(), rows.end(), [&](const Row& a, const Row& b) {
      for (const auto& cr : crits) {
        int cmp = 0;
        if (cr.key == "ARRIVAL") cmp = a.arrival < b.arrival ? -1 : a.arrival > b.arrival;
        else if (cr.key == "DATE") cmp = a.date < b.date ? -1 : a.date > b.date;
        else if (cr.key == "SIZE") cmp = a.size < b.size ? -1 : a.size > b.size;
        else if (cr.key == "SUBJECT") cmp = a.subject.compare(b.subject);
        else if (cr.key == "FROM") cmp = a.from.compare(b.from);
        else if (cr.key == "TO") cmp = a.to.compare(b.to);
        else if (cr.key == "CC") cmp = a.cc.compare(b.cc);
        if (cmp != 0) return cr.reverse ? cmp > 0 : cmp < 0;
      }
      return a.i < b.i;  // ties by sequence number
    });
    out = "* SORT";
    for (const auto& r : rows) out += " " + std::to_string(num(r));
    out += "\r\n";
    return {out + updates(h.uid) + tagged(h, "OK", "SORT completed")};
  }
  if (references) {
    out = "* THREAD " + thread_references(rows.size(), [&](std::size_t k) -> ThreadMsg {
      const Row& r = rows[k];
      return {num(r), r.date, r.subject, r.msgid, r.refs, r.reply};
    }) + "\r\n";
    return {out + updates(h.uid) + tagged(h, "OK", "THREAD completed")};
  }
  // ORDEREDSUBJECT: group by base subject, each group in date order; the first message is
  // the parent of the others; threads ordered by their first message's date.
  std::stable_sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
    if (a.subject != b.subject) return a.subject < b.subject;
    if (a.date != b.date) return a.date < b.date;
    return a.i < b.i;
  });
  std::vector<std::pair<std::size_t, std::size_t>> groups;  // [begin, end) in rows
  for (std::size_t k = 0; k < rows.size();) {
    std::size_t e = k + 1;
    while (e < rows.size() && rows[e].subject == rows[k].subject) ++e;
    groups.emplace_back(k, e);
    k = e;
  }
  std::stable_sort(groups.begin(), groups.end(), [&](auto a, auto b) {
    const Row& x = rows[a.first];
    const Row& y = rows[b.first];
    return x.date != y.date ? x.date < y.date : x.i < y.i;
  });
  out = "* THREAD ";
  for (auto [b, e] : groups) {
    out += "(" + std::to_string(num(rows[b]));
    if (e - b == 2) out += " " + std::to_string(num(rows[b + 1]));
    else if (e - b > 2) {
      out += ' ';  // "(3 (6)(4)(23))": siblings follow each other without a space
      for (std::size_t k = b + 1; k < e; ++k) out += "(" + std::to_string(num(rows[k])) + ")";
    }
    out += ")";
  }
  out += "\r\n";
  return {out + updates(h.uid) + tagged(h, "OK", "THREAD completed")};
}

}  // namespace mk::imap
