// Tests for imap/proto/search_key: every search key, nesting, the limits, and each rejection
// with the token it names. The parsed tree is shown in a compact notation (show()), so each
// row states the whole tree it expects.
#include "imap/proto/search_key.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace mk::imap {
namespace {

std::string show_set(const SeqSet& set) {
  if (set.saved) return "$";
  std::string out;
  auto num = [](std::uint32_t n) { return n == kStar ? std::string("*") : std::to_string(n); };
  for (auto [a, b] : set.ranges) {
    if (!out.empty()) out += ',';
    out += a == b ? num(a) : num(a) + ":" + num(b);
  }
  return out;
}

// "and(+\Seen,header(FROM,alice))": +flag / -flag for flag_set / flag_unset.
std::string show(const SearchKey& k) {
  using K = SearchKey::Kind;
  auto kids = [&] {
    std::string out;
    for (const auto& kid : k.kids) out += (out.empty() ? "" : ",") + show(kid);
    return out;
  };
  auto n = [&](const char* f) { return std::string(f) + "(" + std::to_string(k.number) + ")"; };
  switch (k.kind) {
    case K::all: return "all";
    case K::flag_set: return "+" + k.name;
    case K::flag_unset: return "-" + k.name;
    case K::recent: return "recent";
    case K::header: return "header(" + k.name + "," + k.value + ")";
    case K::body: return "body(" + k.value + ")";
    case K::text: return "text(" + k.value + ")";
    case K::before: return n("before");
    case K::on: return n("on");
    case K::since: return n("since");
    case K::sent_before: return n("sentbefore");
    case K::sent_on: return n("senton");
    case K::sent_since: return n("sentsince");
    case K::larger: return n("larger");
    case K::smaller: return n("smaller");
    case K::modseq: return n("modseq");
    case K::uid: return "uid(" + show_set(k.set) + ")";
    case K::seq: return "seq(" + show_set(k.set) + ")";
    case K::not_: return "not(" + kids() + ")";
    case K::or_: return "or(" + kids() + ")";
    case K::and_: return "and(" + kids() + ")";
  }
  return "?";
}

ParsedSearchKeys parse(std::string_view in) {
  Cursor c(in);
  return parse_search_keys(c);
}

std::string repeat(int n, std::string_view s, std::string_view sep = "") {
  std::string out;
  for (int i = 0; i < n; ++i) (out += i ? sep : "") += s;
  return out;
}

// Midnight UTC of 2 Jan 2023, and of 1 Feb 1994 (RFC 9051's examples).
constexpr std::int64_t k2Jan2023 = 1672617600;
constexpr std::int64_t k1Feb1994 = 760060800;

TEST(SearchKey, ParsesEveryKey) {
  struct Row {
    std::string_view in;
    std::string want;
  };
  const std::string d = std::to_string(k2Jan2023);
  for (const Row& r : std::initializer_list<Row>{
           {"ALL", "and(all)"},
           {"ANSWERED", "and(+\\Answered)"},
           {"DELETED", "and(+\\Deleted)"},
           {"DRAFT", "and(+\\Draft)"},
           {"FLAGGED", "and(+\\Flagged)"},
           {"SEEN", "and(+\\Seen)"},
           {"UNANSWERED", "and(-\\Answered)"},
           {"UNDELETED", "and(-\\Deleted)"},
           {"UNDRAFT", "and(-\\Draft)"},
           {"UNFLAGGED", "and(-\\Flagged)"},
           {"UNSEEN", "and(-\\Seen)"},
           {"RECENT", "and(recent)"},
           {"NEW", "and(and(recent,-\\Seen))"},  // RFC 3501: RECENT UNSEEN
           {"OLD", "and(not(recent))"},
           {"KEYWORD $Label1", "and(+$Label1)"},
           {"UNKEYWORD Junk", "and(-Junk)"},
           {"KEYWORD \\seen", "and(+\\Seen)"},  // system flags in their canonical spelling
           {"BEFORE 2-Jan-2023", "and(before(" + d + "))"},
           {"ON \"2-Jan-2023\"", "and(on(" + d + "))"},
           {"SINCE 02-jan-2023", "and(since(" + d + "))"},
           {"SENTBEFORE 2-Jan-2023", "and(sentbefore(" + d + "))"},
           {"SENTON 2-Jan-2023", "and(senton(" + d + "))"},
           {"SENTSINCE 2-Jan-2023", "and(sentsince(" + d + "))"},
           {"FROM Alice", "and(header(FROM,alice))"},  // search strings are lower-cased
           {"TO \"Bob Smith\"", "and(header(TO,bob smith))"},
           {"CC carol", "and(header(CC,carol))"},
           {"BCC dave", "and(header(BCC,dave))"},
           {"SUBJECT \"\"", "and(header(SUBJECT,))"},
           {"HEADER x-Mailer Foo", "and(header(X-MAILER,foo))"},
           {"HEADER \"List-Id\" \"\"", "and(header(LIST-ID,))"},
           {"BODY {5}\r\nHeLLo", "and(body(hello))"},
           {"TEXT caf\xc3\xa9", "and(text(caf\xc3\xa9))"},
           {"LARGER 10", "and(larger(10))"},
           {"SMALLER 9223372036854775807", "and(smaller(9223372036854775807))"},
           {"UID 1:3,5", "and(uid(1:3,5))"},
           {"UID 5:*", "and(uid(5:*))"},
           {"UID $", "and(uid($))"},
           {"1", "and(seq(1))"},
           {"4:2,7", "and(seq(2:4,7))"},
           {"*", "and(seq(*))"},
           {"$", "and(seq($))"},  // RFC 5182 §2.1
           {"MODSEQ 720162338", "and(modseq(720162338))"},
           // RFC 7162 §3.1.5: the entry name and type are accepted and ignored.
           {"MODSEQ \"/flags/\\\\draft\" all 620162338", "and(modseq(620162338))"},
           {"MODSEQ \"/flags/$Label1\" priv 1", "and(modseq(1))"},
           {"MODSEQ \"/flags/\\\\seen\" shared 0", "and(modseq(0))"},
       }) {
    auto p = parse(r.in);
    ASSERT_TRUE(p) << r.in << ": " << p.error.text() << " at " << p.error.offset;
    EXPECT_EQ(show(*p.keys), r.want) << r.in;
  }
}

TEST(SearchKey, CombinesAndNests) {
  struct Row {
    std::string_view in;
    std::string want;
  };
  const std::string feb = std::to_string(k1Feb1994);
  for (const Row& r : std::initializer_list<Row>{
           // RFC 9051 §6.4.4's examples.
           {"FLAGGED SINCE 1-Feb-1994 NOT FROM \"Smith\"",
            "and(+\\Flagged,since(" + feb + "),not(header(FROM,smith)))"},
           {"OR BODY \"hello\" SUBJECT \"x\"", "and(or(body(hello),header(SUBJECT,x)))"},
           {"or seen Flagged", "and(or(+\\Seen,+\\Flagged))"},  // keywords are case-insensitive
           {"OR SEEN (FLAGGED NOT DELETED)", "and(or(+\\Seen,and(+\\Flagged,not(+\\Deleted))))"},
           {"NOT OR SEEN FLAGGED", "and(not(or(+\\Seen,+\\Flagged)))"},
           {"OR OR SEEN FLAGGED DRAFT", "and(or(or(+\\Seen,+\\Flagged),+\\Draft))"},
           {"OR (SEEN) (UID 2)", "and(or(and(+\\Seen),and(uid(2))))"},
           {"(SEEN) (UNSEEN)", "and(and(+\\Seen),and(-\\Seen))"},
           {"((ALL))", "and(and(and(all)))"},
           {"()", "and(and())"},
           {"1:3 UNSEEN", "and(seq(1:3),-\\Seen)"},
           {"UNSEEN $", "and(-\\Seen,seq($))"},
           {"NOT $", "and(not(seq($)))"},
           {"(MODSEQ \"/flags/\\\\seen\" all 5 LARGER 1)", "and(and(modseq(5),larger(1)))"},
       }) {
    auto p = parse(r.in);
    ASSERT_TRUE(p) << r.in << ": " << p.error.text() << " at " << p.error.offset;
    EXPECT_EQ(show(*p.keys), r.want) << r.in;
  }
}

TEST(SearchKey, Limits) {
  // Depth counts from 0 at the top: kMaxNesting levels of NOT or parentheses are allowed.
  EXPECT_TRUE(parse(repeat(kMaxNesting, "NOT ") + "ALL"));
  EXPECT_TRUE(parse(repeat(kMaxNesting, "(") + "ALL" + repeat(kMaxNesting, ")")));
  EXPECT_TRUE(parse(repeat(kMaxNesting, "OR SEEN ") + "ALL"));
  auto deep = parse(repeat(kMaxNesting + 1, "NOT ") + "ALL");
  ASSERT_FALSE(deep);
  EXPECT_EQ(deep.error.code, SearchKeyErrc::too_deep);
  EXPECT_EQ(deep.error.offset, 4u * (kMaxNesting + 1));
  EXPECT_EQ(deep.error.token, "ALL");
  EXPECT_EQ(deep.error.text(), "Search too complex");
  auto deep_or = parse(repeat(kMaxNesting + 1, "OR SEEN ") + "ALL");
  ASSERT_FALSE(deep_or);
  EXPECT_EQ(deep_or.error.code, SearchKeyErrc::too_deep);
  // Inside parentheses the reply says so, as it always has; the cause says why.
  auto parens = parse(repeat(kMaxNesting + 1, "(") + "ALL" + repeat(kMaxNesting + 1, ")"));
  ASSERT_FALSE(parens);
  EXPECT_EQ(parens.error.code, SearchKeyErrc::unbalanced_parens);
  EXPECT_EQ(parens.error.cause, SearchKeyErrc::too_deep);
  EXPECT_EQ(parens.error.token, "ALL");

  // Every key counts, nested ones and NOT/OR/parentheses included.
  EXPECT_TRUE(parse(repeat(kMaxSearchKeys, "ALL", " ")));
  EXPECT_TRUE(parse(repeat(kMaxSearchKeys / 2, "NOT SEEN", " ")));
  EXPECT_TRUE(parse("(" + repeat(kMaxSearchKeys - 1, "ALL", " ") + ")"));
  for (const std::string& in : {repeat(kMaxSearchKeys + 1, "ALL", " "),
                                repeat(kMaxSearchKeys / 2, "NOT SEEN", " ") + " SEEN"}) {
    auto many = parse(in);
    ASSERT_FALSE(many);
    EXPECT_EQ(many.error.code, SearchKeyErrc::too_many_keys);
    EXPECT_EQ(many.error.offset, in.size() - (in.ends_with("SEEN") ? 4 : 3));
    EXPECT_EQ(many.error.text(), "Search too complex");
  }
  auto many_nested = parse("(" + repeat(kMaxSearchKeys, "ALL", " ") + ")");
  ASSERT_FALSE(many_nested);
  EXPECT_EQ(many_nested.error.cause, SearchKeyErrc::too_many_keys);
}

TEST(SearchKey, Rejects) {
  using E = SearchKeyErrc;
  struct Row {
    std::string_view in;
    E code;
    std::size_t offset;
    std::string_view token;
    E cause;  // = code unless inside parentheses
  };
  const std::string long_key(100, 'X');
  for (const Row& r : std::initializer_list<Row>{
           {"FROBNICATE", E::unknown_key, 0, "FROBNICATE", E::unknown_key},
           {"SEEN FROBNICATE ALL", E::unknown_key, 5, "FROBNICATE", E::unknown_key},
           {"ALLX", E::unknown_key, 0, "ALLX", E::unknown_key},
           {"\"SEEN\"", E::unknown_key, 0, "\"SEEN\"", E::unknown_key},
           {"", E::unknown_key, 0, "", E::unknown_key},
           {"SEEN ", E::unknown_key, 5, "", E::unknown_key},
           {"SEEN  FLAGGED", E::unknown_key, 5, "", E::unknown_key},
           {")", E::unknown_key, 0, ")", E::unknown_key},
           {long_key, E::unknown_key, 0, std::string_view(long_key).substr(0, kMaxSearchErrorToken),
            E::unknown_key},
           // Missing and bad arguments: the offset is where the argument belongs.
           {"FROM", E::missing_string, 4, "", E::missing_string},
           {"SUBJECT \"open", E::missing_string, 8, "\"open", E::missing_string},
           {"HEADER", E::missing_header_name, 6, "", E::missing_header_name},
           {"HEADER X-Foo", E::missing_string, 12, "", E::missing_string},
           {"BODY", E::missing_string, 4, "", E::missing_string},
           {"TEXT", E::missing_string, 4, "", E::missing_string},
           {"SINCE", E::bad_date, 5, "", E::bad_date},
           {"SINCE 32-Jan-2023", E::bad_date, 6, "32-Jan-2023", E::bad_date},
           {"BEFORE 1-Foo-2023", E::bad_date, 7, "1-Foo-2023", E::bad_date},
           {"ON 1-Jan-23", E::bad_date, 3, "1-Jan-23", E::bad_date},
           {"SENTON \"1-Jan-2023", E::bad_date, 7, "\"1-Jan-2023", E::bad_date},
           {"LARGER", E::bad_size, 6, "", E::bad_size},
           {"LARGER x", E::bad_size, 7, "x", E::bad_size},
           {"SMALLER -1", E::bad_size, 8, "-1", E::bad_size},
           {"LARGER 9223372036854775808", E::bad_size, 7, "9223372036854775808", E::bad_size},
           {"UID", E::bad_uid_set, 3, "", E::bad_uid_set},
           {"UID x", E::bad_uid_set, 4, "x", E::bad_uid_set},
           {"UID 0", E::bad_uid_set, 4, "0", E::bad_uid_set},
           {"0", E::bad_sequence_set, 0, "0", E::bad_sequence_set},
           {"1:", E::bad_sequence_set, 0, "1:", E::bad_sequence_set},
           {"4294967296", E::bad_sequence_set, 0, "4294967296", E::bad_sequence_set},
           {"KEYWORD", E::bad_flag, 7, "", E::bad_flag},
           {"KEYWORD (", E::bad_flag, 8, "(", E::bad_flag},
           {"MODSEQ", E::bad_modseq, 6, "", E::bad_modseq},
           {"MODSEQ x", E::bad_modseq, 7, "x", E::bad_modseq},
           {"MODSEQ \"/flags/\\\\seen\" all", E::bad_modseq, 7, "\"/flags/\\\\seen\"",
            E::bad_modseq},
           {"MODSEQ \"/flags/\\\\seen\" all x", E::bad_modseq, 27, "x", E::bad_modseq},
           // NOT and OR need SP and their keys; nothing may follow the last key.
           {"NOT", E::syntax, 3, "", E::syntax},
           {"NOT BOGUS", E::unknown_key, 4, "BOGUS", E::unknown_key},
           {"OR SEEN", E::syntax, 7, "", E::syntax},
           {"OR SEEN BOGUS", E::unknown_key, 8, "BOGUS", E::unknown_key},
           {"SEEN)", E::syntax, 4, ")", E::syntax},
           {"SEEN\r\n", E::syntax, 4, "", E::syntax},
           // Parentheses: a missing ")" and anything that fails inside them.
           {"(SEEN", E::unbalanced_parens, 5, "", E::unbalanced_parens},
           {"((SEEN)", E::unbalanced_parens, 7, "", E::unbalanced_parens},
           {"(SEEN FLAGGED", E::unbalanced_parens, 13, "", E::unbalanced_parens},
           {"(FROM)", E::unbalanced_parens, 5, ")", E::missing_string},
           {"(SEEN BOGUS)", E::unbalanced_parens, 6, "BOGUS", E::unknown_key},
           {"(NOT)", E::unbalanced_parens, 4, ")", E::syntax},
           {"( SEEN)", E::unbalanced_parens, 1, "", E::unknown_key},
       }) {
    auto p = parse(r.in);
    ASSERT_FALSE(p) << r.in << " -> " << show(*p.keys);
    EXPECT_EQ(p.error.code, r.code) << r.in;
    EXPECT_EQ(p.error.cause, r.cause) << r.in;
    EXPECT_EQ(p.error.offset, r.offset) << r.in;
    EXPECT_EQ(p.error.token, r.token) << r.in;
  }
}

// The reply texts are what clients see in the tagged BAD: they stay as they were.
TEST(SearchKey, ErrorTexts) {
  using E = SearchKeyErrc;
  struct Row {
    E code;
    std::string_view text;
  };
  for (const Row& r : std::initializer_list<Row>{
           {E::syntax, "Invalid search"},
           {E::unknown_key, "Unknown search key"},
           {E::too_many_keys, "Search too complex"},
           {E::too_deep, "Search too complex"},
           {E::unbalanced_parens, "Unbalanced parentheses"},
           {E::bad_sequence_set, "Invalid sequence set"},
           {E::bad_uid_set, "Invalid UID set"},
           {E::bad_flag, "Invalid keyword"},
           {E::bad_date, "Invalid date"},
           {E::bad_size, "Invalid size"},
           {E::bad_modseq, "Invalid MODSEQ"},
           {E::missing_string, "Missing search string"},
           {E::missing_header_name, "Missing header name"},
       }) {
    SearchKeyError e;
    e.code = r.code;
    EXPECT_EQ(e.text(), r.text) << static_cast<int>(r.code);
  }
  EXPECT_EQ(parse("(FROM)").error.text(), "Unbalanced parentheses");
}

// Offsets count like Cursor::pos(), from the start of the command the cursor walks.
TEST(SearchKey, OffsetsAreInTheCommand) {
  const std::string_view cmd = "a SEARCH CHARSET UTF-8 SEEN SINCE 30-Feb-x";
  Cursor c(cmd);
  ASSERT_TRUE(c.atom() && c.sp() && c.keyword("SEARCH") && c.sp() && c.keyword("CHARSET") &&
              c.sp() && c.astring() && c.sp());
  auto p = parse_search_keys(c);
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error.code, SearchKeyErrc::bad_date);
  EXPECT_EQ(p.error.offset, cmd.find("30-Feb"));
  EXPECT_EQ(p.error.token, "30-Feb-x");

  Cursor ok(cmd);
  ASSERT_TRUE(ok.atom() && ok.sp() && ok.keyword("SEARCH") && ok.sp());
  auto whole = parse_search_keys(ok);
  ASSERT_FALSE(whole);  // CHARSET is the caller's to take, not a search key
  EXPECT_EQ(whole.error.code, SearchKeyErrc::unknown_key);
  EXPECT_EQ(whole.error.token, "CHARSET");
}

}  // namespace
}  // namespace mk::imap
