#include "store/blob.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "base/strings.hpp"
#include "store/error.hpp"

namespace mk::store {
namespace {

std::string errno_text(const std::string& what) {
  return fmt::format("{}: {}", what, std::strerror(errno));
}

bool is_blob_name(std::string_view n) {
  if (n.size() != 32) return false;
  for (char c : n)
    if (!is_digit(c) && !(c >= 'a' && c <= 'f')) return false;
  return true;
}

}  // namespace

BlobStore::BlobStore(std::string root) : root_(std::move(root)) {}

BlobStore::~BlobStore() {
  if (root_fd_ >= 0) ::close(root_fd_);
}

Status BlobStore::init() {
  if (::mkdir(root_.c_str(), 0700) != 0 && errno != EEXIST) return err(errno_text("mkdir " + root_));
  for (int i = 0; i < 256; ++i) {
    auto sub = fmt::format("{}/{:02x}", root_, i);
    if (::mkdir(sub.c_str(), 0700) != 0 && errno != EEXIST) return err(errno_text("mkdir " + sub));
  }
  root_fd_ = ::open(root_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (root_fd_ < 0) return err(errno_text("open " + root_));
  return {};
}

std::string BlobStore::path_of(std::string_view name) const {
  return fmt::format("{}/{}/{}", root_, name.substr(0, 2), name);
}

Result<std::string> BlobStore::write(std::string_view head, std::string_view data) {
  for (int attempt = 0; attempt < 3; ++attempt) {
    std::string name = random_id(16);
    auto path = path_of(name);
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
      if (errno == EEXIST) continue;
      return err(errno_text("create " + path));
    }
    for (std::string_view piece : {head, data}) {
      std::size_t off = 0;
      while (off < piece.size()) {
        auto n = ::write(fd, piece.data() + off, piece.size() - off);
        if (n < 0) {
          if (errno == EINTR) continue;
          auto e = errno_text("write " + path);
          ::close(fd);
          ::unlink(path.c_str());
          return err(e);
        }
        off += std::size_t(n);
      }
    }
    if (::close(fd) != 0) {
      auto e = errno_text("close " + path);
      ::unlink(path.c_str());
      return err(e);
    }
    return name;
  }
  return err("could not allocate a unique blob name");
}

Result<std::string> BlobStore::read(std::string_view name, std::size_t max_bytes) const {
  if (!is_blob_name(name)) return error(Errc::corrupt, "invalid blob name");
  auto path = path_of(name);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  // The index names a file that is not there: damaged data, not a reason to retry.
  if (fd < 0) return errno == ENOENT ? error(Errc::corrupt, errno_text("open " + path)) : err(errno_text("open " + path));
  // Files never change after they are written: read the whole size straight into place.
  std::string out;
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    auto e = errno_text("stat " + path);
    ::close(fd);
    return err(e);
  }
  out.resize(std::min(std::size_t(st.st_size), max_bytes));
  std::size_t got = 0;
  while (got < out.size()) {
    auto n = ::read(fd, out.data() + got, out.size() - got);
    if (n < 0) {
      if (errno == EINTR) continue;
      auto e = errno_text("read " + path);
      ::close(fd);
      return err(e);
    }
    if (n == 0) break;
    got += std::size_t(n);
  }
  out.resize(got);
  ::close(fd);
  return out;
}

void BlobStore::remove(std::string_view name) {
  if (is_blob_name(name)) ::unlink(path_of(name).c_str());
}

Status BlobStore::sync() {
  if (::syncfs(root_fd_) != 0) return err(errno_text("syncfs " + root_));
  return {};
}

std::vector<std::string> BlobStore::list() const {
  std::vector<std::string> out;
  for (int i = 0; i < 256; ++i) {
    auto sub = fmt::format("{}/{:02x}", root_, i);
    DIR* d = ::opendir(sub.c_str());
    if (!d) continue;
    while (auto* e = ::readdir(d)) {
      if (is_blob_name(e->d_name)) out.emplace_back(e->d_name);
    }
    ::closedir(d);
  }
  return out;
}

}  // namespace mk::store
