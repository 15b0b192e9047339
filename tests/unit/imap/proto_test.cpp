#include <gtest/gtest.h>

#include "imap/proto/encode.hpp"
#include "imap/proto/framer.hpp"
#include "imap/proto/parser.hpp"

namespace mk::imap {
namespace {

struct Fed {
  std::vector<Frame> events;
  std::vector<std::string> commands;
};

Fed feed_all(CommandFramer& f, std::string_view in, std::size_t step = 0) {
  Fed out;
  std::size_t pos = 0;
  while (pos < in.size()) {
    auto chunk = step ? in.substr(pos, step) : in.substr(pos);
    std::size_t used = 0;
    auto ev = f.feed(chunk, used);
    pos += used;
    if (ev == Frame::need_more) {
      if (used == 0) break;
      continue;
    }
    out.events.push_back(ev);
    if (ev == Frame::command) out.commands.push_back(f.take());
  }
  return out;
}

TEST(Framer, LinesAndLiterals) {
  for (std::size_t step : {0, 1, 3}) {
    CommandFramer f;
    auto r = feed_all(f, "a1 NOOP\r\na2 LOGIN {3}\r\nbob {5+}\r\nse\r\nt\r\na3 X\n", step);
    ASSERT_EQ(r.commands.size(), 3u) << step;
    EXPECT_EQ(r.commands[0], "a1 NOOP");
    EXPECT_EQ(r.commands[1], "a2 LOGIN {3}\r\nbob {5+}\r\nse\r\nt");
    EXPECT_EQ(r.commands[2], "a3 X");  // a bare LF ends a line too
    EXPECT_EQ(r.events, (std::vector<Frame>{Frame::command, Frame::continuation, Frame::command,
                                            Frame::command}));
  }
}

TEST(Framer, LiteralEndingInCrIsKept) {
  // Found by fuzz_imap_command: a literal whose last byte is CR, then a bare LF.
  CommandFramer f;
  auto r = feed_all(f, "a X {1+}\r\n\r\n");
  ASSERT_EQ(r.commands.size(), 1u);
  EXPECT_EQ(r.commands[0], "a X {1+}\r\n\r");
}

TEST(Framer, Limits) {
  FrameLimits lim;
  lim.max_line = 20;
  lim.max_literal = 10;
  CommandFramer f(lim);
  auto r = feed_all(f, "a1 " + std::string(100, 'x') + "\r\na2 NOOP\r\n");
  EXPECT_EQ(r.events, (std::vector<Frame>{Frame::line_too_long, Frame::command}));
  EXPECT_EQ(r.commands.back(), "a2 NOOP");
  CommandFramer g(lim);
  auto big = feed_all(g, "a3 APPEND x {11}\r\na4 NOOP\r\n");
  EXPECT_EQ(big.events, (std::vector<Frame>{Frame::literal_too_big, Frame::command}));
  EXPECT_EQ(big.commands.back(), "a4 NOOP");
  CommandFramer h(lim);
  // A too big non-synchronizing literal is skipped, with the rest of its line.
  auto plus = feed_all(h, "a5 APPEND x {11+}\r\n01234567890 more\r\na6 NOOP\r\n");
  EXPECT_EQ(plus.events, (std::vector<Frame>{Frame::literal_too_big, Frame::command}));
  EXPECT_EQ(plus.commands.back(), "a6 NOOP");
}

TEST(Framer, TrailingLiteral) {
  EXPECT_TRUE(trailing_literal("x {5}").present);
  EXPECT_FALSE(trailing_literal("x {5}").binary);
  EXPECT_TRUE(trailing_literal("x ~{5+}").binary);
  EXPECT_FALSE(trailing_literal("x ~{5+}").sync);
  EXPECT_FALSE(trailing_literal("x {-5}").present);
  EXPECT_FALSE(trailing_literal("x {}").present);
  EXPECT_FALSE(trailing_literal("x {99999999999999999999999}").present);
}

TEST(Parser, HeadAndStrings) {
  Cursor c("a1 UID fetch 1:* (FLAGS)");
  std::string err;
  auto h = parse_head(c, err);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->tag, "a1");
  EXPECT_TRUE(h->uid);
  EXPECT_EQ(h->name, "FETCH");
  Cursor bad("+ NOOP");
  EXPECT_FALSE(parse_head(bad, err));

