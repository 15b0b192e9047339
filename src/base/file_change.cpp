#include "base/file_change.hpp"

#include <sys/stat.h>

namespace mk {

bool FileChange::changed(std::int64_t now, bool& exists) {
  if (looked_ && now - checked_ < recheck_) return false;
  const bool first = !looked_;
  looked_ = true;
  checked_ = now;
  struct stat st{};
  if (::stat(path_.c_str(), &st) != 0) {
    exists = false;
    const bool was = mtime_ns_ != -1;
    mtime_ns_ = -1;
    inode_ = 0;
    return was || first;
  }
  exists = true;
  const std::int64_t mtime = std::int64_t(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  if (mtime == mtime_ns_ && std::uint64_t(st.st_ino) == inode_) return false;
  mtime_ns_ = mtime;
  inode_ = std::uint64_t(st.st_ino);
  return true;
}

}  // namespace mk
