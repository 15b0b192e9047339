#include "audit/log_tail.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit/log.hpp"

namespace mk::audit {

void LogTail::seek(std::uint64_t want) {
  want_ = want;
  offset_ = 0;
  reopen();
}

void LogTail::seek_end() {
  reopen();
  struct stat st {};
  if (fd_ >= 0 && ::fstat(fd_, &st) == 0) offset_ = st.st_size;
  want_ = read_head(path_).seq + 1;
}

std::vector<std::string> LogTail::read(std::size_t max_bytes) {
  std::vector<std::string> out;
  if (replaced()) reopen();
  if (fd_ < 0) return out;
  std::size_t taken = 0;
  std::string chunk(64 * 1024, '\0');
  std::string pending;
  while (taken < max_bytes) {
    const ssize_t n = ::pread(fd_, chunk.data(), chunk.size(), offset_ + off_t(pending.size()));
    if (n <= 0) break;
    pending.append(chunk.data(), std::size_t(n));
    std::size_t start = 0;
    while (taken < max_bytes) {
      const auto lf = pending.find('\n', start);
      if (lf == std::string::npos) break;
      std::string_view line(pending.data() + start, lf - start);
      const std::size_t used = lf + 1 - start;
      start = lf + 1;
      offset_ += off_t(used);
      if (line.empty()) continue;
      auto head = parse_record(line);
      if (head && head->seq < want_) continue;
      if (head) want_ = head->seq + 1;
      taken += line.size();
      out.emplace_back(line);
    }
    pending.erase(0, start);
    if (pending.size() > kMaxLine) {  // not a log line: skip the rest of it
      offset_ += off_t(pending.size());
      pending.clear();
    }
  }
  return out;
}

void LogTail::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

void LogTail::reopen() {
  close();
  offset_ = 0;
  fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  struct stat st {};
  if (fd_ >= 0 && ::fstat(fd_, &st) == 0) ino_ = st.st_ino;
}

bool LogTail::replaced() const {
  struct stat by_name {
  }, by_fd{};
  if (::stat(path_.c_str(), &by_name) != 0) return false;  // deleted: nothing new to read
  if (fd_ < 0) return true;
  if (by_name.st_ino != ino_) return true;
  return ::fstat(fd_, &by_fd) == 0 && by_fd.st_size < offset_;
}

}  // namespace mk::audit
