#include "message/mime.hpp"

#include <gtest/gtest.h>

#include "message/codec.hpp"
#include "message/header.hpp"

namespace mk::message {
namespace {

TEST(Header, BlockFoldingAndOddLines) {
  const std::string block =
      "From nobody Mon Jan  1 00:00:00 2001\r\n"  // mbox line: skipped
      "Subject: hello\r\n"
      "  world\r\n"
      "X-Empty:\r\n"
      "Bad Header Name: x\r\n"
      "To : a@example.org\r\n";
  auto fields = parse_header_block(block);
  ASSERT_EQ(fields.size(), 3u);
  EXPECT_EQ(fields[0].name, "Subject");
  EXPECT_EQ(fields[0].value, " hello\r\n  world");
  EXPECT_EQ(unfold(fields[0].value), "hello  world");
  EXPECT_EQ(fields[1].name, "X-Empty");
  EXPECT_EQ(fields[2].name, "To");
  EXPECT_EQ(*header_value(fields, "subject"), "hello  world");
  // As a reader sees it: each fold, with the white space around it, is one space; white space
  // typed before the break (more than one character) is kept.
  EXPECT_EQ(*header_value_as_read(fields, "subject"), "hello world");
  const auto more = parse_header_block("Subject: a   \r\n\t b\r\n  c\nX: \r\n \r\n y\r\n");
  ASSERT_EQ(more.size(), 2u);
  EXPECT_EQ(*header_value_as_read(more, "Subject"), "a   \t b c");
  EXPECT_EQ(*header_value_as_read(more, "X"), "y");
  EXPECT_FALSE(header_value_as_read(more, "To").has_value());
  // Nine or more white-space characters after a fold are not an indent: kept as written.
  EXPECT_EQ(unfold_as_read(" Great offer\r\n" + std::string(12, ' ') + "7893vBvF1"),
            "Great offer" + std::string(12, ' ') + "7893vBvF1");
  EXPECT_EQ(unfold_as_read(" a\r\n" + std::string(8, ' ') + "b"), "a b");
  EXPECT_EQ(unfold_as_read(" a \r\n\tb"), "a b");
  // Counted whole: before the fold and after it, and over lines of white space only.
  EXPECT_EQ(unfold_as_read(" a  \r\n" + std::string(8, ' ') + "b"), "a" + std::string(10, ' ') + "b");
  EXPECT_EQ(unfold_as_read(" a\r\n        \r\n        \r\n        b"), "a" + std::string(24, ' ') + "b");
}

TEST(Header, BodyStart) {
  std::size_t he = 0;
  EXPECT_EQ(find_body_start("A: b\r\n\r\nbody", he), 8u);
  EXPECT_EQ(he, 6u);
  EXPECT_EQ(find_body_start("A: b\n\nbody", he), 6u);
  EXPECT_EQ(find_body_start("\r\nbody", he), 2u);
  EXPECT_EQ(he, 0u);
  EXPECT_EQ(find_body_start("A: b\r\n", he), 6u);  // no body at all
}

TEST(Header, Params) {
  auto p = parse_params(" Text/Plain; charset=\"utf-8\" (comment); format=flowed");
  EXPECT_EQ(p.type, "text/plain");
  EXPECT_EQ(*p.param("charset"), "utf-8");
  EXPECT_EQ(*p.param("format"), "flowed");
  // RFC 2231 continuations and charset
  auto q = parse_params("attachment; filename*0*=iso-8859-1''F%FCr; filename*1=\" Dich.txt\"");
  EXPECT_EQ(q.type, "attachment");
  EXPECT_EQ(*q.param("filename"), "F\xc3\xbcr Dich.txt");
  // A cut or broken %-escape in an extended value is kept as it stands.
  EXPECT_EQ(*parse_params("attachment; filename*=us-ascii''a%41%4").param("filename"), "aA%4");
  EXPECT_EQ(*parse_params("attachment; filename*=us-ascii''%zz%").param("filename"), "%zz%");
  auto r = parse_params("multipart/mixed; boundary=\"a;b\\\"c\"");
  EXPECT_EQ(*r.param("boundary"), "a;b\"c");
}

TEST(Header, AddressLists) {
  auto a = parse_address_list(
      "\"Doe, John\" <john@Example.org>, jane@example.net (Jane), Undisclosed: ;, "
      "team: a@x.example, <b@y.example>;, =?utf-8?q?J=C3=B6rg?= <j@z.example>, bare");
  ASSERT_EQ(a.size(), 10u);
  EXPECT_EQ(a[0].name, "Doe, John");
  EXPECT_EQ(a[0].local, "john");
  EXPECT_EQ(a[0].domain, "Example.org");
  EXPECT_EQ(a[1].local, "jane");
  EXPECT_EQ(a[1].name, "");
  EXPECT_TRUE(a[2].group_start);
  EXPECT_EQ(a[2].group, "Undisclosed");
  EXPECT_TRUE(a[3].group_end);
  EXPECT_TRUE(a[4].group_start);
  EXPECT_EQ(a[5].local, "a");
  EXPECT_EQ(a[6].domain, "y.example");
  EXPECT_TRUE(a[7].group_end);
  EXPECT_EQ(decode_words(a[8].name), "J\xc3\xb6rg");
  EXPECT_EQ(a[9].local, "bare");
  EXPECT_EQ(a[9].domain, "");
}

TEST(Header, EncodedWords) {
  EXPECT_EQ(decode_words("=?ISO-8859-1?Q?Andr=E9?= Pirard"), "Andr\xc3\xa9 Pirard");
  EXPECT_EQ(decode_words("=?utf-8?B?w6TDtsO8?="), "\xc3\xa4\xc3\xb6\xc3\xbc");
  EXPECT_EQ(decode_words("=?utf-8?q?a?= =?utf-8?q?b?="), "ab");  // joined
  EXPECT_EQ(decode_words("=?utf-8?q?a_b?= c"), "a b c");
  EXPECT_EQ(decode_words("=?x-unknown?q?a?="), "=?x-unknown?q?a?=");
  EXPECT_EQ(decode_words("=?utf-8?q?broken"), "=?utf-8?q?broken");
  EXPECT_EQ(decode_words("plain text"), "plain text");
}

TEST(Header, ValidUtf8) {
  EXPECT_TRUE(valid_utf8(""));
  EXPECT_TRUE(valid_utf8("plain"));
  EXPECT_TRUE(valid_utf8("J\xc3\xb6rg \xe4\xb8\xad \xf0\x9f\x98\x80"));
  EXPECT_FALSE(valid_utf8("\xd6\xd0\xb9\xfa"));  // GB2312
  EXPECT_FALSE(valid_utf8("Andr\xe9"));           // Latin-1
  EXPECT_FALSE(valid_utf8("\xe4\xb8"));            // cut short
  EXPECT_FALSE(valid_utf8("\xc0\xaf"));            // overlong
  // to_utf8 from UTF-8 replaces exactly what valid_utf8 refuses.
  EXPECT_EQ(*to_utf8("a\xe9" "b", "utf-8"), "a\xef\xbf\xbd" "b");
}

TEST(Header, Iso2022JpWithACharacterIconvDoesNotKnow) {
  // "konnichiwa" in ISO-2022-JP, after NEC's circled 1 (row 13), which
  // glibc's ISO-2022-JP does not have: the unknown pair becomes one U+FFFD and the rest of the run
  // is read in step, not off by one byte.
  EXPECT_EQ(*to_utf8("\x1b$B-!$3$s$K$A$O\x1b(B", "ISO-2022-JP"),
            "\xef\xbf\xbd\xe3\x81\x93\xe3\x82\x93\xe3\x81\xab\xe3\x81\xa1\xe3\x81\xaf");
  EXPECT_EQ(*to_utf8("\x1b$B$3$s$K$A$O\x1b(B", "iso-2022-jp"), "\xe3\x81\x93\xe3\x82\x93\xe3\x81\xab\xe3\x81\xa1\xe3\x81\xaf");
}

TEST(Header, DoubleByteCharsetsAreReadByTheirSuperset) {
  // Mailers name the smaller set and write the larger one: GBK's 測 and 試 under "gb2312",
  // NEC's circled 1 under "Shift_JIS", Unified Hangul's 갂 under "ks_c_5601-1987". The first
  // two were U+FFFD when read by the name alone; the last name glibc does not know at all.
  EXPECT_EQ(decode_words("=?gb2312?B?1tDOxJx51Ic=?="), "\xe4\xb8\xad\xe6\x96\x87\xe6\xb8\xac\xe8\xa9\xa6");
  EXPECT_EQ(to_utf8("\x87\x40", "Shift_JIS").value_or("(none)"), "\xe2\x91\xa0");
  EXPECT_EQ(to_utf8("\x81\x41", "ks_c_5601-1987").value_or("(none)"), "\xea\xb0\x82");
  // The wave dash and its five kin read the same in Shift_JIS, EUC-JP and ISO-2022-JP (JIS's
  // code points, not the ones Microsoft's supersets give); € under gbk.
  EXPECT_EQ(to_utf8("\x81\x60\x81\x7c\x81\x61\x81\x91\x81\x92\x81\xca", "shift_jis").value_or("(none)"),
            "\xe3\x80\x9c\xe2\x88\x92\xe2\x80\x96\xc2\xa2\xc2\xa3\xc2\xac");
  EXPECT_EQ(to_utf8("\xa1\xc1\xa1\xdd", "EUC-JP").value_or("(none)"), "\xe3\x80\x9c\xe2\x88\x92");
  EXPECT_EQ(to_utf8("\x1b$B!A!]\x1b(B", "iso-2022-jp").value_or("(none)"), "\xe3\x80\x9c\xe2\x88\x92");
  EXPECT_EQ(to_utf8("5\x80", "gbk").value_or("(none)"), "5\xe2\x82\xac");
  EXPECT_TRUE(double_byte_charset("GB2312"));
  EXPECT_TRUE(double_byte_charset("euc-jp"));
  EXPECT_FALSE(double_byte_charset("iso-8859-1"));
  // The ISO-2022 family by any of its names; not UTF-7, the other escaped charset.
  EXPECT_TRUE(iso2022_charset("ISO-2022-JP"));
  EXPECT_TRUE(iso2022_charset("iso2022kr"));
  EXPECT_TRUE(iso2022_charset("csISO2022JP"));
  EXPECT_TRUE(iso2022_charset("iso-2022-cn-ext"));
  EXPECT_FALSE(iso2022_charset("iso-8859-1"));
  EXPECT_FALSE(iso2022_charset("utf-7"));
  EXPECT_FALSE(iso2022_charset("iso-202"));
  EXPECT_EQ(charset_reading("Big5"), "CP950");
  EXPECT_EQ(charset_reading("koi8-r"), "koi8-r");
}

TEST(Codec, Base64AndQp) {
  EXPECT_EQ(base64_decode("aGVs\r\nbG8="), "hello");
  EXPECT_EQ(base64_encode("hello"), "aGVsbG8=");
  EXPECT_EQ(base64_encode("hell"), "aGVsbA==");
  EXPECT_EQ(base64_decode(base64_encode(std::string("\0\xff\x10", 3))), std::string("\0\xff\x10", 3));
  EXPECT_EQ(qp_decode("a=3Db=\r\nc=XY"), "a=bc=XY");
  EXPECT_EQ(qp_decode("a_b", true), "a b");
  // A cut or broken escape is kept as it stands, and the next one still decodes.
  EXPECT_EQ(qp_decode("a="), "a=");
  EXPECT_EQ(qp_decode("a=4"), "a=4");
  EXPECT_EQ(qp_decode("=4=41"), "=4A");
  EXPECT_EQ(qp_decode("=4g"), "=4g");
}

TEST(Mime, SinglePartDefaults) {
  const std::string m = "Subject: x\r\n\r\nline1\r\nline2\r\n";
  auto p = parse_mime(m);
  EXPECT_EQ(p.type, "text");
  EXPECT_EQ(p.subtype, "plain");
  EXPECT_EQ(p.type_params.at(0).second, "us-ascii");
  EXPECT_EQ(p.encoding, "7bit");
  EXPECT_EQ(p.body(m), "line1\r\nline2\r\n");
  EXPECT_EQ(p.body_lines, 2u);
  EXPECT_EQ(find_part(p, {1}), &p);
  EXPECT_EQ(find_part(p, {2}), nullptr);
}

TEST(Mime, NestedMultipartAndMessage) {
  const std::string inner =
      "Subject: inner\r\nContent-Type: multipart/alternative; boundary=in\r\n\r\n"
      "--in\r\nContent-Type: text/plain\r\n\r\nplain\r\n--in\r\nContent-Type: text/html\r\n\r\n"
      "<b>html</b>\r\n--in--\r\n";
  const std::string m =
      "Content-Type: multipart/mixed; boundary=\"out\"\r\n\r\n"
      "preamble\r\n"
      "--out\r\n"
      "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: Quoted-Printable\r\n\r\n"
      "first=\r\n part\r\n"
      "--out  \r\n"
      "Content-Type: message/rfc822\r\n\r\n" + inner +
      "--out\r\n"
      "Content-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=a.bin\r\n"
      "Content-Transfer-Encoding: base64\r\n\r\nAAEC\r\n"
      "--out--\r\nepilogue\r\n";
  auto root = parse_mime(m);
  ASSERT_TRUE(root.is_multipart());
  ASSERT_EQ(root.children.size(), 3u);
  const auto& first = root.children[0];
  EXPECT_EQ(first.encoding, "quoted-printable");
  EXPECT_EQ(first.body(m), "first=\r\n part");
  const auto& msg = root.children[1];
  ASSERT_TRUE(msg.is_message());
  ASSERT_EQ(msg.children.size(), 1u);
  EXPECT_EQ(msg.body(m), inner.substr(0, inner.size() - 2));  // CRLF before delimiter excluded
  const auto& att = root.children[2];
  EXPECT_EQ(att.disposition, "attachment");
  EXPECT_EQ(att.disposition_params.at(0).second, "a.bin");
  EXPECT_EQ(decode_transfer(att.body(m), att.encoding), std::string("\0\1\2", 3));
  // IMAP section numbers
  EXPECT_EQ(find_part(root, {2, 1})->subtype, "plain");
  EXPECT_EQ(find_part(root, {2, 2})->body(m), "<b>html</b>");
  EXPECT_EQ(find_part(root, {2})->type, "message");
  EXPECT_EQ(find_part(root, {4}), nullptr);
  EXPECT_EQ(find_part(root, {3, 1}), &att);
}

TEST(Mime, MissingCloseBoundaryAndGarbage) {
  const std::string m =
      "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\nunterminated part";
  auto root = parse_mime(m);
  ASSERT_EQ(root.children.size(), 1u);
  EXPECT_EQ(root.children[0].body(m), "unterminated part");
  auto noboundary = parse_mime("Content-Type: multipart/mixed\r\n\r\nx");
  EXPECT_TRUE(noboundary.children.empty());
  auto badtype = parse_mime("Content-Type: garbage\r\n\r\nx");
  EXPECT_EQ(badtype.type, "text");
}

TEST(Mime, DepthAndPartLimits) {
  std::string m;
  for (int i = 0; i < 100; ++i) m += "Content-Type: message/rfc822\r\n\r\n";
  m += "body\r\n";
  MimeLimits lim;
  lim.max_depth = 10;
  auto root = parse_mime(m, lim);
  int depth = 0;
  for (const Part* p = &root; !p->children.empty(); p = &p->children[0]) ++depth;
  EXPECT_EQ(depth, 10);

  std::string many = "Content-Type: multipart/mixed; boundary=b\r\n\r\n";
  for (int i = 0; i < 5000; ++i) many += "--b\r\n\r\nx\r\n";
  many += "--b--\r\n";
  lim.max_parts = 100;
  auto r = parse_mime(many, lim);
  EXPECT_LE(r.children.size(), 100u);
}

TEST(Mime, DigestDefaultsToMessage) {
  const std::string m =
      "Content-Type: multipart/digest; boundary=d\r\n\r\n--d\r\n\r\nSubject: one\r\n\r\nbody\r\n--d--\r\n";
  auto root = parse_mime(m);
  ASSERT_EQ(root.children.size(), 1u);
  EXPECT_TRUE(root.children[0].is_message());
}

}  // namespace
}  // namespace mk::message
