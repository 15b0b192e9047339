// LIST, LSUB and STATUS (imap/server/list.cpp, status.cpp, imap/proto/list.hpp) driven
// through a session on a real SQLite store: the examples of RFC 5258 §5 that a server
// without remote mailboxes can give, each hierarchy built as the RFC describes it, with the
// exact lines we answer; the other option combinations; LIST-STATUS (RFC 5819), also on the
// selected mailbox; and the BAD of every malformed LIST.
//
// Where our answer differs from an RFC example it is for reasons outside LIST-EXTENDED, and
// the case says which: INBOX is "INBOX" and has no \Marked or \NoInferiors, there are no
// remote mailboxes, names come in byte order, and a subscription belongs to a mailbox (so a
// subscribed name that does not exist, like "Fruit/Peach" of example 2, cannot occur).
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <future>
#include <initializer_list>
#include <string>
#include <vector>

#include "auth/password.hpp"
#include "imap/server/session.hpp"
#include "unit/store/store_fixture.hpp"

namespace mk::imap {
namespace {

struct Box {
  const char* name;
  bool subscribed = false;
  const char* special_use = "";
};

struct Case {
  const char* command;
  const char* reply;  // everything sent back, the tagged line included
};

class ImapList : public store::StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    ASSERT_TRUE(store_->add_domain("example.org").ok());
    acct_ = *store_->add_account("me@example.org", *auth::hash_password("correct horse battery"));
    s_ = login();
  }
  std::unique_ptr<Session> login() {
    auto s = std::make_unique<Session>(SessionConfig{}, *store_, "127.0.0.1");
    EXPECT_NE(s->on_command("l LOGIN me@example.org \"correct horse battery\"").data.find("l OK"), std::string::npos);
    return s;
  }
  // The account holds exactly INBOX (subscribed or not) and `boxes`: a name whose parent is
  // not among them has a parent level that does not exist.
  void hierarchy(std::initializer_list<Box> boxes, bool inbox_subscribed = true) {
    for (const auto& mb : *store_->list_mailboxes(acct_))
      if (mb.name != "INBOX") {
        ASSERT_TRUE(store_->delete_mailbox(acct_, mb.name).ok()) << mb.name;
      }
    ASSERT_TRUE(store_->set_subscribed(acct_, "INBOX", inbox_subscribed).ok());
    for (const auto& b : boxes) {
      ASSERT_TRUE(store_->create_mailbox(acct_, b.name, b.special_use).ok()) << b.name;
      ASSERT_TRUE(store_->set_subscribed(acct_, b.name, b.subscribed).ok()) << b.name;
    }
  }
  std::string run(std::string_view cmd) { return run(*s_, cmd); }
  static std::string run(Session& s, std::string_view cmd) { return s.on_command(cmd).data; }
  void check(std::initializer_list<Case> cases) {
    for (const Case& c : cases) EXPECT_EQ(run(c.command), c.reply) << c.command;
  }
  std::int64_t acct_ = 0;
  std::unique_ptr<Session> s_;
};

