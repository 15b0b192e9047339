// imap/proto/summary: the three items of a parsed message, and their stored form, which is
// read back from disk and so must survive (reject) any corruption.
#include "imap/proto/summary.hpp"

#include <gtest/gtest.h>

#include "imap/proto/fetch.hpp"

namespace mk::imap {
namespace {

using namespace std::literals;

const std::string kMessage =
    "Date: Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\r\n"
    "From: Terry Gray <gray@cac.washington.edu>\r\n"
    "Subject: IMAP4rev1 WG mtg summary and minutes\r\n"
    "To: imap@cac.washington.edu\r\n"
    "Message-Id: <B27397-0100000@cac.washington.edu>\r\n"
    "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
    "--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nhi\r\n"
    "--b\r\nContent-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n\r\niVBO\r\n"
    "--b--\r\n";

Summary sample() {
  return summarize(message::parse_mime(kMessage));
}

TEST(Summary, SummarizeRendersTheThreeItems) {
  const auto root = message::parse_mime(kMessage);
  const Summary s = summarize(root);
  EXPECT_EQ(s.envelope(), render_envelope(root));
  EXPECT_EQ(s.body(), render_body_structure(root, false));
  EXPECT_EQ(s.bodystructure(), render_body_structure(root, true));
  EXPECT_EQ(s.body(),
            "((\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"7bit\" 2 1)"
            "(\"image\" \"png\" NIL NIL NIL \"base64\" 4) \"mixed\")");
}

TEST(Summary, RoundTrip) {
  const Summary s = sample();
  const std::string e = encode_summary(s);
  ASSERT_EQ(std::uint8_t(e[0]), kSummaryVersion);
  // Compact: the header, then each item with a length of one byte below 128, two below 16384.
  auto item = [](std::string_view x) { return (x.size() < 128 ? 1 : 2) + x.size(); };
  ASSERT_LT(s.bodystructure().size(), 16384u);
  EXPECT_EQ(e.size(), 5 + item(s.envelope()) + item(s.body()) + item(s.bodystructure()));
  auto d = decode_summary(e);
  ASSERT_TRUE(d);
  EXPECT_EQ(*d, s);
  // Any bytes inside the items (8-bit headers, NUL) come back unchanged.
  const Summary odd{std::string("(\"caf\xc3\xa9\" \0 \xff)"sv), "()",
                    std::string(70000, '(') + ")"};
  ASSERT_EQ(odd.envelope().size(), 13u);
  EXPECT_EQ(decode_summary(encode_summary(odd)), odd);
}

TEST(Summary, RejectsCorruptInput) {
  const std::string good = encode_summary(sample());
  ASSERT_TRUE(decode_summary(good));
  EXPECT_FALSE(decode_summary(""));
  EXPECT_FALSE(decode_summary(std::string(1, char(kSummaryVersion))));
  EXPECT_FALSE(decode_summary(std::string(200, '\0')));
  EXPECT_FALSE(decode_summary(std::string(200, '\xff')));
  // Every truncation, and anything appended.
  for (std::size_t n = 0; n < good.size(); ++n)
    EXPECT_FALSE(decode_summary(good.substr(0, n))) << n;
  EXPECT_FALSE(decode_summary(good + '\0'));
  EXPECT_FALSE(decode_summary(good + good));
  // Every single flipped bit (the version, the checksum, a length or the content).
  for (std::size_t i = 0; i < good.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string bad = good;
      bad[i] = char(bad[i] ^ (1 << bit));
      EXPECT_FALSE(decode_summary(bad)) << "byte " << i << " bit " << bit;
    }
  }
  // Another version (an older or newer mailkeep rendered it): rendered again, not served.
  std::string other = good;
  other[0] = char(kSummaryVersion + 1);
  EXPECT_FALSE(decode_summary(other));
}

// CRC-32C bit by bit, independent of the implementation under test.
std::uint32_t reference_crc32c(std::string_view s) {
  std::uint32_t crc = 0xffffffff;
  for (const char ch : s) {
    crc ^= std::uint8_t(ch);
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ ((crc & 1) ? 0x82F63B78u : 0);
  }
  return ~crc;
}

// A record with a valid header and checksum over `body`, as a buggy writer could produce.
std::string record(std::string_view body) {
  const std::uint32_t crc = reference_crc32c(body);
  std::string out(1, char(kSummaryVersion));
  for (int i = 0; i < 4; ++i) out += char(std::uint8_t(crc >> (8 * i)));
  return out + std::string(body);
}

TEST(Summary, ChecksumIsCrc32c) {
  ASSERT_EQ(reference_crc32c("123456789"), 0xE3069283u);  // RFC 3720 §B.4's check value
  // What encode_summary writes (with the CPU's instruction where there is one) is the same,
  // for bodies of every length around the 8-byte steps.
  for (std::size_t n = 0; n < 40; ++n) {
    const Summary s{"(" + std::string(n, 'e') + ")", "()", "(x)"};
    const std::string e = encode_summary(s);
    EXPECT_EQ(e, record(std::string_view(e).substr(5))) << n;
  }
}

// Well-summed records whose structure is wrong are rejected too: the checksum guards against
// the disk, this against a writer with a bug.
TEST(Summary, RejectsWellSummedNonsense) {
  ASSERT_TRUE(decode_summary(record("\x02()\x02()\x02()"sv)));
  EXPECT_EQ(decode_summary(record("\x02()\x02()\x02()"sv)), (Summary{"()", "()", "()"}));
  EXPECT_FALSE(decode_summary(record("\x02()\x02()"sv)));         // an item missing
  EXPECT_FALSE(decode_summary(record("\x02()\x02()\x03()"sv)));   // a length past the end
  EXPECT_FALSE(decode_summary(record("\x02()\x02()\x02()x"sv)));  // trailing bytes
  EXPECT_FALSE(
      decode_summary(record("\x02()\x02()\x82\x80\x80\x80\x80\x00()"sv)));  // a varint too long
  EXPECT_FALSE(decode_summary(record("\x02()\x02()\xff\xff\xff\xff\x0f()"sv)));  // 4 GiB
  // Items that are not parenthesized lists: encode_summary writes them, decode refuses them.
  EXPECT_FALSE(decode_summary(encode_summary(Summary{"NIL", "()", "()"})));
  EXPECT_FALSE(decode_summary(encode_summary(Summary{"()", "", "()"})));
  EXPECT_FALSE(decode_summary(encode_summary(Summary{"()", "()", "(x"})));
}

}  // namespace
}  // namespace mk::imap
