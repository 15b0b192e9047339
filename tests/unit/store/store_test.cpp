#include "store/blob.hpp"
#include "unit/store/store_fixture.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>

namespace mk::store {
namespace {

class AnyBackend : public StoreSuite {
 protected:
  static std::int64_t inbox_of(Store& s, std::int64_t account) {
    for (const auto& mb : *s.list_mailboxes(account))
      if (mb.name == "INBOX") return mb.id;
    return 0;
  }
};
MK_EVERY_BACKEND(AnyBackend);

TEST_P(AnyBackend, AccountsNeedAHostedDomain) {
  auto r = store_->add_account("a@example.org", "hash");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("mailkeep domain add example.org"), std::string::npos);
  ASSERT_TRUE(store_->add_domain("Example.ORG").ok());
  EXPECT_FALSE(store_->add_domain("example.org").ok());
  ASSERT_TRUE(store_->add_account("A@example.org", "hash").ok());
  EXPECT_FALSE(store_->add_account("a@example.org", "hash").ok());
  auto found = store_->find_account("a@EXAMPLE.org");
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->address, "a@example.org");
  EXPECT_FALSE(store_->remove_domain("example.org").ok());  // still has an account
}

TEST_P(AnyBackend, NewAccountsGetSpecialUseMailboxes) {
  ASSERT_TRUE(store_->add_domain("example.org").ok());
  auto id = store_->add_account("a@example.org", "h");
  ASSERT_TRUE(id.ok());
  auto mbs = store_->list_mailboxes(*id);
  ASSERT_TRUE(mbs.ok());
  std::map<std::string, std::string> got;
  std::set<std::uint32_t> validities;
  for (const auto& m : *mbs) got[m.name] = m.special_use, validities.insert(m.uidvalidity);
  EXPECT_EQ(got, (std::map<std::string, std::string>{{"INBOX", ""},
                                                     {"Drafts", "\\Drafts"},
                                                     {"Sent", "\\Sent"},
                                                     {"Junk", "\\Junk"},
                                                     {"Trash", "\\Trash"},
                                                     {"Archive", "\\Archive"}}));
  EXPECT_EQ(validities.size(), 6u);  // distinct UIDVALIDITY per mailbox
}

TEST_P(AnyBackend, DeliveryAssignsUidsAndModseqAndIsReadable) {
  ASSERT_TRUE(store_->add_domain("example.org").ok());
  auto id = *store_->add_account("a@example.org", "h");
  ASSERT_TRUE(store_->deliver_sync(message("one\r\n", id)).ok());
  ASSERT_TRUE(store_->deliver_sync(message("two\r\n", id)).ok());
  auto msgs = *store_->list_messages(inbox(id));
  ASSERT_EQ(msgs.size(), 2u);
  EXPECT_EQ(msgs[0].uid, 1u);
  EXPECT_EQ(msgs[1].uid, 2u);
  EXPECT_LT(msgs[0].modseq, msgs[1].modseq);
  EXPECT_EQ(*store_->read_message(msgs[1]), "two\r\n");
  // The start of a message, for a reader that needs only its header.
  EXPECT_EQ(*store_->read_message_start(msgs[1], 2), "tw");
  EXPECT_EQ(*store_->read_message_start(msgs[1], 100), "two\r\n");
  EXPECT_EQ(*store_->read_message_start(msgs[1], 0), "");
  EXPECT_EQ((*store_->find_account("a@example.org"))->used_bytes, 10u);
}

TEST_P(AnyBackend, SubAddressFolderFallsBackToInbox) {
  ASSERT_TRUE(store_->add_domain("example.org").ok());
  auto id = *store_->add_account("a@example.org", "h");
  ASSERT_TRUE(store_->create_mailbox(id, "lists", "").ok());
  ASSERT_TRUE(store_->deliver_sync(message("x\r\n", id, "lists")).ok());
  ASSERT_TRUE(store_->deliver_sync(message("y\r\n", id, "nosuchfolder")).ok());
  std::int64_t lists = 0;
  for (const auto& m : *store_->list_mailboxes(id))
    if (m.name == "lists") lists = m.id;
  EXPECT_EQ(store_->list_messages(lists)->size(), 1u);
  EXPECT_EQ(store_->list_messages(inbox(id))->size(), 1u);
}

