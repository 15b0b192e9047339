#include "imap/proto/list.hpp"

#include <algorithm>
#include <array>
#include <string_view>

#include <fmt/format.h>

#include "base/strings.hpp"

namespace mk::imap {
namespace {

// RFC 9051 §6.3.11 (MESSAGES UIDNEXT UIDVALIDITY UNSEEN DELETED SIZE), RFC 3501 §6.3.10
// (RECENT, gone from IMAP4rev2 but still asked by IMAP4rev1 clients), RFC 7162 §3.1.6
// (HIGHESTMODSEQ).
constexpr std::array<std::string_view, 8> kStatusItems = {"MESSAGES", "UIDNEXT", "UIDVALIDITY", "UNSEEN",
                                                          "DELETED",  "SIZE",    "RECENT",      "HIGHESTMODSEQ"};

constexpr std::string_view kSelectSyntax = "Syntax: LIST (selection-options) reference pattern";
constexpr std::string_view kReturnSyntax = "Syntax: LIST reference pattern RETURN (return-options)";

// The BAD for an option we do not know: it names the option (its atom, shortened: it is
// echoed), or the syntax when there is no option where one must be.
std::string unknown_option(Cursor& c, std::string_view kind, std::string_view syntax) {
  auto a = c.atom();
  if (!a) return std::string(syntax);
  constexpr std::size_t kEcho = 40;
  return fmt::format("Unknown LIST {} option {}", kind, a->substr(0, kEcho));
}

// list-select-opts = "(" [list-select-opt *(SP list-select-opt)] ")" (RFC 5258 §6, RFC 6154 §6).
bool selection_options(Cursor& c, ListCommand& out, std::string& error) {
  c.consume('(');
  if (c.consume(')')) return true;  // "()": the extended form with no option
  do {
    if (c.keyword("SUBSCRIBED")) out.select_subscribed = true;
    else if (c.keyword("REMOTE")) out.select_remote = true;
    else if (c.keyword("RECURSIVEMATCH")) out.recursive_match = true;
    else if (c.keyword("SPECIAL-USE")) out.select_special_use = true;
    else return error = unknown_option(c, "selection", kSelectSyntax), false;
  } while (c.sp());
  if (!c.consume(')')) return error = kSelectSyntax, false;
  // RFC 5258 §3.1: RECURSIVEMATCH only qualifies a base option (SUBSCRIBED, or SPECIAL-USE
  // by RFC 6154 §6); alone or with REMOTE only, the server MUST answer BAD.
  if (out.recursive_match && !out.select_subscribed && !out.select_special_use)
    return error = "RECURSIVEMATCH needs SUBSCRIBED or SPECIAL-USE", false;
  // RFC 5258 §3.1, RFC 6154 §5.1: a selection option implies its return option.
  out.return_subscribed |= out.select_subscribed;
  out.return_special_use |= out.select_special_use;
  return true;
}

// list-return-opts = "RETURN" SP "(" [return-option *(SP return-option)] ")".
bool return_options(Cursor& c, ListCommand& out, std::string& error) {
  if (!c.keyword("RETURN") || !c.sp() || !c.consume('(')) return error = kReturnSyntax, false;
  if (c.consume(')')) return true;
  do {
    if (c.keyword("SUBSCRIBED")) out.return_subscribed = true;
    else if (c.keyword("CHILDREN")) out.return_children = true;
    else if (c.keyword("SPECIAL-USE")) out.return_special_use = true;
    else if (c.keyword("STATUS")) {
      // RFC 5819 §4: "STATUS" SP "(" status-att *(SP status-att) ")". Named twice, it acts
      // as once (RFC 5258 §3): the items add up.
      if (!c.sp()) return error = "Syntax: RETURN (STATUS (items))", false;
      auto items = parse_status_items(c, error);
      if (!items) return false;
      for (auto& i : *items)
        if (std::find(out.return_status.begin(), out.return_status.end(), i) == out.return_status.end())
          out.return_status.push_back(std::move(i));
    } else {
      return error = unknown_option(c, "return", kReturnSyntax), false;
    }
  } while (c.sp());
  if (!c.consume(')')) return error = kReturnSyntax, false;
  return true;
}

}  // namespace

std::optional<std::vector<std::string>> parse_status_items(Cursor& c, std::string& error) {
  constexpr std::string_view kSyntax = "Syntax: (MESSAGES UIDNEXT UIDVALIDITY UNSEEN ...)";
  if (!c.consume('(')) return error = kSyntax, std::nullopt;
  std::vector<std::string> items;
  do {
    auto a = c.atom();
    if (!a) return error = kSyntax, std::nullopt;
    std::string item = to_upper(*a);
    if (std::find(kStatusItems.begin(), kStatusItems.end(), item) == kStatusItems.end())
      return error = "Unknown STATUS item " + item.substr(0, 40), std::nullopt;
    if (std::find(items.begin(), items.end(), item) == items.end()) items.push_back(std::move(item));
  } while (c.sp());
  if (!c.consume(')')) return error = kSyntax, std::nullopt;
  return items;
}

std::optional<ListCommand> parse_list(Cursor& c, bool lsub, std::string& error) {
  const std::string syntax = fmt::format("Syntax: {} reference pattern", lsub ? "LSUB" : "LIST");
  ListCommand out;
  if (!c.sp()) return error = syntax, std::nullopt;
  // RFC 5258 §6: list = "LIST" [SP list-select-opts] SP mailbox SP mbox-or-pat [SP list-return-opts]
  if (!lsub && c.peek('(')) {
    out.extended = true;
    if (!selection_options(c, out, error)) return std::nullopt;
    if (!c.sp()) return error = syntax, std::nullopt;
  }
  auto ref = c.astring();
  if (!ref || !c.sp()) return error = syntax, std::nullopt;
  out.reference = std::move(*ref);
  if (c.consume('(')) {
    // patterns = "(" list-mailbox *(SP list-mailbox) ")". LSUB took a list too before LIST
    // was extended; it still does, and stays basic.
    out.extended = !lsub;
    do {
      auto p = c.list_mailbox();
      if (!p) return error = "Invalid mailbox pattern", std::nullopt;
      if (out.patterns.size() == kMaxListPatterns)
        return error = fmt::format("Too many mailbox patterns (at most {})", kMaxListPatterns), std::nullopt;
      out.patterns.push_back(std::move(*p));
    } while (c.sp());
    if (!c.consume(')')) return error = "Invalid mailbox pattern list", std::nullopt;
  } else {
    auto p = c.list_mailbox();
    if (!p) return error = "Invalid mailbox pattern", std::nullopt;
    out.patterns.push_back(std::move(*p));
  }
  std::size_t bytes = 0;
  for (const auto& p : out.patterns) bytes += out.reference.size() + p.size();
  if (bytes > kMaxListPatternBytes)
    return error = fmt::format("Mailbox patterns too long (at most {} bytes)", kMaxListPatternBytes), std::nullopt;
  if (c.sp()) {
    if (lsub) return error = "LSUB takes no options", std::nullopt;
    out.extended = true;
    if (!return_options(c, out, error)) return std::nullopt;
  }
  if (!c.eof()) return error = fmt::format("Unexpected arguments after {}", lsub ? "LSUB" : "LIST"), std::nullopt;
  return out;
}

}  // namespace mk::imap
