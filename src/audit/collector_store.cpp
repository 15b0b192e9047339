#include "audit/collector_store.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <optional>
#include <vector>

#include "audit/collector.hpp"
#include "base/strings.hpp"

namespace mk::audit {

namespace {

// Earlier stored segments are security.upto-SEQ.log (SEQ zero-padded to 12 digits).
constexpr std::string_view kSegmentPrefix = "security.upto-";
// A host name may be 255 bytes; a file name with ".log" after it must stay under NAME_MAX.
constexpr std::size_t kMaxFileName = 200;

struct Switch {
  std::uint64_t after = 0;
  std::string hash;
  std::uint64_t from = 0;
  std::string prev;
};

std::string format_switch(const Switch& w) {
  return fmt::format("after {} {} from {} {}", w.after, w.hash, w.from, w.prev);
}

std::vector<Switch> read_switches(const std::string& dir) {
  std::vector<Switch> out;
  std::ifstream in(dir + "/segments.log");
  std::string word1, word2;
  Switch w;
  while (in >> word1 >> w.after >> w.hash >> word2 >> w.from >> w.prev) {
    if (word1 != "after" || word2 != "from") break;
    out.push_back(w);
  }
  return out;
}

std::optional<Switch> last_switch(const std::string& dir) {
  auto all = read_switches(dir);
  if (all.empty()) return std::nullopt;
  return all.back();
}

// The chain position a new segment's head holds until its first record is stored.
Head switch_anchor(const std::string& dir) {
  auto w = last_switch(dir);
  if (!w || w->from == 0) return Head{};
  return Head{w->from - 1, w->prev};
}

// The first record of a segment file (nullopt when it has none).
std::optional<RecordHead> first_record(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::string line;
  while (read_line(in, line) != LineRead::end)
    if (!line.empty()) {
      auto r = parse_record(line);
      if (r) r->hashed = {};  // points into `line`
      return r;
    }
  return std::nullopt;
}

// The earlier segments stored in a server's directory, oldest first.
std::vector<std::string> earlier_segments(const std::string& dir) {
  std::vector<std::string> out;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (const dirent* e = ::readdir(d)) {
      const std::string_view n = e->d_name;
      if (n.starts_with(kSegmentPrefix) && n.ends_with(".log")) out.push_back(dir + "/" + std::string(n));
    }
    ::closedir(d);
  }
  std::sort(out.begin(), out.end());  // zero-padded: in order
  return out;
}

}  // namespace

std::string collector_file_name(std::string_view name) {
  std::string out;
  for (char c : name)
    out += std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' ? c : '_';
  out.resize(std::min<std::size_t>(out.size(), kMaxFileName));
  return out.empty() || out[0] == '.' ? "_" + out : out;
}

Status make_private_dirs(const std::string& path) {
  std::string cur;
  for (auto part : split(path, '/')) {
    cur += std::string(part) + "/";
    if (part.empty()) continue;
    if (::mkdir(cur.c_str(), 0700) != 0 && errno != EEXIST) return err("cannot create " + cur);
  }
  return {};
}

Status AppendFile::open(const std::string& path) {
  close();
  path_ = path;
  fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  struct stat st {};
  if (fd_ >= 0 && ::fstat(fd_, &st) == 0) size_ = st.st_size;
  return fd_ < 0 ? err("cannot open " + path) : Status{};
}

void AppendFile::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

Status AppendFile::sync() {
  if (pending_.empty()) return {};
  const bool ok = ::write(fd_, pending_.data(), pending_.size()) == ssize_t(pending_.size()) &&
                  ::fdatasync(fd_) == 0;
  const std::size_t n = pending_.size();
  pending_.clear();
  if (ok) {
    size_ += off_t(n);
    return {};
  }
  const std::string why = std::strerror(errno);
  if (::ftruncate(fd_, size_) != 0)
    return err(fmt::format("cannot write {} ({}), nor cut it back to its last good end ({})", path_, why,
                           std::strerror(errno)));
  return err(fmt::format("cannot write {} ({})", path_, why));
}

