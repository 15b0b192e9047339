#include "audit/syslog.hpp"

#include <fmt/format.h>

#include "audit/log.hpp"
#include "base/strings.hpp"

namespace mk::audit::syslog {
namespace {

// RFC 5424 §6: field lengths.
constexpr std::size_t kMaxHostname = 255, kMaxApp = 48, kMaxProcId = 128, kMaxMsgId = 32,
                      kMaxSdName = 32;
constexpr std::size_t kMaxTimestamp = 64;  // FULL-DATE "T" FULL-TIME is at most 32; leave room
constexpr std::size_t kMaxLengthDigits =
    10;  // a frame length beyond 9,999,999,999 is garbage anyway
constexpr std::string_view kBom = "\xEF\xBB\xBF";

bool printusascii(char c) {
  return c >= 33 && c <= 126;
}

std::string escape_value(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '"' || c == '\\' || c == ']') out += '\\';
    out += c;
  }
  return out;
}

std::string nil_or(std::string_view v) {
  return v.empty() ? std::string("-") : std::string(v);
}

struct Cursor {
  std::string_view s;
  std::size_t i = 0;
  std::string why;
  bool fail(std::string w) {
    if (why.empty()) why = std::move(w);
    return false;
  }
  bool at_end() const { return i >= s.size(); }
  bool sp() {
    return i < s.size() && s[i] == ' ' ? (++i, true)
                                       : fail(fmt::format("a space expected at {}", i));
  }
  // A header field: NILVALUE or 1*max PRINTUSASCII.
  bool token(std::size_t max, std::string& out, std::string_view what) {
    const std::size_t start = i;
    while (i < s.size() && printusascii(s[i])) ++i;
    if (i == start) return fail(fmt::format("the {} is missing", what));
    if (i - start > max) return fail(fmt::format("the {} is longer than {} characters", what, max));
    out = std::string(s.substr(start, i - start));
    return true;
  }
};

bool sd_name_char(char c) {
  return printusascii(c) && c != '=' && c != ']' && c != '"';
}

bool sd_name(Cursor& c, std::string& out, std::string_view what) {
  const std::size_t start = c.i;
  while (c.i < c.s.size() && sd_name_char(c.s[c.i])) ++c.i;
  if (c.i == start || c.i - start > kMaxSdName) return c.fail(fmt::format("a bad {} name", what));
  out = std::string(c.s.substr(start, c.i - start));
  return true;
}

bool sd_element(Cursor& c, SdElement& e) {
  ++c.i;  // '['
  if (!sd_name(c, e.id, "SD-ID")) return false;
  while (true) {
    if (c.at_end()) return c.fail("structured data is not closed");
    if (c.s[c.i] == ']') {
      ++c.i;
      return true;
    }
    if (!c.sp()) return false;
    std::string name, value;
    if (!sd_name(c, name, "parameter")) return false;
    if (c.i + 1 >= c.s.size() || c.s[c.i] != '=' || c.s[c.i + 1] != '"')
      return c.fail("a parameter needs =\"value\"");
    c.i += 2;
    while (true) {
      if (c.at_end()) return c.fail("a parameter value is not closed");
      const char ch = c.s[c.i++];
      if (ch == '"') break;
      if (ch == '\\' && !c.at_end() && (c.s[c.i] == '"' || c.s[c.i] == '\\' || c.s[c.i] == ']')) {
        value += c.s[c.i++];
        continue;
      }
      // §6.3.3: ']' must be escaped; an unescaped one is malformed.
      if (ch == ']') return c.fail("an unescaped ] in a parameter value");
      value += ch;
    }
    e.params.emplace_back(std::move(name), std::move(value));
  }
}

}  // namespace

const std::string* SdElement::param(std::string_view name) const {
  for (const auto& [k, v] : params)
    if (k == name) return &v;
  return nullptr;
}

const SdElement* Message::element(std::string_view id) const {
  for (const auto& e : sd)
    if (e.id == id) return &e;
  return nullptr;
}

