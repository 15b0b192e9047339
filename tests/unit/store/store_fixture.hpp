// A temporary store for tests: StoreTest opens the default backend (for the tests of modules
// that use the store); StoreSuite is parameterized by backend, and the store's own suites
// run against every backend in backends(), so a new backend inherits all of them.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "store/store.hpp"

namespace mk::store {

// A backend the store suites run against: how to open a fresh instance in a directory.
struct Backend {
  std::string name;
  std::function<Result<std::unique_ptr<Store>>(const std::string& dir)> open;
  bool blob_files = false;  // keeps message bodies as files under DIR/blobs (tests look at them)
};

inline const std::vector<Backend>& backends() {
  static const std::vector<Backend> kAll = {
      {"sqlite",
       [](const std::string& dir) {
         StoreConfig c;
         c.backend = "sqlite";
         c.data_dir = dir;
         return store::open(c);
       },
       true},
  };
  return kAll;
}

inline std::string backend_name(const ::testing::TestParamInfo<Backend>& info) { return info.param.name; }
// How GoogleTest shows the parameter (else as the object's bytes).
inline void PrintTo(const Backend& b, std::ostream* os) { *os << b.name; }

class StoreTest : public ::testing::Test {
 protected:
  virtual const Backend& backend() const { return backends().front(); }
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
    auto s = backend().open(dir_);
    ASSERT_TRUE(s.ok()) << s.error().message;
    store_ = std::move(s.value());
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
    const auto domain = addr.substr(addr.find('@') + 1);
    if (auto has = store_->has_domain(domain); has.ok() && !*has) {
      EXPECT_TRUE(store_->add_domain(domain).ok());
    }
    auto id = store_->add_account(addr, "h");
    EXPECT_TRUE(id.ok()) << id.error().message;
    return id.ok() ? *id : 0;
  }
  std::string dir_;
  std::unique_ptr<Store> store_;
};

class StoreSuite : public StoreTest, public ::testing::WithParamInterface<Backend> {
 protected:
  const Backend& backend() const override { return GetParam(); }
};

}  // namespace mk::store

// Runs the suite once per backend.
#define MK_EVERY_BACKEND(Suite) \
  INSTANTIATE_TEST_SUITE_P(EveryBackend, Suite, ::testing::ValuesIn(::mk::store::backends()), ::mk::store::backend_name)