// RFC 5258 §5 examples 1 to 6: one hierarchy, many views of it.
TEST_F(ImapList, Rfc5258FruitAndVegetables) {
  hierarchy({{"Fruit"},
             {"Fruit/Apple"},
             {"Fruit/Banana", true},
             {"Tofu"},
             {"Vegetable", true},
             {"Vegetable/Broccoli", true},
             {"Vegetable/Corn"}});
  const std::string sub =
      "* LIST (\\Subscribed) \"/\" \"Fruit/Banana\"\r\n"
      "* LIST (\\Subscribed) \"/\" \"INBOX\"\r\n"
      "* LIST (\\Subscribed) \"/\" \"Vegetable\"\r\n"
      "* LIST (\\Subscribed) \"/\" \"Vegetable/Broccoli\"\r\n";
  const std::string top =
      "* LIST (\\HasChildren) \"/\" \"Fruit\"\r\n"
      "* LIST (\\HasNoChildren) \"/\" \"INBOX\"\r\n"
      "* LIST (\\HasNoChildren) \"/\" \"Tofu\"\r\n"
      "* LIST (\\HasChildren) \"/\" \"Vegetable\"\r\n";
  const std::string ex1 =
      "* LIST (\\HasChildren) \"/\" \"Fruit\"\r\n"
      "* LIST (\\HasNoChildren) \"/\" \"Fruit/Apple\"\r\n"
      "* LIST (\\HasNoChildren) \"/\" \"Fruit/Banana\"\r\n"
      "* LIST (\\HasNoChildren) \"/\" \"INBOX\"\r\n"
      "* LIST (\\HasNoChildren) \"/\" \"Tofu\"\r\n"
      "* LIST (\\HasChildren) \"/\" \"Vegetable\"\r\n"
      "* LIST (\\HasNoChildren) \"/\" \"Vegetable/Broccoli\"\r\n"
      "* LIST (\\HasNoChildren) \"/\" \"Vegetable/Corn\"\r\n"
      "A01 OK LIST completed\r\n";
  const std::string ex6 =
      "* LIST () \"/\" \"Fruit\"\r\n"
      "* LIST () \"/\" \"Fruit/Apple\"\r\n"
      "* LIST (\\Subscribed) \"/\" \"Fruit/Banana\"\r\n"
      "* LIST (\\Subscribed) \"/\" \"INBOX\"\r\n"
      "* LIST () \"/\" \"Tofu\"\r\n"
      "* LIST (\\Subscribed) \"/\" \"Vegetable\"\r\n"
      "* LIST (\\Subscribed) \"/\" \"Vegetable/Broccoli\"\r\n"
      "* LIST () \"/\" \"Vegetable/Corn\"\r\n"
      "A06 OK LIST completed\r\n";
  struct Row {
    std::string command, reply;
  };
  for (const Row& r : std::initializer_list<Row>{
           // Example 1: a basic LIST; CHILDREN (RFC 3348) puts the children attributes in it.
           {"A01 LIST \"\" \"*\"", ex1},
           // Example 2: what is subscribed, with \Subscribed (the selection option implies
           // the return option).
           {"A02 LIST (SUBSCRIBED) \"\" \"*\"", sub + "A02 OK LIST completed\r\n"},
           // Example 3: the children attributes on request, the top level only.
           {"A03 LIST () \"\" \"%\" RETURN (CHILDREN)", top + "A03 OK LIST completed\r\n"},
           // Examples 4 and 5: REMOTE adds nothing where every mailbox is local.
           {"A04 LIST (REMOTE) \"\" \"%\" RETURN (CHILDREN)", top + "A04 OK LIST completed\r\n"},
           {"A05 LIST (REMOTE SUBSCRIBED) \"\" \"*\"", sub + "A05 OK LIST completed\r\n"},
           // Example 6: every mailbox, each saying whether it is subscribed.
           {"A06 LIST (REMOTE) \"\" \"*\" RETURN (SUBSCRIBED)", ex6},
           // An option named twice acts as once (RFC 5258 §3); the order does not matter.
           {"A07 LIST (SUBSCRIBED REMOTE SUBSCRIBED) \"\" \"*\" RETURN (SUBSCRIBED)", sub + "A07 OK LIST completed\r\n"},
           {"A08 list (subscribed) \"\" \"*\" return (children subscribed children)",
            "* LIST (\\HasNoChildren \\Subscribed) \"/\" \"Fruit/Banana\"\r\n"
            "* LIST (\\HasNoChildren \\Subscribed) \"/\" \"INBOX\"\r\n"
            "* LIST (\\HasChildren \\Subscribed) \"/\" \"Vegetable\"\r\n"
            "* LIST (\\HasNoChildren \\Subscribed) \"/\" \"Vegetable/Broccoli\"\r\n"
            "A08 OK LIST completed\r\n"},
           // Several patterns: each name once, in order, whichever patterns it matches.
           {"A09 LIST \"\" (\"Tofu\" \"Fruit/%\" \"T*\")",
            "* LIST () \"/\" \"Fruit/Apple\"\r\n* LIST () \"/\" \"Fruit/Banana\"\r\n* LIST () \"/\" \"Tofu\"\r\n"
            "A09 OK LIST completed\r\n"},
           // The reference is put before each pattern.
           {"A10 LIST \"Vegetable/\" (\"B*\" \"C*\") RETURN (CHILDREN)",
            "* LIST (\\HasNoChildren) \"/\" \"Vegetable/Broccoli\"\r\n* LIST (\\HasNoChildren) \"/\" \"Vegetable/Corn\"\r\n"
            "A10 OK LIST completed\r\n"},
           // LSUB keeps its RFC 3501 answer: no \Subscribed, children attributes.
           {"A11 LSUB \"\" \"Vegetable*\"",
            "* LSUB (\\HasChildren) \"/\" \"Vegetable\"\r\n* LSUB (\\HasNoChildren) \"/\" \"Vegetable/Broccoli\"\r\n"
            "A11 OK LSUB completed\r\n"},
       }) {
    EXPECT_EQ(run(r.command), r.reply) << r.command;
  }
}

// RFC 5258 §5 example 7: several patterns, on the special-use mailboxes an account starts
// with (Drafts is \Drafts here; the RFC's has \NoInferiors).
TEST_F(ImapList, Rfc5258MultiplePatterns) {
  for (const char* m : {"Sent/March2004", "Sent/December2003", "Sent/August2004"})
    ASSERT_TRUE(store_->create_mailbox(acct_, m, "").ok());
  check({{"BBB LIST \"\" (\"INBOX\" \"Drafts\" \"Sent/%\")",
          "* LIST (\\Drafts) \"/\" \"Drafts\"\r\n"
          "* LIST () \"/\" \"INBOX\"\r\n"
          "* LIST () \"/\" \"Sent/August2004\"\r\n"
          "* LIST () \"/\" \"Sent/December2003\"\r\n"
          "* LIST () \"/\" \"Sent/March2004\"\r\n"
          "BBB OK LIST completed\r\n"}});
}

