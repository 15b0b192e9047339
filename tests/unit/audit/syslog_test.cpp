// The syslog codec (audit/syslog.hpp): RFC 5424 messages written and read back, the RFC's own
// examples (§6.3.5, §6.5), every rejection with its reason, the security log record as a
// message, and RFC 5425 / RFC 6587 framing fed in pieces.
#include "audit/syslog.hpp"
#include "unit/audit/temp_log.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "audit/log.hpp"

namespace mk::audit::syslog {
namespace {

const std::string kBom = "\xEF\xBB\xBF";
const std::string kZeros(64, '0');

// Every field, so that a table compares whole messages in one readable string.
std::string dump(const Message& m) {
  std::string out = std::to_string(m.pri) + "|" + m.timestamp + "|" + m.hostname + "|" + m.app +
                    "|" + m.procid + "|" + m.msgid + "|";
  for (const auto& e : m.sd) {
    out += "[" + e.id;
    for (const auto& [k, v] : e.params) out += " " + k + "=<" + v + ">";
    out += "]";
  }
  return out + "|" + m.msg;
}

struct Valid {
  const char* name;
  std::string text;
  std::string fields;     // dump() of the parsed message
  std::string formatted;  // format() of the parsed message
};

// RFC 5424 §6.5 (examples 1-4) and §6.3.5, typed from the RFC; "BOM" there is the UTF-8 BOM.
const std::string kEx3Head =
    "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 ";
const std::string kEx3Sd =
    "[exampleSDID@32473 iut=\"3\" eventSource=\"Application\" eventID=\"1011\"]";
const std::string kEx3Fields = "165|2003-10-11T22:14:15.003Z|mymachine.example.com|evntslog||ID47|";
const std::string kEx3SdFields =
    "[exampleSDID@32473 iut=<3> eventSource=<Application> eventID=<1011>]";

const std::vector<Valid> kValid = {
    {"Rfc5424Example1",
     "<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - " + kBom +
         "'su root' failed for lonvick on /dev/pts/8",
     "34|2003-10-11T22:14:15.003Z|mymachine.example.com|su||ID47||"
     "'su root' failed for lonvick on /dev/pts/8",
     "<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - "
     "'su root' failed for lonvick on /dev/pts/8"},
    {"Rfc5424Example2",
     "<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - "
     "%% It's time to make the do-nuts.",
     "165|2003-08-24T05:14:15.000003-07:00|192.0.2.1|myproc|8710|||"
     "%% It's time to make the do-nuts.",
     "<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - "
     "%% It's time to make the do-nuts."},
    {"Rfc5424Example3", kEx3Head + kEx3Sd + " " + kBom + "An application event log entry...",
     kEx3Fields + kEx3SdFields + "|An application event log entry...",
     kEx3Head + kEx3Sd + " An application event log entry..."},
    {"Rfc5424Example4", kEx3Head + kEx3Sd + "[examplePriority@32473 class=\"high\"]",
     kEx3Fields + kEx3SdFields + "[examplePriority@32473 class=<high>]|",
     kEx3Head + kEx3Sd + "[examplePriority@32473 class=\"high\"]"},
    // §6.3.5 calls this SD invalid because of the space between the elements; by the ABNF the
    // second element is then the MSG.
    {"Rfc5424SpaceBetweenElementsIsMsg",
     "<165>1 - - - - - [exampleSDID@32473 iut=\"3\"] [examplePriority@32473 class=\"high\"]",
     "165|-|||||[exampleSDID@32473 iut=<3>]|[examplePriority@32473 class=\"high\"]",
     "<165>1 - - - - - [exampleSDID@32473 iut=\"3\"] [examplePriority@32473 class=\"high\"]"},
    {"AllNil", "<0>1 - - - - - -", "0|-||||||", "<0>1 - - - - - -"},
    {"AllNilEmptyMsg", "<0>1 - - - - - - ", "0|-||||||", "<0>1 - - - - - -"},
    {"BomOnly", "<191>1 - - - - - - " + kBom, "191|-||||||", "<191>1 - - - - - -"},
    {"OneDigitPri", "<7>1 - h a p m - x", "7|-|h|a|p|m||x", "<7>1 - h a p m - x"},
    // §6.3.3: '"', '\' and ']' are escaped with '\'; a '\' before anything else is itself.
    {"EscapedValues",
     "<13>1 - - - - - [x@32473 q=\"say \\\"hi\\\"\" d=\"C:\\\\dir\" r=\"a\\]b\" o=\"back\\slash\" "
     "e=\"\"]",
     "13|-|||||[x@32473 q=<say \"hi\"> d=<C:\\dir> r=<a]b> o=<back\\slash> e=<>]|",
     "<13>1 - - - - - [x@32473 q=\"say \\\"hi\\\"\" d=\"C:\\\\dir\" r=\"a\\]b\" "
     "o=\"back\\\\slash\" e=\"\"]"},
    {"ValueWithSpacesEqualsAndNewline", "<13>1 - - - - - [x@32473 v=\"a = b\nc [d\"] m",
     "13|-|||||[x@32473 v=<a = b\nc [d>]|m", "<13>1 - - - - - [x@32473 v=\"a = b\nc [d\"] m"},
    {"MsgKeepsBytes", "<13>1 - - - - - - two  spaces\r\n\x01", "13|-||||||two  spaces\r\n\x01",
     "<13>1 - - - - - - two  spaces\r\n\x01"},
    {"SdIdOf32",
     "<13>1 - - - - - [" + std::string(32, 'i') + " " + std::string(32, 'p') + "=\"v\"]",
     "13|-|||||[" + std::string(32, 'i') + " " + std::string(32, 'p') + "=<v>]|",
     "<13>1 - - - - - [" + std::string(32, 'i') + " " + std::string(32, 'p') + "=\"v\"]"},
};

void PrintTo(const Valid& c, std::ostream* os) {
  *os << c.name;
}

class ParseValid : public ::testing::TestWithParam<Valid> {};

TEST_P(ParseValid, FieldsAndFormatRoundTrip) {
  const auto& c = GetParam();
  std::string why = "unset";
  auto m = parse(c.text, &why);
  ASSERT_TRUE(m.has_value()) << why;
  EXPECT_EQ(why, "unset");  // a success leaves the reason alone
  EXPECT_EQ(dump(*m), c.fields);
  const std::string text = format(*m);
  EXPECT_EQ(text, c.formatted);
  auto again = parse(text);
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(dump(*again), c.fields);
}

INSTANTIATE_TEST_SUITE_P(Syslog, ParseValid, ::testing::ValuesIn(kValid),
                         [](const auto& tc) { return std::string(tc.param.name); });

struct Invalid {
  const char* name;
  std::string text;
  std::string why;
};

const std::string kHead = "<13>1 - - - - - ";  // 16 characters, up to STRUCTURED-DATA

std::string with_fields(const std::string& host, const std::string& app, const std::string& procid,
                        const std::string& msgid) {
  return "<13>1 - " + host + " " + app + " " + procid + " " + msgid + " -";
}

const std::vector<Invalid> kInvalid = {
    {"Empty", "", "not a syslog message (no <PRI>)"},
    {"NoPri", "13>1 - - - - - -", "not a syslog message (no <PRI>)"},
    {"NoCloseOfPri", "<13 1 - - - - - -", "a bad <PRI>"},
    {"EmptyPri", "<>1 - - - - - -", "a bad <PRI>"},
    {"PriAbove191", "<192>1 - - - - - -", "a bad <PRI>"},
    {"PriFourDigits", "<1000>1 - - - - - -", "a bad <PRI>"},
    {"PriLeadingZero", "<01>1 - - - - - -", "a bad <PRI>"},
    {"PriDoubleZero", "<00>1 - - - - - -", "a bad <PRI>"},
    {"PriNotDigits", "<1a>1 - - - - - -", "a bad <PRI>"},
    {"Version0", "<13>0 - - - - - -", "not RFC 5424 (VERSION 1 expected)"},
    {"Version2", "<13>2 - - - - - -", "not RFC 5424 (VERSION 1 expected)"},
    {"Version12", "<13>12 - - - - - -", "not RFC 5424 (VERSION 1 expected)"},
    {"VersionAtEnd", "<13>1", "not RFC 5424 (VERSION 1 expected)"},
    {"Rfc3164", "<34>Oct 11 22:14:15 mymachine su: 'su root' failed",
     "not RFC 5424 (VERSION 1 expected)"},
    {"TimestampOver64", "<13>1 " + std::string(65, '1') + " - - - - -",
     "the TIMESTAMP is longer than 64 characters"},
    {"HostnameOver255", with_fields(std::string(256, 'h'), "-", "-", "-"),
     "the HOSTNAME is longer than 255 characters"},
    {"AppNameOver48", with_fields("-", std::string(49, 'a'), "-", "-"),
     "the APP-NAME is longer than 48 characters"},
    {"ProcIdOver128", with_fields("-", "-", std::string(129, 'p'), "-"),
     "the PROCID is longer than 128 characters"},
    {"MsgIdOver32", with_fields("-", "-", "-", std::string(33, 'm')),
     "the MSGID is longer than 32 characters"},
    {"EmptyHostname", "<13>1 -  - - - -", "the HOSTNAME is missing"},
    {"TabInHostname", "<13>1 - a\tb - - - -", "a space expected at 9"},
    {"NoStructuredData", "<13>1 - - - - -", "a space expected at 15"},
    {"StructuredDataMissing", kHead, "STRUCTURED-DATA is missing"},
    {"StructuredDataNotBracket", kHead + "x", "STRUCTURED-DATA must be - or [...]"},
    {"NilSdThenNoSpace", kHead + "-x", "a space expected at 17"},
    {"ElementThenNoSpace", kHead + "[x@32473]x", "a space expected at 25"},
    {"ElementNotClosed", kHead + "[x@32473 a=\"1\"", "structured data is not closed"},
    {"ElementIdOnlyNotClosed", kHead + "[x@32473", "structured data is not closed"},
    {"ValueNotClosed", kHead + "[x@32473 a=\"1", "a parameter value is not closed"},
    {"ValueEndsInEscapedQuote", kHead + "[x@32473 a=\"1\\\"", "a parameter value is not closed"},
    {"UnescapedBracket", kHead + "[x@32473 a=\"x]y\"]", "an unescaped ] in a parameter value"},
    {"EscapedQuoteThenBracket", kHead + "[x@32473 a=\"1\\\"]",
     "an unescaped ] in a parameter value"},
    {"SpaceAfterBracket", kHead + "[ exampleSDID@32473 iut=\"3\"]",
     "a bad SD-ID name"},  // RFC 5424 §6.3.5
    {"EmptySdId", kHead + "[]", "a bad SD-ID name"},
    {"SdIdOver32", kHead + "[" + std::string(33, 'i') + "]", "a bad SD-ID name"},
    {"SdIdWithEquals", kHead + "[x=y a=\"1\"]", "a space expected at 18"},
    {"SdIdWithQuote", kHead + "[x\"y]", "a space expected at 18"},
    {"EmptyParamName", kHead + "[x@32473 =\"1\"]", "a bad parameter name"},
    {"ParamNameOver32", kHead + "[x@32473 " + std::string(33, 'p') + "=\"1\"]",
     "a bad parameter name"},
    {"ParamWithoutValue", kHead + "[x@32473 a]", "a parameter needs =\"value\""},
    {"UnquotedValue", kHead + "[x@32473 a=1]", "a parameter needs =\"value\""},
    {"ParamsWithoutSpace", kHead + "[x@32473 a=\"1\"b=\"2\"]", "a space expected at 30"},
};

void PrintTo(const Invalid& c, std::ostream* os) {
  *os << c.name;
}

class ParseInvalid : public ::testing::TestWithParam<Invalid> {};

TEST_P(ParseInvalid, RejectedWithReason) {
  const auto& c = GetParam();
  std::string why;
  auto m = parse(c.text, &why);
  EXPECT_FALSE(m.has_value()) << dump(*m);
  EXPECT_EQ(why, c.why);
  EXPECT_FALSE(parse(c.text).has_value());  // no reason asked for
}

INSTANTIATE_TEST_SUITE_P(Syslog, ParseInvalid, ::testing::ValuesIn(kInvalid),
                         [](const auto& tc) { return std::string(tc.param.name); });

TEST(Syslog, FieldLengthsUpToTheLimit) {
  // RFC 5424 §6: HOSTNAME 255, APP-NAME 48, PROCID 128, MSGID 32 characters at most.
  auto m = parse(with_fields(std::string(255, 'h'), std::string(48, 'a'), std::string(128, 'p'),
                             std::string(32, 'm')));
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->hostname, std::string(255, 'h'));
  EXPECT_EQ(m->app, std::string(48, 'a'));
  EXPECT_EQ(m->procid, std::string(128, 'p'));
  EXPECT_EQ(m->msgid, std::string(32, 'm'));
}

TEST(Syslog, FormatEscapesAndNils) {
  Message m;
  EXPECT_EQ(format(m), "<0>1 - - - - - -");
  m.pri = kSecurityPri;
  m.timestamp = "2025-01-02T03:04:05.678Z";
  m.hostname = "mx.example.org";
  m.app = "mailkeep";
  m.msgid = std::string(kLogMsgId);
  m.sd.push_back({"x@32473", {{"v", "a\"b\\c]d"}, {"w", ""}}});
  m.msg = "hello";
  EXPECT_EQ(format(m),
            "<109>1 2025-01-02T03:04:05.678Z mx.example.org mailkeep - log [x@32473 "
            "v=\"a\\\"b\\\\c\\]d\" w=\"\"] hello");
  auto back = parse(format(m));
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(dump(*back), dump(m));
  const SdElement* e = back->element("x@32473");
  ASSERT_NE(e, nullptr);
  ASSERT_NE(e->param("v"), nullptr);
  EXPECT_EQ(*e->param("v"), "a\"b\\c]d");
  EXPECT_EQ(e->param("nope"), nullptr);
  EXPECT_EQ(back->element("y@32473"), nullptr);
}

// parse() takes one leading BOM off MSG (RFC 5424 §6.4); a MSG that still starts with one (the
// text began with two) must keep it through format() and parse().
TEST(Syslog, MsgStartingWithBomRoundTrips) {
  auto m = parse("<13>1 - - - - - - " + kBom + kBom + "x");
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->msg, kBom + "x");
  auto again = parse(format(*m));
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->msg, kBom + "x") << format(*m);
}

