// ChainCheck and parse_record (audit/log.hpp) on lines written by a real security log: each
// kind of link, and records built by hand with a correct hash of their own, so that only the
// chain can tell them apart.
#include <gtest/gtest.h>
#include <openssl/sha.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "audit/log.hpp"
#include "unit/audit/temp_log.hpp"

namespace mk::audit {
namespace {

using Link = ChainCheck::Link;

const std::string kZeros(64, '0');

std::string sha256_hex(const std::string& data) {
  unsigned char d[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), d);
  std::string out;
  char two[3];
  for (unsigned char c : d) {
    std::snprintf(two, sizeof two, "%02x", c);
    out += two;
  }
  return out;
}

// A record as Log writes it, with hash = SHA-256(prev || the line up to the comma before "hash").
std::string make_record(std::uint64_t seq, const std::string& prev,
                        const std::string& ip = "192.0.2.1") {
  const std::string hashed =
      "{\"seq\":" + std::to_string(seq) +
      ",\"ts\":\"2025-01-02T03:04:05.678Z\",\"event\":\"login_failed\",\"ip\":\"" + ip +
      "\",\"prev\":\"" + prev + "\",";
  return hashed + "\"hash\":\"" + sha256_hex(prev + hashed) + "\"}";
}

struct TempLog : test::TempLog {
  // n records, one per address NET1 ... NETn; the lines without their newlines.
  std::vector<std::string> write(int n, const std::string& net = "192.0.2.") const {
    {
      auto log = Log::open(path);
      EXPECT_TRUE(log.ok());
      for (int i = 1; i <= n; ++i)
        EXPECT_TRUE((*log)->append("login_failed", {{"ip", net + std::to_string(i)}}).ok());
    }
    std::ifstream in(path);
    std::vector<std::string> out;
    for (std::string l; std::getline(in, l);) out.push_back(l);
    return out;
  }
};

// A chain that has taken the first n lines.
ChainCheck after(const std::vector<std::string>& lines, std::size_t n) {
  ChainCheck c;
  for (std::size_t i = 0; i < n; ++i) {
    RecordHead h;
    EXPECT_EQ(c.check(lines[i], &h), Link::ok) << lines[i];
    c.advance(h);
  }
  return c;
}

std::string hash_of(const std::string& line) {
  return parse_record(line).value().hash;
}

TEST(ChainCheck, RealLogIsOk) {
  TempLog t;
  const auto lines = t.write(5);
  ASSERT_EQ(lines.size(), 5u);
  ChainCheck c;
  EXPECT_EQ(c.seq(), 0u);
  EXPECT_EQ(c.hash(), kZeros);
  std::string prev = kZeros;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    RecordHead h;
    ASSERT_EQ(c.check(lines[i], &h), Link::ok) << lines[i];
    EXPECT_EQ(c.check(lines[i]), Link::ok);  // checking does not move the chain
    EXPECT_EQ(c.seq(), i);
    EXPECT_EQ(h.seq, i + 1);
    EXPECT_EQ(h.prev, prev);
    EXPECT_EQ(h.hash,
              sha256_hex(prev + std::string(h.hashed)));  // the hash as the header defines it
    c.advance(h);
    EXPECT_EQ(c.seq(), i + 1);
    EXPECT_EQ(c.hash(), h.hash);
    prev = h.hash;
  }
  // A collector that already holds record 2 picks the chain up there.
  ChainCheck resumed(2, hash_of(lines[1]));
  EXPECT_EQ(resumed.check(lines[2]), Link::ok);
  EXPECT_EQ(resumed.check(lines[1]), Link::replayed);
}

TEST(ChainCheck, HandMadeRecordsLikeTheLogs) {
  // make_record() is right: its records chain like the log's own.
  const std::string r1 = make_record(1, kZeros), r2 = make_record(2, hash_of(r1));
  ChainCheck c;
  RecordHead h;
  ASSERT_EQ(c.check(r1, &h), Link::ok);
  c.advance(h);
  EXPECT_EQ(c.check(r2), Link::ok);
}

