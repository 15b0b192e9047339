#include "imap/proto/fetch.hpp"

#include <gtest/gtest.h>

namespace mk::imap {
namespace {

const std::string kSimple =
    "Date: Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\r\n"
    "From: Terry Gray <gray@cac.washington.edu>\r\n"
    "Subject: IMAP4rev1 WG mtg summary and minutes\r\n"
    "To: imap@cac.washington.edu\r\n"
    "cc: minutes@CNRI.Reston.VA.US,\r\n \"John Klensin\" <KLENSIN@MIT.EDU>\r\n"
    "Message-Id: <B27397-0100000@cac.washington.edu>\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: TEXT/PLAIN; CHARSET=US-ASCII\r\n"
    "\r\n"
    "Hello\r\nWorld\r\n";

TEST(Fetch, EnvelopeLikeRfc9051Example) {
  auto root = message::parse_mime(kSimple);
  EXPECT_EQ(render_envelope(root),
            "(\"Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\" \"IMAP4rev1 WG mtg summary and minutes\" "
            "((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) "
            "((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) "
            "((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) "
            "((NIL NIL \"imap\" \"cac.washington.edu\")) "
            "((NIL NIL \"minutes\" \"CNRI.Reston.VA.US\")(\"John Klensin\" NIL \"KLENSIN\" \"MIT.EDU\")) "
            "NIL NIL \"<B27397-0100000@cac.washington.edu>\")");
}

TEST(Fetch, BodyStructureSinglePart) {
  auto root = message::parse_mime(kSimple);
  EXPECT_EQ(render_body_structure(root, false),
            "(\"text\" \"plain\" (\"charset\" \"US-ASCII\") NIL NIL \"7bit\" 14 2)");
  EXPECT_EQ(render_body_structure(root, true),
            "(\"text\" \"plain\" (\"charset\" \"US-ASCII\") NIL NIL \"7bit\" 14 2 NIL NIL NIL NIL)");
}

TEST(Fetch, BodyStructureMultipartWithMessage) {
  const std::string m =
      "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
      "--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nhi\r\n"
      "--b\r\nContent-Type: message/rfc822\r\n\r\nSubject: in\r\n\r\nbody\r\n"
      "--b\r\nContent-Type: image/png; name=x.png\r\nContent-Disposition: attachment; filename=x.png\r\n"
      "Content-Transfer-Encoding: base64\r\nContent-ID: <id1>\r\n\r\niVBO\r\n"
      "--b--\r\n";
  auto root = message::parse_mime(m);
  EXPECT_EQ(render_body_structure(root, true),
            "((\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"7bit\" 2 1 NIL NIL NIL NIL)"
            "(\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 19 "
            "(NIL \"in\" NIL NIL NIL NIL NIL NIL NIL NIL) "
            "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 4 1 NIL NIL NIL NIL) 3 NIL NIL NIL NIL)"
            "(\"image\" \"png\" (\"name\" \"x.png\") \"<id1>\" NIL \"base64\" 4 NIL "
            "(\"attachment\" (\"filename\" \"x.png\")) NIL NIL) "
            "\"mixed\" (\"boundary\" \"b\") NIL NIL NIL)");
  EXPECT_EQ(render_body_structure(root, false),
            "((\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"7bit\" 2 1)"
            "(\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 19 "
            "(NIL \"in\" NIL NIL NIL NIL NIL NIL NIL NIL) "
            "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 4 1) 3)"
            "(\"image\" \"png\" (\"name\" \"x.png\") \"<id1>\" NIL \"base64\" 4) \"mixed\")");

  auto sec = [&](const char* spec) {
    Cursor c(spec);
    std::string e;
    auto atts = parse_fetch_atts(c, e);
    EXPECT_TRUE(atts) << spec << ": " << e;
    return section_bytes(m, root, atts->at(0).section);
  };
  EXPECT_EQ(sec("BODY[1]"), "hi");
  EXPECT_EQ(sec("BODY[2]"), "Subject: in\r\n\r\nbody");
  EXPECT_EQ(sec("BODY[2.HEADER]"), "Subject: in\r\n\r\n");
  EXPECT_EQ(sec("BODY[2.TEXT]"), "body");
  EXPECT_EQ(sec("BODY[2.1]"), "body");
  EXPECT_EQ(sec("BODY[3.MIME]").value().substr(0, 24), "Content-Type: image/png;");
  EXPECT_EQ(sec("BODY[1.HEADER]"), std::nullopt);  // not a message/rfc822 part
  EXPECT_EQ(sec("BODY[4]"), std::nullopt);
  EXPECT_EQ(sec("BODY[HEADER.FIELDS (content-type)]"), "Content-Type: multipart/mixed; boundary=b\r\n\r\n");
  EXPECT_EQ(sec("BODY[]"), m);
}

TEST(Fetch, HeaderFieldsKeepsFoldedLines) {
  auto root = message::parse_mime(kSimple);
  Section s;
  s.text = Section::Text::header_fields;
  s.fields = {"CC", "FROM"};
  EXPECT_EQ(section_bytes(kSimple, root, s),
            "From: Terry Gray <gray@cac.washington.edu>\r\n"
            "cc: minutes@CNRI.Reston.VA.US,\r\n \"John Klensin\" <KLENSIN@MIT.EDU>\r\n\r\n");
  s.text = Section::Text::header_fields_not;
  auto rest = section_bytes(kSimple, root, s);
  EXPECT_EQ(rest->find("From:"), std::string::npos);
  EXPECT_EQ(rest->find("cc:"), std::string::npos);
  EXPECT_NE(rest->find("Subject:"), std::string::npos);
}

TEST(Fetch, ParseAttributes) {
  std::string e;
  Cursor c("(FLAGS UID BODY.PEEK[HEADER.FIELDS (From To)]<0.100> BINARY[1] BINARY.SIZE[1] RFC822.SIZE)");
  auto a = parse_fetch_atts(c, e);
  ASSERT_TRUE(a) << e;
  ASSERT_EQ(a->size(), 6u);
  EXPECT_EQ((*a)[2].name, "BODY[HEADER.FIELDS (FROM TO)]<0>");
  EXPECT_TRUE((*a)[2].peek);
  EXPECT_EQ((*a)[2].partial->second, 100u);
  EXPECT_EQ((*a)[3].name, "BINARY[1]");
  EXPECT_EQ((*a)[4].kind, FetchAtt::Kind::binary_size);
  Cursor m("FULL");
  EXPECT_EQ(parse_fetch_atts(m, e)->size(), 5u);
  for (const char* bad : {"(FLAGS", "BODY[HEADER.FIELDS]", "BODY[MIME]", "BODY[1.FOO]", "BODY[]<1>",
                          "BODY[]<1.0>", "BINARY[HEADER]", "FOO"}) {
    Cursor b(bad);
    auto r = parse_fetch_atts(b, e);
    EXPECT_TRUE(!r || !b.eof()) << bad;
  }
}

}  // namespace
}  // namespace mk::imap
