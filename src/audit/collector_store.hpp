// audit/collector_store.hpp: how `mailkeep collector` keeps what it receives on disk (used by
// audit/collector.cpp; `collector verify` reads the same files through verify_collected).
//
// Per configured server, in DATA/servers/NAME/:
//   security.log      the chain as received, in the security log's own format, each record
//                     made durable before it is acknowledged; security.log.head beside it
//   security.upto-SEQ.log  earlier segments: records never arrived after SEQ (a gap), the
//                     chain was kept as it was and a new segment began
//   segments.log      where each segment after a gap begins ("after SEQ HASH from SEQ PREV")
//   unlinked.log      records that did not link, with the reason (never part of the chain)
//   operational.log   the server's operational log lines, as shipped (not chained)
//
// SECURITY: files are only ever appended to (O_APPEND) or, for a segment, renamed aside with
// RENAME_NOREPLACE: nothing a sender says removes or rewrites what was stored.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "audit/log.hpp"
#include "base/log.hpp"
#include "base/result.hpp"

namespace mk::audit {

// A name a sender chose, made safe as one file name.
std::string collector_file_name(std::string_view name);
// mkdir -p, each directory created 0700.
Status make_private_dirs(const std::string& path);

// An append-only file: lines are written with O_APPEND and made durable by sync().
class AppendFile {
 public:
  AppendFile() = default;
  AppendFile(const AppendFile&) = delete;
  AppendFile& operator=(const AppendFile&) = delete;
  ~AppendFile() { close(); }
  Status open(const std::string& path);
  void add(std::string_view line) {
    pending_.append(line);
    pending_ += '\n';
  }
  void close();
  // A failed write (a full disk) is undone: the file ends where the last good write ended.
  Status sync();
  bool pending() const { return !pending_.empty(); }
  std::uint64_t size() const { return std::uint64_t(size_) + pending_.size(); }  // with what is pending

 private:
  int fd_ = -1;
  off_t size_ = 0;
  std::string path_;
  std::string pending_;
};

// A log file the collector keeps but does not check (a server's operational lines, plain
// syslog): each line is stamped with the time it was received and has its control characters
// escaped, and past `limit` bytes further lines are dropped and counted, so a sender cannot
// fill the disk the stored chains need.
class CappedLog {
 public:
  // shared_used: the bytes of every file sharing one budget of `limit` (plain syslog's files);
  // null: this file alone is capped at `limit`. Once a line was dropped, every later one is.
  explicit CappedLog(std::uint64_t limit, std::uint64_t* shared_used = nullptr)
      : limit_(limit), shared_used_(shared_used) {}
  Status open(const std::string& path) { return file_.open(path); }
  // False when the line was dropped; `first_drop` then says whether it was the first.
  bool add(std::string_view received, std::string_view text, bool& first_drop);
  Status sync() { return file_.sync(); }
  std::uint64_t dropped() const { return dropped_; }

 private:
  AppendFile file_;
  std::uint64_t limit_;
  std::uint64_t* shared_used_;
  std::uint64_t dropped_ = 0;
};

// One stored line: bytes below 0x20 and 0x7f as \xNN (a frame may carry line breaks, and a
// terminal showing the file must not take orders from the sender).
std::string escape_line(std::string_view text);

// One server's stored chain: records are checked against it, added, and made durable by
// sync(); a gap starts a new segment.
class StoredChain {
 public:
  // Opens (creating) DIR and recovers from a crash: a record half written when the collector
  // died is cut off, a head file the crash left behind is brought up to the last record. A
  // stored copy that does not verify (changed on this machine) is not fatal: `damaged` says
  // how, and new records follow the last one stored.
  Status open(const std::string& dir, const std::string& server, log::Logger logger, std::string& damaged);

  ChainCheck::Link check(std::string_view record, RecordHead* head) const { return chain_.check(record, head); }
  std::uint64_t seq() const { return chain_.seq(); }
  const std::string& hash() const { return chain_.hash(); }
  // A record that linked (check() said ok) joins the chain; durable at the next sync().
  void add(std::string_view record, const RecordHead& head);
  // A record that did not link is kept aside with the reason, durably.
  Status keep_unlinked(std::string_view line);
  // Records are missing before `first`: what is stored so far becomes a segment of its own,
  // kept as it is, and a new one begins at `first`.
  Status new_segment(const RecordHead& first);
  // Makes what was added durable; on failure the chain goes back to what is on disk, so the
  // sender sends it again (nothing of it is acknowledged).
  Status sync();
  std::size_t segments() const { return segments_; }  // earlier stored segments

 private:
  Status recover(const std::string& path, std::string& damaged);
  Status write_head();

  std::string dir_, server_;
  log::Logger logger_;
  ChainCheck chain_;
  ChainCheck synced_;  // the chain as stored durably
  AppendFile records_, unlinked_;
  AppendFile switches_;  // segments.log
  std::uint64_t pending_seq_ = 0;  // the last record added but not yet synced
  std::string pending_hash_;
  std::size_t segments_ = 0;
};

}  // namespace mk::audit
