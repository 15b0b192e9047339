// LIST and LSUB: which mailbox names a listing returns and with which attributes, and the
// STATUS lines of LIST-STATUS.
//
// The account's mailboxes form a tree by "/"; a level whose mailbox was deleted while its
// children stay is a name that does not exist. A LIST returns the names that match one of
// its patterns and meet its selection criteria (by default: the mailbox exists), with their
// attributes, exactly as the table of RFC 9051 §6.3.9 (RFC 5258 §3) has it:
//
//   exists | meets the criteria | a descendant meets them | returned
//   no     | no                 | no                      | nothing
//   yes    | no                 | no                      | nothing
//   no     | yes                | no                      | (\NonExistent <attr>)
//   yes    | yes                | no                      | (<attr>)
//   no     | no                 | yes                     | (\NonExistent) + CHILDINFO
//   yes    | no                 | yes                     | () + CHILDINFO
//   no     | yes                | yes                     | (\NonExistent <attr>) + CHILDINFO
//   yes    | yes                | yes                     | (<attr>) + CHILDINFO
//
// where the CHILDINFO rows need RECURSIVEMATCH and, for a name that does not meet the
// criteria itself, a descendant that meets them and is not listed (RFC 5258 §3.5: redundant
// lines are suppressed). Besides, where existence is the criterion, a pattern that ends in
// "%" returns the levels that match it, existing or not (RFC 3501 §6.3.8, RFC 5258 §5
// example 10). LSUB keeps its RFC 3501 meaning.
//
// STANDARDS: RFC 9051 §6.3.9, RFC 3501 §6.3.8 and §6.3.9, RFC 5258 §3 and §4, RFC 6154 §5.1,
// RFC 5819 §2, RFC 3348 (CHILDREN).
#include <algorithm>
#include <map>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "base/strings.hpp"
#include "imap/proto/encode.hpp"
#include "imap/proto/list.hpp"
#include "imap/server/session.hpp"