// RFC 5258 §5 example 8: \HasChildren against CHILDINFO, as subscriptions change.
TEST_F(ImapList, Rfc5258ChildrenAndChildinfo) {
  const std::initializer_list<Box> kBoxes = {{"Foo"}, {"Foo/Bar"}, {"Foo/Baz"}, {"Moo"}};
  hierarchy(kBoxes, false);
  check({{"C01 LIST \"\" \"*\"",
          "* LIST (\\HasChildren) \"/\" \"Foo\"\r\n* LIST (\\HasNoChildren) \"/\" \"Foo/Bar\"\r\n"
          "* LIST (\\HasNoChildren) \"/\" \"Foo/Baz\"\r\n* LIST (\\HasNoChildren) \"/\" \"INBOX\"\r\n"
          "* LIST (\\HasNoChildren) \"/\" \"Moo\"\r\nC01 OK LIST completed\r\n"},
         {"CA3 LIST \"\" \"%\" RETURN (CHILDREN)",
          "* LIST (\\HasChildren) \"/\" \"Foo\"\r\n* LIST (\\HasNoChildren) \"/\" \"INBOX\"\r\n"
          "* LIST (\\HasNoChildren) \"/\" \"Moo\"\r\nCA3 OK LIST completed\r\n"}});
  // A: only Foo/Baz is subscribed.
  ASSERT_TRUE(store_->set_subscribed(acct_, "Foo/Baz", true).ok());
  check({{"C02 LIST (SUBSCRIBED) \"\" \"*\"", "* LIST (\\Subscribed) \"/\" \"Foo/Baz\"\r\nC02 OK LIST completed\r\n"},
         {"C03 LIST (SUBSCRIBED) \"\" \"%\"", "C03 OK LIST completed\r\n"},
         {"C04 LIST (SUBSCRIBED RECURSIVEMATCH) \"\" \"%\"",
          "* LIST () \"/\" \"Foo\" (\"CHILDINFO\" (\"SUBSCRIBED\"))\r\nC04 OK LIST completed\r\n"},
         // With "*" Foo/Baz is listed itself, so Foo would say nothing new (RFC 5258 §3.5).
         {"C05 LIST (SUBSCRIBED RECURSIVEMATCH) \"\" \"*\"",
          "* LIST (\\Subscribed) \"/\" \"Foo/Baz\"\r\nC05 OK LIST completed\r\n"}});
  // A1: Foo is subscribed too (the RFC shows the attributes in the other order).
  ASSERT_TRUE(store_->set_subscribed(acct_, "Foo", true).ok());
  check({{"C04 LIST (SUBSCRIBED RECURSIVEMATCH) \"\" \"%\"",
          "* LIST (\\Subscribed) \"/\" \"Foo\" (\"CHILDINFO\" (\"SUBSCRIBED\"))\r\nC04 OK LIST completed\r\n"},
         {"C04 LIST (SUBSCRIBED RECURSIVEMATCH) \"\" \"%\" RETURN (CHILDREN)",
          "* LIST (\\HasChildren \\Subscribed) \"/\" \"Foo\" (\"CHILDINFO\" (\"SUBSCRIBED\"))\r\nC04 OK LIST completed\r\n"}});
  // A2: Foo does not exist (deleted; its children stay).
  ASSERT_TRUE(store_->delete_mailbox(acct_, "Foo").ok());
  check({{"C04 LIST (SUBSCRIBED RECURSIVEMATCH) \"\" \"%\"",
          "* LIST (\\NonExistent) \"/\" \"Foo\" (\"CHILDINFO\" (\"SUBSCRIBED\"))\r\nC04 OK LIST completed\r\n"},
         {"C05 LIST (SUBSCRIBED RECURSIVEMATCH) \"\" \"%\" RETURN (CHILDREN SUBSCRIBED)",
          "* LIST (\\NonExistent \\HasChildren) \"/\" \"Foo\" (\"CHILDINFO\" (\"SUBSCRIBED\"))\r\n"
          "C05 OK LIST completed\r\n"}});
  // B: nothing is subscribed.
  hierarchy(kBoxes, false);
  check({{"C04 LIST (SUBSCRIBED RECURSIVEMATCH) \"\" \"%\"", "C04 OK LIST completed\r\n"}});
  // C: Foo and Moo are subscribed, none of Foo's children.
  ASSERT_TRUE(store_->set_subscribed(acct_, "Foo", true).ok());
  ASSERT_TRUE(store_->set_subscribed(acct_, "Moo", true).ok());
  check({{"C04 LIST (SUBSCRIBED RECURSIVEMATCH) \"\" \"%\" RETURN (CHILDREN)",
          "* LIST (\\HasChildren \\Subscribed) \"/\" \"Foo\"\r\n* LIST (\\HasNoChildren \\Subscribed) \"/\" \"Moo\"\r\n"
          "C04 OK LIST completed\r\n"}});
}

// RFC 5258 §5 example 9: "*" and "%" with RECURSIVEMATCH. A parent that is not subscribed is
// listed with CHILDINFO only for a subscribed descendant that the pattern leaves out.
TEST_F(ImapList, Rfc5258RecursiveMatchPatterns) {
  hierarchy({{"Foo2"},
             {"Foo2/Bar1", true},
             {"Foo2/Bar2", true},
             {"Baz2"},
             {"Baz2/Bar2", true},
             {"Baz2/Bar22", true},
             {"Baz2/Bar222", true},
             {"Eps2", true},
             {"Eps2/Mailbox1", true},
             {"Qux2/Bar2", true}},  // Qux2 itself does not exist
            false);
  check({{"C04 LIST (SUBSCRIBED RECURSIVEMATCH) \"\" \"*2\"",
          "* LIST (\\Subscribed) \"/\" \"Baz2/Bar2\"\r\n"
          "* LIST (\\Subscribed) \"/\" \"Baz2/Bar22\"\r\n"
          "* LIST (\\Subscribed) \"/\" \"Baz2/Bar222\"\r\n"
          "* LIST (\\Subscribed) \"/\" \"Eps2\" (\"CHILDINFO\" (\"SUBSCRIBED\"))\r\n"
          "* LIST () \"/\" \"Foo2\" (\"CHILDINFO\" (\"SUBSCRIBED\"))\r\n"
          "* LIST (\\Subscribed) \"/\" \"Foo2/Bar2\"\r\n"
          "* LIST (\\Subscribed) \"/\" \"Qux2/Bar2\"\r\n"
          "C04 OK LIST completed\r\n"},
         {"C05 LIST (SUBSCRIBED RECURSIVEMATCH) \"\" \"%\"",
          "* LIST () \"/\" \"Baz2\" (\"CHILDINFO\" (\"SUBSCRIBED\"))\r\n"
          "* LIST (\\Subscribed) \"/\" \"Eps2\" (\"CHILDINFO\" (\"SUBSCRIBED\"))\r\n"
          "* LIST () \"/\" \"Foo2\" (\"CHILDINFO\" (\"SUBSCRIBED\"))\r\n"
          "* LIST (\\NonExistent) \"/\" \"Qux2\" (\"CHILDINFO\" (\"SUBSCRIBED\"))\r\n"
          "C05 OK LIST completed\r\n"},
         // Without RECURSIVEMATCH no parent is listed for its children.
         {"C06 LIST (SUBSCRIBED) \"\" \"%\"", "* LIST (\\Subscribed) \"/\" \"Eps2\"\r\nC06 OK LIST completed\r\n"}});
}