TEST(Syslog, FrameCountsOctets) {
  EXPECT_EQ(frame("abc"), "3 abc");
  EXPECT_EQ(frame("\xC3\xA9"), "2 \xC3\xA9");  // "é": two octets, one character
  EXPECT_EQ(frame("<13>1 - - - - - -"), "17 <13>1 - - - - - -");
}

TEST(Syslog, HeartbeatSignedText) {
  EXPECT_EQ(heartbeat_signed_text("mx.example.org", "2025-01-02T03:04:05.678Z", 42, "ab12", "n0nce"),
            "mailkeep heartbeat 2\nmx.example.org\n2025-01-02T03:04:05.678Z\n42\nab12\nn0nce\n");
}

TEST(Syslog, Replies) {
  auto c = parse_reply(challenge_text("0123abcd"));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->kind, Reply::Kind::challenge);
  EXPECT_EQ(c->nonce, "0123abcd");
  auto h = parse_reply(hello_text(7, std::string(64, 'f')));
  ASSERT_TRUE(h);
  EXPECT_EQ(h->kind, Reply::Kind::hello);
  EXPECT_EQ(h->seq, 7u);
  EXPECT_EQ(h->hash, std::string(64, 'f'));
  auto a = parse_reply(ack_text(9));
  ASSERT_TRUE(a);
  EXPECT_EQ(a->kind, Reply::Kind::ack);
  EXPECT_EQ(a->seq, 9u);
  EXPECT_FALSE(parse_reply("mailkeep-collector 1 challenge " + std::string(65, 'a')));
  EXPECT_FALSE(parse_reply("mailkeep-collector 1 7 short"));
  EXPECT_FALSE(parse_reply("ack x"));
  EXPECT_FALSE(parse_reply("hello"));
}

