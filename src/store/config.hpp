// store/config.hpp: the [store] section: which backend keeps the instance's data, and where.
#pragma once

#include <cstddef>
#include <string>

namespace mk::store {

struct StoreConfig {
  // "sqlite": an SQLite index plus message files in data_dir (the default and, for now, the
  // only backend).
  std::string backend = "sqlite";
  std::string data_dir;          // [server] data_dir
  std::size_t max_batch = 256;   // deliveries per group commit
};

// The backends this build has, for config validation.
inline constexpr const char* kBackends[] = {"sqlite"};

}  // namespace mk::store
