// A temporary SqliteStore for store tests.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "store/sqlite/sqlite_store.hpp"

namespace mk::store {

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/mk-store-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    reopen();
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  void reopen() {
    store_.reset();
    store_ = std::make_unique<sqlite::SqliteStore>(SqliteOptions{dir_});
    ASSERT_TRUE(store_->open().ok());
  }
  NewMessage message(const std::string& body, std::int64_t account, const std::string& mailbox = "INBOX") {
    NewMessage m;
    m.data = std::make_shared<const std::string>(body);
    m.mail_from = "sender@example.net";
    m.deliveries.push_back(Delivery{account, mailbox, "rcpt@example.org", ""});
    return m;
  }
  std::int64_t inbox(std::int64_t account) {
    for (const auto& mb : *store_->list_mailboxes(account))
      if (mb.name == "INBOX") return mb.id;
    return 0;
  }
  std::int64_t mailbox(std::int64_t account, const std::string& name) {
    auto m = store_->find_mailbox(account, name);
    return (m.ok() && m->has_value()) ? (*m)->id : 0;
  }
  std::int64_t account_with_domain(const std::string& addr = "a@example.org") {
    (void)store_->add_domain(addr.substr(addr.find('@') + 1));
    return *store_->add_account(addr, "h");
  }
  std::string dir_;
  std::unique_ptr<sqlite::SqliteStore> store_;
};


}  // namespace mk::store
