// audit/log_tail.hpp: reads the security log forward, whole records only, as it grows.
//
// Used by the shipper (each link reads from the first record its collector lacks) and by the
// metrics endpoint (security events counted as they are written, by any process). Follows the
// file when it is replaced (a new inode) or cut (smaller than where it stands): it then reads
// again from the start, skipping records below the sequence number it wants.
// SECURITY: the file may have been edited by an attacker; a line longer than kMaxLine is not
// one of ours and is skipped, so a reader's memory stays bounded.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace mk::audit {

class LogTail {
 public:
  static constexpr std::size_t kMaxLine = 1 << 20;

  explicit LogTail(std::string path) : path_(std::move(path)) {}
  ~LogTail() { close(); }
  LogTail(const LogTail&) = delete;
  LogTail& operator=(const LogTail&) = delete;

  // The next line read is the first record with seq >= want.
  void seek(std::uint64_t want);
  // The next line read is the first one written after now; if the file is later replaced or
  // cut, reading starts over from the first record past the last one read.
  void seek_end();
  // Up to max_bytes of complete lines from where it stands (at least one if there is one);
  // lines that are not records are returned too, records below the wanted seq are not.
  std::vector<std::string> read(std::size_t max_bytes);
  // The seq the next record read must reach (the last one read + 1).
  std::uint64_t wanted() const { return want_; }

 private:
  void close();
  void reopen();
  bool replaced() const;

  std::string path_;
  int fd_ = -1;
  ino_t ino_ = 0;
  off_t offset_ = 0;
  std::uint64_t want_ = 1;
};

}  // namespace mk::audit
