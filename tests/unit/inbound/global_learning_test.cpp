// The shared spam model in the server (inbound/global_learning.hpp, inbound/spam_filter.hpp):
// the learner is the one writer of spam-learned.model and the verdicts use spam.model plus
// it; users' replies and unread deletions teach their own model and the shared one; the MX
// auto-learns from trusted verdicts; a restart keeps the model and the day's caps.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include <sqlite3.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <fmt/format.h>

#include "dns/mock.hpp"
#include "filter/features.hpp"
#include "inbound/auth_pipeline.hpp"
#include "inbound/global_learning.hpp"
#include "inbound/spam_filter.hpp"
#include "message/address.hpp"
#include "unit/store/store_fixture.hpp"

namespace mk::inbound {
namespace {

namespace asio = boost::asio;

std::string spam_text(int i) {
  return fmt::format("From: Offers <deals{}@bulk{}.example>\r\nTo: alice@example.org\r\nSubject: cheap pills {}\r\n"
                     "Message-ID: <s{}@bulk.example>\r\n\r\nBuy cheap pills now, click http://pills{}.example/ "
                     "free offer, act now, limited time\r\n",
                     i, i % 7, i, i, i);
}
std::string ham_text(int i) {
  return fmt::format("From: Carol <carol{}@corp{}.example>\r\nTo: alice@example.org\r\nSubject: meeting notes {}\r\n"
                     "Message-ID: <h{}@corp.example>\r\n\r\nHere are the notes from Tuesday's meeting, item {}; "
                     "the review of the project plan moves to Thursday.\r\n",
                     i, i % 7, i, i, i);
}

std::string file_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

class SharedModelTest : public store::StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    alice_ = account_with_domain("alice@example.org");
    bob_ = account_with_domain("bob@example.org");
  }
  std::string learned_path() const { return dir_ + "/spam-learned.model"; }
  std::string state_path() const { return dir_ + "/spam/learning.state"; }
  std::string base_path() const { return dir_ + "/spam.model"; }
  // What several users teach the shared model (as UserModels offers it).
  // Messages first..first+n-1 of each kind, reported by five accounts.
  void teach(GlobalLearner& learner, int spam, int ham, int first = 0) {
    for (int i = first; i < first + spam; ++i)
      learner.offer(filter::Example{1 + i % 5, fmt::format("bulk{}.example", i % 7),
                                    filter::extract_features(spam_text(i)), true, filter::Evidence::moved});
    for (int i = first; i < first + ham; ++i)
      learner.offer(filter::Example{1 + i % 5, fmt::format("corp{}.example", i % 7),
                                    filter::extract_features(ham_text(i)), false, filter::Evidence::replied});
    learner.drain();
  }
  std::int64_t alice_ = 0, bob_ = 0;
};

TEST_F(SharedModelTest, TheLearnerIsTheOneWriterAndVerdictsUseTheSum) {
  // The admin's bulk training exists (it knows the ham, not yet the spam): the learner must
  // never write it.
  filter::Model base;
  for (int i = 100; i < 110; ++i) base.learn(filter::extract_features(ham_text(i)), false);
  ASSERT_TRUE(base.save(base_path()).ok());
  const std::string base_bytes = file_bytes(base_path());
  SpamModel model(base_path(), learned_path());
  {
    GlobalLearner learner(learned_path(), state_path(), model, log::Logger());
    // Fewer than kMinShared of a kind: learnt, but not yet in the verdicts.
    teach(learner, 5, 3);
    EXPECT_EQ(learner.snapshot().spam_trained(), 5u);
    const auto probe = filter::extract_features(spam_text(500));
    ASSERT_NE(model.current(), nullptr);
    EXPECT_FLOAT_EQ(model.current()->score(probe), model.base()->score(probe));
    teach(learner, 10, 10, 10);
    const filter::Model learned = learner.snapshot();
    ASSERT_TRUE(filter::shared_ready(learned)) << learned.spam_trained() << " " << learned.ham_trained();
    // Published at once, as the sum of both files' models.
    EXPECT_NEAR(model.current()->score(probe), base.score(probe) + learned.score(probe), 1e-4);
    EXPECT_GT(learned.score(probe), 0);
    EXPECT_EQ(model.current()->spam_trained(), base.spam_trained() + learned.spam_trained());
  }  // shutdown saves
  EXPECT_EQ(file_bytes(base_path()), base_bytes);
  ASSERT_TRUE(std::filesystem::exists(learned_path()));
  ASSERT_TRUE(std::filesystem::exists(state_path()));
  auto saved = filter::Model::load(learned_path());
  ASSERT_TRUE(saved.ok());
  EXPECT_EQ(saved->spam_trained(), model.current()->spam_trained() - base.spam_trained());
  EXPECT_EQ(saved->bits(), filter::kSharedBits);
  // check-message (no learner) reads both files.
  SpamModel reader(base_path(), learned_path());
  const auto probe = filter::extract_features(spam_text(501));
  EXPECT_NEAR(reader.current()->score(probe), base.score(probe) + saved->score(probe), 1e-4);
  // Retraining spam.model while the learner runs keeps both: the verdicts use the new sum.
  {
    GlobalLearner learner(learned_path(), state_path(), model, log::Logger());
    EXPECT_EQ(learner.snapshot().spam_trained(), saved->spam_trained());  // what it learnt before the restart
  }
}