std::string format(const Message& m) {
  std::string out =
      fmt::format("<{}>1 {} {} {} {} {} ", m.pri, nil_or(m.timestamp), nil_or(m.hostname),
                  nil_or(m.app), nil_or(m.procid), nil_or(m.msgid));
  if (m.sd.empty()) out += '-';
  for (const auto& e : m.sd) {
    out += '[' + e.id;
    for (const auto& [k, v] : e.params) out += fmt::format(" {}=\"{}\"", k, escape_value(v));
    out += ']';
  }
  if (!m.msg.empty()) {
    out += ' ';
    // parse() drops one leading BOM (RFC 5424 §6.4 MSG-UTF8): a text that starts with one
    // keeps it by carrying another.
    if (std::string_view(m.msg).starts_with(kBom)) out += kBom;
    out += m.msg;
  }
  return out;
}

std::string frame(std::string_view msg) {
  return fmt::format("{} {}", msg.size(), msg);
}

std::optional<Message> parse(std::string_view text, std::string* why) {
  Message m;
  Cursor c{text, 0, {}};
  auto bad = [&]() -> std::optional<Message> {
    if (why) *why = c.why;
    return std::nullopt;
  };
  // PRI = "<" 1*3DIGIT ">" (0..191), VERSION "1".
  if (text.size() < 3 || text[0] != '<') return c.fail("not a syslog message (no <PRI>)"), bad();
  const auto close = text.find('>');
  if (close == std::string_view::npos || close < 2 || close > 4)
    return c.fail("a bad <PRI>"), bad();
  const auto pri = parse_u64(text.substr(1, close - 1));
  if (!pri || *pri > 191 || (close > 2 && text[1] == '0')) return c.fail("a bad <PRI>"), bad();
  m.pri = int(*pri);
  c.i = close + 1;
  if (c.i + 1 >= text.size() || text[c.i] != '1' || text[c.i + 1] != ' ')
    return c.fail("not RFC 5424 (VERSION 1 expected)"), bad();
  c.i += 2;
  if (!c.token(kMaxTimestamp, m.timestamp, "TIMESTAMP") || !c.sp() ||
      !c.token(kMaxHostname, m.hostname, "HOSTNAME") || !c.sp() ||
      !c.token(kMaxApp, m.app, "APP-NAME") || !c.sp() || !c.token(kMaxProcId, m.procid, "PROCID") ||
      !c.sp() || !c.token(kMaxMsgId, m.msgid, "MSGID") || !c.sp())
    return bad();
  for (auto* f : {&m.hostname, &m.app, &m.procid, &m.msgid})
    if (*f == "-") f->clear();
  if (c.at_end()) return c.fail("STRUCTURED-DATA is missing"), bad();
  if (text[c.i] == '-') {
    ++c.i;
  } else {
    if (text[c.i] != '[') return c.fail("STRUCTURED-DATA must be - or [...]"), bad();
    while (!c.at_end() && text[c.i] == '[') {
      SdElement e;
      if (!sd_element(c, e)) return bad();
      m.sd.push_back(std::move(e));
    }
  }
  if (!c.at_end()) {
    if (!c.sp()) return bad();
    std::string_view msg = text.substr(c.i);
    if (msg.starts_with(kBom)) msg.remove_prefix(kBom.size());
    m.msg = std::string(msg);
  }
  return m;
}

std::optional<Message> security_message(std::string_view line, std::string_view host,
                                        std::string_view procid) {
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  auto r = parse_record(line);
  if (!r) return std::nullopt;
  Message m;
  m.pri = kSecurityPri;
  m.timestamp = r->ts.empty() ? "-" : r->ts;
  m.hostname = std::string(host);
  m.app = "mailkeep";
  m.procid = std::string(procid);
  m.msgid = std::string(kSecurityMsgId);
  m.sd.push_back({std::string(kChainSdId),
                  {{"seq", std::to_string(r->seq)}, {"prev", r->prev}, {"hash", r->hash}}});
  m.msg = std::string(line);
  return m;
}