TEST(Syslog, HeartbeatMessageRoundTrip) {
  Message m;
  m.pri = kHeartbeatPri;
  m.timestamp = "2025-01-02T03:04:05.678Z";
  m.hostname = "mx.example.org";
  m.app = "mailkeep";
  m.procid = "4242";
  m.msgid = std::string(kHeartbeatMsgId);
  m.sd.push_back(
      {std::string(kBeatSdId), {{"seq", "7"}, {"hash", std::string(64, 'f')}, {"sig", "q+/=="}}});
  const std::string text = format(m);
  EXPECT_EQ(text,
            "<110>1 2025-01-02T03:04:05.678Z mx.example.org mailkeep 4242 heartbeat [beat@32473 "
            "seq=\"7\" hash=\"" +
                std::string(64, 'f') + "\" sig=\"q+/==\"]");
  auto back = parse(text);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(dump(*back), dump(m));
}

using test::TempLog;

TEST(Syslog, SecurityMessageCarriesTheRecord) {
  TempLog t;
  {
    auto log = Log::open(t.path);
    ASSERT_TRUE(log.ok()) << log.error().message;
    ASSERT_TRUE(
        (*log)
            ->append("login_failed", {{"user", "bob\"]\\\n{\"forged\":1}"}, {"ip", "192.0.2.7"}})
            .ok());
    ASSERT_TRUE((*log)->append("login", {{"user", "alice@example.org"}}).ok());
  }
  const auto lines = t.lines();
  ASSERT_EQ(lines.size(), 2u);
  ChainCheck chain;
  std::string prev = kZeros;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::string& line = lines[i];
    auto rec = parse_record(line);
    ASSERT_TRUE(rec.has_value()) << line;
    auto m = security_message(line, "mx.example.org", "4242");
    ASSERT_TRUE(m.has_value());
    // The trailing newline of the file's line makes no difference.
    auto with_lf = security_message(line + "\n", "mx.example.org", "4242");
    ASSERT_TRUE(with_lf.has_value());
    EXPECT_EQ(dump(*with_lf), dump(*m));

    const std::string seq = std::to_string(i + 1);
    ASSERT_EQ(rec->ts.size(), 24u) << rec->ts;  // 2025-01-02T03:04:05.678Z
    EXPECT_EQ(line.substr(0, 14 + seq.size() + 24), "{\"seq\":" + seq + ",\"ts\":\"" + rec->ts);
    EXPECT_EQ(rec->prev, prev);
    const std::string text = format(*m);
    EXPECT_EQ(text, "<109>1 " + rec->ts +
                        " mx.example.org mailkeep 4242 security [chain@32473 seq=\"" + seq +
                        "\" prev=\"" + prev + "\" hash=\"" + rec->hash + "\"] " + line);

    std::string why;
    auto back = parse(text, &why);
    ASSERT_TRUE(back.has_value()) << why;
    EXPECT_EQ(back->pri, kSecurityPri);
    EXPECT_EQ(back->timestamp, rec->ts);
    EXPECT_EQ(back->hostname, "mx.example.org");
    EXPECT_EQ(back->app, "mailkeep");
    EXPECT_EQ(back->procid, "4242");
    EXPECT_EQ(back->msgid, kSecurityMsgId);
    ASSERT_EQ(back->sd.size(), 1u);
    const SdElement* e = back->element(kChainSdId);
    ASSERT_NE(e, nullptr);
    ASSERT_EQ(e->params.size(), 3u);
    EXPECT_EQ(e->params[0], std::make_pair(std::string("seq"), seq));
    EXPECT_EQ(e->params[1], std::make_pair(std::string("prev"), prev));
    EXPECT_EQ(e->params[2], std::make_pair(std::string("hash"), rec->hash));
    EXPECT_EQ(back->msg, line);  // byte for byte

    // The collector's side: through a frame, and the record still links to the one before.
    FrameReader reader(8192);
    ASSERT_TRUE(reader.put(frame(text)));
    auto got = reader.next();
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(*got, text);
    RecordHead head;
    EXPECT_EQ(chain.check(back->msg, &head), ChainCheck::Link::ok);
    chain.advance(head);
    prev = rec->hash;
  }
  // The JSON escaping kept the forged newline inside the first record.
  EXPECT_NE(lines[0].find("\"bob\\\"]\\\\\\n{\\\"forged\\\":1}\""), std::string::npos) << lines[0];
}