VerifyReport verify_collected(const std::string& data_dir, const std::string& server) {
  const std::string dir = data_dir + "/servers/" + collector_file_name(server);
  const auto segments = collector_segments(data_dir, server);
  const auto switches = read_switches(dir);
  VerifyReport total;
  std::uint64_t last = 0;  // the previous segment's last record
  for (std::size_t i = 0; i < segments.size(); ++i) {
    const std::string& path = segments[i];
    const VerifyReport r = verify(path, true);
    total.records += r.records;
    if (!r.ok) {
      total.ok = false;
      total.problem = r.problem;
      return total;
    }
    const auto first = first_record(path);
    auto fail = [&](std::string why) {
      total.ok = false;
      total.problem = path + ": " + why;
      return total;
    };
    if (first) {
      // A segment begins at record 1, or where segments.log says one began after a gap.
      const bool recorded = std::any_of(switches.begin(), switches.end(), [&](const Switch& w) {
        return w.from == first->seq && w.prev == first->prev && w.after == last;
      });
      if (!(first->seq == 1 && last == 0) && !recorded)
        return fail(fmt::format("begins at record {} after record {}, and no gap was recorded there: records "
                                "were cut off its start, or a segment before it was removed",
                                first->seq, last));
      last = first->seq + r.records - 1;
    }
    const std::string name = path.substr(path.rfind('/') + 1);
    if (name.starts_with(kSegmentPrefix)) {
      const auto named = parse_u64(name.substr(kSegmentPrefix.size(), name.size() - kSegmentPrefix.size() - 4));
      if (!named || *named != last)
        return fail(fmt::format("is named for record {} but ends at record {}", named ? *named : 0, last));
    }
  }
  // Every recorded gap has its segment: one removed whole shows here.
  for (const auto& w : switches)
    if (w.after > last)
      return VerifyReport{total.records, false,
                          fmt::format("{}/segments.log: a segment after record {} is missing", dir, w.after)};
  return total;
}

std::string collector_chain_path(const std::string& data_dir, const std::string& server) {
  return data_dir + "/servers/" + collector_file_name(server) + "/security.log";
}

std::vector<std::string> collector_segments(const std::string& data_dir, const std::string& server) {
  const std::string dir = data_dir + "/servers/" + collector_file_name(server);
  auto out = earlier_segments(dir);
  out.push_back(dir + "/security.log");
  return out;
}

std::string escape_line(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto u = static_cast<unsigned char>(text[i]);
    const bool c1 = u == 0xc2 && i + 1 < text.size() && static_cast<unsigned char>(text[i + 1]) >= 0x80 &&
                    static_cast<unsigned char>(text[i + 1]) <= 0x9f;
    if (c1) {
      out += fmt::format("\\xc2\\x{:02x}", static_cast<unsigned char>(text[++i]));
    } else if (u < 0x20 || u == 0x7f || u == '\\') {
      out += fmt::format("\\x{:02x}", u);
    } else {
      out += text[i];
    }
  }
  return out;
}

bool CappedLog::add(std::string_view received, std::string_view text, bool& first_drop) {
  const std::string line = std::string(received) + " " + escape_line(text);
  first_drop = false;
  const std::uint64_t used = shared_used_ ? *shared_used_ : file_.size();
  if (dropped_ > 0 || used + line.size() + 1 > limit_) {
    first_drop = dropped_++ == 0;
    return false;
  }
  file_.add(line);
  if (shared_used_) *shared_used_ += line.size() + 1;
  return true;
}

Status StoredChain::open(const std::string& dir, const std::string& server, log::Logger logger,
                         std::string& damaged) {
  dir_ = dir;
  server_ = server;
  logger_ = std::move(logger);
  if (auto st = make_private_dirs(dir_); !st) return st;
  const std::string path = dir_ + "/security.log";
  if (auto st = unlinked_.open(dir_ + "/unlinked.log"); !st) return st;
  if (auto st = switches_.open(dir_ + "/segments.log"); !st) return st;
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0)
    if (auto r = recover(path, damaged); !r) return r;
  synced_ = chain_;
  segments_ = earlier_segments(dir_).size();
  return records_.open(path);
}

