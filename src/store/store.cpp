#include "store/store.hpp"

#include <future>

namespace mk::store {

void Store::deliver(NewMessage msg, DeliverCallback done) {
  std::vector<NewMessage> v;
  v.push_back(std::move(msg));
  deliver_all(std::move(v), std::move(done));
}

DeliverResult Store::deliver_sync(NewMessage msg) {
  std::promise<DeliverResult> p;
  auto f = p.get_future();
  deliver(std::move(msg), [&p](DeliverResult r) { p.set_value(std::move(r)); });
  return f.get();
}

std::string_view to_string(RcptState s) {
  switch (s) {
    case RcptState::queued: return "queued";
    case RcptState::held: return "held";
    case RcptState::delivered: return "delivered";
    case RcptState::bounced: return "bounced";
  }
  return "queued";
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