TEST(Syslog, SecurityMessageNeedsARecord) {
  EXPECT_FALSE(security_message("", "h", "1").has_value());
  EXPECT_FALSE(security_message("not a record", "h", "1").has_value());
  EXPECT_FALSE(security_message("{\"seq\":1,\"ts\":\"x\"}", "h", "1").has_value());
}

TEST(Syslog, SecurityMessageNilsEmptyFields) {
  const std::string line =
      "{\"seq\":3,\"event\":\"x\",\"prev\":\"" + kZeros + "\",\"hash\":\"" + kZeros + "\"}";
  auto m = security_message(line, "", "");
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(format(*m), "<109>1 - - mailkeep - security [chain@32473 seq=\"3\" prev=\"" + kZeros +
                            "\" hash=\"" + kZeros + "\"] " + line);
}

// FrameReader: each case is fed piece by piece, draining after every piece.
struct FrameCase {
  const char* name;
  std::size_t max;
  std::vector<std::string> pieces;
  std::vector<std::string> frames;
  std::string error;
};

const std::string kNotAFrame = "not a syslog frame (RFC 5425 wants \"LENGTH SP MESSAGE\")";

const std::vector<FrameCase> kFrames = {
    {"SeveralInOnePut",
     64,
     {"5 hello3 abc17 <13>1 - - - - - -"},
     {"hello", "abc", "<13>1 - - - - - -"},
     ""},
    {"FrameHoldsSpacesAndNewlines", 64, {"10 a b\nc\r\nd e"}, {"a b\nc\r\nd e"}, ""},
    {"SplitAcrossPuts", 64, {"5 he", "llo", "3", " ", "ab", "c1"}, {"hello", "abc"}, ""},
    {"LfLines",
     64,
     {"<13>1 - - - - - - one\n<14>1 - - - - - - two\r\n"},
     {"<13>1 - - - - - - one", "<14>1 - - - - - - two"},
     ""},
    {"LfLineSplit", 64, {"<13>1 - ", "- - - - - x\r", "\n<1"}, {"<13>1 - - - - - - x"}, ""},
    {"MixedFraming",
     64,
     {"<1>1 - - - - - -\n6 <2>1 x<3>1 y\n"},
     {"<1>1 - - - - - -", "<2>1 x", "<3>1 y"},
     ""},
    {"Incomplete", 64, {"5 hel"}, {}, ""},
    {"ExactlyMaxFrame", 16, {"16 " + std::string(16, 'x')}, {std::string(16, 'x')}, ""},
    {"ExactlyMaxLine", 16, {"<" + std::string(15, 'x') + "\n"}, {"<" + std::string(15, 'x')}, ""},
    {"LengthLeadingZero", 64, {"05 hello"}, {}, kNotAFrame},
    {"LengthZero", 64, {"0 "}, {}, kNotAFrame},
    {"NonDigitStart", 64, {"x5 hello"}, {}, kNotAFrame},
    {"NoSpaceAfterLength", 64, {"5hello"}, {}, kNotAFrame},
    {"LfAfterOctetFrame", 64, {"5 hello\n5 world"}, {"hello"}, kNotAFrame},
    {"LengthAboveMax",
     16,
     {"3 abc17 " + std::string(17, 'x')},
     {"abc"},
     "a frame of 17 bytes, more than the 16 allowed"},
    {"TenDigitLength",
     16,
     {"9999999999 x"},
     {},
     "a frame of 9999999999 bytes, more than the 16 allowed"},
    {"TooManyDigits", 64, {"12345678901"}, {}, "a frame length with too many digits"},
    {"TooManyDigitsThenSpace", 64, {"12345678901 x"}, {}, kNotAFrame},
    {"LineOverMax", 16, {"<" + std::string(16, 'x') + "\n"}, {}, "a line longer than 16 bytes"},
    {"LineOverMaxNoLf", 16, {"<" + std::string(16, 'x')}, {}, "a line longer than 16 bytes"},
    {"LineOverMaxAfterGoodOne",
     16,
     {"<a\n<" + std::string(20, 'x') + "\n"},
     {"<a"},
     "a line longer than 16 bytes"},
};