TEST_P(AnyBackend, ConcurrentDeliveriesAllCommitOnce) {
  ASSERT_TRUE(store_->add_domain("example.org").ok());
  auto id = *store_->add_account("a@example.org", "h");
  constexpr int kThreads = 8, kEach = 25;
  std::atomic<int> ok{0};
  std::vector<std::thread> ts;
  for (int t = 0; t < kThreads; ++t) {
    ts.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i)
        if (store_->deliver_sync(message("m" + std::to_string(t * 1000 + i) + "\r\n", id)).ok()) ++ok;
    });
  }
  for (auto& t : ts) t.join();
  EXPECT_EQ(ok, kThreads * kEach);
  auto msgs = *store_->list_messages(inbox(id));
  ASSERT_EQ(msgs.size(), std::size_t(kThreads * kEach));
  std::set<std::string> bodies;
  for (std::size_t i = 0; i < msgs.size(); ++i) {
    EXPECT_EQ(msgs[i].uid, i + 1);
    bodies.insert(*store_->read_message(msgs[i]));
  }
  EXPECT_EQ(bodies.size(), std::size_t(kThreads * kEach));
}

TEST_P(AnyBackend, FailedDeliveryDoesNotSpoilTheBatch) {
  ASSERT_TRUE(store_->add_domain("example.org").ok());
  auto id = *store_->add_account("a@example.org", "h");
  EXPECT_FALSE(store_->deliver_sync(message("bad\r\n", 424242)).ok());  // no such account
  EXPECT_TRUE(store_->deliver_sync(message("good\r\n", id)).ok());
  EXPECT_EQ(store_->list_messages(inbox(id))->size(), 1u);
  // The failed delivery's file was removed.
  reopen();
  EXPECT_EQ(*store_->recover(), 0u);
}

TEST_P(AnyBackend, SweepRemovesUnreferencedFilesOnly) {
  ASSERT_TRUE(store_->add_domain("example.org").ok());
  auto id = *store_->add_account("a@example.org", "h");
  ASSERT_TRUE(store_->deliver_sync(message("kept\r\n", id)).ok());
  if (!backend().blob_files) GTEST_SKIP() << "keeps no message files";
  BlobStore blobs(dir_ + "/blobs");
  ASSERT_TRUE(blobs.init().ok());
  ASSERT_TRUE(blobs.write("orphan").ok());
  EXPECT_EQ(*store_->recover(), 1u);
  auto msgs = *store_->list_messages(inbox(id));
  EXPECT_EQ(*store_->read_message(msgs[0]), "kept\r\n");
}

TEST_P(AnyBackend, RemoveAccountRemovesItsMail) {
  ASSERT_TRUE(store_->add_domain("example.org").ok());
  auto id = *store_->add_account("a@example.org", "h");
  ASSERT_TRUE(store_->deliver_sync(message("x\r\n", id)).ok());
  ASSERT_TRUE(store_->remove_account("a@example.org").ok());
  EXPECT_TRUE(is(store_->remove_account("a@example.org").error(), Errc::not_found));
  if (backend().blob_files) {
    EXPECT_TRUE(BlobStore(dir_ + "/blobs").list().empty());
  }
}

TEST_P(AnyBackend, Aliases) {
  ASSERT_TRUE(store_->add_domain("example.org").ok());
  ASSERT_TRUE(store_->add_alias("Info@example.org", "a@example.org").ok());
  ASSERT_TRUE(store_->add_alias("info@example.org", "b@example.org").ok());
  EXPECT_FALSE(store_->add_alias("info@example.org", "b@example.org").ok());
  EXPECT_EQ(*store_->alias_targets("INFO@example.org"),
            (std::vector<std::string>{"a@example.org", "b@example.org"}));
  ASSERT_TRUE(store_->remove_alias("info@example.org").ok());
  EXPECT_TRUE(store_->alias_targets("info@example.org")->empty());
}

