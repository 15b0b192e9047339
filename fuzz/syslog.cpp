// Fuzzes what a log collector reads from the network: RFC 5424 messages, RFC 5425 / RFC 6587
// frames, and the security log records they carry. Invariants (abort when broken): a parsed
// message formats to text that parses to the same fields; the frames of a stream do not
// depend on how it was cut into reads; no frame is longer than the limit.
#include "audit/syslog.hpp"

#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "audit/log.hpp"

namespace {

using namespace mk::audit;

constexpr std::size_t kMaxFrame = 4096;

bool same(const syslog::Message& a, const syslog::Message& b) {
  if (a.pri != b.pri || a.timestamp != b.timestamp || a.hostname != b.hostname || a.app != b.app ||
      a.procid != b.procid || a.msgid != b.msgid || a.msg != b.msg || a.sd.size() != b.sd.size())
    return false;
  for (std::size_t i = 0; i < a.sd.size(); ++i)
    if (a.sd[i].id != b.sd[i].id || a.sd[i].params != b.sd[i].params) return false;
  return true;
}

void round_trip(std::string_view text) {
  auto m = syslog::parse(text);
  if (!m) return;
  auto again = syslog::parse(syslog::format(*m));
  if (!again || !same(*m, *again)) std::abort();
}

struct Stream {
  std::vector<std::string> frames;
  bool failed = false;
};

Stream read_frames(const std::vector<std::string_view>& pieces) {
  syslog::FrameReader reader(kMaxFrame);
  Stream s;
  for (auto p : pieces) {
    const bool was_broken = !reader.error().empty();
    if (reader.put(p) == was_broken) std::abort();  // put() fails exactly when the stream is broken
    while (auto f = reader.next()) {
      if (f->size() > kMaxFrame) std::abort();
      s.frames.push_back(std::move(*f));
    }
  }
  s.failed = !reader.error().empty();
  return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::string why;
  (void)syslog::parse(in, &why);
  round_trip(in);

  // Two reads, cut where the first byte says; the same stream in one read gives the same frames.
  const std::size_t cut = size == 0 ? 0 : std::size_t(data[0]) * size / 256;
  const Stream two = read_frames({in.substr(0, cut), in.substr(cut)});
  const Stream one = read_frames({in});
  if (two.frames != one.frames || two.failed != one.failed) std::abort();
  for (const auto& f : two.frames) round_trip(f);

  RecordHead head;
  (void)ChainCheck().check(in, &head);
  (void)parse_record(in);
  if (auto m = syslog::security_message(in, "mx.example.org", "1")) (void)syslog::format(*m);
  return 0;
}
