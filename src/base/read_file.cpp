#include "base/read_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace mk {

Result<std::string> read_file(const std::string& path, std::size_t max_bytes) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return err(fmt::format("{}: cannot read: {}", path, std::strerror(errno)));
  struct stat st{};
  std::string out;
  int failure = 0;
  if (::fstat(fd, &st) != 0) {
    failure = errno;
  } else if (S_ISDIR(st.st_mode)) {
    failure = EISDIR;
  } else if (std::size_t(st.st_size) > max_bytes) {
    ::close(fd);
    return err(fmt::format("{}: larger than {} bytes", path, max_bytes));
  } else {
    // The size is a hint (the file may change, or be a pipe): read until end of file.
    out.resize(std::size_t(st.st_size) + 1);
    std::size_t used = 0;
    for (;;) {
      if (used == out.size()) {
        if (out.size() > max_bytes) break;
        out.resize(out.size() * 2);
      }
      const ssize_t n = ::read(fd, out.data() + used, out.size() - used);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        failure = errno;
        break;
      }
      if (n == 0) break;
      used += std::size_t(n);
    }
    out.resize(used);
  }
  ::close(fd);
  if (failure != 0) return err(fmt::format("{}: cannot read: {}", path, std::strerror(failure)));
  if (out.size() > max_bytes) return err(fmt::format("{}: larger than {} bytes", path, max_bytes));
  return out;
}

}  // namespace mk
