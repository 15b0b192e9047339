// SORT and THREAD (RFC 5256): the messages that match the search criteria (search.cpp),
// sorted by the client's criteria, or grouped into threads by ORDEREDSUBJECT or REFERENCES.
// Sort keys come from the decoded headers: base subject (§2.1), sent date with zone (§2.2),
// first mailbox of From/To/Cc.
#include <algorithm>
#include <deque>
#include <functional>
#include <unordered_map>

#include "base/strings.hpp"
#include "imap/server/search.hpp"
#include "imap/server/session.hpp"
#include "message/header.hpp"
#include "message/mime.hpp"

namespace mk::imap {

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
    SearchMsg m{s.msgs[i], infos[j], store_.mail, std::uint32_t(i + 1), std::uint32_t(s.msgs.size()), max_uid, {}, {}};
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