Message operational_message(log::Level level, std::string_view ts, std::string_view line,
                            std::string_view host, std::string_view procid) {
  static constexpr int kMail = 2;
  int severity = 6;
  switch (level) {
    case log::Level::error: severity = 3; break;
    case log::Level::warn: severity = 4; break;
    case log::Level::info: severity = 6; break;
    case log::Level::debug: severity = 7; break;
  }
  Message m;
  m.pri = kMail * 8 + severity;
  m.timestamp = ts.empty() ? "-" : std::string(ts);
  m.hostname = std::string(host);
  m.app = "mailkeep";
  m.procid = std::string(procid);
  m.msgid = std::string(kLogMsgId);
  m.msg = std::string(line);
  return m;
}

std::string heartbeat_signed_text(std::string_view host, std::string_view timestamp,
                                  std::uint64_t seq, std::string_view hash,
                                  std::string_view nonce) {
  return fmt::format("mailkeep heartbeat 2\n{}\n{}\n{}\n{}\n{}\n", host, timestamp, seq, hash,
                     nonce);
}

std::string challenge_text(std::string_view nonce) {
  return fmt::format("mailkeep-collector 1 challenge {}", nonce);
}

std::string hello_text(std::uint64_t seq, std::string_view hash) {
  return fmt::format("mailkeep-collector 1 {} {}", seq, hash);
}

std::string ack_text(std::uint64_t seq) {
  return fmt::format("ack {}", seq);
}

std::optional<Reply> parse_reply(std::string_view text) {
  const auto words = split(text, ' ');
  Reply r;
  if (words.size() == 4 && words[0] == "mailkeep-collector" && words[1] == "1" &&
      words[2] == "challenge" && !words[3].empty() && words[3].size() <= 64) {
    r.kind = Reply::Kind::challenge;
    r.nonce = std::string(words[3]);
    return r;
  }
  if (words.size() == 4 && words[0] == "mailkeep-collector" && words[1] == "1" &&
      words[3].size() == 64) {
    r.kind = Reply::Kind::hello;
    r.hash = std::string(words[3]);
  } else if (words.size() != 2 || words[0] != "ack") {
    return std::nullopt;
  }
  auto seq = parse_u64(words[r.kind == Reply::Kind::hello ? 2 : 1]);
  if (!seq) return std::nullopt;
  r.seq = *seq;
  return r;
}

bool FrameReader::put(std::string_view bytes) {
  if (!error_.empty()) return false;
  if (pos_ > 0 && pos_ >= buf_.size() / 2) {
    buf_.erase(0, pos_);
    pos_ = 0;
  }
  buf_.append(bytes);
  return true;
}

std::optional<std::string> FrameReader::next() {
  if (!error_.empty() || pos_ >= buf_.size()) return std::nullopt;
  const std::string_view rest = std::string_view(buf_).substr(pos_);
  if (rest[0] == '<') {  // RFC 6587 §3.4.2: up to LF
    const auto lf = rest.find('\n');
    if (lf == std::string_view::npos) {
      if (rest.size() > max_) error_ = fmt::format("a line longer than {} bytes", max_);
      return std::nullopt;
    }
    if (lf > max_) {
      error_ = fmt::format("a line longer than {} bytes", max_);
      return std::nullopt;
    }
    std::string out(rest.substr(0, lf));
    if (!out.empty() && out.back() == '\r') out.pop_back();
    pos_ += lf + 1;
    return out;
  }
  std::size_t d = 0;
  while (d < rest.size() && d <= kMaxLengthDigits && rest[d] >= '0' && rest[d] <= '9') ++d;
  if (d == rest.size()) {
    if (d > kMaxLengthDigits) error_ = "a frame length with too many digits";
    return std::nullopt;
  }
  if (d == 0 || rest[0] == '0' || d > kMaxLengthDigits || rest[d] != ' ') {
    error_ = "not a syslog frame (RFC 5425 wants \"LENGTH SP MESSAGE\")";
    return std::nullopt;
  }
  const auto len = parse_u64(rest.substr(0, d));
  if (!len || *len > max_) {
    error_ = fmt::format("a frame of {} bytes, more than the {} allowed", rest.substr(0, d), max_);
    return std::nullopt;
  }
  if (rest.size() < d + 1 + *len) return std::nullopt;
  std::string out(rest.substr(d + 1, *len));
  pos_ += d + 1 + *len;
  return out;
}

}  // namespace mk::audit::syslog
