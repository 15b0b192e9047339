#include "base/log.hpp"

#include <unistd.h>

#include <chrono>
#include <ctime>

#include <fmt/format.h>

#include "base/strings.hpp"

namespace mk::log {
namespace {

const char* level_name(Level l) {
  switch (l) {
    case Level::debug: return "debug";
    case Level::info: return "info";
    case Level::warn: return "warn";
    case Level::error: return "error";
  }
  return "info";
}

bool needs_quotes(std::string_view s) {
  if (s.empty()) return true;
  for (unsigned char c : s)
    if (c <= ' ' || c == '"' || c == '=' || c == '\\' || c == 0x7f) return true;
  return false;
}

void append_kv_value(std::string& out, std::string_view s) {
  if (!needs_quotes(s)) {
    out += s;
    return;
  }
  append_json_string(out, s);  // logfmt quoting uses the same escapes
}

std::string now_rfc3339() {
  auto now = std::chrono::system_clock::now();
  auto secs = std::chrono::system_clock::to_time_t(now);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()) % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return fmt::format("{}.{:03d}Z", buf, static_cast<int>(ms.count()));
}

}  // namespace

std::string format_line(Format format, std::string_view ts, Level level, std::string_view event,
                        const std::vector<Field>& fields) {
  std::string out;
  out.reserve(128);
  if (format == Format::json) {
    out += "{\"ts\":";
    append_json_string(out, ts);
    out += ",\"level\":";
    append_json_string(out, level_name(level));
    out += ",\"event\":";
    append_json_string(out, event);
    for (const auto& f : fields) {
      out += ',';
      append_json_string(out, f.key);
      out += ':';
      if (f.quoted_json) append_json_string(out, f.value);
      else out += f.value;
    }
    out += '}';
  } else {
    out += "ts=";
    out += ts;
    out += " level=";
    out += level_name(level);
    out += " event=";
    append_kv_value(out, event);
    for (const auto& f : fields) {
      out += ' ';
      out += f.key;
      out += '=';
      append_kv_value(out, f.value);
    }
  }
  return out;
}

void Sink::write(Level level, std::string_view event, const std::vector<Field>& fields) {
  const std::string ts = now_rfc3339();
  std::string line = format_line(format_, ts, level, event, fields);
  line += '\n';
  std::lock_guard lock(mu_);
  std::size_t off = 0;
  while (level >= min_ && off < line.size()) {
    auto n = ::write(fd_, line.data() + off, line.size() - off);
    if (n <= 0) break;  // logging must never take the server down
    off += std::size_t(n);
  }
  // Under the lock, so the tap sees the lines in the order they were written.
  if (tap_ && int(level) >= tap_min_.load(std::memory_order_relaxed))
    tap_->line(level, ts, std::string_view(line).substr(0, line.size() - 1));
}

void Sink::set_tap(std::shared_ptr<Tap> tap, Level min) {
  std::lock_guard lock(mu_);
  tap_min_.store(tap ? int(min) : kNoTap, std::memory_order_relaxed);
  tap_ = std::move(tap);
}

Logger Logger::with(std::vector<Field> more) const {
  Logger l(sink_);
  l.base_ = base_;
  for (auto& f : more) l.base_.push_back(std::move(f));
  return l;
}

void Logger::log(Level level, std::string_view event, std::vector<Field> fields) const {
  if (!sink_ || !sink_->enabled(level)) return;
  if (base_.empty()) {
    sink_->write(level, event, fields);
    return;
  }
  std::vector<Field> all = base_;
  for (auto& f : fields) all.push_back(std::move(f));
  sink_->write(level, event, all);
}

void LogThrown::operator()(std::exception_ptr e) const {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    log.error(event, {{"error", ex.what()}});
  } catch (...) {
    log.error(event, {{"error", "an exception of an unknown type"}});
  }
}

bool parse_level(std::string_view s, Level& out) {
  if (s == "debug") out = Level::debug;
  else if (s == "info") out = Level::info;
  else if (s == "warn") out = Level::warn;
  else if (s == "error") out = Level::error;
  else return false;
  return true;
}

bool parse_format(std::string_view s, Format& out) {
  if (s == "kv") out = Format::kv;
  else if (s == "json") out = Format::json;
  else return false;
  return true;
}

}  // namespace mk::log