TEST(ChainCheck, EditedRecordIsBadHash) {
  TempLog t;
  const auto lines = t.write(4);
  ASSERT_EQ(lines.size(), 4u);
  const ChainCheck c = after(lines, 2);
  auto edit = [&](std::string from, std::string to) {
    std::string l = lines[2];
    const auto at = l.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    return l.replace(at, from.size(), to);
  };
  const std::string hash3 = hash_of(lines[2]);
  const std::string prev3 = hash_of(lines[1]);
  std::string other_hash = hash3;
  other_hash[0] = other_hash[0] == 'a' ? 'b' : 'a';
  const std::vector<std::pair<const char*, std::string>> edited = {
      {"Field", edit("192.0.2.3", "192.0.2.9")},   {"Event", edit("login_failed", "login_failex")},
      {"Seq", edit("{\"seq\":3,", "{\"seq\":4,")}, {"Prev", edit(prev3, std::string(64, 'f'))},
      {"Hash", edit(hash3, other_hash)},           {"Ts", edit("\"ts\":\"2", "\"ts\":\"3")},
  };
  for (const auto& [name, line] : edited) {
    RecordHead h;
    EXPECT_EQ(c.check(line, &h), Link::bad_hash) << name;
    EXPECT_EQ(ChainCheck().check(line), Link::bad_hash)
        << name;  // the record's own hash comes first
  }
  EXPECT_EQ(c.seq(), 2u);
  EXPECT_EQ(c.check(lines[2]), Link::ok);
}

TEST(ChainCheck, SkippedRecordIsGap) {
  TempLog t;
  const auto lines = t.write(4);
  ASSERT_EQ(lines.size(), 4u);
  const ChainCheck c = after(lines, 1);
  RecordHead h;
  EXPECT_EQ(c.check(lines[2], &h), Link::gap);
  EXPECT_EQ(h.seq, 3u);  // the head is filled in for the report
  EXPECT_EQ(c.check(lines[3]), Link::gap);
  EXPECT_EQ(c.check(lines[1]), Link::ok);              // the gap did not move the chain
  EXPECT_EQ(ChainCheck().check(lines[1]), Link::gap);  // a log whose first record is missing
}

TEST(ChainCheck, OtherPrevIsBroken) {
  TempLog t;
  const auto lines = t.write(3);
  ASSERT_EQ(lines.size(), 3u);
  const ChainCheck c = after(lines, 2);
  const std::string hash2 = hash_of(lines[1]);
  // seq 3 follows 2, and the record's own hash is right, but it does not link to record 2.
  const std::string forged = make_record(3, std::string(64, 'a'));
  ASSERT_EQ(ChainCheck().check(forged), Link::gap);  // not bad_hash: its own hash holds
  EXPECT_EQ(c.check(forged), Link::broken);
  EXPECT_EQ(c.check(make_record(3, hash_of(lines[0]))), Link::broken);  // links to record 1
  EXPECT_EQ(c.check(make_record(3, hash2)), Link::ok);                  // the same, linked right
  // Record 3 of another log.
  TempLog other;
  const auto theirs = other.write(3, "198.51.100.");
  ASSERT_EQ(theirs.size(), 3u);
  ASSERT_NE(hash_of(theirs[1]), hash2);
  EXPECT_EQ(c.check(theirs[2]), Link::broken);
  // The first record must link to 64 zeros.
  EXPECT_EQ(ChainCheck().check(make_record(1, std::string(64, '1'))), Link::broken);
}

TEST(ChainCheck, SeqOneAgainIsRestarted) {
  TempLog t;
  const auto lines = t.write(3);
  ASSERT_EQ(lines.size(), 3u);
  const ChainCheck c = after(lines, 3);
  EXPECT_EQ(c.check(lines[0]), Link::restarted);
  EXPECT_EQ(c.check(make_record(1, kZeros)), Link::restarted);  // a new log in its place
  EXPECT_EQ(after(lines, 1).check(make_record(1, kZeros)), Link::restarted);
  EXPECT_EQ(ChainCheck().check(lines[0]), Link::ok);
}

TEST(ChainCheck, EarlierRecordIsReplayed) {
  TempLog t;
  const auto lines = t.write(4);
  ASSERT_EQ(lines.size(), 4u);
  const ChainCheck c = after(lines, 4);
  EXPECT_EQ(c.check(lines[1]), Link::replayed);
  EXPECT_EQ(c.check(lines[2]), Link::replayed);
  EXPECT_EQ(c.check(lines[3]), Link::replayed);  // the last one again
  // Records start at 1: a seq of 0 is not a record at all (it could wrap a chain around).
  EXPECT_EQ(c.check(make_record(0, kZeros)), Link::not_a_record);
  EXPECT_EQ(ChainCheck().check(make_record(0, kZeros)), Link::not_a_record);
}

