#include "audit/log.hpp"

#include <algorithm>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <openssl/sha.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <fstream>
#include <optional>
#include <utility>

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

std::string head_path(const std::string& path) { return path + ".head"; }

}  // namespace

Status write_head(const std::string& path, std::uint64_t seq, const std::string& hash) {
  const std::string tmp = head_path(path) + ".tmp", text = fmt::format("{} {}\n", seq, hash);
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return err("cannot write " + tmp);
  const bool ok = ::write(fd, text.data(), text.size()) == ssize_t(text.size()) && ::fdatasync(fd) == 0;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), head_path(path).c_str()) != 0) return err("cannot write " + head_path(path));
  return {};
}

std::string record_time() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return fmt::format("{}.{:03d}Z", buf, int(ms));
}

std::optional<RecordHead> parse_record(std::string_view line) {
  RecordHead p;
  const auto h = line.rfind(kHashKey);
  if (h == std::string_view::npos || !line.ends_with("\"}")) return std::nullopt;
  p.hashed = line.substr(0, h);
  p.hash = std::string(line.substr(h + kHashKey.size(), line.size() - h - kHashKey.size() - 2));
  const auto pv = line.rfind("\"prev\":\"", h);
  if (pv == std::string_view::npos || pv + 8 + 64 > h) return std::nullopt;
  p.prev = std::string(line.substr(pv + 8, 64));
  if (!line.starts_with("{\"seq\":")) return std::nullopt;
  const auto comma = line.find(',');
  auto seq = parse_u64(line.substr(7, comma - 7));
  if (!seq) return std::nullopt;
  p.seq = *seq;
  constexpr std::string_view kTs = ",\"ts\":\"";
  if (line.substr(comma).starts_with(kTs)) {
    const auto end = line.find('"', comma + kTs.size());
    if (end != std::string_view::npos) p.ts = std::string(line.substr(comma + kTs.size(), end - comma - kTs.size()));
  }
  return p;
}

ChainCheck::Link ChainCheck::check(std::string_view line, RecordHead* head) const {
  auto r = parse_record(line);
  // Sequence numbers start at 1 and never come near the top of their range: one that does
  // (or 0) could wrap the chain around to history it has already passed.
  if (!r || r->seq == 0 || r->seq > kMaxSeq) return Link::not_a_record;
  if (head) *head = *r;
  if (sha256_hex(r->prev + std::string(r->hashed)) != r->hash) return Link::bad_hash;
  if (r->seq == seq_ + 1) return r->prev == hash_ ? Link::ok : Link::broken;
  if (r->seq == 1 && seq_ > 0) return Link::restarted;
  return r->seq > seq_ ? Link::gap : Link::replayed;
}

void ChainCheck::advance(const RecordHead& r) {
  seq_ = r.seq;
  hash_ = r.hash;
}

std::string_view ChainCheck::describe(Link l) {
  switch (l) {
    case Link::ok: return "links to the record before";
    case Link::not_a_record: return "not a security log record";
    case Link::bad_hash: return "the record was changed (its hash does not match)";
    case Link::gap: return "records were removed (the sequence number skips)";
    case Link::broken: return "the chain is broken: the record before was changed or removed";
    case Link::restarted: return "the chain starts again at record 1: the log was deleted or replaced";
    case Link::replayed: return "a record at or before one already seen: an old copy of the log";
  }
  return "?";
}

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
    auto p = parse_record(last);
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

std::string Log::changed_file() {
  struct stat by_name{}, by_fd{};
  if (::fstat(fd_, &by_fd) != 0) return {};
  std::string why;
  if (::stat(path_.c_str(), &by_name) != 0) why = "deleted";
  else if (by_name.st_ino != by_fd.st_ino || by_name.st_dev != by_fd.st_dev) why = "replaced";
  else if (size_ >= 0 && std::int64_t(by_fd.st_size) < size_) why = "cut";
  if (why.empty()) return why;
  why = fmt::format("the security log was {}: it had {} bytes up to record {}, now {} bytes", why, size_, seq_,
                    why == "cut" ? std::int64_t(by_fd.st_size) : std::int64_t(by_name.st_size));
  if (!why.starts_with("the security log was cut")) {
    ::close(fd_);
    fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  }
  return why;
}

Status Log::check_file() {
  std::lock_guard lock(mu_);
  return append_locked({}, {});
}

Status Log::append(std::string_view event, const Fields& fields) {
  std::lock_guard lock(mu_);
  return append_locked(event, fields);
}

// An empty event only checks the file (check_file).
Status Log::append_locked(std::string_view event, const Fields& fields) {
  const std::string changed = changed_file();
  if (fd_ < 0) return err("cannot open the security log " + path_);
  if (::flock(fd_, LOCK_EX) != 0) return err("cannot lock the security log " + path_);
  struct Unlock {
    int fd;
    ~Unlock() { ::flock(fd, LOCK_UN); }
  } unlock{fd_};
  std::string line_break;  // a cut may leave half a line: the next record starts a line of its own
  if (!changed.empty()) {
    // The chain goes on from what this process wrote, not from what the file now says: the
    // records after the change link to the history the collectors hold.
    struct stat st{};
    if (::fstat(fd_, &st) == 0) size_ = std::int64_t(st.st_size);
    char last = '\n';
    const int rfd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (rfd >= 0 && size_ > 0 && ::pread(rfd, &last, 1, size_ - 1) == 1 && last != '\n') line_break = "\n";
    if (rfd >= 0) ::close(rfd);
  } else if (auto s = catch_up(); !s) {
    return s;
  }
  std::vector<std::pair<std::string, Fields>> records;
  if (!changed.empty()) records.push_back({"security_log_tampered", {{"what", changed}}});
  if (!event.empty()) records.push_back({std::string(event), fields});
  for (const auto& [ev, fs] : records) {
    std::string line = fmt::format("{{\"seq\":{},\"ts\":\"{}\",\"event\":{}", seq_ + 1, record_time(), json(ev));
    for (const auto& [k, v] : fs) line += fmt::format(",{}:{}", json(k), json(v));
    line += fmt::format(",\"prev\":\"{}\",", prev_);
    const std::string hash = sha256_hex(prev_ + line);
    line += fmt::format("\"hash\":\"{}\"}}\n", hash);
    line.insert(0, std::exchange(line_break, {}));
    if (::write(fd_, line.data(), line.size()) != ssize_t(line.size()) || ::fdatasync(fd_) != 0)
      return err("cannot write the security log " + path_);
    ++seq_;
    prev_ = hash;
    size_ += std::int64_t(line.size());
  }
  if (records.empty()) return {};
  auto s = write_head(path_, seq_, prev_);
  if (on_append_) on_append_();
  return s;
}