// RFC 5258 §5 example 10: levels that do not exist. A basic or extended LIST whose pattern
// ends in "%" returns them (RFC 3501 §6.3.8); "*" does not, having their children. A basic
// LIST adds \Noselect, which a client that knows only RFC 3501 understands.
TEST_F(ImapList, Rfc5258LevelsThatDoNotExist) {
  hierarchy({{"music/rock"}, {"sports/baseball"}, {"sports/basketball"}, {"sports/soccer"}});
  check({{"A01 LIST (REMOTE) \"\" \"*\"",
          "* LIST () \"/\" \"INBOX\"\r\n* LIST () \"/\" \"music/rock\"\r\n* LIST () \"/\" \"sports/baseball\"\r\n"
          "* LIST () \"/\" \"sports/basketball\"\r\n* LIST () \"/\" \"sports/soccer\"\r\nA01 OK LIST completed\r\n"},
         {"A02 LIST () \"\" \"%\"",
          "* LIST () \"/\" \"INBOX\"\r\n* LIST (\\NonExistent \\HasChildren) \"/\" \"music\"\r\n"
          "* LIST (\\NonExistent \\HasChildren) \"/\" \"sports\"\r\nA02 OK LIST completed\r\n"},
         {"A03 LIST \"\" \"%\"",
          "* LIST (\\HasNoChildren) \"/\" \"INBOX\"\r\n* LIST (\\NonExistent \\Noselect \\HasChildren) \"/\" \"music\"\r\n"
          "* LIST (\\NonExistent \\Noselect \\HasChildren) \"/\" \"sports\"\r\nA03 OK LIST completed\r\n"},
         {"A04 LIST \"\" \"s*\"",
          "* LIST (\\HasNoChildren) \"/\" \"sports/baseball\"\r\n* LIST (\\HasNoChildren) \"/\" \"sports/basketball\"\r\n"
          "* LIST (\\HasNoChildren) \"/\" \"sports/soccer\"\r\nA04 OK LIST completed\r\n"},
         // A level matched by a "%" that is not the last character is not returned for it.
         {"A05 LIST \"\" \"%/rock\"", "* LIST (\\HasNoChildren) \"/\" \"music/rock\"\r\nA05 OK LIST completed\r\n"},
         // LSUB lists an unsubscribed level with "%" when something under it is subscribed.
         {"A06 LSUB \"\" \"%\"", "* LSUB (\\HasNoChildren) \"/\" \"INBOX\"\r\nA06 OK LSUB completed\r\n"}});
  ASSERT_TRUE(store_->set_subscribed(acct_, "music/rock", true).ok());
  check({{"A07 LSUB \"\" \"%\"",
          "* LSUB (\\HasNoChildren) \"/\" \"INBOX\"\r\n* LSUB (\\Noselect \\HasChildren) \"/\" \"music\"\r\n"
          "A07 OK LSUB completed\r\n"},
         {"A08 LSUB \"\" \"*\"",
          "* LSUB (\\HasNoChildren) \"/\" \"INBOX\"\r\n* LSUB (\\HasNoChildren) \"/\" \"music/rock\"\r\n"
          "A08 OK LSUB completed\r\n"}});
}