TEST_P(AnyBackend, SurvivesReopen) {
  ASSERT_TRUE(store_->add_domain("example.org").ok());
  auto id = *store_->add_account("a@example.org", "h");
  ASSERT_TRUE(store_->deliver_sync(message("persist\r\n", id)).ok());
  reopen();
  auto msgs = *store_->list_messages(inbox(id));
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(*store_->read_message(msgs[0]), "persist\r\n");
  ASSERT_TRUE(store_->deliver_sync(message("next\r\n", id)).ok());
  EXPECT_EQ(store_->list_messages(inbox(id))->back().uid, 2u);
}


TEST_P(AnyBackend, WhatTheSpamFilterKnowsOfAnAccount) {
  ASSERT_TRUE(store_->add_domain("example.org").ok());
  ASSERT_TRUE(store_->add_account("me@example.org", "h").ok());
  const auto me = store_->find_account("me@example.org");
  ASSERT_TRUE(me.ok() && *me);
  const std::int64_t id = (*me)->id;
  EXPECT_EQ(*store_->correspondents_version(id), 0);  // never had a correspondent
  ASSERT_TRUE(store_->add_correspondents(id, {"Alice@Partner.example", "bob@partner.example", "c@other.example"}, 1).ok());
  auto domains = *store_->correspondent_domains(id);
  std::sort(domains.begin(), domains.end());
  EXPECT_EQ(domains, (std::vector<std::string>{"other.example", "partner.example"}));
  // The version moves when an address is new, and only then; another account's never meets it.
  const std::int64_t v1 = *store_->correspondents_version(id);
  EXPECT_NE(v1, 0);
  ASSERT_TRUE(store_->add_correspondents(id, {"alice@partner.example", "C@other.example"}, 2).ok());
  EXPECT_EQ(*store_->correspondents_version(id), v1);
  ASSERT_TRUE(store_->add_correspondents(id, {"d@third.example"}, 3).ok());
  const std::int64_t v2 = *store_->correspondents_version(id);
  EXPECT_NE(v2, v1);
  ASSERT_TRUE(store_->add_account("other@example.org", "h").ok());
  const std::int64_t other = (*store_->find_account("other@example.org"))->id;
  ASSERT_TRUE(store_->add_correspondents(other, {"x@partner.example"}, 4).ok());
  EXPECT_NE(*store_->correspondents_version(other), v1);
  EXPECT_NE(*store_->correspondents_version(other), v2);
  EXPECT_EQ(*store_->correspondents_version(id), v2);
  EXPECT_EQ(*store_->correspondents_version(id + 100), 0);  // no such account
  // Names are kept for correspondents only, compared without case.
  ASSERT_TRUE(store_->set_correspondent_name(id, "alice@partner.example", "Alice Smith").ok());
  ASSERT_TRUE(store_->set_correspondent_name(id, "stranger@else.example", "Alice Smith").ok());
  EXPECT_EQ(*store_->correspondents_named(id, "alice SMITH"), std::vector<std::string>{"alice@partner.example"});
  EXPECT_TRUE(store_->correspondents_named(id, "Bob")->empty());
  EXPECT_TRUE(store_->correspondents_named(id + 1, "Alice Smith")->empty());
  // Per-account thresholds, and the account by id; both survive a restart.
  ASSERT_TRUE(store_->set_spam_thresholds("me@example.org", "2 4 20").ok());
  EXPECT_FALSE(store_->set_spam_thresholds("nobody@example.org", "2 4 20").ok());
  reopen();
  const auto again = store_->account_by_id(id);
  ASSERT_TRUE(again.ok() && *again);
  EXPECT_EQ((*again)->address, "me@example.org");
  EXPECT_EQ((*again)->spam_thresholds, "2 4 20");
  EXPECT_FALSE(*store_->account_by_id(id + 100));
  EXPECT_EQ(*store_->correspondents_named(id, "Alice Smith"), std::vector<std::string>{"alice@partner.example"});
  // Past verdicts per sender.
  EXPECT_EQ(*store_->sender_verdicts(id, "x@spam.example"), (std::pair<std::int64_t, std::int64_t>{0, 0}));
  ASSERT_TRUE(store_->add_sender_verdict(id, "X@spam.example", true).ok());
  ASSERT_TRUE(store_->add_sender_verdict(id, "x@spam.example", true).ok());
  ASSERT_TRUE(store_->add_sender_verdict(id, "x@spam.example", false).ok());
  EXPECT_EQ(*store_->sender_verdicts(id, "x@SPAM.example"), (std::pair<std::int64_t, std::int64_t>{2, 1}));
}