  Cursor s("\"a\\\"b\" {3}\r\nx\"y atom] NIL \"bad\\x\"");
  EXPECT_EQ(*s.astring(), "a\"b");
  EXPECT_TRUE(s.sp());
  EXPECT_EQ(*s.astring(), "x\"y");
  EXPECT_TRUE(s.sp());
  EXPECT_EQ(*s.astring(), "atom]");
  EXPECT_TRUE(s.sp());
  EXPECT_EQ(*s.nstring(), "");
  EXPECT_TRUE(s.sp());
  EXPECT_FALSE(s.astring());  // only \" and \\ may be escaped
  Cursor lit("{10}\r\nshort");
  EXPECT_FALSE(lit.string());  // literal longer than what was framed
  Cursor nul(std::string_view("{1}\r\n\0", 6));
  EXPECT_FALSE(nul.string());
  Cursor bin(std::string_view("~{1}\r\n\0", 7));
  EXPECT_TRUE(bin.string(true));
  EXPECT_TRUE(bin.last_was_binary());
}

TEST(Parser, Numbers) {
  Cursor c("0 4294967295 4294967296 9223372036854775807 9223372036854775808");
  EXPECT_EQ(c.number(), 0u);
  c.sp();
  EXPECT_EQ(c.nz_number(), 4294967295u);
  c.sp();
  EXPECT_FALSE(c.number());
  EXPECT_EQ(c.number64(), 4294967296u);
  c.sp();
  EXPECT_EQ(c.number64(), 9223372036854775807u);
  c.sp();
  EXPECT_FALSE(c.number64());
}

TEST(Parser, SequenceSets) {
  Cursor c("1,3:5,9:7,*,10:*");
  auto s = parse_seq_set(c);
  ASSERT_TRUE(s);
  EXPECT_TRUE(c.eof());
  EXPECT_TRUE(s->contains(1, 20));
  EXPECT_FALSE(s->contains(2, 20));
  EXPECT_TRUE(s->contains(4, 20));
  EXPECT_TRUE(s->contains(8, 20));
  EXPECT_TRUE(s->contains(15, 20));
  Cursor d("$");
  EXPECT_TRUE(parse_seq_set(d)->saved);
  for (const char* bad : {"0", "1:", ":2", "a", "1,,2"}) {
    Cursor b(bad);
    auto r = parse_seq_set(b);
    EXPECT_TRUE(!r || !b.eof()) << bad;
  }
}

TEST(Parser, FlagsAndDates) {
  Cursor c("(\\seen \\DELETED $Junk custom)");
  auto f = parse_flag_list(c);
  ASSERT_TRUE(f);
  EXPECT_EQ(*f, (std::vector<std::string>{"\\Seen", "\\Deleted", "$Junk", "custom"}));
  Cursor d("\"17-Jul-1996 02:44:25 -0700\"");
  EXPECT_EQ(parse_date_time(d), 837596665);
  Cursor e("\" 7-Feb-1994 21:52:25 +0000\"");
  EXPECT_EQ(parse_date_time(e), 760657945);
  Cursor g("1-Feb-1994");
  EXPECT_EQ(parse_date(g), 760060800);
  Cursor bad("\"31-Foo-1996 02:44:25 -0700\"");
  EXPECT_FALSE(parse_date_time(bad));
}

TEST(Encode, StringsAndMutf7) {
  EXPECT_EQ(imap_string("a\"b"), "\"a\\\"b\"");
  EXPECT_EQ(imap_string("a\r\nb"), "{4}\r\na\r\nb");
  EXPECT_EQ(imap_nstring(std::nullopt), "NIL");
  struct Case {
    const char* utf8;
    const char* mutf7;
  } cases[] = {
      {"INBOX", "INBOX"},
      {"&", "&-"},
      {"Entw\xc3\xbc" "rfe", "Entw&APw-rfe"},
      {"\xe5\x8f\xb0\xe5\x8c\x97", "&U,BTFw-"},
      {"~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e",
       "~peter/mail/&U,BTFw-/&ZeVnLIqe-"},
      {"\xf0\x9f\x93\xa7", "&2D3c5w-"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(mutf7_encode(c.utf8), c.mutf7) << c.utf8;
    EXPECT_EQ(mutf7_decode(c.mutf7), c.utf8) << c.mutf7;
  }
  for (const char* bad : {"&", "&Jjo", "&AGE-", "&2D0-", "\x01", "&AOQ-&APY-"}) EXPECT_FALSE(mutf7_decode(bad)) << bad;
}

}  // namespace
}  // namespace mk::imap
