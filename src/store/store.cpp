#include "store/store.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "store/sqlite/sqlite_store.hpp"

namespace mk::store {

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