TEST_F(SharedModelTest, TheDaysCapsSurviveARestart) {
  SpamModel model(base_path(), learned_path());
  filter::LearningCaps caps;
  const std::int64_t now = 1800000000;
  {
    GlobalLearner learner(learned_path(), state_path(), model, log::Logger(), caps);
    learner.set_clock([now] { return now; });
    for (int i = 0; i < caps.account_per_day + 10; ++i)
      learner.offer(filter::Example{alice_, fmt::format("d{}.example", i), filter::extract_features(spam_text(i)), true,
                                    filter::Evidence::moved});
    learner.drain();
    EXPECT_EQ(learner.snapshot().spam_trained(), std::uint64_t(caps.account_per_day));
  }
  GlobalLearner learner(learned_path(), state_path(), model, log::Logger(), caps);
  learner.set_clock([now] { return now + 60; });
  const filter::Example more{alice_, "other.example", filter::extract_features(spam_text(999)), true,
                             filter::Evidence::moved};
  EXPECT_FALSE(learner.would_admit(more));
  learner.set_clock([now] { return now + 86400; });  // the next day
  EXPECT_TRUE(learner.would_admit(more));
}

TEST_F(SharedModelTest, RepliesAndUnreadDeletionsTeachTheUserAndTheSharedModel) {
  SpamModel model(base_path(), learned_path());
  GlobalLearner learner(learned_path(), state_path(), model, log::Logger());
  UserModels users(dir_ + "/spam", *store_, model, log::Logger(), &learner);
  // Alice received a message; she answers it (its Message-ID is what her reply names).
  ASSERT_TRUE(store_->deliver_sync(message(ham_text(1), alice_)).ok());
  // Her own sent message in the thread is not evidence about anyone.
  ASSERT_TRUE(store_->deliver_sync(message(ham_text(2), alice_, "Sent")).ok());
  users.replied(alice_, {"h1@corp.example", "nothing@anywhere.example"});
  users.replied(alice_, {"h2@corp.example"});
  users.drain();
  learner.drain();
  auto own = users.of(alice_);
  ASSERT_NE(own, nullptr);
  EXPECT_EQ(own->ham_trained(), 1u);
  EXPECT_EQ(own->spam_trained(), 0u);
  EXPECT_EQ(learner.snapshot().ham_trained(), 1u);
  // Replying again to the same message teaches nothing more.
  users.replied(alice_, {"h1@corp.example"});
  users.drain();
  learner.drain();
  EXPECT_EQ(users.of(alice_)->ham_trained(), 1u);
  EXPECT_EQ(learner.snapshot().ham_trained(), 1u);
  // Unread spam deleted from Junk: the messages are gone, their bytes came with the event.
  imap::Session::TrainEvent ev;
  ev.account_id = alice_;
  ev.spam = true;
  ev.unread_deletion = true;
  ev.mailbox = mailbox(alice_, "Junk");
  ev.uids = {7, 8};
  ev.gone = {{"blob-7", spam_text(7)}, {"blob-8", spam_text(8)}};
  users.train(ev);
  users.train(ev);  // the same messages again (a COPY to Trash, then EXPUNGE): once
  users.drain();
  learner.drain();
  EXPECT_EQ(users.of(alice_)->spam_trained(), 2u);
  EXPECT_EQ(learner.snapshot().spam_trained(), 2u);
  // The user's own model learns fully (to the margin); the shared one boundedly.
  const auto f = filter::extract_features(spam_text(7));
  EXPECT_GE(users.of(alice_)->score(f) + learner.snapshot().score(f), filter::Model::kMargin - 1e-6);
  EXPECT_LT(learner.snapshot().score(f), filter::Model::kMargin);
  // Bob learnt nothing of his own.
  EXPECT_EQ(users.of(bob_), nullptr);
}

