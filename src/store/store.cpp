#include "store/store.hpp"

#include <algorithm>
#include <future>

#include <fmt/format.h>

#include "store/sqlite/sqlite_store.hpp"

namespace mk::store {

void Mail::deliver(NewMessage msg, DeliverCallback done) {
  std::vector<NewMessage> v;
  v.push_back(std::move(msg));
  deliver_all(std::move(v), std::move(done));
}

DeliverResult Mail::deliver_sync(NewMessage msg) {
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

Result<std::unique_ptr<Store>> open(const StoreConfig& cfg) {
  if (cfg.backend == "sqlite") {
    auto s = std::make_unique<sqlite::SqliteStore>(cfg);
    if (auto st = s->open(); !st) return st.error();
    return std::unique_ptr<Store>(std::move(s));
  }
  // The config loader refuses other names; this is for callers that build a config by hand.
  return error(Errc::invalid, fmt::format("unknown store backend \"{}\"", cfg.backend));
}

}  // namespace mk::store