// RFC 6154 §5.1: the SPECIAL-USE selection and return options, alone and with the others.
TEST_F(ImapList, SpecialUse) {
  ASSERT_TRUE(store_->create_mailbox(acct_, "Projects", "").ok());
  ASSERT_TRUE(store_->create_mailbox(acct_, "Projects/Old", "\\Archive").ok());
  ASSERT_TRUE(store_->set_subscribed(acct_, "Junk", false).ok());
  check({{"s1 LIST (SPECIAL-USE) \"\" \"*\"",
          "* LIST (\\Archive) \"/\" \"Archive\"\r\n* LIST (\\Drafts) \"/\" \"Drafts\"\r\n* LIST (\\Junk) \"/\" \"Junk\"\r\n"
          "* LIST (\\Archive) \"/\" \"Projects/Old\"\r\n* LIST (\\Sent) \"/\" \"Sent\"\r\n* LIST (\\Trash) \"/\" \"Trash\"\r\n"
          "s1 OK LIST completed\r\n"},
         // Every selection option must hold: special-use and subscribed.
         {"s2 LIST (SPECIAL-USE SUBSCRIBED) \"\" \"%\" RETURN (CHILDREN)",
          "* LIST (\\HasNoChildren \\Subscribed \\Archive) \"/\" \"Archive\"\r\n"
          "* LIST (\\HasNoChildren \\Subscribed \\Drafts) \"/\" \"Drafts\"\r\n"
          "* LIST (\\HasNoChildren \\Subscribed \\Sent) \"/\" \"Sent\"\r\n"
          "* LIST (\\HasNoChildren \\Subscribed \\Trash) \"/\" \"Trash\"\r\n"
          "s2 OK LIST completed\r\n"},
         {"s3 LIST (SPECIAL-USE RECURSIVEMATCH) \"\" \"P%\"",
          "* LIST () \"/\" \"Projects\" (\"CHILDINFO\" (\"SPECIAL-USE\"))\r\ns3 OK LIST completed\r\n"},
         {"s4 LIST (SPECIAL-USE SUBSCRIBED RECURSIVEMATCH) \"\" \"P%\"",
          "* LIST (\\Subscribed) \"/\" \"Projects\" (\"CHILDINFO\" (\"SUBSCRIBED\" \"SPECIAL-USE\"))\r\n"
          "s4 OK LIST completed\r\n"},
         // The return option alone selects nothing: every mailbox, the special ones marked.
         {"s5 LIST \"\" \"*\" RETURN (SPECIAL-USE)",
          "* LIST (\\Archive) \"/\" \"Archive\"\r\n* LIST (\\Drafts) \"/\" \"Drafts\"\r\n* LIST () \"/\" \"INBOX\"\r\n"
          "* LIST (\\Junk) \"/\" \"Junk\"\r\n* LIST () \"/\" \"Projects\"\r\n* LIST (\\Archive) \"/\" \"Projects/Old\"\r\n"
          "* LIST (\\Sent) \"/\" \"Sent\"\r\n* LIST (\\Trash) \"/\" \"Trash\"\r\ns5 OK LIST completed\r\n"}});
}

// The empty pattern, INBOX's case and the name encodings.
TEST_F(ImapList, PatternsAndNames) {
  ASSERT_TRUE(store_->create_mailbox(acct_, "INBOX/Lists", "").ok());
  ASSERT_TRUE(store_->create_mailbox(acct_, "Entw\xc3\xbcrfe", "").ok());
  check({// RFC 9051 §6.3.9: in a basic LIST, "" asks for the delimiter.
         {"e1 LIST \"\" \"\"", "* LIST (\\Noselect) \"/\" \"\"\r\ne1 OK LIST completed\r\n"},
         {"e2 LSUB \"\" \"\"", "* LSUB (\\Noselect) \"/\" \"\"\r\ne2 OK LSUB completed\r\n"},
         // RFC 5258 §3: an extended LIST ignores it for matching.
         {"e3 LIST () \"\" \"\"", "e3 OK LIST completed\r\n"},
         {"e4 LIST \"\" \"\" RETURN ()", "e4 OK LIST completed\r\n"},
         {"e5 LIST \"\" (\"\" \"INBOX\")", "* LIST () \"/\" \"INBOX\"\r\ne5 OK LIST completed\r\n"},
         // RFC 9051 §5.1: INBOX in any case, also as the first level.
         {"i1 LIST \"\" inbox", "* LIST (\\HasChildren) \"/\" \"INBOX\"\r\ni1 OK LIST completed\r\n"},
         {"i2 LIST \"\" \"Inbox/%\"", "* LIST (\\HasNoChildren) \"/\" \"INBOX/Lists\"\r\ni2 OK LIST completed\r\n"},
         {"i3 LIST \"\" \"inbox*\" RETURN (CHILDREN)",
          "* LIST (\\HasChildren) \"/\" \"INBOX\"\r\n* LIST (\\HasNoChildren) \"/\" \"INBOX/Lists\"\r\ni3 OK LIST completed\r\n"},
         // IMAP4rev1: modified UTF-7 both ways; a pattern that is not valid is ignored.
         {"u1 LIST \"\" \"Entw&APw-*\"", "* LIST (\\HasNoChildren) \"/\" \"Entw&APw-rfe\"\r\nu1 OK LIST completed\r\n"},
         {"u2 LIST \"\" (\"&Jjo\" \"Entw*\")", "* LIST () \"/\" \"Entw&APw-rfe\"\r\nu2 OK LIST completed\r\n"}});
  // IMAP4rev2: UTF-8 both ways, and the same extended LIST.
  EXPECT_EQ(run("r ENABLE IMAP4rev2"), "* ENABLED IMAP4rev2\r\nr OK ENABLE completed\r\n");
  check({{"u3 LIST (SUBSCRIBED) \"\" \"Entw\xc3\xbc*\" RETURN (CHILDREN)",
          "* LIST (\\HasNoChildren \\Subscribed) \"/\" \"Entw\xc3\xbcrfe\"\r\nu3 OK LIST completed\r\n"}});
}