struct Drained {
  std::vector<std::string> frames;
  std::string error;
};

Drained drain_pieces(std::size_t max, const std::vector<std::string>& pieces) {
  FrameReader r(max);
  Drained out;
  for (const auto& p : pieces) {
    const bool put = r.put(p);
    EXPECT_EQ(put, r.error().empty());
    while (auto f = r.next()) out.frames.push_back(*f);
  }
  out.error = r.error();
  return out;
}

void PrintTo(const FrameCase& c, std::ostream* os) {
  *os << c.name;
}

class Frames : public ::testing::TestWithParam<FrameCase> {};

TEST_P(Frames, Pieces) {
  const auto& c = GetParam();
  FrameReader r(c.max);
  std::vector<std::string> frames;
  for (const auto& p : c.pieces) {
    EXPECT_EQ(r.put(p), r.error().empty());
    while (auto f = r.next()) frames.push_back(*f);
  }
  EXPECT_EQ(frames, c.frames);
  EXPECT_EQ(r.error(), c.error);
  if (c.error.empty()) return;
  // A broken stream stays broken: nothing more is taken or returned, even a good frame.
  EXPECT_FALSE(r.put("5 hello"));
  EXPECT_EQ(r.next(), std::nullopt);
  EXPECT_EQ(r.error(), c.error);
}

