// tests/log_capture.hpp: a log::Logger that writes key=value lines to a file a test reads
// back (what a server logged, in order).
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>

#include "base/log.hpp"

namespace mk::test {

// The whole file, "" if it cannot be read.
inline std::string slurp(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

class LogCapture {
 public:
  // Appends to `path` (created if missing); ok() tells whether it could be opened.
  explicit LogCapture(std::string path) : path_(std::move(path)) {
    fd_ = ::open(path_.c_str(), O_CREAT | O_WRONLY | O_APPEND | O_CLOEXEC, 0600);
    if (fd_ >= 0) logger_ = log::Logger(std::make_shared<log::Sink>(fd_, log::Format::kv, log::Level::debug));
  }
  ~LogCapture() {
    if (fd_ >= 0) ::close(fd_);
  }
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;

  bool ok() const { return fd_ >= 0; }
  const log::Logger& logger() const { return logger_; }
  std::string text() const { return slurp(path_); }
  // The first line that holds `needle` (an event's name, say), without its newline; "" if none.
  std::string line(std::string_view needle) const {
    const std::string all = text();
    const auto at = all.find(needle);
    if (at == std::string::npos) return {};
    const auto newline = all.rfind('\n', at);
    const auto start = newline == std::string::npos ? 0 : newline + 1;
    return all.substr(start, all.find('\n', at) - start);
  }

 private:
  std::string path_;
  int fd_ = -1;
  log::Logger logger_;
};

}  // namespace mk::test