// Callers act on the code, never on a backend's message text.
TEST_P(AnyBackend, ErrorsCarryTheirCode) {
  const auto id = account_with_domain("a@example.org");
  EXPECT_TRUE(is(store_->add_domain("example.org").error(), Errc::already_exists));
  EXPECT_TRUE(is(store_->add_account("A@example.org", "h").error(), Errc::already_exists));
  EXPECT_TRUE(is(store_->create_mailbox(id, "Archive", "").error(), Errc::already_exists));
  ASSERT_TRUE(store_->add_alias("info@example.org", "a@example.org").ok());
  EXPECT_TRUE(is(store_->add_alias("info@example.org", "a@example.org").error(), Errc::already_exists));
  AppPassword p;
  p.account_id = id;
  p.name = "phone";
  p.hash = std::string(64, '0');
  p.scopes = "imap";
  ASSERT_TRUE(store_->add_app_password(p).ok());
  EXPECT_TRUE(is(store_->add_app_password(p).error(), Errc::already_exists));
  EXPECT_TRUE(is(store_->remove_domain("nowhere.example").error(), Errc::not_found));
  EXPECT_TRUE(is(store_->set_password("nobody@example.org", "h").error(), Errc::not_found));
  EXPECT_TRUE(is(store_->remove_alias("nobody@example.org").error(), Errc::not_found));
  EXPECT_TRUE(is(store_->delete_mailbox(id, "Nope").error(), Errc::not_found));
  EXPECT_TRUE(is(store_->mailbox_by_id(987654).error(), Errc::not_found));
  EXPECT_TRUE(is(store_->queue_action(987654, QueueAction::hold).error(), Errc::not_found));
  EXPECT_TRUE(is(store_->remove_domain("example.org").error(), Errc::conflict));  // it has accounts
  EXPECT_TRUE(is(store_->add_account("no-at-sign", "h").error(), Errc::invalid));
}

// The hosted domains' version moves with every change to them, and only then: what a copy
// of them kept in memory is checked against.
TEST_P(AnyBackend, TheHostedDomainsVersionMovesWithThem) {
  const std::int64_t v0 = *store_->domains_version();
  ASSERT_TRUE(store_->add_domain("one.example").ok());
  const std::int64_t v1 = *store_->domains_version();
  EXPECT_NE(v1, v0);
  EXPECT_FALSE(store_->add_domain("ONE.example").ok());  // already hosted: nothing changed
  EXPECT_FALSE(store_->remove_domain("two.example").ok());
  EXPECT_EQ(*store_->domains_version(), v1);
  ASSERT_TRUE(store_->add_domain("two.example").ok());
  const std::int64_t v2 = *store_->domains_version();
  EXPECT_NE(v2, v1);
  ASSERT_TRUE(store_->remove_domain("two.example").ok());
  const std::int64_t v3 = *store_->domains_version();
  EXPECT_NE(v3, v2);
  EXPECT_NE(v3, v1);  // the same domains as at v1, but not the same moment
  EXPECT_EQ(*store_->list_domains(), std::vector<std::string>{"one.example"});
  reopen();
  EXPECT_EQ(*store_->domains_version(), v3);  // kept, not started again
}