// RFC 9051 §6.3.9 wildcards: "*" matches anything, "%" anything but the delimiter, also where
// a "%" follows a "*" (a matcher that backtracks only to its last wildcard misses "*a%" on
// "a/a": "*" has to take "a/").
TEST(ListMatch, Wildcards) {
  struct MatchCase {
    const char* pattern;
    const char* name;
    bool match;
  };
  const MatchCase cases[] = {
      {"*", "", true},           {"*", "a/b/c", true},       {"%", "a/b", false},      {"%", "abc", true},
      {"a/%", "a/b", true},      {"a/%", "a/b/c", false},    {"a/*", "a/b/c", true},   {"a*c", "a/b/c", true},
      {"a%c", "a/b/c", false},   {"a%c", "abbc", true},      {"*a%", "a/a", true},     {"*a%", "a/b", false},
      {"%/%", "a/b", true},      {"%/%", "a/b/c", false},    {"*/%", "a/b/c", true},   {"INBOX", "INBOX", true},
      {"INBOX", "INBOX/x", false}, {"", "", true},           {"", "a", false},         {"a**b", "ab", true},
      {"a%*%b", "a/x/b", true},  {"*x", "a/b", false},
  };
  for (const auto& c : cases) EXPECT_EQ(list_match(c.pattern, c.name), c.match) << c.pattern << " on " << c.name;
}

// A user chooses both the names and the patterns: ten names of 500 levels and a 4 KB pattern
// of wildcards would be some 10^10 matching steps. The command is refused with NO [LIMIT]
// (RFC 5530 §3) and no listing lines, and an ordinary LIST of the same account still works.
TEST_F(ImapList, CostlyListingIsRefused) {
  hierarchy({});
  std::string deep = "a";
  while (deep.size() + 2 <= 990) deep += "/a";  // 495 levels
  std::string shallow;
  for (int i = 0; i < 10; ++i) {
    const std::string top = fmt::format("d{}", i);
    ASSERT_TRUE(store_->create_mailbox(acct_, top, "").ok());
    ASSERT_TRUE(store_->create_mailbox(acct_, top + "/" + deep, "").ok());
    shallow += fmt::format("* LIST (\\HasChildren) \"/\" \"{}\"\r\n", top);
  }
  std::string wild;
  while (wild.size() + 2 <= 4000) wild += "*a";
  const std::string literal = fmt::format("{{{}}}\r\n{}", wild.size() + 1, wild + "b");
  check({{("w1 LIST \"\" " + literal).c_str(), "w1 NO [LIMIT] Listing too costly; use fewer or narrower patterns\r\n"},
         {("w2 LIST () \"\" (\"%\" " + literal + ")").c_str(),
          "w2 NO [LIMIT] Listing too costly; use fewer or narrower patterns\r\n"},
         {("w3 LSUB \"\" " + literal).c_str(), "w3 NO [LIMIT] Listing too costly; use fewer or narrower patterns\r\n"}});
  const std::string ordinary = "* LIST (\\HasNoChildren) \"/\" \"INBOX\"\r\n" + shallow;
  EXPECT_EQ(run("o1 LIST \"\" %"), ordinary + "o1 OK LIST completed\r\n");
  EXPECT_EQ(run("o2 LIST \"\" \"d3/a/%\""),
            "* LIST (\\NonExistent \\Noselect \\HasChildren) \"/\" \"d3/a/a\"\r\no2 OK LIST completed\r\n");
}