// The mail a user read and kept beside spam they moved into Junk is learnt as ham into their
// own model at their first spam event after newer mail reached the folder (they have moved
// on from that clean-up): only what is still there, still read and not deleted, and learnt
// under neither label before (a COPY leaves the spam in INBOX with the same file), newest
// first, at most as many as the spam of the events that named it.
TEST_F(SharedModelTest, MailKeptBesideSpamIsLearntAsHamOnceTheUserMovesOn) {
  SpamModel model(base_path(), learned_path());
  UserModels users(dir_ + "/spam", *store_, model, log::Logger());
  const std::int64_t in = inbox(alice_), junk = mailbox(alice_, "Junk");
  auto put = [&](const std::string& text, std::int64_t account, const std::string& box,
                 const std::string& flags) {
    auto m = message(text, account, box);
    m.flags = flags;
    ASSERT_TRUE(store_->deliver_sync(std::move(m)).ok());
  };
  // INBOX: uids 1-4 read ham, 5 read spam, 6 unread ham, 7 read ham marked \Deleted.
  // (2 says something else than the meeting notes, so learning it moves its own score.)
  const std::string other_ham =
      "From: Dave <dave@family.example>\r\nSubject: photos from the lake\r\n\r\n"
      "Grandmother loved the birthday cake; the photos of the lake are attached.\r\n";
  for (int i = 1; i <= 4; ++i) put(i == 2 ? other_ham : ham_text(i), alice_, "INBOX", "\\Seen");
  put(spam_text(5), alice_, "INBOX", "\\Seen");
  put(ham_text(6), alice_, "INBOX", "");
  put(ham_text(7), alice_, "INBOX", "\\Seen \\Deleted");
  auto spam_event = [&](int i, std::vector<std::uint32_t> kept) {
    put(spam_text(i), alice_, "Junk", "");
    auto listed = store_->list_messages(junk);
    ASSERT_TRUE(listed.ok());
    imap::Session::TrainEvent ev;
    ev.account_id = alice_;
    ev.spam = true;
    ev.mailbox = junk;
    ev.uids = {listed->back().uid};
    ev.kept_mailbox = in;
    ev.kept = std::move(kept);
    ev.kept_uidnext = store_->mailbox_by_id(in)->uidnext;
    users.train(ev);
    users.drain();
  };
  int next_mail = 200;
  auto new_mail = [&] { put(ham_text(next_mail++), alice_, "INBOX", ""); };
  // Spam 5 copied into Junk (learnt as spam; its file is the one INBOX still has).
  auto copied = store_->copy_messages(in, {5}, junk, false);
  ASSERT_TRUE(copied.ok());
  imap::Session::TrainEvent copy;
  copy.account_id = alice_;
  copy.spam = true;
  copy.mailbox = junk;
  copy.uids = {copied->uids.at(0).second};
  users.train(copy);
  users.drain();
  ASSERT_NE(users.of(alice_), nullptr);
  EXPECT_EQ(users.of(alice_)->spam_trained(), 1u);
  // A spam event naming what was kept: nothing learnt as ham yet; nor at the next one while
  // no newer mail has come (the user is still cleaning up: 4 is read spam to be moved next).
  spam_event(100, {7, 6, 5, 4, 3, 2, 1});
  EXPECT_EQ(users.of(alice_)->spam_trained(), 2u);
  EXPECT_EQ(users.of(alice_)->ham_trained(), 0u);
  spam_event(101, {});
  EXPECT_EQ(users.of(alice_)->ham_trained(), 0u);
  // Nor at unread spam deleted from Junk (a spam event that names no folder of kept mail).
  imap::Session::TrainEvent deleted;
  deleted.account_id = alice_;
  deleted.spam = true;
  deleted.unread_deletion = true;
  deleted.mailbox = junk;
  deleted.gone = {{"blob-gone-1", spam_text(300)}};
  users.train(deleted);
  users.drain();
  EXPECT_EQ(users.of(alice_)->spam_trained(), 4u);
  EXPECT_EQ(users.of(alice_)->ham_trained(), 0u);
  // Newer mail, then a spam event: one learnt (the two events' spam was two, but the second
  // named nothing): not 7 (deleted), 6 (unread) or 5 (spam), so 4.
  new_mail();
  spam_event(102, {});
  EXPECT_EQ(users.of(alice_)->ham_trained(), 1u);
  const auto f4 = filter::extract_features(ham_text(4)), f3 = filter::extract_features(ham_text(3));
  EXPECT_LT(users.of(alice_)->score(f4), users.of(alice_)->score(f3));
  // 4 is not learnt twice, and 3 is gone by the time the user moves on: 2 is learnt.
  spam_event(103, {4, 3, 2, 1});
  ASSERT_TRUE(store_->expunge(in, {3}).ok());
  const auto f2 = filter::extract_features(other_ham);
  EXPECT_GT(users.of(alice_)->score(f2), -filter::Model::kMargin);
  new_mail();
  spam_event(104, {});
  EXPECT_EQ(users.of(alice_)->ham_trained(), 2u);
  EXPECT_LE(users.of(alice_)->score(f2), -filter::Model::kMargin + 1e-6);
  EXPECT_EQ(users.of(bob_), nullptr);
}