TEST(ChainCheck, NotARecord) {
  TempLog t;
  const auto lines = t.write(1);
  ASSERT_EQ(lines.size(), 1u);
  const std::string& l = lines[0];
  const std::vector<std::pair<const char*, std::string>> cases = {
      {"Empty", ""},
      {"Text", "garbage"},
      {"Json", "{\"seq\":1,\"event\":\"login\"}"},
      {"WithNewline", l + "\n"},  // lines are given without theirs
      {"Truncated", l.substr(0, l.size() - 1)},
      {"TrailingSpace", l + " "},
      {"NoSeq", "{\"ts\":\"x\",\"prev\":\"" + kZeros + "\",\"hash\":\"" + kZeros + "\"}"},
      {"SeqNotNumber", "{\"seq\":x,\"prev\":\"" + kZeros + "\",\"hash\":\"" + kZeros + "\"}"},
      {"SeqNegative", "{\"seq\":-1,\"prev\":\"" + kZeros + "\",\"hash\":\"" + kZeros + "\"}"},
      {"NoPrev", "{\"seq\":1,\"hash\":\"" + kZeros + "\"}"},
      {"ShortPrev", "{\"seq\":1,\"prev\":\"00\",\"hash\":\"" + kZeros + "\"}"},
      {"NoHash", "{\"seq\":1,\"prev\":\"" + kZeros + "\"}"},
      {"HashOverlapsQuote", "\"hash\":\"}"},
      {"SyslogMessage", "<109>1 - - mailkeep - security - - " + l},
  };
  for (const auto& [name, line] : cases) {
    RecordHead h;
    h.seq = 77;
    EXPECT_EQ(ChainCheck().check(line, &h), Link::not_a_record) << name;
    EXPECT_EQ(h.seq, 77u) << name;  // untouched
    EXPECT_FALSE(parse_record(line).has_value()) << name;
  }
}

TEST(ParseRecord, ReadsTheChainFields) {
  TempLog t;
  const auto lines = t.write(2);
  ASSERT_EQ(lines.size(), 2u);
  const std::string& l = lines[1];
  auto r = parse_record(l);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->seq, 2u);
  const auto ts_at = l.find("\"ts\":\"") + 6;
  EXPECT_EQ(r->ts, l.substr(ts_at, l.find('"', ts_at) - ts_at));
  ASSERT_EQ(r->ts.size(), 24u) << r->ts;  // 2025-01-02T03:04:05.678Z
  EXPECT_EQ(r->ts[10], 'T');
  EXPECT_EQ(r->ts.back(), 'Z');
  EXPECT_EQ(r->prev, hash_of(lines[0]));
  EXPECT_EQ(r->prev.size(), 64u);
  const auto hash_at = l.find("\"hash\":\"");
  EXPECT_EQ(r->hash, l.substr(hash_at + 8, 64));
  EXPECT_EQ(l.substr(hash_at + 8 + 64), "\"}");
  EXPECT_EQ(std::string(r->hashed), l.substr(0, hash_at));
  EXPECT_EQ(r->hashed.back(), ',');
  EXPECT_EQ(static_cast<const void*>(r->hashed.data()),
            static_cast<const void*>(l.data()));  // into the line

  // Hand-made: the exact values, and a record without "ts".
  const std::string made = make_record(12345678901234ull, std::string(64, 'c'));
  auto m = parse_record(made);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->seq, 12345678901234ull);
  EXPECT_EQ(m->ts, "2025-01-02T03:04:05.678Z");
  EXPECT_EQ(m->prev, std::string(64, 'c'));
  EXPECT_EQ(m->hash, sha256_hex(std::string(64, 'c') + std::string(m->hashed)));
  const std::string no_ts =
      "{\"seq\":9,\"event\":\"x\",\"prev\":\"" + kZeros + "\",\"hash\":\"ab\"}";
  auto n = parse_record(no_ts);
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(n->seq, 9u);
  EXPECT_EQ(n->ts, "");
  EXPECT_EQ(n->prev, kZeros);
  EXPECT_EQ(n->hash, "ab");
  EXPECT_EQ(ChainCheck(8, kZeros).check(no_ts), Link::bad_hash);
}

TEST(ChainCheck, Describe) {
  EXPECT_EQ(ChainCheck::describe(Link::ok), "links to the record before");
  EXPECT_EQ(ChainCheck::describe(Link::bad_hash),
            "the record was changed (its hash does not match)");
  EXPECT_EQ(ChainCheck::describe(Link::broken),
            "the chain is broken: the record before was changed or removed");
  EXPECT_EQ(ChainCheck::describe(Link::restarted),
            "the chain starts again at record 1: the log was deleted or replaced");
}

}  // namespace
}  // namespace mk::audit