// The Message-ID a message is indexed under comes from above the backend: read from the
// message when the caller has not parsed it, else the caller's (parse once).
TEST_P(AnyBackend, MessageIdIsIndexedForThreads) {
  const auto id = account_with_domain("a@example.org");
  ASSERT_TRUE(store_->deliver_sync(message("Message-ID: <first@x.example>\r\n\r\nbody\r\n", id)).ok());
  auto given = message("Message-ID: <ignored@x.example>\r\n\r\nbody\r\n", id);
  given.message_id = "given@x.example";
  ASSERT_TRUE(store_->deliver_sync(given).ok());
  EXPECT_EQ(store_->thread_messages(id, {"first@x.example"}, 5)->size(), 1u);
  EXPECT_EQ(store_->thread_messages(id, {"given@x.example"}, 5)->size(), 1u);
  EXPECT_TRUE(store_->thread_messages(id, {"ignored@x.example"}, 5)->empty());
}

// RFC 9051 §2.3.1.1: a name used again gets a new UIDVALIDITY.
TEST_P(AnyBackend, ReusedMailboxNamesGetANewUidvalidity) {
  const auto id = account_with_domain("a@example.org");
  ASSERT_TRUE(store_->create_mailbox(id, "Work", "").ok());
  const auto first = (*store_->find_mailbox(id, "Work"))->uidvalidity;
  ASSERT_TRUE(store_->delete_mailbox(id, "Work").ok());
  ASSERT_TRUE(store_->create_mailbox(id, "Work", "").ok());
  EXPECT_GT((*store_->find_mailbox(id, "Work"))->uidvalidity, first);
}

// check-message looks at a running instance's store: a read-only open changes nothing,
// creates nothing, refuses writes and a store that is not there.
TEST_P(AnyBackend, ReadOnlyOpenChangesNothing) {
  const auto id = account_with_domain("a@example.org");
  ASSERT_TRUE(store_->deliver_sync(message("Subject: x\r\n\r\nhello\r\n", id)).ok());
  store_->close();
  store_.reset();
  // Every file's name and bytes. SQLite's WAL sidecars (-wal, -shm) may appear: a WAL reader
  // needs the shared-memory index, and a running server has them open anyway.
  auto snapshot = [this] {
    std::string all;
    for (const auto& e : std::filesystem::recursive_directory_iterator(dir_)) {
      const std::string name = e.path().string();
      if (name.ends_with("-wal") || name.ends_with("-shm")) continue;
      all += name + "\n";
      if (e.is_regular_file()) {
        std::ifstream f(e.path(), std::ios::binary);
        all += std::string(std::istreambuf_iterator<char>(f), {}) + "\n";
      }
    }
    return all;
  };
  const std::string before = snapshot();
  StoreConfig c;
  c.backend = GetParam().name;
  c.data_dir = dir_;
  c.read_only = true;
  {
    auto ro = store::open(c);
    ASSERT_TRUE(ro.ok()) << ro.error().message;
    auto acct = (*ro)->find_account("a@example.org");
    ASSERT_TRUE(acct.ok() && acct->has_value());
    auto msgs = (*ro)->list_messages(inbox_of(**ro, id));
    ASSERT_TRUE(msgs.ok());
    EXPECT_EQ(msgs->size(), 1u);
    EXPECT_FALSE((*ro)->add_domain("other.example").ok());
    EXPECT_FALSE((*ro)->deliver_sync(message("Subject: y\r\n\r\nno\r\n", id)).ok());
    (*ro)->close();
  }
  EXPECT_EQ(snapshot(), before);
  c.data_dir = dir_ + "/missing";
  EXPECT_FALSE(store::open(c).ok());
  EXPECT_FALSE(std::filesystem::exists(c.data_dir));
  reopen();
}

