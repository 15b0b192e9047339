// base/log.hpp: structured logging, one line per event.
//
// Each line is an event name plus key/value fields, written either as logfmt
// (`ts=... level=info event=smtp.accept conn=1a2b ip=127.0.0.1`) or as one JSON object per
// line. A Logger carries fields that every line it writes repeats (a connection's `conn`
// id, for instance); `with()` derives a logger with more of them.
//
// SECURITY: values are escaped, so a peer cannot forge log lines with CR/LF. Callers never
// pass secrets (passwords, AUTH payloads, keys); there is no field type for them.
#pragma once

#include <atomic>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.hpp"

namespace mk::log {

enum class Level { debug = 0, info = 1, warn = 2, error = 3 };
enum class Format { kv, json };

struct Field {
  std::string key;
  std::string value;
  bool quoted_json = true;  // false for numbers and booleans in JSON output

  Field(std::string k, std::string_view v) : key(std::move(k)), value(v) {}
  Field(std::string k, const char* v) : key(std::move(k)), value(v) {}
  Field(std::string k, const std::string& v) : key(std::move(k)), value(v) {}
  template <class N>
    requires std::is_arithmetic_v<N>
  Field(std::string k, N n) : key(std::move(k)), value(std::to_string(n)), quoted_json(false) {}
  Field(std::string k, bool b) : key(std::move(k)), value(b ? "true" : "false"), quoted_json(false) {}
};

// A second destination for the lines a Sink writes (log shipping). line() is called with each
// line at or above the tap's level, without its newline, from whichever thread logged it and
// under the sink's lock: it must not block and must not log (nor may its destructor).
class Tap {
 public:
  virtual ~Tap() = default;
  virtual void line(Level level, std::string_view ts, std::string_view line) = 0;
};

// Where lines go; shared by every Logger derived from one root.
class Sink {
 public:
  Sink(int fd, Format format, Level min_level) : fd_(fd), format_(format), min_(min_level) {}
  void write(Level level, std::string_view event, const std::vector<Field>& fields);
  bool enabled(Level level) const { return level >= min_ || int(level) >= tap_min_.load(std::memory_order_relaxed); }
  Format format() const { return format_; }
  // Lines at `min` and above also go to `tap` (null: none), including levels below the sink's
  // own, which then reach the tap only.
  void set_tap(std::shared_ptr<Tap> tap, Level min);

 private:
  std::mutex mu_;
  int fd_;
  Format format_;
  Level min_;
  static constexpr int kNoTap = 1000;  // above every level
  std::shared_ptr<Tap> tap_;           // guarded by mu_
  std::atomic<int> tap_min_{kNoTap};
};

class Logger {
 public:
  Logger() = default;  // discards everything
  explicit Logger(std::shared_ptr<Sink> sink) : sink_(std::move(sink)) {}

  Logger with(std::vector<Field> more) const;
  void log(Level level, std::string_view event, std::vector<Field> fields = {}) const;
  void debug(std::string_view e, std::vector<Field> f = {}) const { log(Level::debug, e, std::move(f)); }
  void info(std::string_view e, std::vector<Field> f = {}) const { log(Level::info, e, std::move(f)); }
  void warn(std::string_view e, std::vector<Field> f = {}) const { log(Level::warn, e, std::move(f)); }
  void error(std::string_view e, std::vector<Field> f = {}) const { log(Level::error, e, std::move(f)); }
  bool enabled(Level level) const { return sink_ && sink_->enabled(level); }
  // For a write whose failure must not stop the caller but must not pass unnoticed: logs a
  // failed result as an error with its reason. Returns whether it succeeded.
  template <class T>
  bool ok_or_log(const Result<T>& r, std::string_view event, std::vector<Field> fields = {}) const {
    if (r.ok()) return true;
    fields.emplace_back("error", r.error().message);
    error(event, std::move(fields));
    return false;
  }

 private:
  std::shared_ptr<Sink> sink_;
  std::vector<Field> base_;
};

// The completion of a task that runs for the server's life (asio::co_spawn of an
// awaitable<void>), in place of asio::detached, which drops whatever ended it: an exception
// is logged as `event` with its message, so that a loop that stopped (no more accepts, no
// more deliveries) is seen in the log.
struct LogThrown {
  Logger log;
  std::string event;
  void operator()(std::exception_ptr e) const;
};

// Formats one line (without the newline); exposed for tests.
std::string format_line(Format format, std::string_view ts, Level level, std::string_view event,
                        const std::vector<Field>& fields);

bool parse_level(std::string_view s, Level& out);
bool parse_format(std::string_view s, Format& out);

}  // namespace mk::log