// Malformed LIST, LSUB and STATUS commands: a tagged BAD that says what is wrong, and nothing
// else (RFC 5258 §3: an option the server does not know is a BAD too).
TEST_F(ImapList, BadSyntax) {
  std::string many = "t LIST \"\" (";
  for (int i = 0; i <= 64; ++i) many += fmt::format("{}p{}", i ? " " : "", i);
  many += ")";
  struct Row {
    std::string command, reply;
  };
  for (const Row& r : std::initializer_list<Row>{
           {"t LIST", "t BAD Syntax: LIST reference pattern\r\n"},
           {"t LIST \"\"", "t BAD Syntax: LIST reference pattern\r\n"},
           {"t LIST \"\" ", "t BAD Invalid mailbox pattern\r\n"},
           {"t LIST (SUBSCRIBED)\"\" *", "t BAD Syntax: LIST reference pattern\r\n"},
           {"t LIST (RECURSIVEMATCH) \"\" *", "t BAD RECURSIVEMATCH needs SUBSCRIBED or SPECIAL-USE\r\n"},
           {"t LIST (REMOTE RECURSIVEMATCH) \"\" *", "t BAD RECURSIVEMATCH needs SUBSCRIBED or SPECIAL-USE\r\n"},
           {"t LIST (SUBSCRIBED FOO) \"\" *", "t BAD Unknown LIST selection option FOO\r\n"},
           {"t LIST (CHILDREN) \"\" *", "t BAD Unknown LIST selection option CHILDREN\r\n"},
           {"t LIST ( SUBSCRIBED) \"\" *", "t BAD Syntax: LIST (selection-options) reference pattern\r\n"},
           {"t LIST (SUBSCRIBED \"\" *", "t BAD Syntax: LIST (selection-options) reference pattern\r\n"},
           {"t LIST \"\" ()", "t BAD Invalid mailbox pattern\r\n"},
           {"t LIST \"\" (\"a\" \"b\"", "t BAD Invalid mailbox pattern list\r\n"},
           {"t LIST \"\" (\"a\"  \"b\")", "t BAD Invalid mailbox pattern\r\n"},
           {many, "t BAD Too many mailbox patterns (at most 64)\r\n"},
           // The patterns' bytes bound the work of matching them; a literal is no way around it.
           {"t LIST \"\" {4097}\r\n" + std::string(4096, '*') + "%", "t BAD Mailbox patterns too long (at most 4096 bytes)\r\n"},
           {"t LIST \"Work/\" (\"" + std::string(2046, '*') + "\" \"" + std::string(2046, '%') + "\")",
            "t BAD Mailbox patterns too long (at most 4096 bytes)\r\n"},
           {"t LSUB \"\" {4097}\r\n" + std::string(4097, 'x'), "t BAD Mailbox patterns too long (at most 4096 bytes)\r\n"},
           {"t LIST \"\" * (CHILDREN)", "t BAD Syntax: LIST reference pattern RETURN (return-options)\r\n"},
           {"t LIST \"\" * RETURN CHILDREN", "t BAD Syntax: LIST reference pattern RETURN (return-options)\r\n"},
           {"t LIST \"\" * RETURN (CHILDREN", "t BAD Syntax: LIST reference pattern RETURN (return-options)\r\n"},
           {"t LIST \"\" * RETURN (RECURSIVEMATCH)", "t BAD Unknown LIST return option RECURSIVEMATCH\r\n"},
           {"t LIST \"\" * RETURN (STATUS)", "t BAD Syntax: RETURN (STATUS (items))\r\n"},
           {"t LIST \"\" * RETURN (STATUS ())", "t BAD Syntax: (MESSAGES UIDNEXT UIDVALIDITY UNSEEN ...)\r\n"},
           {"t LIST \"\" * RETURN (STATUS (MESSAGES BOGUS))", "t BAD Unknown STATUS item BOGUS\r\n"},
           {"t LIST \"\" * RETURN (STATUS MESSAGES)", "t BAD Syntax: (MESSAGES UIDNEXT UIDVALIDITY UNSEEN ...)\r\n"},
           {"t LIST \"\" * RETURN () x", "t BAD Unexpected arguments after LIST\r\n"},
           {"t LSUB (SUBSCRIBED) \"\" *", "t BAD Syntax: LSUB reference pattern\r\n"},
           {"t LSUB \"\" * RETURN (CHILDREN)", "t BAD LSUB takes no options\r\n"},
           {"t STATUS INBOX", "t BAD Syntax: STATUS mailbox (items)\r\n"},
           {"t STATUS INBOX ()", "t BAD Syntax: (MESSAGES UIDNEXT UIDVALIDITY UNSEEN ...)\r\n"},
           {"t STATUS INBOX (MESSAGES FOO)", "t BAD Unknown STATUS item FOO\r\n"},
           {"t STATUS INBOX (MESSAGES) x", "t BAD Syntax: STATUS mailbox (items)\r\n"},
       }) {
    EXPECT_EQ(run(r.command), r.reply) << r.command;
  }
}

class ImapListStatus : public ImapList {
 protected:
  void SetUp() override {
    ImapList::SetUp();
    hierarchy({{"Work", true}, {"Old/2019", true}});
    for (const char* flags : {"(\\Seen) ", "", ""}) append("INBOX", flags);
    append("Work", "(\\Deleted) ");
  }
  void append(const std::string& mailbox, const std::string& flags) {
    const std::string msg = "Subject: x\r\n\r\nhello\r\n";
    auto o = s_->on_command(fmt::format("a APPEND {} {}{{{}}}\r\n{}", mailbox, flags, msg.size(), msg));
    ASSERT_EQ(o.next, Next::append);
    std::promise<store::DeliverResult> p;
    store_->deliver_all(s_->take_append(), [&p](store::DeliverResult r) { p.set_value(std::move(r)); });
    ASSERT_TRUE(s_->on_appended(p.get_future().get()).data.starts_with("a OK"));
  }
  store::Mailbox mailbox(const std::string& name) { return *store_->find_mailbox(acct_, name).value(); }
  // What STATUS says of a mailbox the session has not selected: the store's figures.
  std::string status(const std::string& name, std::uint64_t messages, std::uint64_t unseen) {
    const auto mb = mailbox(name);
    return fmt::format("* STATUS \"{}\" (MESSAGES {} UNSEEN {} UIDNEXT {} UIDVALIDITY {} HIGHESTMODSEQ {})\r\n", name,
                       messages, unseen, mb.uidnext, mb.uidvalidity, mb.highestmodseq);
  }
};