// Containment tightens the limits for a network first used after another: a login from home
// and an attacker's first one in the same second must count as "another network before".
TEST_P(AnyBackend, NetworkHistoryCountsTheSameSecondAsBefore) {
  account_with_domain("a@example.org");
  constexpr std::int64_t kT = 1764547200;
  ASSERT_TRUE(store_->note_login("a@example.org", "192.0.2.0", "imap", kT).ok());
  auto only = store_->network_history("a@example.org", "192.0.2.0");
  ASSERT_TRUE(only.ok());
  EXPECT_EQ(only->first_seen, kT);
  EXPECT_FALSE(only->other_networks_before);  // its only network
  ASSERT_TRUE(store_->note_login("a@example.org", "198.51.100.0", "submission", kT).ok());
  auto second = store_->network_history("a@example.org", "198.51.100.0");
  ASSERT_TRUE(second.ok());
  EXPECT_TRUE(second->other_networks_before);
  auto never = store_->network_history("a@example.org", "203.0.113.0");
  ASSERT_TRUE(never.ok());
  EXPECT_EQ(never->first_seen, 0);
}


// Web sessions: found by their secret's hash, ended one at a time only by their own account,
// all at once but one (a password change keeps the session that made it), and expired by idle
// time or age; they go with the account.
TEST_P(AnyBackend, WebSessionsBelongToTheirAccount) {
  const auto a = account_with_domain("a@example.org");
  ASSERT_TRUE(store_->add_account("b@example.org", "h").ok());
  const auto b = (*store_->find_account("b@example.org"))->id;
  auto add = [&](std::int64_t acct, std::string hash, std::int64_t created, std::int64_t seen) {
    WebSession w{0, acct, std::move(hash), "csrf", created, seen, "192.0.2.1", "agent"};
    auto id = store_->add_web_session(w);
    EXPECT_TRUE(id.ok());
    return id.ok() ? *id : 0;
  };
  const auto s1 = add(a, "h1", 100, 100);
  const auto s2 = add(a, "h2", 100, 200);
  const auto s3 = add(b, "h3", 100, 300);
  auto found = store_->web_session("h2");
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->id, s2);
  EXPECT_EQ((*found)->account_id, a);
  EXPECT_FALSE(store_->web_session("nope")->has_value());
  ASSERT_TRUE(store_->touch_web_session(s1, 500, "198.51.100.7").ok());
  auto listed = store_->web_sessions(a);
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0].id, s1);  // most recently seen first
  EXPECT_EQ((*listed)[0].ip, "198.51.100.7");
  EXPECT_FALSE(*store_->remove_web_session(a, s3));  // b's session, asked as a
  EXPECT_TRUE(store_->web_session("h3")->has_value());
  EXPECT_EQ(*store_->remove_web_sessions(a, s1), 1u);
  EXPECT_TRUE(store_->web_session("h1")->has_value());
  EXPECT_FALSE(store_->web_session("h2")->has_value());
  EXPECT_EQ(*store_->expire_web_sessions(400, 0), 1u);  // h3 idle since 300
  EXPECT_FALSE(store_->web_session("h3")->has_value());
  EXPECT_EQ(*store_->expire_web_sessions(0, 101), 1u);  // h1 made at 100
  add(a, "h4", 1000, 1000);
  ASSERT_TRUE(store_->remove_account("a@example.org").ok());
  EXPECT_FALSE(store_->web_session("h4")->has_value());
}

TEST_P(AnyBackend, ApiTokensAreNamedPerAccount) {
  const auto a = account_with_domain("a@example.org");
  ApiToken t{0, a, "backup", "hash1", "read", 100, 0, ""};
  ASSERT_TRUE(store_->add_api_token(t).ok());
  EXPECT_TRUE(is(store_->add_api_token(t).error(), Errc::already_exists));
  auto found = store_->api_token("hash1");
  ASSERT_TRUE(found.ok() && found->has_value());
  ASSERT_TRUE(store_->api_token_used((*found)->id, 200, "192.0.2.9").ok());
  auto list = store_->api_tokens(a);
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].last_used, 200);
  EXPECT_EQ((*list)[0].last_ip, "192.0.2.9");
  EXPECT_FALSE(*store_->revoke_api_token(a + 1, "backup"));
  EXPECT_TRUE(*store_->revoke_api_token(a, "backup"));
  EXPECT_FALSE(store_->api_token("hash1")->has_value());
}

}  // namespace
}  // namespace mk::store
