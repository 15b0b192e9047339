// auth/breached.hpp: the breached-password list: passwords known from public breaches, as
// Have I Been Pwned publishes them ("SHA1:COUNT" lines), kept in a compact on-disk index that
// is looked up without any network.
//
// Index file: "MKBREACH", u32 version, u32 key size, u64 count (little-endian), then the
// first kKeyBytes (80 bits) of each SHA-1, sorted and unique. 80 bits keep the file at half
// the size of full hashes while a false match stays below one in 10^12 for a billion entries.
// Lookups binary-search the memory-mapped file: O(log n) comparisons, no allocation, and the
// memory it takes is page cache the kernel can reclaim. Import sorts in runs of bounded size
// and merges them, so lists much larger than memory can be imported.
// SECURITY: the index holds only hash prefixes; passwords are hashed in memory and never
// written anywhere.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "base/file_change.hpp"
#include "base/result.hpp"

namespace mk::auth {

inline constexpr std::size_t kKeyBytes = 10;
inline constexpr std::size_t kDefaultImportMemory = 64u << 20;

class BreachedIndex {
 public:
  // Maps the index file; an error names the file and what is wrong with it.
  static Result<std::shared_ptr<const BreachedIndex>> open(const std::string& path);
  ~BreachedIndex();
  BreachedIndex(const BreachedIndex&) = delete;
  BreachedIndex& operator=(const BreachedIndex&) = delete;

  bool contains_password(std::string_view password) const;
  bool contains_sha1(const std::array<std::uint8_t, 20>& sha1) const;
  std::uint64_t size() const { return count_; }

 private:
  BreachedIndex() = default;
  const std::uint8_t* keys_ = nullptr;
  void* map_ = nullptr;
  std::size_t map_size_ = 0;
  std::uint64_t count_ = 0;
};

// The list a running server checks logins against: the index file, opened again when
// `mailkeep breached import` replaced it (looked at no more than every kRecheck).
class BreachedList {
 public:
  explicit BreachedList(std::string path) : watch_(std::move(path), kRecheckSeconds) {}
  // The current index; null when there is none (no list imported yet).
  std::shared_ptr<const BreachedIndex> current() const;
  static constexpr std::int64_t kRecheckSeconds = 10;

 private:
  mutable std::mutex mu_;
  mutable FileChange watch_;
  mutable std::shared_ptr<const BreachedIndex> index_;
};

struct ImportStats {
  std::uint64_t lines = 0;
  std::uint64_t entries = 0;  // unique, in the index
  std::size_t runs = 0;       // sorted runs merged
};

// Reads `input` (HIBP "SHA1:COUNT" lines, or bare SHA-1s; sorted or not; CRLF or LF) and
// writes the index to `output` (atomically: a temporary file renamed into place, fsynced).
// Memory use stays near `memory`. Errors name the file and line.
Result<ImportStats> import_breached(const std::string& input, const std::string& output,
                                    std::size_t memory = kDefaultImportMemory);

}  // namespace mk::auth