// The kept-mail cases below: Alice's mailboxes, mail put there with flags, and her moves
// into Junk as her IMAP session reports them (imap::Session::TrainEvent).
class KeptMailLearning : public SharedModelTest {
 protected:
  void SetUp() override {
    SharedModelTest::SetUp();
    in_ = inbox(alice_);
    junk_ = mailbox(alice_, "Junk");
  }
  // Delivers text into the mailbox with these flags: its UID.
  std::uint32_t put(const std::string& text, std::int64_t box, const std::string& flags = "") {
    auto m = message(text, alice_, store_->mailbox_by_id(box)->name);
    m.flags = flags;
    EXPECT_TRUE(store_->deliver_sync(std::move(m)).ok());
    return store_->list_messages(box)->back().uid;
  }
  // A move of these Junk UIDs into Junk, naming what was kept in kept_box.
  imap::Session::TrainEvent spam_event(std::vector<std::uint32_t> junk_uids, std::int64_t kept_box,
                                       std::vector<std::uint32_t> kept) {
    imap::Session::TrainEvent ev;
    ev.account_id = alice_;
    ev.spam = true;
    ev.mailbox = junk_;
    ev.uids = std::move(junk_uids);
    ev.kept_mailbox = kept_box;
    ev.kept = std::move(kept);
    ev.kept_uidnext = store_->mailbox_by_id(kept_box)->uidnext;
    return ev;
  }
  static void train(UserModels& users, imap::Session::TrainEvent ev) {
    users.train(std::move(ev));
    users.drain();
  }
  // Alice copies an INBOX message into Junk (learnt as spam): its UID in Junk.
  std::uint32_t copy_into_junk(UserModels& users, std::uint32_t uid) {
    auto copied = store_->copy_messages(in_, {uid}, junk_, false);
    EXPECT_TRUE(copied.ok());
    const std::uint32_t in_junk = copied.ok() ? copied->uids.at(0).second : 0;
    train(users, spam_event({in_junk}, in_, {}));
    return in_junk;
  }
  double score(UserModels& users, const std::string& text) {
    return users.of(alice_)->score(filter::extract_features(text));
  }
  static constexpr double kLearntHam = -filter::Model::kMargin + 1e-6;  // score at most
  static inline const std::string kRecipe =
      "From: Erin <erin@kitchen.example>\r\nSubject: the soup recipe\r\n\r\n"
      "Simmer the lentils with cumin and lemon for forty minutes, then blend.\r\n";
  static inline const std::string kPhotos =
      "From: Dave <dave@family.example>\r\nSubject: photos from the lake\r\n\r\n"
      "Grandmother loved the birthday cake; the photos of the lake are attached.\r\n";
  std::int64_t in_ = 0, junk_ = 0;
};

