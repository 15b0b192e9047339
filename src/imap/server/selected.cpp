// The selected mailbox: its sequence-number map and the untagged updates (EXISTS, EXPUNGE,
// FETCH FLAGS) that keep a client in step with changes made by other sessions and by
// deliveries. Updates are computed from the store's MODSEQ records, so no change is missed
// however it was made.
#include <algorithm>

#include <fmt/format.h>

#include "imap/server/session.hpp"

namespace mk::imap {

bool Session::load_selected(std::int64_t mailbox_id, bool read_only) {
  auto mb = store_.mail.mailbox_by_id(mailbox_id);
  auto msgs = store_.mail.list_messages(mailbox_id);
  if (!mb || !msgs) return false;
  Selected s;
  s.id = mb->id;
  s.name = mb->name;
  s.uidvalidity = mb->uidvalidity;
  s.uidnext = mb->uidnext;
  s.modseq = mb->highestmodseq;
  s.read_only = read_only;
  s.msgs.reserve(msgs->size());
  for (const auto& m : *msgs) s.msgs.push_back({m.uid, false, intern(m.flags), m.modseq});
  selected_ = std::move(s);
  expunge_modseq_ = selected_->modseq;
  mark_recent(0, mb->recent_uid);
  return true;
}

void Session::mark_recent(std::size_t first, std::uint32_t recent_uid) {
  auto& s = *selected_;
  if (first >= s.msgs.size() || s.msgs.back().uid <= recent_uid) return;
  if (!s.read_only) {
    auto previous = store_.mail.claim_recent(s.id, s.msgs.back().uid);
    if (!previous) return;  // \Recent is advisory: without the claim, nothing is recent
    recent_uid = *previous;
  }
  for (std::size_t i = first; i < s.msgs.size(); ++i) s.msgs[i].recent = s.msgs[i].uid > recent_uid;
}

std::size_t Session::recent_count() const {
  return std::size_t(std::count_if(selected_->msgs.begin(), selected_->msgs.end(),
                                   [](const SeqEntry& e) { return e.recent; }));
}

std::string Session::flags_out(const SeqEntry& e) const {
  // IMAP4rev2 has no \Recent (RFC 9051 appendix E).
  if (!e.recent || rev2_) return *e.flags;
  return e.flags->empty() ? "\\Recent" : "\\Recent " + *e.flags;
}

std::optional<std::size_t> Session::index_of_uid(std::uint32_t uid) const {
  const auto& v = selected_->msgs;
  auto it = std::lower_bound(v.begin(), v.end(), uid, [](const SeqEntry& e, std::uint32_t u) { return e.uid < u; });
  if (it == v.end() || it->uid != uid) return std::nullopt;
  return std::size_t(it - v.begin());
}

std::vector<std::size_t> Session::resolve(const SeqSet& set, bool uid) const {
  std::vector<std::size_t> out;
  const auto& v = selected_->msgs;
  if (v.empty()) return out;
  if (set.saved) {
    for (auto u : search_saved_)
      if (auto i = index_of_uid(u)) out.push_back(*i);
    return out;
  }
  for (auto [a, b] : set.ranges) {
    if (uid) {
      const std::uint32_t max_uid = v.back().uid;
      std::uint32_t lo = a == kStar ? max_uid : a, hi = b == kStar ? max_uid : b;
      if (lo > hi) std::swap(lo, hi);
      auto first = std::lower_bound(v.begin(), v.end(), lo, [](const SeqEntry& e, std::uint32_t u) { return e.uid < u; });
      for (auto it = first; it != v.end() && it->uid <= hi; ++it) out.push_back(std::size_t(it - v.begin()));
    } else {
      const std::uint32_t max = std::uint32_t(v.size());
      std::uint32_t lo = a == kStar ? max : a, hi = b == kStar ? max : b;
      if (lo > hi) std::swap(lo, hi);
      for (std::uint32_t n = lo; n <= std::min(hi, max); ++n) out.push_back(n - 1);
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::string compact_set(const std::vector<std::uint32_t>& v) {
  std::string out;
  for (std::size_t i = 0; i < v.size();) {
    std::size_t j = i;
    while (j + 1 < v.size() && v[j + 1] == v[j] + 1) ++j;
    out += (out.empty() ? "" : ",") + (i == j ? std::to_string(v[i]) : fmt::format("{}:{}", v[i], v[j]));
    i = j + 1;
  }
  return out;
}

std::string Session::updates(bool allow_expunge) {
  if (!selected_) return {};
  auto& s = *selected_;
  std::string out;
  if (allow_expunge) {
    auto gone = store_.mail.expunged_since(s.id, expunge_modseq_);
    if (gone && !gone->empty()) {
      // Highest sequence number first, so each number is valid when the client reads it.
      std::vector<std::size_t> idx;
      for (auto u : *gone)
        if (auto i = index_of_uid(u)) idx.push_back(*i);
      std::sort(idx.rbegin(), idx.rend());
      std::vector<std::uint32_t> vanished;
      for (auto i : idx) {
        if (qresync_) vanished.push_back(s.msgs[i].uid);
        else out += fmt::format("* {} EXPUNGE\r\n", i + 1);
        s.msgs.erase(s.msgs.begin() + std::ptrdiff_t(i));
      }
      // RFC 7162 §3.2.10: with QRESYNC, expunges are reported by UID.
      if (!vanished.empty()) {
        std::sort(vanished.begin(), vanished.end());
        out += "* VANISHED " + compact_set(vanished) + "\r\n";
      }
    }
    if (auto mb = store_.mail.mailbox_by_id(s.id)) expunge_modseq_ = std::max(expunge_modseq_, mb->highestmodseq);
  }
  auto changed = store_.mail.changed_since(s.id, s.modseq);
  if (!changed) return out;
  const std::size_t before = s.msgs.size();
  std::uint64_t top = s.modseq;
  for (const auto& m : *changed) {
    top = std::max(top, m.modseq);
    if (auto i = index_of_uid(m.uid)) {
      auto& e = s.msgs[*i];
      if (*e.flags != m.flags) {
        e.flags = intern(m.flags);
        out += fmt::format("* {} FETCH (UID {} FLAGS ({}){})\r\n", *i + 1, m.uid, flags_out(e),
                           condstore_ ? fmt::format(" MODSEQ ({})", m.modseq) : "");
      }
      e.modseq = m.modseq;
    } else if (s.msgs.empty() || m.uid > s.msgs.back().uid) {
      s.msgs.push_back({m.uid, false, intern(m.flags), m.modseq});
      s.uidnext = std::max(s.uidnext, m.uid + 1);
    }
  }
  s.modseq = top;
  if (s.msgs.size() != before) {
    if (s.msgs.size() > before) {
      auto mb = store_.mail.mailbox_by_id(s.id);
      if (mb) mark_recent(before, mb->recent_uid);
    }
    out += fmt::format("* {} EXISTS\r\n", s.msgs.size());
    if (!rev2_) out += fmt::format("* {} RECENT\r\n", recent_count());
  }
  return out;
}

}  // namespace mk::imap
