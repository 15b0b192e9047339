#include "audit/log.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <openssl/sha.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <fstream>
#include <optional>

#include <fmt/format.h>

#include "base/strings.hpp"

namespace mk::audit {
namespace {

const std::string kZero(64, '0');
constexpr std::string_view kHashKey = "\"hash\":\"";

std::string sha256_hex(std::string_view data) {
  unsigned char d[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), d);
  return hex(std::string_view(reinterpret_cast<char*>(d), sizeof d));
}

std::string json(std::string_view s) {
  std::string out;
  append_json_string(out, s);
  return out;
}

std::string now_iso() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return fmt::format("{}.{:03d}Z", buf, int(ms));
}

// The fields a record line is checked by: its seq, prev and hash, and the hashed part.
struct Parsed {
  std::uint64_t seq = 0;
  std::string prev, hash;
  std::string_view hashed;
};

std::optional<Parsed> parse_line(std::string_view line) {
  Parsed p;
  const auto h = line.rfind(kHashKey);
  if (h == std::string_view::npos || !line.ends_with("\"}")) return std::nullopt;
  p.hashed = line.substr(0, h);
  p.hash = std::string(line.substr(h + kHashKey.size(), line.size() - h - kHashKey.size() - 2));
  const auto pv = line.rfind("\"prev\":\"", h);
  if (pv == std::string_view::npos) return std::nullopt;
  p.prev = std::string(line.substr(pv + 8, 64));
  if (!line.starts_with("{\"seq\":")) return std::nullopt;
  auto comma = line.find(',');
  auto seq = parse_u64(line.substr(7, comma - 7));
  if (!seq) return std::nullopt;
  p.seq = *seq;
  return p;
}

std::string head_path(const std::string& path) { return path + ".head"; }

Status write_head(const std::string& path, std::uint64_t seq, const std::string& hash) {
  const std::string tmp = head_path(path) + ".tmp", text = fmt::format("{} {}\n", seq, hash);
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return err("cannot write " + tmp);
  const bool ok = ::write(fd, text.data(), text.size()) == ssize_t(text.size()) && ::fdatasync(fd) == 0;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), head_path(path).c_str()) != 0) return err("cannot write " + head_path(path));
  return {};
}

}  // namespace

Result<std::unique_ptr<Log>> Log::open(const std::string& path) {
  std::unique_ptr<Log> log(new Log());
  log->path_ = path;
  log->prev_ = kZero;
  log->size_ = -1;
  log->fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (log->fd_ < 0) return err("cannot open the security log " + path);
  if (::flock(log->fd_, LOCK_SH) == 0) {
    auto s = log->catch_up();
    ::flock(log->fd_, LOCK_UN);
    if (!s) return s.error();
  }
  return log;
}

Status Log::catch_up() {
  struct stat st{};
  if (::fstat(fd_, &st) != 0) return err("cannot read the security log " + path_);
  if (std::int64_t(st.st_size) == size_) return {};
  std::ifstream in(path_, std::ios::binary);
  std::string line, last;
  // Only the tail matters: start near the end when the file is large.
  constexpr std::int64_t kTail = 64 * 1024;
  if (st.st_size > kTail) {
    in.seekg(st.st_size - kTail);
    std::getline(in, line);  // a partial line
  }
  while (std::getline(in, line))
    if (!line.empty()) last = line;
  if (!last.empty()) {
    auto p = parse_line(last);
    if (!p) return err(path_ + ": the last record is damaged; check it with `mailkeep audit verify`");
    seq_ = p->seq;
    prev_ = p->hash;
  }
  size_ = std::int64_t(st.st_size);
  return {};
}

Log::~Log() {
  if (fd_ >= 0) ::close(fd_);
}

Status Log::append(std::string_view event, const Fields& fields) {
  std::lock_guard lock(mu_);
  if (::flock(fd_, LOCK_EX) != 0) return err("cannot lock the security log " + path_);
  struct Unlock {
    int fd;
    ~Unlock() { ::flock(fd, LOCK_UN); }
  } unlock{fd_};
  if (auto s = catch_up(); !s) return s;
  std::string line = fmt::format("{{\"seq\":{},\"ts\":\"{}\",\"event\":{}", seq_ + 1, now_iso(), json(event));
  for (const auto& [k, v] : fields) line += fmt::format(",{}:{}", json(k), json(v));
  line += fmt::format(",\"prev\":\"{}\",", prev_);
  const std::string hash = sha256_hex(prev_ + line);
  line += fmt::format("\"hash\":\"{}\"}}\n", hash);
  if (::write(fd_, line.data(), line.size()) != ssize_t(line.size()) || ::fdatasync(fd_) != 0)
    return err("cannot write the security log " + path_);
  ++seq_;
  prev_ = hash;
  size_ += std::int64_t(line.size());
  return write_head(path_, seq_, hash);
}

VerifyReport verify(const std::string& path) {
  VerifyReport r;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    r.ok = false;
    r.problem = path + ": cannot read the security log";
    return r;
  }
  std::string prev = kZero, line;
  std::uint64_t lineno = 0;
  auto bad = [&](std::string why) {
    r.ok = false;
    r.problem = fmt::format("{}:{}: {}", path, lineno, why);
    return r;
  };
  while (std::getline(in, line)) {
    ++lineno;
    if (line.empty()) continue;
    auto p = parse_line(line);
    if (!p) return bad("not a security log record");
    if (p->seq != r.records + 1) return bad(fmt::format("record {} follows record {}: records were removed", p->seq, r.records));
    if (p->prev != prev) return bad("the chain is broken: the record before was changed or removed");
    if (sha256_hex(prev + std::string(p->hashed)) != p->hash) return bad("the record was changed (its hash does not match)");
    prev = p->hash;
    ++r.records;
  }
  std::ifstream head(head_path(path));
  std::uint64_t seq = 0;
  std::string hash;
  if (head >> seq >> hash) {
    if (seq != r.records || hash != prev) {
      r.ok = false;
      r.problem = fmt::format("{}: ends at record {} but record {} was written: records were cut off the end",
                              path, r.records, seq);
    }
  } else if (r.records > 0) {
    r.ok = false;
    r.problem = head_path(path) + ": missing; the log's end cannot be checked";
  }
  return r;
}

}  // namespace mk::audit
