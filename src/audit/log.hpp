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
#include <memory>
#include <mutex>
#include <string>
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

 private:
  Log() = default;
  std::mutex mu_;
  int fd_ = -1;
  std::string path_;
  std::uint64_t seq_ = 0;
  std::string prev_;
  std::int64_t size_ = 0;  // the file's size after our last write: another writer changes it
  Status catch_up();       // re-reads the chain's end after another process appended
};

struct VerifyReport {
  std::uint64_t records = 0;
  bool ok = true;
  std::string problem;  // "FILE:LINE: ..." when not ok
};

// Checks every record's hash and the chain, and the head file against the last record.
VerifyReport verify(const std::string& path);

}  // namespace mk::audit