namespace mk::imap {
namespace {

constexpr char kDelimiter = '/';

// One level of the account's hierarchy.
struct Node {
  const store::Mailbox* mb = nullptr;  // null: the level exists only as a parent
  bool children = false;
  bool matched = false;        // matches one of the patterns
  bool percent_level = false;  // matches a pattern whose last character is "%"
};
using Tree = std::map<std::string, Node>;

Tree build_tree(const std::vector<store::Mailbox>& mbs) {
  Tree tree;
  for (const auto& m : mbs) {
    tree[m.name].mb = &m;
    for (auto slash = m.name.rfind(kDelimiter); slash != std::string::npos && slash > 0;
         slash = m.name.rfind(kDelimiter, slash - 1))
      tree[m.name.substr(0, slash)].children = true;
  }
  return tree;
}

// Calls f(name, node) for every descendant of `name` ("name/..." sorts as one run of keys).
template <typename F>
void for_descendants(const Tree& tree, const std::string& name, F f) {
  const std::string prefix = name + kDelimiter;
  for (auto it = tree.lower_bound(prefix); it != tree.end() && it->first.starts_with(prefix); ++it)
    f(it->first, it->second);
}

}  // namespace

bool list_match(std::string_view pattern, std::string_view name) {
  // Iterative wildcard match with backtracking over the last "*" or "%".
  std::size_t p = 0, n = 0, star_p = std::string_view::npos, star_n = 0;
  bool star_is_percent = false;
  while (n < name.size()) {
    if (p < pattern.size() && (pattern[p] == '*' || pattern[p] == '%')) {
      star_is_percent = pattern[p] == '%';
      star_p = p++;
      star_n = n;
    } else if (p < pattern.size() && pattern[p] == name[n]) {
      ++p, ++n;
    } else if (star_p != std::string_view::npos && !(star_is_percent && name[star_n] == kDelimiter)) {
      p = star_p + 1;
      n = ++star_n;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && (pattern[p] == '*' || pattern[p] == '%')) ++p;
  return p == pattern.size();
}

std::vector<std::string> Session::list_patterns(const std::string& reference,
                                                const std::vector<std::string>& patterns) const {
  std::vector<std::string> out;
  for (const auto& p : patterns) {
    std::string full = reference + p;
    if (!utf8_) {
      // RFC 5258 §3: a pattern the server does not accept is silently ignored.
      auto d = mutf7_decode(full);
      if (!d) continue;
      full = std::move(*d);
    }
    // RFC 9051 §5.1: INBOX is case-insensitive, also as the first level of a pattern.
    if (full.size() >= 5 && iequals(std::string_view(full).substr(0, 5), "INBOX") &&
        (full.size() == 5 || full[5] == kDelimiter || full[5] == '*' || full[5] == '%'))
      full.replace(0, 5, "INBOX");
    out.push_back(std::move(full));
  }
  return out;
}

Output Session::cmd_list(const CommandHead& h, Cursor& c, bool lsub) {
  std::string error;
  auto args = parse_list(c, lsub, error);
  if (!args) return {tagged(h, "BAD", error)};
  const char* verb = lsub ? "LSUB" : "LIST";
  const std::string done = tagged(h, "OK", std::string(verb) + " completed");
  // RFC 9051 §6.3.9: an empty pattern asks for the delimiter and the root; only in the basic
  // form: an extended LIST ignores empty patterns for matching (RFC 5258 §3).
  if (!args->extended && args->patterns.size() == 1 && args->patterns[0].empty())
    return {fmt::format("* {} (\\Noselect) \"/\" \"\"\r\n", verb) + done};
  std::erase_if(args->patterns, [](const std::string& p) { return p.empty(); });
  const auto patterns = list_patterns(args->reference, args->patterns);
  auto mbs = store_.mail.list_mailboxes(account_id_);
  if (!mbs) return {tagged(h, "NO", "[SERVERBUG] Cannot list mailboxes")};
  Tree tree = build_tree(*mbs);
  for (auto& [name, node] : tree) {
    for (const auto& p : patterns) {
      if (!list_match(p, name)) continue;
      node.matched = true;
      node.percent_level |= p.ends_with('%');
    }
  }
  std::string out;
  auto line = [&](const std::string& name, const std::vector<std::string_view>& attrs) {
    out += fmt::format("* {} ({}) \"/\" {}", verb, fmt::join(attrs, " "), mailbox_out(name));
  };
  auto children = [](const Node& n) { return n.children ? "\\HasChildren" : "\\HasNoChildren"; };

  if (lsub) {
    // RFC 3501 §6.3.9: the subscribed names; with "%" last, an unsubscribed parent of a
    // subscribed mailbox is listed too, as \Noselect.
    for (const auto& [name, node] : tree) {
      if (!node.matched) continue;
      const bool subscribed = node.mb && node.mb->subscribed;
      bool subscribed_child = false;
      for_descendants(tree, name, [&](const std::string&, const Node& d) { subscribed_child |= d.mb && d.mb->subscribed; });
      const bool parent = !subscribed && subscribed_child && node.percent_level;
      if (!subscribed && !parent) continue;
      std::vector<std::string_view> attrs;
      if (parent) attrs.push_back("\\Noselect");
      attrs.push_back(children(node));
      if (node.mb && !node.mb->special_use.empty()) attrs.push_back(node.mb->special_use);
      line(name, attrs);
      out += "\r\n";
    }
    return {out + done};
  }

  // The selection criteria (RFC 5258 §3.1, RFC 6154 §5.1); every option given must hold.
  // Without SUBSCRIBED or SPECIAL-USE the criterion is that the mailbox exists (REMOTE adds
  // nothing here: there are no remote mailboxes).
  const bool by_existence = !args->select_subscribed && !args->select_special_use;
  auto meets = [&](const Node& n) {
    if (!n.mb) return false;  // a name that does not exist is neither subscribed nor special
    if (args->select_subscribed && !n.mb->subscribed) return false;
    if (args->select_special_use && n.mb->special_use.empty()) return false;
    return true;
  };
  std::vector<std::string_view> childinfo;
  if (args->select_subscribed) childinfo.push_back("\"SUBSCRIBED\"");
  if (args->select_special_use) childinfo.push_back("\"SPECIAL-USE\"");

  // The STATUS of the selected mailbox is the session's view of it (status_response); the
  // pending updates go first, so that view is current and the client has heard of each change.
  if (!args->return_status.empty() && selected_) {
    auto sel = tree.find(selected_->name);
    if (sel != tree.end() && sel->second.matched && meets(sel->second)) out += updates();
  }
  for (const auto& [name, node] : tree) {
    if (!node.matched) continue;
    const bool own = meets(node);
    bool child_meets = false, unlisted_child_meets = false;
    if (args->recursive_match) {
      for_descendants(tree, name, [&](const std::string&, const Node& d) {
        if (!meets(d)) return;
        child_meets = true;
        unlisted_child_meets |= !d.matched;
      });
    }
    // A level that does not exist, matched by a trailing "%" (RFC 3501 §6.3.8).
    const bool percent_parent = by_existence && !node.mb && node.children && node.percent_level;
    const bool with_childinfo = args->recursive_match && (own ? child_meets : unlisted_child_meets);
    if (!own && !with_childinfo && !percent_parent) continue;
    std::vector<std::string_view> attrs;
    if (!node.mb) {
      attrs.push_back("\\NonExistent");
      // RFC 5258 §3.4: an extended LIST client infers \Noselect; a basic one may know only it.
      if (!args->extended) attrs.push_back("\\Noselect");
    }
    // RFC 3348 (CHILDREN, advertised) puts them in every basic LIST; an extended LIST asks
    // with RETURN (CHILDREN) (RFC 5258 §4), and hears \HasChildren where it is the reason a
    // name that does not exist is listed (RFC 5258 §5 example 10).
    if (!args->extended || args->return_children || (!own && !with_childinfo)) attrs.push_back(children(node));
    if (args->return_subscribed && node.mb && node.mb->subscribed) attrs.push_back("\\Subscribed");
    // RFC 6154 §5.1: special-use attributes may come without being asked for, as they always have.
    if (node.mb && !node.mb->special_use.empty()) attrs.push_back(node.mb->special_use);
    line(name, attrs);
    if (with_childinfo) out += fmt::format(" (\"CHILDINFO\" ({}))", fmt::join(childinfo, " "));
    out += "\r\n";
    // RFC 5819 §2: a STATUS line after the LIST line of each selectable mailbox, and only of
    // those the listing is about: not of one listed only for its CHILDINFO. A mailbox deleted
    // meanwhile has no STATUS to give, and gets none.
    if (!args->return_status.empty() && own) {
      std::string err;
      if (auto st = status_response(name, args->return_status, err)) out += *st;
    }
  }
  return {out + done};
}

}  // namespace mk::imap
