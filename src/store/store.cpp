#include "store/store.hpp"

#include <future>

namespace mk::store {

Status Store::deliver_sync(NewMessage msg) {
  std::promise<Status> p;
  auto f = p.get_future();
  deliver(std::move(msg), [&p](Status s) { p.set_value(std::move(s)); });
  return f.get();
}

}  // namespace mk::store

#include "store/sqlite/sqlite_store.hpp"

namespace mk::store {

Result<std::unique_ptr<Store>> open_sqlite_store(const SqliteOptions& opts) {
  auto s = std::make_unique<sqlite::SqliteStore>(opts);
  if (auto st = s->open(); !st) return st.error();
  return std::unique_ptr<Store>(std::move(s));
}

}  // namespace mk::store