// A spam COPY'd into Junk stays in INBOX with the same file: after a restart (the learner's
// memory of what it learnt gone) the store still tells it apart from kept mail. Ham moved
// out of Junk into the folder is not newer mail. And a spam event that learns nothing new
// (the message was learnt before) still releases kept mail.
TEST_F(KeptMailLearning, WhatIsAlsoInJunkIsLeftOutAcrossARestart) {
  SpamModel model(base_path(), learned_path());
  const std::uint32_t ham = put(ham_text(1), in_, "\\Seen");
  // No From: no sender verdict to keep it out (SendersTheUserJudgedSpamAreLeftOut).
  const std::string spam = spam_text(2).substr(spam_text(2).find("\r\n") + 2);
  const std::uint32_t read_spam = put(spam, in_, "\\Seen");
  {
    UserModels users(dir_ + "/spam", *store_, model, log::Logger());
    copy_into_junk(users, read_spam);
  }
  UserModels users(dir_ + "/spam", *store_, model, log::Logger());  // restarted
  ASSERT_NE(users.of(alice_), nullptr);
  EXPECT_EQ(users.of(alice_)->spam_trained(), 1u);
  // Newest first, at most one (one spam taught).
  const auto moved = spam_event({put(spam_text(100), junk_)}, in_, {read_spam, ham});
  train(users, moved);
  EXPECT_EQ(users.of(alice_)->spam_trained(), 2u);
  EXPECT_EQ(users.of(alice_)->ham_trained(), 0u);
  // Ham moved out of Junk into INBOX (learnt as ham): not newer mail. (Unlike ham 1, so that
  // learning it does not teach ham 1.)
  auto out_of_junk = store_->copy_messages(junk_, {put(kPhotos, junk_)}, in_, true);
  ASSERT_TRUE(out_of_junk.ok());
  imap::Session::TrainEvent rescued;
  rescued.account_id = alice_;
  rescued.mailbox = in_;
  rescued.uids = {out_of_junk->uids.at(0).second};
  train(users, rescued);
  auto again = moved;
  again.kept.clear();
  train(users, again);
  EXPECT_EQ(users.of(alice_)->ham_trained(), 1u);  // the rescued ham alone
  put(ham_text(200), in_);                         // newer mail: the user has moved on
  // The same spam moved again: nothing new learnt, but the kept mail is.
  train(users, again);
  EXPECT_EQ(users.of(alice_)->spam_trained(), 2u);
  EXPECT_EQ(users.of(alice_)->ham_trained(), 2u);
  // Learnt: the ham, not the spam that is also in Junk (the newer of the two).
  EXPECT_LE(score(users, ham_text(1)), kLearntHam);
  EXPECT_GT(score(users, spam), 0);
}

// A read spam whose COPY in Junk is gone (Junk emptied) and that the learner no longer
// remembers (a restart): its sender, judged spam by the user, keeps it out of the kept mail.
TEST_F(KeptMailLearning, SendersTheUserJudgedSpamAreLeftOut) {
  SpamModel model(base_path(), learned_path());
  const std::uint32_t ham = put(ham_text(1), in_, "\\Seen");
  const std::uint32_t read_spam = put(spam_text(2), in_, "\\Seen");
  {
    UserModels users(dir_ + "/spam", *store_, model, log::Logger());
    const std::uint32_t copy = copy_into_junk(users, read_spam);
    ASSERT_TRUE(store_->expunge(junk_, {copy}).ok());  // Junk emptied
  }
  UserModels users(dir_ + "/spam", *store_, model, log::Logger());  // restarted
  train(users, spam_event({put(spam_text(100), junk_)}, in_, {read_spam, ham}));
  put(ham_text(200), in_);
  train(users, spam_event({put(spam_text(101), junk_)}, in_, {}));
  ASSERT_NE(users.of(alice_), nullptr);
  EXPECT_EQ(users.of(alice_)->ham_trained(), 1u);
  EXPECT_LE(score(users, ham_text(1)), kLearntHam);
  EXPECT_GT(score(users, spam_text(2)), 0);
}

