// The breached-password index: import (unsorted, duplicated, CRLF, larger than its memory
// budget so that runs are merged), lookups, and the errors a user sees.
#include <gtest/gtest.h>

#include <openssl/sha.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <random>
#include <string>

#include "auth/breached.hpp"

namespace mk::auth {
namespace {

std::string sha1_hex(std::string_view s) {
  unsigned char d[20];
  SHA1(reinterpret_cast<const unsigned char*>(s.data()), s.size(), d);
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : d) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/mk-breached-XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~TempDir() { std::system(("rm -rf " + path).c_str()); }
};

TEST(Breached, ImportsAndFinds) {
  TempDir dir;
  const std::string list = dir.path + "/pwned.txt", idx = dir.path + "/breached.idx";
  {
    std::ofstream f(list);
    f << sha1_hex("password1") << ":3861493\r\n" << sha1_hex("correct horse") << ":12\r\n"
      << sha1_hex("password1") << ":1\r\n\r\n" << sha1_hex("letmein2026") << "\n";
  }
  auto st = import_breached(list, idx);
  ASSERT_TRUE(st.ok()) << st.error().message;
  EXPECT_EQ(st->lines, 5u);
  EXPECT_EQ(st->entries, 3u);
  auto b = BreachedIndex::open(idx);
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_EQ((*b)->size(), 3u);
  EXPECT_TRUE((*b)->contains_password("password1"));
  EXPECT_TRUE((*b)->contains_password("correct horse"));
  EXPECT_TRUE((*b)->contains_password("letmein2026"));
  EXPECT_FALSE((*b)->contains_password("password2"));
  EXPECT_FALSE((*b)->contains_password(""));
}

TEST(Breached, MergesRunsLargerThanMemory) {
  TempDir dir;
  const std::string list = dir.path + "/pwned.txt", idx = dir.path + "/breached.idx";
  constexpr int kEntries = 20000;
  {
    std::ofstream f(list);
    std::mt19937 rng(7);
    std::vector<int> order(kEntries);
    for (int i = 0; i < kEntries; ++i) order[std::size_t(i)] = i;
    std::shuffle(order.begin(), order.end(), rng);
    for (int i : order) f << sha1_hex("pw" + std::to_string(i)) << ":" << i << "\n";
    for (int i = 0; i < 100; ++i) f << sha1_hex("pw" + std::to_string(i)) << ":1\n";  // duplicates across runs
  }
  auto st = import_breached(list, idx, 1000 * kKeyBytes);  // 1,000 keys per run: 21 runs
  ASSERT_TRUE(st.ok()) << st.error().message;
  EXPECT_EQ(st->runs, 21u);
  EXPECT_EQ(st->entries, std::uint64_t(kEntries));
  auto b = BreachedIndex::open(idx);
  ASSERT_TRUE(b.ok());
  for (int i = 0; i < kEntries; i += 97) EXPECT_TRUE((*b)->contains_password("pw" + std::to_string(i))) << i;
  for (int i = kEntries; i < kEntries + 200; ++i) EXPECT_FALSE((*b)->contains_password("pw" + std::to_string(i)));
  EXPECT_NE(::access((idx + ".run0").c_str(), F_OK), 0);  // run files are removed
}

TEST(Breached, ErrorsNameFileAndLine) {
  TempDir dir;
  const std::string list = dir.path + "/bad.txt", idx = dir.path + "/breached.idx";
  {
    std::ofstream f(list);
    f << sha1_hex("a") << ":1\nnot a hash:3\n";
  }
  auto st = import_breached(list, idx);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message.rfind(list + ":2: expected a SHA-1 in hex", 0), 0u) << st.error().message;
  EXPECT_NE(::access(idx.c_str(), F_OK), 0);  // nothing half-written is left behind
  EXPECT_FALSE(import_breached(dir.path + "/missing.txt", idx).ok());
  {
    std::ofstream f(idx);
    f << "MKBREACH garbage";
  }
  auto b = BreachedIndex::open(idx);
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.error().message.find("import the list again"), std::string::npos) << b.error().message;
}

}  // namespace
}  // namespace mk::auth
