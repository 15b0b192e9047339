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
  // Looks at an existing store without changing it (check-message on a running instance's
  // data): nothing is created or migrated, a store of another schema version is refused,
  // and every write fails.
  bool read_only = false;
};

// The backends this build has, for config validation.
inline constexpr const char* kBackends[] = {"sqlite"};

}  // namespace mk::store
