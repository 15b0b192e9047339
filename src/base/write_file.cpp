#include "base/write_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace mk {

namespace {
std::string failed(const std::string& what, const std::string& path) {
  return fmt::format("cannot {} {}: {}", what, path, std::strerror(errno));
}
}  // namespace

Status write_file_atomic(const std::string& path, std::string_view data, mode_t mode) {
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
  if (fd < 0) return err(failed("create", tmp));
  ::fchmod(fd, mode);  // an older temporary file may have had another mode
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const std::string e = failed("write", tmp);
      ::close(fd);
      ::unlink(tmp.c_str());
      return err(e);
    }
    done += std::size_t(n);
  }
  if (::fsync(fd) != 0) {
    const std::string e = failed("fsync", tmp);
    ::close(fd);
    ::unlink(tmp.c_str());
    return err(e);
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string e = failed("rename into", path);
    ::unlink(tmp.c_str());
    return err(e);
  }
  const auto slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);  // the rename itself, durable
    ::close(dfd);
  }
  return {};
}

}  // namespace mk
