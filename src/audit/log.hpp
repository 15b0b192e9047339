// audit/log.hpp: the security log: an append-only file of security events (logins, failed
// logins, bans, breached passwords, later holds), one JSON object per line, each chained to
// the one before by a hash, so that editing or deleting a record is detectable
// (`mailkeep audit verify`).
//
// Record: {"seq":N,"ts":"...","event":"...",<fields>,"prev":"<hex>","hash":"<hex>"} where
// hash = SHA-256(prev || the line up to and including the comma before "hash"). The first
// record's prev is 64 zeros. The newest sequence number and hash are also kept in a small
// side file (`security.log.head`), so cutting records off the end is detected too.
// Several processes may append (the server, and CLI commands such as `security bans lift`):
// an append takes an exclusive flock and first catches up with records others wrote.
// SECURITY: each record is written with fdatasync before append() returns; values are
// JSON-escaped (no line can be forged by a user name with a newline); no secrets are logged.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <istream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.hpp"

namespace mk::audit {

using Fields = std::vector<std::pair<std::string, std::string>>;

class Log {
 public:
  // Opens (creating) the log and reads where the chain stands.
  static Result<std::unique_ptr<Log>> open(const std::string& path);
  ~Log();
  Log(const Log&) = delete;
  Log& operator=(const Log&) = delete;

  Status append(std::string_view event, const Fields& fields);
  // Checks that the file is still the one this log writes: when it was deleted, replaced (an
  // old copy put back) or cut, reopens it and writes a "security_log_tampered" record that
  // continues the chain this process knows, so the change is itself on the record (and shipped).
  // append() does this first; the log shipper calls it on its own schedule.
  Status check_file();
  // Called after each record this process appends (wakes the log shipper); set it before the
  // log is shared between threads.
  void on_append(std::function<void()> f) { on_append_ = std::move(f); }
  const std::string& path() const { return path_; }

 private:
  Log() = default;
  std::mutex mu_;
  int fd_ = -1;
  std::string path_;
  std::uint64_t seq_ = 0;
  std::string prev_;
  std::function<void()> on_append_;
  std::int64_t size_ = 0;  // the file's size after our last write: another writer changes it
  Status catch_up();       // re-reads the chain's end after another process appended
  Status append_locked(std::string_view event, const Fields& fields);
  std::string changed_file();  // why the file is not the one we wrote ("" if it is); reopens it
};

// The time as records carry it: RFC 3339, UTC, milliseconds ("2026-12-05T16:40:00.123Z").
std::string record_time();

// The longest line a security log may hold (LogTail's bound too): records are far shorter, and
// a file an attacker edited must not make a reader hold a line of any size.
inline constexpr std::size_t kMaxRecordLine = 1 << 20;

// Reads one line of a log file into `line`, without its '\n' (terminated says whether it had
// one). A line longer than kMaxRecordLine is read to its end but kept only up to the bound,
// and read_line says so. end: nothing more to read.
enum class LineRead { ok, too_long, end };
LineRead read_line(std::istream& in, std::string& line, bool* terminated = nullptr);

// The last `count` lines of a log file, oldest first, each cut at kMaxRecordLine. Reads
// backwards from the end, at most kMaxTailBytes, so the cost is that of the lines returned,
// not of the file (fewer lines come back when they are longer).
inline constexpr std::size_t kMaxTailBytes = 4 << 20;
Result<std::vector<std::string>> read_tail(const std::string& path, std::size_t count);

// One record's chain fields, read from its line (no newline). `hashed` points into the line.
struct RecordHead {
  std::uint64_t seq = 0;
  std::string ts;
  std::string prev, hash;
  std::string_view hashed;  // the part the hash covers: up to the comma before "hash"
};
std::optional<RecordHead> parse_record(std::string_view line);

// Follows a chain record by record (audit verify, and the collector as records arrive).
class ChainCheck {
 public:
  static constexpr std::uint64_t kMaxSeq = std::uint64_t(1) << 62;
  enum class Link {
    ok,
    not_a_record,  // the line is not a security log record
    bad_hash,      // the record's own hash does not match its content: it was edited
    gap,           // seq is past the next one: records in between are missing
    broken,        // seq follows, but prev is not the last record's hash: history was changed
    restarted,     // seq 1 again after a chain had begun: the log was deleted or replaced
    replayed,      // seq at or before the last one
  };
  ChainCheck() = default;
  ChainCheck(std::uint64_t seq, std::string hash) : seq_(seq), hash_(std::move(hash)) {}
  // Checks the line against the chain so far; only an ok record moves the chain on.
  Link check(std::string_view line, RecordHead* head = nullptr) const;
  void advance(const RecordHead& r);
  std::uint64_t seq() const { return seq_; }
  const std::string& hash() const { return hash_; }
  static std::string_view describe(Link l);

 private:
  std::uint64_t seq_ = 0;
  std::string hash_ = std::string(64, '0');
};

// The chain's end as its side file records it: seq 0 and 64 zeros for a log with no record
// (or no side file).
struct Head {
  std::uint64_t seq = 0;
  std::string hash = std::string(64, '0');
};
Head read_head(const std::string& log_path);
// Replaces the side file with seq and hash (synced, then renamed over the old one).
Status write_head(const std::string& log_path, std::uint64_t seq, const std::string& hash);

struct VerifyReport {
  std::uint64_t records = 0;
  bool ok = true;
  std::string problem;  // "FILE:LINE: ..." when not ok
};

// Checks every record's hash and the chain, and the head file against the last record.
// segment: a collector's stored segment (audit/collector.hpp), whose first record may come
// after record 1 (the chain starts from its prev); a server's own log always starts at 1.
VerifyReport verify(const std::string& path, bool segment = false);

}  // namespace mk::audit
