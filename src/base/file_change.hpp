// base/file_change.hpp: noticing that a file a running server reads (the breached-password
// index, the spam model) was replaced, at most once per recheck interval, by its
// modification time and inode (an atomic rename gives a new inode even within one mtime tick).
#pragma once

#include <cstdint>
#include <string>

namespace mk {

class FileChange {
 public:
  FileChange(std::string path, std::int64_t recheck_seconds) : path_(std::move(path)), recheck_(recheck_seconds) {}
  // True when the file was looked at now (the interval had passed, or it is the first look)
  // and differs from the last look: replaced, appeared or gone. `exists` says which.
  // Not thread-safe: callers hold their own lock.
  bool changed(std::int64_t now, bool& exists);
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::int64_t recheck_;
  std::int64_t checked_ = 0;
  bool looked_ = false;
  std::int64_t mtime_ns_ = -1;
  std::uint64_t inode_ = 0;
};

}  // namespace mk