// A spam event that learnt nothing new (the spam was known) has no budget to give: it starts
// no set of kept mail, and naming another folder does not release the waiting one.
TEST_F(KeptMailLearning, KnownSpamMovedAgainStartsAndReleasesNothing) {
  SpamModel model(base_path(), learned_path());
  UserModels users(dir_ + "/spam", *store_, model, log::Logger());
  ASSERT_TRUE(store_->create_mailbox(alice_, "Lists", "").ok());
  const std::int64_t lists = mailbox(alice_, "Lists");
  // INBOX 1 and 2 read; Lists 2 read. (The UIDs meet: a set that took Lists' UIDs for
  // INBOX's would learn INBOX 2, never named.)
  const std::uint32_t ham = put(ham_text(1), in_, "\\Seen");
  ASSERT_EQ(put(kRecipe, in_, "\\Seen"), ham + 1);
  put(ham_text(150), lists);
  const std::uint32_t list_ham = put(kPhotos, lists, "\\Seen");
  ASSERT_EQ(list_ham, ham + 1);
  const std::uint32_t spam5 = put(spam_text(5), junk_);
  train(users, spam_event({spam5}, in_, {}));  // learnt: spam 5
  // Spam 5 again: no set starts (one would keep the recipe for the set below to learn).
  train(users, spam_event({spam5}, in_, {ham + 1}));
  ASSERT_NE(users.of(alice_), nullptr);
  EXPECT_EQ(users.of(alice_)->spam_trained(), 1u);
  EXPECT_EQ(users.of(alice_)->ham_trained(), 0u);
  // A new spam starts one (INBOX, one to learn); spam 5 again from Lists neither releases it
  // nor adds to it.
  train(users, spam_event({put(spam_text(6), junk_)}, in_, {ham}));
  train(users, spam_event({spam5}, lists, {list_ham}));
  EXPECT_EQ(users.of(alice_)->ham_trained(), 0u);
  // Newer mail in INBOX: spam 5 moved again releases it.
  put(ham_text(201), in_);
  train(users, spam_event({spam5}, in_, {}));
  EXPECT_EQ(users.of(alice_)->spam_trained(), 2u);
  EXPECT_EQ(users.of(alice_)->ham_trained(), 1u);
  EXPECT_LE(score(users, ham_text(1)), kLearntHam);
  EXPECT_GT(score(users, kPhotos), kLearntHam);
  EXPECT_GT(score(users, kRecipe), kLearntHam);
}

// A store that cannot answer when the kept mail is due (the sender verdicts' table gone, as
// another connection might take it): nothing unchecked is learnt, and the set waits for the
// next spam event instead of being lost.
TEST_F(KeptMailLearning, AStoreErrorKeepsTheSetForTheNextSpam) {
  SpamModel model(base_path(), learned_path());
  UserModels users(dir_ + "/spam", *store_, model, log::Logger());
  const std::uint32_t ham = put(ham_text(1), in_, "\\Seen");
  train(users, spam_event({put(spam_text(100), junk_)}, in_, {ham}));
  put(ham_text(200), in_);  // newer mail
  const auto index = [&](const char* sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir_ + "/index.sqlite").c_str(), &db), SQLITE_OK);
    EXPECT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
    sqlite3_close(db);
  };
  index("ALTER TABLE sender_verdicts RENAME TO away");
  train(users, spam_event({put(spam_text(101), junk_)}, in_, {}));
  ASSERT_NE(users.of(alice_), nullptr);
  EXPECT_EQ(users.of(alice_)->spam_trained(), 2u);
  EXPECT_EQ(users.of(alice_)->ham_trained(), 0u);
  index("ALTER TABLE away RENAME TO sender_verdicts");
  train(users, spam_event({put(spam_text(102), junk_)}, in_, {}));
  EXPECT_EQ(users.of(alice_)->ham_trained(), 1u);
  EXPECT_LE(score(users, ham_text(1)), kLearntHam);
}

