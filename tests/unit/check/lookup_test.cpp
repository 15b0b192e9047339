// check/lookup.hpp: transient failures are asked again; definite answers are not.
#include "check/lookup.hpp"

#include <gtest/gtest.h>

#include "await.hpp"
#include "dns/rdata.hpp"

namespace mk::check {
namespace {

using namespace std::chrono_literals;

// Answers from a script, one entry per query; the last entry repeats.
class ScriptedLookup final : public dns::Lookup {
 public:
  explicit ScriptedLookup(std::vector<Result<dns::Answer>> script) : script_(std::move(script)) {}
  boost::asio::awaitable<Result<dns::Answer>> query(std::string, int) override {
    Result<dns::Answer> r = script_[std::min(asked_, script_.size() - 1)];
    ++asked_;
    co_return r;
  }
  std::size_t asked() const { return asked_; }

 private:
  std::vector<Result<dns::Answer>> script_;
  std::size_t asked_ = 0;
};

Result<dns::Answer> rcode(int code) {
  dns::Answer a;
  a.rcode = code;
  a.nxdomain = code == 3;
  return a;
}

Result<dns::Answer> records() {
  dns::Answer a;
  a.rdata.push_back(dns::encode_txt("v=spf1 mx -all"));
  return a;
}

TEST(RetryLookup, Table) {
  struct Row {
    const char* name;
    std::vector<Result<dns::Answer>> script;
    std::size_t asked;
    bool transient_at_end;
  };
  const Row rows[] = {
      {"answer at once", {records()}, 1, false},
      {"NXDOMAIN is definite", {rcode(3)}, 1, false},
      {"SERVFAIL then the answer", {rcode(2), records()}, 2, false},
      {"timeout, timeout, answer", {err("timeout"), err("timeout"), records()}, 3, false},
      {"SERVFAIL every time", {rcode(2)}, 3, true},
      {"REFUSED every time", {rcode(5)}, 3, true},
  };
  for (const auto& r : rows) {
    ScriptedLookup inner(r.script);
    RetryLookup retry(inner, RetryPolicy{3, 1ms});
    auto got = test::await(retry.query("check.example", dns::kTxt));
    EXPECT_EQ(inner.asked(), r.asked) << r.name;
    EXPECT_EQ(transient(got), r.transient_at_end) << r.name;
  }
  // A bogus answer does not become valid by asking again.
  dns::Answer bogus;
  bogus.rcode = 2;
  bogus.bogus = true;
  ScriptedLookup inner({bogus});
  RetryLookup retry(inner, RetryPolicy{3, 1ms});
  EXPECT_TRUE(test::await(retry.query("check.example", dns::kTxt))->bogus);
  EXPECT_EQ(inner.asked(), 1u);
}

TEST(FetchRrset, States) {
  ScriptedLookup ok({records()});
  auto p = test::await(fetch_rrset(ok, "check.example.", "TXT"));
  EXPECT_EQ(p.error, "");
  EXPECT_EQ(p.rdata.size(), 1u);
  ScriptedLookup failing({rcode(2)});
  EXPECT_EQ(test::await(fetch_rrset(failing, "check.example", "TXT")).error, "SERVFAIL");
  ScriptedLookup gone({rcode(3)});
  EXPECT_TRUE(test::await(fetch_rrset(gone, "check.example", "TXT")).nxdomain);
}

}  // namespace
}  // namespace mk::check