Head read_head(const std::string& log_path) {
  Head h;
  std::ifstream in(head_path(log_path));
  std::uint64_t seq = 0;
  std::string hash;
  if (in >> seq >> hash && hash.size() == 64) {
    h.seq = seq;
    h.hash = hash;
  }
  return h;
}

LineRead read_line(std::istream& in, std::string& line, bool* terminated) {
  line.clear();
  std::streambuf* buf = in.rdbuf();
  bool any = false, too_long = false;
  for (;;) {
    const int c = buf->sbumpc();
    if (c == std::char_traits<char>::eof()) {
      in.setstate(std::ios::eofbit);
      if (terminated) *terminated = false;
      if (!any) return LineRead::end;
      break;
    }
    any = true;
    if (c == '\n') {
      if (terminated) *terminated = true;
      break;
    }
    if (line.size() < kMaxRecordLine)
      line += char(c);
    else
      too_long = true;
  }
  return too_long ? LineRead::too_long : LineRead::ok;
}

Result<std::vector<std::string>> read_tail(const std::string& path, std::size_t count) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return err(path + ": cannot read the security log");
  in.seekg(0, std::ios::end);
  const std::int64_t size = in.tellg();
  // Grow a window from the end until it holds count whole lines (or the whole file); the
  // window never exceeds the lines' bound, so an attacker's giant line costs no more.
  const std::int64_t most = std::min<std::int64_t>(std::int64_t(count + 1) * std::int64_t(kMaxRecordLine + 1),
                                                  std::int64_t(kMaxTailBytes));
  std::int64_t window = std::min<std::int64_t>(size, 64 * 1024);
  std::string data;
  for (;;) {
    data.assign(std::size_t(window), '\0');
    in.clear();
    in.seekg(size - window);
    in.read(data.data(), window);
    if (in.gcount() != window) return err(path + ": the security log changed while being read");
    std::size_t lines = 0;
    for (char ch : data) lines += ch == '\n';
    if (window == size || window >= most || lines > count) break;
    window = std::min({size, window * 4, most});
  }
  std::vector<std::string> out;
  std::size_t end = data.size();
  if (end > 0 && data[end - 1] == '\n') --end;
  while (out.size() < count && end > 0) {
    const auto nl = data.rfind('\n', end - 1);
    const std::size_t start = nl == std::string::npos ? 0 : nl + 1;
    if (nl == std::string::npos && window < size) break;  // a line cut by the window: not whole
    out.push_back(data.substr(start, std::min(end - start, kMaxRecordLine)));
    if (nl == std::string::npos) break;
    end = nl;
  }
  std::reverse(out.begin(), out.end());
  return out;
}

VerifyReport verify(const std::string& path, bool segment) {
  VerifyReport r;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    r.ok = false;
    r.problem = path + ": cannot read the security log";
    return r;
  }
  ChainCheck chain;
  std::string line;
  std::uint64_t lineno = 0;
  for (LineRead got; (got = read_line(in, line)) != LineRead::end;) {
    ++lineno;
    if (got == LineRead::too_long) {
      r.ok = false;
      r.problem = fmt::format("{}:{}: a line longer than {} bytes is not a record: the file was damaged or edited",
                              path, lineno, kMaxRecordLine);
      return r;
    }
    if (line.empty()) continue;
    RecordHead head;
    auto link = chain.check(line, &head);
    if (segment && link == ChainCheck::Link::gap && r.records == 0) {
      chain = ChainCheck(head.seq - 1, head.prev);  // where the segment begins
      link = chain.check(line, &head);
    }
    if (link != ChainCheck::Link::ok) {
      r.ok = false;
      r.problem = link == ChainCheck::Link::gap || link == ChainCheck::Link::replayed
                      ? fmt::format("{}:{}: record {} follows record {}: records were removed", path, lineno, head.seq, chain.seq())
                      : fmt::format("{}:{}: {}", path, lineno, ChainCheck::describe(link));
      return r;
    }
    chain.advance(head);
    ++r.records;
  }
  const std::string prev = chain.hash();
  std::ifstream head(head_path(path));
  std::uint64_t seq = 0;
  std::string hash;
  if (head >> seq >> hash) {
    if (seq != chain.seq() || hash != prev) {
      r.ok = false;
      r.problem = fmt::format("{}: ends at record {} but record {} was written: records were cut off the end",
                              path, chain.seq(), seq);
    }
  } else if (r.records > 0) {
    r.ok = false;
    r.problem = head_path(path) + ": missing; the log's end cannot be checked";
  }
  return r;
}

}  // namespace mk::audit