// Every move the learner takes up ends in a log line, one that taught nothing too (a
// benchmark or an admin waiting for the learner counts them): filter.trained,
// filter.learnt_nothing or, when the store fails it, filter.train_failed alone. A reply to a
// thread the store does not have logs nothing.
TEST_F(KeptMailLearning, EveryMoveEndsInOneLogLine) {
  SpamModel model(base_path(), learned_path());
  const std::string log_path = dir_ + "/learner.log";
  FILE* f = std::fopen(log_path.c_str(), "w");
  ASSERT_NE(f, nullptr);
  {
    UserModels users(
        dir_ + "/spam", *store_, model,
        log::Logger(std::make_shared<log::Sink>(::fileno(f), log::Format::kv, log::Level::info)));
    const std::uint32_t spam = put(spam_text(5), junk_);
    train(users, spam_event({spam}, in_, {}));
    train(users, spam_event({spam}, in_, {}));  // known: nothing new
    users.replied(alice_, {"<never-stored@elsewhere.example>"});
    users.drain();
    const auto unreadable = spam_event({put(spam_text(6), junk_)}, in_, {});
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir_ + "/index.sqlite").c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "ALTER TABLE messages RENAME TO away", nullptr, nullptr, nullptr),
              SQLITE_OK)
        << sqlite3_errmsg(db);
    train(users, unreadable);  // the store cannot list it
    EXPECT_EQ(sqlite3_exec(db, "ALTER TABLE away RENAME TO messages", nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
  }
  std::fclose(f);
  std::ifstream in(log_path);
  std::stringstream text;
  text << in.rdbuf();
  const std::string lines = text.str();
  const auto count = [&](std::string_view what) {
    std::size_t n = 0;
    for (auto at = lines.find(what); at != std::string::npos; at = lines.find(what, at + 1)) ++n;
    return n;
  };
  EXPECT_EQ(count("event=filter.trained "), 1u) << lines;
  EXPECT_EQ(count("event=filter.learnt_nothing "), 1u) << lines;
  EXPECT_EQ(count("event=filter.train_failed "), 1u) << lines;
  const auto nothing = lines.find("event=filter.learnt_nothing ");
  ASSERT_NE(nothing, std::string::npos) << lines;
  EXPECT_NE(lines.find(fmt::format("account_id={} as=spam messages_named=1 evidence=moved", alice_),
                       nothing),
            std::string::npos)
      << lines;
}

// The MX auto-learns: a mock DNS where sender.example authenticates (SPF, DMARC) and lists
// can list the client and a link's domain.
class AutoLearnTest : public SharedModelTest {
 protected:
  void SetUp() override {
    SharedModelTest::SetUp();
    mock_.add_txt("sender.example", "v=spf1 ip4:192.0.2.10 -all");
    mock_.add_txt("_dmarc.sender.example", "v=DMARC1; p=none");
    mock_.add_ptr("10.2.0.192.in-addr.arpa", "mx.sender.example");
    mock_.add_address("mx.sender.example", "192.0.2.10");
    txn_.mail.path.mailbox = *message::parse_mailbox("bob@sender.example");
    txn_.rcpts.push_back({"alice@example.org", {smtp::Target::mailbox(alice_, "INBOX")}, {}});
  }
  smtp::PipelineDecision run(const std::string& content, filter::BlocklistConfig lists, GlobalLearner& learner,
                             SpamModel& model, bool auto_learn = true) {
    AuthPipeline::Options o;
    o.authserv_id = "mx.example.org";
    AuthPipeline auth(mock_, *store_, o);
    UserModels users(dir_ + "/spam", *store_, model, log::Logger(), &learner);
    InboundPipeline chain(&auth, &mock_, std::move(lists), model, users, *store_, filter::Thresholds{}, log::Logger());
    chain.set_learner(&learner, auto_learn);
    const message::Parsed msg(content);
    asio::io_context io;
    std::optional<smtp::PipelineDecision> out;
    asio::co_spawn(io, [&]() -> asio::awaitable<void> {
      out = co_await chain.evaluate(txn_, msg, "mx.sender.example", "192.0.2.10", nullptr);
    }, asio::detached);
    const auto guard = std::chrono::steady_clock::now() + std::chrono::seconds(60);  // hang guard
    while (!out && std::chrono::steady_clock::now() < guard) io.run_one_for(std::chrono::milliseconds(100));
    EXPECT_TRUE(out.has_value());
    learner.drain();
    return out.value_or(smtp::PipelineDecision{});
  }
  static std::string logged(const smtp::PipelineDecision& d, std::string_view key) {
    for (const auto& f : d.log)
      if (f.key == key) return f.value;
    return "";
  }
  dns::MockLookup mock_;
  smtp::Transaction txn_;
};