// RFC 5819 §2: a STATUS line after the LIST line of each selectable mailbox listed, with the
// items asked for in their order; none for a name that does not exist or is listed only for
// its CHILDINFO.
TEST_F(ImapListStatus, StatusAfterEachSelectableMailbox) {
  const char* kItems = "(MESSAGES UNSEEN UIDNEXT UIDVALIDITY HIGHESTMODSEQ)";
  EXPECT_EQ(run(fmt::format("l1 LIST \"\" \"%\" RETURN (STATUS {})", kItems)),
            "* LIST () \"/\" \"INBOX\"\r\n" + status("INBOX", 3, 2) +
                "* LIST (\\NonExistent \\HasChildren) \"/\" \"Old\"\r\n"
                "* LIST () \"/\" \"Work\"\r\n" +
                status("Work", 1, 1) + "l1 OK LIST completed\r\n");
  // The items in the order asked, each once; STATUS named twice acts as once.
  EXPECT_EQ(run("l2 LIST \"\" Work RETURN (STATUS (DELETED SIZE MESSAGES DELETED) CHILDREN STATUS (MESSAGES))"),
            "* LIST (\\HasNoChildren) \"/\" \"Work\"\r\n* STATUS \"Work\" (DELETED 1 SIZE 21 MESSAGES 1)\r\n"
            "l2 OK LIST completed\r\n");
  // Listed for CHILDINFO only (Projects is not subscribed): no STATUS.
  ASSERT_TRUE(store_->create_mailbox(acct_, "Projects", "").ok());
  ASSERT_TRUE(store_->set_subscribed(acct_, "Projects", false).ok());
  ASSERT_TRUE(store_->create_mailbox(acct_, "Projects/A", "").ok());
  EXPECT_EQ(run("l3 LIST (SUBSCRIBED RECURSIVEMATCH) \"\" \"P%\" RETURN (STATUS (MESSAGES))"),
            "* LIST () \"/\" \"Projects\" (\"CHILDINFO\" (\"SUBSCRIBED\"))\r\nl3 OK LIST completed\r\n");
  EXPECT_EQ(run("l4 LIST (SUBSCRIBED) \"\" \"Projects/*\" RETURN (STATUS (MESSAGES))"),
            "* LIST (\\Subscribed) \"/\" \"Projects/A\"\r\n* STATUS \"Projects/A\" (MESSAGES 0)\r\nl4 OK LIST completed\r\n");
  // STATUS alone answers the same as LIST-STATUS.
  EXPECT_EQ(run(fmt::format("s1 STATUS Work {}", kItems)), status("Work", 1, 1) + "s1 OK STATUS completed\r\n");
  EXPECT_EQ(run("s2 STATUS Old (MESSAGES)"), "s2 NO [NONEXISTENT] No such mailbox\r\n");
}

// Each STATUS line of LIST-STATUS reads every message of its mailbox, so one LIST gives at most
// 1000 of them; past that it is refused with NO [LIMIT] (RFC 5530 §3) and no lines at all.
TEST_F(ImapListStatus, TooManyStatusLinesAreRefused) {
  // INBOX, Work and Old/2019 are there: 998 more make 1001 selectable mailboxes.
  for (int i = 0; i < 998; ++i) ASSERT_TRUE(store_->create_mailbox(acct_, fmt::format("m{:03}", i), "").ok());
  EXPECT_EQ(run("l1 LIST \"\" * RETURN (STATUS (MESSAGES))"),
            "l1 NO [LIMIT] Listing too costly; use fewer or narrower patterns\r\n");
  EXPECT_EQ(run("l2 LIST \"\" m997 RETURN (STATUS (MESSAGES))"),
            "* LIST () \"/\" \"m997\"\r\n* STATUS \"m997\" (MESSAGES 0)\r\nl2 OK LIST completed\r\n");
  // One fewer is within the limit: the last lines are those of m997, the last name.
  ASSERT_TRUE(store_->delete_mailbox(acct_, "m000").ok());
  const std::string all = run("l3 LIST \"\" * RETURN (STATUS (MESSAGES))");
  EXPECT_TRUE(all.ends_with("* LIST () \"/\" \"m997\"\r\n* STATUS \"m997\" (MESSAGES 0)\r\nl3 OK LIST completed\r\n"))
      << all.substr(all.size() > 200 ? all.size() - 200 : 0);
}

// The selected mailbox's STATUS agrees with what the session told its client: a message
// delivered meanwhile is announced (EXISTS) before the STATUS that counts it, and
// HIGHESTMODSEQ is the one of the changes reported.
TEST_F(ImapListStatus, SelectedMailboxIsConsistent) {
  ASSERT_NE(run("s SELECT INBOX").find("s OK [READ-WRITE]"), std::string::npos);
  auto other = login();
  const std::string msg = "Subject: y\r\n\r\nmore\r\n";
  auto o = other->on_command(fmt::format("a APPEND INBOX {{{}}}\r\n{}", msg.size(), msg));
  std::promise<store::DeliverResult> p;
  store_->deliver_all(other->take_append(), [&p](store::DeliverResult r) { p.set_value(std::move(r)); });
  ASSERT_TRUE(other->on_appended(p.get_future().get()).data.starts_with("a OK"));
  const auto mb = mailbox("INBOX");
  EXPECT_EQ(run("l LIST \"\" INBOX RETURN (STATUS (MESSAGES UNSEEN UIDNEXT HIGHESTMODSEQ RECENT))"),
            fmt::format("* 4 EXISTS\r\n* 4 RECENT\r\n* LIST () \"/\" \"INBOX\"\r\n"
                        "* STATUS \"INBOX\" (MESSAGES 4 UNSEEN 3 UIDNEXT {} HIGHESTMODSEQ {} RECENT 4)\r\n"
                        "l OK LIST completed\r\n",
                        mb.uidnext, mb.highestmodseq));
  // Another session flags a message: STATUS on the selected mailbox tells the FETCH first.
  ASSERT_NE(run(*other, "s SELECT INBOX").find("s OK"), std::string::npos);
  ASSERT_NE(run(*other, "f STORE 2 +FLAGS.SILENT (\\Seen)").find("f OK"), std::string::npos);
  const auto after = mailbox("INBOX");
  EXPECT_EQ(run("t STATUS INBOX (UNSEEN HIGHESTMODSEQ SIZE)"),
            fmt::format("* 2 FETCH (UID 2 FLAGS (\\Recent \\Seen))\r\n* STATUS \"INBOX\" (UNSEEN 2 HIGHESTMODSEQ {} SIZE 83)\r\n"
                        "t OK STATUS completed\r\n",
                        after.highestmodseq));
}

}  // namespace
}  // namespace mk::imap
