// The domains the filter keeps in memory, the correspondents' and the hosted ones: read again
// when they change, through this store or any other handle on it, and bounded.
#include <gtest/gtest.h>

#include <fmt/format.h>
#include <sqlite3.h>

#include "dmarc/dmarc.hpp"
#include "inbound/known_domains.hpp"
#include "unit/store/store_fixture.hpp"

namespace mk::inbound {
namespace {

class KnownDomainsTest : public store::StoreTest {
 protected:
  std::int64_t account(const std::string& address) {
    EXPECT_TRUE(store_->add_account(address, "h").ok());
    return (*store_->find_account(address))->id;
  }
  // Runs SQL on the store's database through a connection of its own (another process's
  // schema change, which is how these tests make the store's reads fail).
  void sql(const std::string& statement) {
    sqlite3* db = nullptr;
    if (sqlite3_open((dir_ + "/index.sqlite").c_str(), &db) == SQLITE_OK)
      EXPECT_EQ(sqlite3_exec(db, statement.c_str(), nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
    else
      ADD_FAILURE() << sqlite3_errmsg(db);
    sqlite3_close(db);
  }
  dmarc::OrgDomains orgs_;
};

TEST_F(KnownDomainsTest, ReadAgainOnlyWhenTheCorrespondentsChange) {
  ASSERT_TRUE(store_->add_domain("example.org").ok());
  const std::int64_t me = account("me@example.org");
  KnownDomainsCache cache(*store_, orgs_);
  const auto none = cache.of(me);
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
  ASSERT_TRUE(store_->add_correspondents(me, {"a@mail.partner.co.uk", "b@Other.Example"}, 1).ok());
  const auto first = cache.of(me);
  ASSERT_TRUE(first);
  EXPECT_TRUE(first->contains("partner.co.uk"));  // registrable, by the public suffix list
  EXPECT_TRUE(first->contains("other.example"));
  EXPECT_FALSE(first->contains("mail.partner.co.uk"));
  EXPECT_EQ(cache.of(me), first);  // unchanged: the same set, not read again
  ASSERT_TRUE(store_->add_correspondents(me, {"a@mail.partner.co.uk"}, 2).ok());
  EXPECT_EQ(cache.of(me), first);  // a known address changes nothing
  // A correspondent added through another handle on the store (another node) is seen too.
  {
    auto other = backend().open(dir_);
    ASSERT_TRUE(other.ok());
    ASSERT_TRUE((*other)->add_correspondents(me, {"new@third.example"}, 3).ok());
  }
  const auto second = cache.of(me);
  ASSERT_TRUE(second);
  EXPECT_NE(second, first);
  EXPECT_TRUE(second->contains("third.example"));
  EXPECT_EQ(second->size(), 3u);
  EXPECT_EQ(cache.accounts(), 1u);
}

TEST_F(KnownDomainsTest, TheHostedDomainsAreReadAgainWhenTheyChange) {
  HostedDomainsCache cache(*store_, orgs_);
  const auto none = cache.get();
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
  ASSERT_TRUE(store_->add_domain("mail.ourcompany.co.uk").ok());
  ASSERT_TRUE(store_->add_domain("ourcompany.example").ok());
  const auto first = cache.get();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->domains(), (std::vector<std::string>{"ourcompany.co.uk", "ourcompany.example"}));
  EXPECT_EQ(cache.get(), first);  // unchanged: not read again
  {
    auto other = backend().open(dir_);  // another node
    ASSERT_TRUE(other.ok());
    ASSERT_TRUE((*other)->remove_domain("ourcompany.example").ok());
  }
  const auto second = cache.get();
  ASSERT_TRUE(second);
  EXPECT_EQ(second->domains(), std::vector<std::string>{"ourcompany.co.uk"});
}

TEST_F(KnownDomainsTest, BoundedByTheDomainsHeld) {
  ASSERT_TRUE(store_->add_domain("example.org").ok());
  KnownDomainsCache cache(*store_, orgs_, 25);  // domains + 1 an account
  std::vector<std::int64_t> ids;
  for (int i = 0; i < 5; ++i) {
    ids.push_back(account(fmt::format("u{}@example.org", i)));
    std::vector<std::string> to;
    for (int j = 0; j < 9; ++j) to.push_back(fmt::format("x@d{}-{}.example", i, j));
    ASSERT_TRUE(store_->add_correspondents(ids.back(), to, 1).ok());
  }
  for (const auto id : ids) ASSERT_TRUE(cache.of(id)) << id;
  EXPECT_EQ(cache.accounts(), 2u);  // 10 each: the last two asked for
  EXPECT_LE(cache.domains(), 25u);
  // The most recently asked for stays; the least goes.
  const auto kept = cache.of(ids[3]);
  ASSERT_TRUE(cache.of(ids[0]));
  EXPECT_EQ(cache.of(ids[3]), kept);
  EXPECT_EQ(cache.accounts(), 2u);
  // An account larger than the whole bound is answered, and not kept.
  const std::int64_t big = account("big@example.org");
  std::vector<std::string> to;
  for (int j = 0; j < 40; ++j) to.push_back(fmt::format("x@big{}.example", j));
  ASSERT_TRUE(store_->add_correspondents(big, to, 1).ok());
  const auto all = cache.of(big);
  ASSERT_TRUE(all);
  EXPECT_EQ(all->size(), 40u);
  EXPECT_LE(cache.domains(), 25u);
  EXPECT_EQ(cache.accounts(), 2u);  // the others stay
  EXPECT_EQ(cache.of(ids[3]), kept);
}

// When the store cannot answer, a verdict gets what it said last (within kStaleFor), not
// nothing: mail from the people the user writes to is not judged as a stranger's for a store's
// hiccup.
TEST_F(KnownDomainsTest, AStoreThatCannotAnswerGetsWhatItSaidLast) {
  ASSERT_TRUE(store_->add_domain("example.org").ok());
  const std::int64_t me = account("me@example.org");
  const std::int64_t other = account("other@example.org");
  ASSERT_TRUE(store_->add_correspondents(me, {"a@partner.example"}, 1).ok());
  KnownDomainsCache cache(*store_, orgs_);
  KnownDomainsCache brief(*store_, orgs_, KnownDomainsCache::kMaxDomains, std::chrono::steady_clock::duration::zero());
  const auto first = cache.of(me);
  ASSERT_TRUE(first);
  ASSERT_TRUE(brief.of(me));
  // The version cannot be read.
  sql("ALTER TABLE accounts RENAME COLUMN correspondents_version TO away");
  ASSERT_FALSE(store_->correspondents_version(me).ok());
  std::string why;
  EXPECT_EQ(cache.of(me, &why), first);
  EXPECT_NE(why.find("the correspondents' version: "), std::string::npos) << why;  // for the log
  EXPECT_EQ(cache.of(other), nullptr);  // never read: nothing to give
  EXPECT_EQ(brief.of(me), nullptr);     // confirmed longer ago than it may be given
  sql("ALTER TABLE accounts RENAME COLUMN away TO correspondents_version");
  // The version moved, and the list cannot be read.
  ASSERT_TRUE(store_->add_correspondents(me, {"b@second.example"}, 2).ok());
  sql("ALTER TABLE correspondents RENAME TO away");
  ASSERT_FALSE(store_->correspondent_domains(me).ok());
  why.clear();
  EXPECT_EQ(cache.of(me, &why), first);
  EXPECT_NE(why.find("the correspondents' domains: "), std::string::npos) << why;
  sql("ALTER TABLE away RENAME TO correspondents");
  why.clear();
  const auto second = cache.of(me, &why);  // answered again: read again
  ASSERT_TRUE(second);
  EXPECT_EQ(why, "");
  EXPECT_TRUE(second->contains("second.example"));
}

TEST_F(KnownDomainsTest, TheHostedDomainsTooWhenTheStoreCannotAnswer) {
  HostedDomainsCache cache(*store_, orgs_);
  sql("ALTER TABLE meta RENAME TO away");
  ASSERT_FALSE(store_->domains_version().ok());
  EXPECT_EQ(cache.get(), nullptr);  // never read: nothing to give
  sql("ALTER TABLE away RENAME TO meta");
  ASSERT_TRUE(store_->add_domain("ourcompany.example").ok());
  const auto first = cache.get();
  ASSERT_TRUE(first);
  EXPECT_TRUE(first->contains("ourcompany.example"));
  HostedDomainsCache brief(*store_, orgs_, std::chrono::steady_clock::duration::zero());
  ASSERT_TRUE(brief.get());
  sql("ALTER TABLE meta RENAME TO away");  // the version cannot be read
  std::string why;
  EXPECT_EQ(cache.get(&why), first);
  EXPECT_NE(why.find("the hosted domains' version: "), std::string::npos) << why;
  EXPECT_EQ(brief.get(), nullptr);  // confirmed longer ago than it may be given
  sql("ALTER TABLE away RENAME TO meta");
  ASSERT_TRUE(store_->add_domain("second.example").ok());
  sql("ALTER TABLE domains RENAME TO away");  // it moved, and the list cannot be read
  ASSERT_FALSE(store_->list_domains().ok());
  why.clear();
  EXPECT_EQ(cache.get(&why), first);
  EXPECT_NE(why.find("the hosted domains: "), std::string::npos) << why;
  sql("ALTER TABLE away RENAME TO domains");
  why.clear();
  const auto second = cache.get(&why);
  ASSERT_TRUE(second);
  EXPECT_EQ(why, "");
  EXPECT_TRUE(second->contains("second.example"));
}

// A new account that reuses a deleted one's id does not get its correspondents.
TEST_F(KnownDomainsTest, AnAccountIdUsedAgainStartsAfresh) {
  ASSERT_TRUE(store_->add_domain("example.org").ok());
  KnownDomainsCache cache(*store_, orgs_);
  const std::int64_t old = account("old@example.org");
  ASSERT_TRUE(store_->add_correspondents(old, {"x@partner.example"}, 1).ok());
  ASSERT_TRUE(cache.of(old)->contains("partner.example"));
  ASSERT_TRUE(store_->remove_account("old@example.org").ok());
  const std::int64_t fresh = account("new@example.org");
  ASSERT_EQ(fresh, old);  // SQLite gives the highest id again once it is free
  const auto known = cache.of(fresh);
  ASSERT_TRUE(known);
  EXPECT_TRUE(known->empty());
}

}  // namespace
}  // namespace mk::inbound