TEST_F(AutoLearnTest, AuthenticatedMailFromACorrespondentIsHam) {
  SpamModel model(base_path(), learned_path());
  GlobalLearner learner(learned_path(), state_path(), model, log::Logger());
  const std::string msg = "From: Bob <bob@sender.example>\r\nTo: alice@example.org\r\nSubject: the plan\r\n"
                          "Message-ID: <p1@sender.example>\r\n\r\nSee you on Tuesday for the plan.\r\n";
  // Not yet a correspondent: nothing learnt.
  auto d = run(msg, {}, learner, model);
  EXPECT_EQ(logged(d, "autolearn"), "");
  EXPECT_EQ(learner.snapshot().ham_trained(), 0u);
  // Alice has written to Bob: his authenticated mail is ham evidence.
  ASSERT_TRUE(store_->add_correspondents(alice_, {"bob@sender.example"}, 1).ok());
  d = run(msg, {}, learner, model);
  EXPECT_NE(d.fields.find("KNOWN_SENDER"), std::string::npos) << d.fields;
  EXPECT_EQ(logged(d, "autolearn"), "ham");
  EXPECT_EQ(learner.snapshot().ham_trained(), 1u);
  // Turned off ([spam] auto_learn = false): nothing.
  d = run(msg, {}, learner, model, false);
  EXPECT_EQ(logged(d, "autolearn"), "");
  EXPECT_EQ(learner.snapshot().ham_trained(), 1u);
}

TEST_F(AutoLearnTest, MailTheRulesAloneJunkFarAboveTheThresholdIsSpamUnderACap) {
  SpamModel model(base_path(), learned_path());
  filter::LearningCaps caps;
  caps.auto_account_per_hour = 2;
  GlobalLearner learner(learned_path(), state_path(), model, log::Logger(), caps);
  filter::BlocklistConfig lists;
  lists.dnsbl = {"bl.example"};
  lists.uribl = {"uri.example"};
  mock_.add_address("10.2.0.192.bl.example", "127.0.0.2");
  mock_.add_address("pills.example.uri.example", "127.0.1.2");
  auto msg = [](int i) {
    return fmt::format("From: Deals <deals@sender.example>\r\nTo: alice@example.org\r\nSubject: offer {}\r\n"
                       "Message-ID: <o{}@sender.example>\r\n\r\nCheap pills at http://www.pills.example/{} now\r\n",
                       i, i, i);
  };
  auto d = run(msg(0), lists, learner, model);
  EXPECT_NE(d.fields.find("DNSBL=3.00"), std::string::npos) << d.fields;
  EXPECT_NE(d.fields.find("URIBL=3.00"), std::string::npos) << d.fields;
  EXPECT_EQ(logged(d, "autolearn"), "spam");
  EXPECT_EQ(learner.snapshot().spam_trained(), 1u);
  // One DNS list alone is not enough.
  filter::BlocklistConfig one;
  one.dnsbl = {"bl.example"};
  d = run(msg(1), one, learner, model);
  EXPECT_EQ(logged(d, "autolearn"), "");
  // A flood: the recipient account's hourly cap (2 here) stops it.
  bool capped = false;
  for (int i = 2; i < 8; ++i) capped |= logged(run(msg(i), lists, learner, model), "autolearn") == "capped";
  EXPECT_TRUE(capped);
  EXPECT_LE(learner.snapshot().spam_trained(), 2u);
}

}  // namespace
}  // namespace mk::inbound
