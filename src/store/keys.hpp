// store/keys.hpp: the Keys role of the store: DKIM keys of hosted domains and the cache of
// remote MTA-STS policies.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "store/error.hpp"

namespace mk::store {

// A DKIM key of a hosted domain. active keys sign; next keys are published in DNS ahead of
// a rotation; retired keys stay published until the mail they signed has been delivered.
struct DkimKey {
  std::string domain;
  std::string selector;
  std::string algorithm;  // "ed25519-sha256" or "rsa-sha256"
  std::string private_pem;
  std::string public_b64;
  std::string state;  // "active", "next", "retired"
  std::int64_t created = 0;
};

// A cached MTA-STS policy (RFC 8461 §5.1), as tlspolicy/mta_sts.hpp parsed it.
struct StsRecord {
  std::string domain;
  std::string id;
  std::string mode;  // "enforce", "testing", "none"
  std::string mx;    // patterns, one per line
  std::int64_t max_age = 0;
  std::int64_t fetched = 0;
};

class Keys {
 public:
  virtual ~Keys() = default;

  // DKIM keys (dkim/sign.hpp makes them).
  virtual Status add_dkim_key(const DkimKey& key) = 0;
  virtual Result<std::vector<DkimKey>> dkim_keys(std::string_view domain) = 0;
  // Rotation: next keys become active, active ones retired; retired ones are deleted.
  virtual Status activate_next_dkim_keys(std::string_view domain) = 0;
  virtual Result<std::optional<StsRecord>> sts_policy(std::string_view domain) = 0;
  virtual Status put_sts_policy(const StsRecord& policy) = 0;
};

}  // namespace mk::store
