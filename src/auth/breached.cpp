#include "auth/breached.hpp"

#include <fcntl.h>
#include <openssl/sha.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <ctime>
#include <fstream>
#include <optional>
#include <queue>
#include <vector>

#include <fmt/format.h>

#include "base/strings.hpp"

namespace mk::auth {
namespace {

using Key = std::array<std::uint8_t, kKeyBytes>;

constexpr char kMagic[8] = {'M', 'K', 'B', 'R', 'E', 'A', 'C', 'H'};
constexpr std::uint32_t kVersion = 1;
constexpr std::size_t kHeaderBytes = 24;
constexpr std::size_t kSha1Hex = 40;

void put_u32(std::string& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out += char((v >> (8 * i)) & 0xff);
}
void put_u64(std::string& out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) out += char((v >> (8 * i)) & 0xff);
}
std::uint64_t get_le(const std::uint8_t* p, int n) {
  std::uint64_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

// A file written through a buffer, fsynced and renamed into place on commit().
class AtomicFile {
 public:
  explicit AtomicFile(std::string path) : path_(std::move(path)), tmp_(path_ + ".tmp") {
    fd_ = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  }
  ~AtomicFile() {
    if (fd_ >= 0) {
      ::close(fd_);
      ::unlink(tmp_.c_str());
    }
  }
  bool ok() const { return fd_ >= 0 && !failed_; }
  void write(const void* data, std::size_t n) {
    buf_.append(static_cast<const char*>(data), n);
    if (buf_.size() >= (1u << 20)) flush();
  }
  void pwrite_header(const std::string& header) {
    flush();
    if (::pwrite(fd_, header.data(), header.size(), 0) != ssize_t(header.size())) failed_ = true;
  }
  Status commit() {
    flush();
    if (failed_ || ::fsync(fd_) != 0) return err("cannot write " + tmp_);
    ::close(fd_);
    fd_ = -1;
    if (::rename(tmp_.c_str(), path_.c_str()) != 0) return err("cannot rename " + tmp_ + " to " + path_);
    const auto slash = path_.rfind('/');
    const std::string dir = slash == std::string::npos ? "." : path_.substr(0, slash);
    if (int d = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); d >= 0) {
      (void)::fsync(d);
      ::close(d);
    }
    return {};
  }

 private:
  void flush() {
    std::size_t off = 0;
    while (off < buf_.size() && !failed_) {
      const ssize_t n = ::write(fd_, buf_.data() + off, buf_.size() - off);
      if (n <= 0) failed_ = true;
      else off += std::size_t(n);
    }
    buf_.clear();
  }
  std::string path_, tmp_, buf_;
  int fd_ = -1;
  bool failed_ = false;
};

// A sorted run on disk, read back key by key during the merge.
struct Run {
  std::ifstream in;
  Key head{};
  bool next() { return bool(in.read(reinterpret_cast<char*>(head.data()), kKeyBytes)); }
};

}  // namespace

Result<std::shared_ptr<const BreachedIndex>> BreachedIndex::open(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return err(path + ": cannot open the breached-password index");
  struct stat st{};
  if (::fstat(fd, &st) != 0 || std::size_t(st.st_size) < kHeaderBytes) {
    ::close(fd);
    return err(path + ": not a breached-password index (too short); import the list again");
  }
  void* map = ::mmap(nullptr, std::size_t(st.st_size), PROT_READ, MAP_SHARED, fd, 0);
  ::close(fd);
  if (map == MAP_FAILED) return err(path + ": cannot map the breached-password index");
  std::shared_ptr<BreachedIndex> idx(new BreachedIndex());
  idx->map_ = map;
  idx->map_size_ = std::size_t(st.st_size);
  const auto* p = static_cast<const std::uint8_t*>(map);
  if (std::memcmp(p, kMagic, sizeof kMagic) != 0 || get_le(p + 8, 4) != kVersion || get_le(p + 12, 4) != kKeyBytes)
    return err(path + ": not a breached-password index of this version; import the list again");
  idx->count_ = get_le(p + 16, 8);
  if (kHeaderBytes + idx->count_ * kKeyBytes != idx->map_size_)
    return err(path + ": the breached-password index is truncated; import the list again");
  idx->keys_ = p + kHeaderBytes;
  ::madvise(map, idx->map_size_, MADV_RANDOM);
  return std::shared_ptr<const BreachedIndex>(std::move(idx));
}

BreachedIndex::~BreachedIndex() {
  if (map_) ::munmap(map_, map_size_);
}

bool BreachedIndex::contains_sha1(const std::array<std::uint8_t, 20>& sha1) const {
  std::uint64_t lo = 0, hi = count_;
  while (lo < hi) {
    const std::uint64_t mid = lo + (hi - lo) / 2;
    const int c = std::memcmp(keys_ + mid * kKeyBytes, sha1.data(), kKeyBytes);
    if (c == 0) return true;
    if (c < 0) lo = mid + 1;
    else hi = mid;
  }
  return false;
}

