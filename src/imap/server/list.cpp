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
// SECURITY: a logged-in user chooses both the patterns and the names, so a command's work is
// counted (kMaxListWork: building the tree, matching, the descendants RECURSIVEMATCH and LSUB
// look at) and so are its STATUS lines (kMaxListStatusMailboxes); past either it gets a
// tagged NO [LIMIT] (RFC 5530 §3) and no listing lines at all.
#include <algorithm>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "base/strings.hpp"
#include "imap/proto/encode.hpp"
#include "imap/proto/list.hpp"
#include "imap/server/session.hpp"

namespace mk::imap {
namespace {

constexpr char kDelimiter = '/';

// What one LIST or LSUB may cost, in steps of about a byte compared. The patterns
// (kMaxListPatternBytes) and the names (1000 bytes, up to 500 levels, any number of them)
// are each bounded, but their product is not: ten deep names and one 4 KB pattern of
// wildcards are some 10^10 steps on the shared work pool. An account of thousands of
// mailboxes listed with a few ordinary patterns stays under a hundredth of this.
constexpr std::uint64_t kMaxListWork = std::uint64_t(1) << 24;
// Mailboxes that get a STATUS line in one LIST-STATUS (RFC 5819): the store has no aggregate
// counts, so each costs a read of every message in it.
constexpr std::size_t kMaxListStatusMailboxes = 1000;
// RFC 5530 §3 LIMIT: the command asked for more work than the server allows.
constexpr std::string_view kTooCostly = "[LIMIT] Listing too costly; use fewer or narrower patterns";

// The steps left to a command; once spent, it stays spent.
class Budget {
 public:
  explicit Budget(std::uint64_t steps) : left_(steps) {}
  bool spend(std::uint64_t n) {
    if (n > left_) return spent_ = true, left_ = 0, false;
    left_ -= n;
    return true;
  }
  bool spent() const { return spent_; }

 private:
  std::uint64_t left_;
  bool spent_ = false;
};

// One level of the account's hierarchy.
struct Node {
  const store::Mailbox* mb = nullptr;  // null: the level exists only as a parent
  bool children = false;
  bool matched = false;        // matches one of the patterns
  bool percent_level = false;  // matches a pattern whose last character is "%"
};
using Tree = std::map<std::string, Node>;

// Every mailbox and every level above it; each level costs its bytes (copied and compared).
std::optional<Tree> build_tree(const std::vector<store::Mailbox>& mbs, Budget& budget) {
  Tree tree;
  for (const auto& m : mbs) {
    if (!budget.spend(m.name.size() + 1)) return std::nullopt;
    tree[m.name].mb = &m;
    for (auto slash = m.name.rfind(kDelimiter); slash != std::string::npos && slash > 0;
         slash = m.name.rfind(kDelimiter, slash - 1)) {
      if (!budget.spend(slash + 1)) return std::nullopt;
      tree[m.name.substr(0, slash)].children = true;
    }
  }
  return tree;
}

// Calls f(name, node) for every descendant of `name` ("name/..." sorts as one run of keys),
// each costing the prefix compared; false when the budget ran out.
template <typename F>
bool for_descendants(const Tree& tree, const std::string& name, Budget& budget, F f) {
  const std::string prefix = name + kDelimiter;
  for (auto it = tree.lower_bound(prefix); it != tree.end() && it->first.starts_with(prefix); ++it) {
    if (!budget.spend(prefix.size())) return false;
    f(it->first, it->second);
  }
  return true;
}

// RFC 9051 §6.3.9: "*" matches any characters, "%" any but the delimiter. Matched as a set of
// reachable name positions, one pattern character at a time: (pattern + 1) x (name + 1) steps
// at worst, whatever the wildcards. Backtracking to the last wildcard only has that bound too
// but misses matches where a "%" follows a "*" ("*a%" on "a/a": the "*" must take "a/"), and
// backtracking further has none. `reach` is scratch space, kept between calls.
bool wildcard_match(std::string_view pattern, std::string_view name, Budget& budget, std::vector<char>& reach) {
  const std::size_t n = name.size();
  reach.assign(n + 1, 0);
  reach[0] = 1;  // the empty prefix of the pattern matches the empty prefix of the name
  for (const char pc : pattern) {
    if (!budget.spend(n + 1)) return false;
    bool any = false;
    if (pc == '*' || pc == '%') {
      bool on = false;
      for (std::size_t j = 0; j <= n; ++j) {
        if (pc == '%' && j > 0 && name[j - 1] == kDelimiter) on = false;  // "%" stops at a level
        on |= reach[j] != 0;
        reach[j] = on;
        any |= on;
      }
    } else {
      for (std::size_t j = n; j > 0; --j) {
        reach[j] = reach[j - 1] && name[j - 1] == pc;
        any |= reach[j] != 0;
      }
      reach[0] = 0;
    }
    if (!any) return false;
  }
  return reach[n] != 0;
}

}  // namespace

bool list_match(std::string_view pattern, std::string_view name) {
  Budget unlimited(std::numeric_limits<std::uint64_t>::max());
  std::vector<char> reach;
  return wildcard_match(pattern, name, unlimited, reach);
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
  // Past the budget the answer is a NO and nothing else: the lines are gathered in `out`
  // and dropped, so a client never mistakes a cut-off listing for the whole.
  Budget budget(kMaxListWork);
  const std::string too_costly = tagged(h, "NO", kTooCostly);
  auto tree_built = build_tree(*mbs, budget);
  if (!tree_built) return {too_costly};
  Tree& tree = *tree_built;
  std::vector<char> reach;
  for (auto& [name, node] : tree) {
    for (const auto& p : patterns) {
      if (!wildcard_match(p, name, budget, reach)) {
        if (budget.spent()) return {too_costly};
        continue;
      }
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
      if (!for_descendants(tree, name, budget,
                           [&](const std::string&, const Node& d) { subscribed_child |= d.mb && d.mb->subscribed; }))
        return {too_costly};
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
  // Those updates are sent also when the listing is refused: the session's view has moved on.
  std::string pending;
  if (!args->return_status.empty() && selected_) {
    auto sel = tree.find(selected_->name);
    if (sel != tree.end() && sel->second.matched && meets(sel->second)) pending = updates();
  }
  std::size_t statuses = 0;
  for (const auto& [name, node] : tree) {
    if (!node.matched) continue;
    const bool own = meets(node);
    bool child_meets = false, unlisted_child_meets = false;
    if (args->recursive_match) {
      const bool within = for_descendants(tree, name, budget, [&](const std::string&, const Node& d) {
        if (!meets(d)) return;
        child_meets = true;
        unlisted_child_meets |= !d.matched;
      });
      if (!within) return {pending + too_costly};
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
      if (++statuses > kMaxListStatusMailboxes) return {pending + too_costly};
      std::string err;
      if (auto st = status_response(name, args->return_status, err)) out += *st;
    }
  }
  return {pending + out + done};
}

}  // namespace mk::imap