TEST_P(Frames, ByteByByte) {
  const auto& c = GetParam();
  std::string all;
  for (const auto& p : c.pieces) all += p;
  std::vector<std::string> bytes;
  for (char ch : all) bytes.emplace_back(1, ch);
  const Drained d = drain_pieces(c.max, bytes);
  EXPECT_EQ(d.frames, c.frames);
  // The reason may differ (eleven digits are "too many" before the space arrives), the failure not.
  EXPECT_EQ(d.error.empty(), c.error.empty()) << d.error;
}

INSTANTIATE_TEST_SUITE_P(Syslog, Frames, ::testing::ValuesIn(kFrames),
                         [](const auto& tc) { return std::string(tc.param.name); });

TEST(Syslog, FrameReaderBufferedShrinks) {
  FrameReader r(64);
  EXPECT_EQ(r.buffered(), 0u);
  ASSERT_TRUE(r.put("5 hello5 world3 ab"));
  EXPECT_EQ(r.buffered(), 18u);
  EXPECT_EQ(r.next(), std::optional<std::string>("hello"));
  EXPECT_EQ(r.buffered(), 11u);
  EXPECT_EQ(r.next(), std::optional<std::string>("world"));
  EXPECT_EQ(r.buffered(), 4u);
  EXPECT_EQ(r.next(), std::nullopt);  // "3 ab" waits for its third byte
  EXPECT_EQ(r.buffered(), 4u);
  ASSERT_TRUE(r.put("c<1>1 x\n"));
  EXPECT_EQ(r.buffered(), 12u);
  EXPECT_EQ(r.next(), std::optional<std::string>("abc"));
  EXPECT_EQ(r.buffered(), 7u);
  EXPECT_EQ(r.next(), std::optional<std::string>("<1>1 x"));
  EXPECT_EQ(r.buffered(), 0u);
  EXPECT_EQ(r.next(), std::nullopt);
  EXPECT_TRUE(r.error().empty());
}

TEST(Syslog, FrameReaderLongStream) {
  // Many frames, consumed as they come, so the buffer is compacted many times over.
  FrameReader r(64);
  std::string sent;
  std::size_t got = 0;
  for (int i = 0; i < 1000; ++i) {
    const std::string msg = "<13>1 - - - - - - n" + std::to_string(i);
    const std::string f = i % 2 ? frame(msg) : msg + "\n";
    for (char ch : f) {
      ASSERT_TRUE(r.put(std::string_view(&ch, 1)));
      if (auto m = r.next()) {
        EXPECT_EQ(*m, "<13>1 - - - - - - n" + std::to_string(got));
        ++got;
      }
    }
    ASSERT_EQ(got, std::size_t(i + 1));  // each frame comes out with its last byte
    ASSERT_EQ(r.buffered(), 0u);
  }
  EXPECT_EQ(got, 1000u);
  EXPECT_EQ(r.buffered(), 0u);
}

}  // namespace
}  // namespace mk::audit::syslog