bool BreachedIndex::contains_password(std::string_view password) const {
  std::array<std::uint8_t, 20> d{};
  SHA1(reinterpret_cast<const unsigned char*>(password.data()), password.size(), d.data());
  return contains_sha1(d);
}

std::shared_ptr<const BreachedIndex> BreachedList::current() const {
  std::lock_guard lock(mu_);
  bool exists = false;
  if (watch_.changed(std::time(nullptr), exists)) {
    auto idx = exists ? BreachedIndex::open(watch_.path()) : Result<std::shared_ptr<const BreachedIndex>>(nullptr);
    index_ = idx ? *idx : nullptr;  // a damaged file checks nothing rather than everything
  }
  return index_;
}

Result<ImportStats> import_breached(const std::string& input, const std::string& output, std::size_t memory) {
  std::ifstream in(input, std::ios::binary);
  if (!in) return err(input + ": cannot read the list");
  ImportStats stats;
  const std::size_t per_run = std::max<std::size_t>(1, memory / kKeyBytes);
  std::vector<Key> buf;
  buf.reserve(std::min<std::size_t>(per_run, 1u << 20));
  std::vector<std::string> run_paths;
  auto cleanup = [&] {
    for (const auto& p : run_paths) ::unlink(p.c_str());
  };
  auto sort_unique = [](std::vector<Key>& v) {
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
  };
  auto spill = [&]() -> Status {
    sort_unique(buf);
    const std::string path = fmt::format("{}.run{}", output, run_paths.size());
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(buf.data()), std::streamsize(buf.size() * kKeyBytes));
    run_paths.push_back(path);
    buf.clear();
    if (!out) return err("cannot write " + path + " (is the disk full?)");
    return {};
  };
  std::string line;
  while (std::getline(in, line)) {
    ++stats.lines;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    Key k{};
    bool ok = line.size() >= kSha1Hex && (line.size() == kSha1Hex || line[kSha1Hex] == ':');
    for (std::size_t i = 0; ok && i < kSha1Hex; ++i) {
      const int v = hex_value(line[i]);
      if (v < 0) ok = false;
      else if (i / 2 < kKeyBytes) k[i / 2] = std::uint8_t(k[i / 2] | (i % 2 ? v : v << 4));
    }
    if (!ok) {
      cleanup();
      return err(fmt::format("{}:{}: expected a SHA-1 in hex, optionally followed by :COUNT "
                             "(the Have I Been Pwned \"SHA1:COUNT\" format)", input, stats.lines));
    }
    buf.push_back(k);
    if (buf.size() >= per_run) {
      if (auto s = spill(); !s) {
        cleanup();
        return s.error();
      }
    }
  }
  if (in.bad()) {
    cleanup();
    return err(input + ": read error");
  }
  AtomicFile out(output);
  if (!out.ok()) {
    cleanup();
    return err("cannot create " + output + ".tmp");
  }
  std::string header(kMagic, sizeof kMagic);
  put_u32(header, kVersion);
  put_u32(header, kKeyBytes);
  put_u64(header, 0);
  out.write(header.data(), header.size());
  std::uint64_t count = 0;
  if (run_paths.empty()) {
    sort_unique(buf);
    out.write(buf.data(), buf.size() * kKeyBytes);
    count = buf.size();
  } else {
    if (!buf.empty()) {
      if (auto s = spill(); !s) {
        cleanup();
        return s.error();
      }
    }
    // k-way merge of the sorted runs, dropping duplicates across runs.
    std::vector<Run> runs(run_paths.size());
    auto later = [&](std::size_t a, std::size_t b) { return runs[b].head < runs[a].head; };
    std::priority_queue<std::size_t, std::vector<std::size_t>, decltype(later)> heap(later);
    for (std::size_t i = 0; i < runs.size(); ++i) {
      runs[i].in.open(run_paths[i], std::ios::binary);
      if (runs[i].next()) heap.push(i);
    }
    std::optional<Key> last;
    while (!heap.empty()) {
      const std::size_t i = heap.top();
      heap.pop();
      if (!last || *last != runs[i].head) {
        out.write(runs[i].head.data(), kKeyBytes);
        last = runs[i].head;
        ++count;
      }
      if (runs[i].next()) heap.push(i);
    }
  }
  stats.runs = run_paths.size();
  cleanup();
  std::string final_header(kMagic, sizeof kMagic);
  put_u32(final_header, kVersion);
  put_u32(final_header, kKeyBytes);
  put_u64(final_header, count);
  out.pwrite_header(final_header);
  if (auto s = out.commit(); !s) return s.error();
  stats.entries = count;
  return stats;
}

}  // namespace mk::auth