Status StoredChain::recover(const std::string& path, std::string& damaged) {
  std::ifstream in(path, std::ios::binary);
  std::string line, bad_line;
  ChainCheck chain;
  std::int64_t good = 0, offset = 0;
  std::string broken;
  std::size_t after = 0;  // records after the first that did not link
  bool unterminated = false;
  bool terminated = false;
  // A line past kMaxRecordLine is kept cut, so it cannot link (its hash is at its end): it is
  // damage, and where it ends no longer matters.
  while (read_line(in, line, &terminated) != LineRead::end) {
    offset += std::int64_t(line.size()) + (terminated ? 1 : 0);
    if (line.empty()) continue;
    if (!broken.empty()) {
      ++after;
      continue;
    }
    RecordHead head;
    auto link = chain.check(line, &head);
    if (link == ChainCheck::Link::gap && chain.seq() == 0) {
      // A segment begun after a gap starts where segments.log says, nowhere else: records
      // cut off the start of a stored segment are damage.
      const auto last = last_switch(dir_);
      if (last && last->from == head.seq && last->prev == head.prev) {
        chain = ChainCheck(head.seq - 1, head.prev);
        link = chain.check(line, &head);
      }
    }
    if (link == ChainCheck::Link::ok) {
      chain.advance(head);
      good = offset;
      unterminated = !terminated;
    } else {
      broken = fmt::format("record {}: {}", head.seq, ChainCheck::describe(link));
      bad_line = line;
    }
  }
  in.close();
  if (!broken.empty() && after == 0) {
    // The last record is not whole: the collector died while writing it. It is kept aside
    // and cut off; the server sends it again.
    unlinked_.add("cut off at start (half written) " + bad_line);
    if (auto st = unlinked_.sync(); !st) return st;
    if (::truncate(path.c_str(), good) != 0) return err("cannot cut the half-written end of " + path);
    logger_.warn("collector.recovered", {{"server", server_}, {"why", "a half-written last record was cut off"}});
    broken.clear();
  }
  if (unterminated && broken.empty()) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
    if (fd < 0 || ::write(fd, "\n", 1) != 1 || ::fdatasync(fd) != 0) {
      if (fd >= 0) ::close(fd);
      return err("cannot end the last line of " + path);
    }
    ::close(fd);
  }
  if (!broken.empty()) {
    damaged = broken;
    const Head head = read_head(path);
    chain = ChainCheck(head.seq, head.hash);
  } else if (const Head head = read_head(path), anchor = switch_anchor(dir_);
             chain.seq() == 0 && head.seq > 0 && head.seq == anchor.seq && head.hash == anchor.hash) {
    chain = ChainCheck(head.seq, head.hash);  // a new segment, its first record not stored yet
  } else if (head.seq != chain.seq() || head.hash != chain.hash()) {
    // The crash came between the records and their head file.
    if (chain.seq() > 0)
      if (auto st = audit::write_head(path, chain.seq(), chain.hash()); !st) return st;
  }
  chain_ = chain;
  return {};
}

void StoredChain::add(std::string_view record, const RecordHead& head) {
  records_.add(record);
  chain_.advance(head);
  pending_seq_ = head.seq;
  pending_hash_ = head.hash;
}

Status StoredChain::keep_unlinked(std::string_view line) {
  unlinked_.add(line);
  return unlinked_.sync();
}

// The order matters for recovery: segments.log first, then the head, then the records.
Status StoredChain::new_segment(const RecordHead& first) {
  if (auto st = sync(); !st) return st;
  // First on record: where the new segment begins and what it follows, so that recovery
  // and `collector verify` tell a segment begun here from records cut off a stored one.
  switches_.add(format_switch({chain_.seq(), chain_.hash(), first.seq, first.prev}));
  if (auto st = switches_.sync(); !st) return st;
  const std::string path = dir_ + "/security.log";
  if (chain_.seq() > 0) {
    const std::string old = fmt::format("{}/{}{:012}.log", dir_, kSegmentPrefix, chain_.seq());
    records_.close();
    // The head first: a crash between the two leaves the segment where it was, with its
    // head rewritten at the restart. The records never replace a stored segment.
    const bool moved = ::rename((path + ".head").c_str(), (old + ".head").c_str()) == 0 &&
                       ::renameat2(AT_FDCWD, path.c_str(), AT_FDCWD, old.c_str(), RENAME_NOREPLACE) == 0;
    if (auto st = records_.open(path); !st) return st;
    if (!moved) return err(fmt::format("cannot move {} aside to {}", path, old));
  }
  // The new segment's head is its anchor until its first record is stored.
  if (auto st = audit::write_head(path, first.seq - 1, first.prev); !st) return st;
  if (const int dfd = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dfd >= 0) {
    (void)::fsync(dfd);
    ::close(dfd);
  }
  ++segments_;
  logger_.warn("collector.segment", {{"server", server_}, {"stored_up_to", chain_.seq()}, {"from", first.seq}});
  chain_ = ChainCheck(first.seq - 1, first.prev);
  synced_ = chain_;
  return {};
}

Status StoredChain::write_head() {
  const std::uint64_t seq = std::exchange(pending_seq_, 0);
  return audit::write_head(dir_ + "/security.log", seq, pending_hash_);
}

Status StoredChain::sync() {
  if (auto st = records_.sync(); !st) {
    chain_ = synced_;
    pending_seq_ = 0;
    return st;
  }
  synced_ = chain_;
  if (pending_seq_ == 0) return {};
  return write_head();
}

}  // namespace mk::audit
