// audit/syslog.hpp: syslog messages as the log shipper sends and the collector reads them,
// without I/O.
//
// STANDARDS: RFC 5424 (the syslog message: header, structured data, MSG), RFC 5425 §4.3
// (octet-counting frames over TLS: "MSG-LEN SP SYSLOG-MSG"), RFC 6587 §3.4.2 (the
// non-transparent framing, one message per LF-ended line, which rsyslog's plain senders use).
//
// What mailkeep sends, one message per frame:
//   security record: <109>1 TS HOST mailkeep PID security [chain@32473 seq="N" prev="H" hash="H"]
//   {json}
//     (facility 13 "log audit", severity 5); MSG is the security log's line, byte for byte,
//     so a receiver can check the record's hash on its own.
//   heartbeat: <110>1 TS HOST mailkeep PID heartbeat [beat@32473 seq="N" hash="H" nonce="X"
//   sig="B64"]
//     the log's head at TS, signed with the collector's challenge by the server's log key
//     (audit/signing.hpp).
//   operational log line: <PRI>1 TS HOST mailkeep PID log - LINE
//     (facility 2 "mail", the line's level as severity: error 3, warn 4, info 6, debug 7); LINE
//     is the line as the server logged it (logfmt or JSON), TS when it was logged.
// 32473 is IANA's example enterprise number (RFC 5612); SD-IDs with it are private names.
//
// SECURITY: everything here is untrusted on the collector's side: a frame's length is checked
// before its bytes are kept, every header field is bounded and checked for RFC 5424's
// characters (TIMESTAMP's form is the collector's business: it compares heartbeat times), and
// the reader holds the bytes of one read beyond the frame being read, no more.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/log.hpp"

namespace mk::audit::syslog {

inline constexpr std::string_view kSecurityMsgId = "security";
inline constexpr std::string_view kHeartbeatMsgId = "heartbeat";
inline constexpr std::string_view kLogMsgId = "log";
inline constexpr std::string_view kChainSdId = "chain@32473";
inline constexpr std::string_view kBeatSdId = "beat@32473";
inline constexpr int kSecurityPri = 13 * 8 + 5;   // log audit, notice
inline constexpr int kHeartbeatPri = 13 * 8 + 6;  // log audit, informational

struct SdElement {
  std::string id;
  std::vector<std::pair<std::string, std::string>> params;
  const std::string* param(std::string_view name) const;
};

struct Message {
  int pri = 0;
  std::string timestamp;  // "-" when absent
  std::string hostname;
  std::string app;
  std::string procid;
  std::string msgid;
  std::vector<SdElement> sd;
  std::string msg;  // without a leading UTF-8 BOM
  const SdElement* element(std::string_view id) const;
};

// The SYSLOG-MSG (no frame); values are escaped as RFC 5424 §6.3.3 asks.
std::string format(const Message& m);
// "LEN SP MSG" (RFC 5425 §4.3).
std::string frame(std::string_view msg);

// Parses one SYSLOG-MSG; nullopt when it is not RFC 5424 (the reason in *why).
std::optional<Message> parse(std::string_view text, std::string* why = nullptr);

// A security log line as the message that carries it; nullopt when the line is not a record.
std::optional<Message> security_message(std::string_view line, std::string_view host,
                                        std::string_view procid);

// An operational log line (log::Tap) as the message that carries it.
Message operational_message(log::Level level, std::string_view ts, std::string_view line,
                            std::string_view host, std::string_view procid);

// The bytes a heartbeat's signature covers. nonce: the collector's challenge on this
// connection ("-" for a collector that sends none), so a heartbeat cannot be replayed on
// another connection.
std::string heartbeat_signed_text(std::string_view host, std::string_view timestamp,
                                  std::uint64_t seq, std::string_view hash, std::string_view nonce);

// The collector's answers on the same connection, framed like the messages. Not syslog:
// RFC 5425 has no return channel, rsyslog sends nothing back, and mailkeep's collector says
// where its copy of the chain stands when a server names itself (hello) and which record it
// has stored durably (ack), so a server resends exactly what did not arrive.
struct Reply {
  enum class Kind { challenge, hello, ack } kind = Kind::ack;
  std::uint64_t seq = 0;
  std::string hash;   // hello
  std::string nonce;  // challenge
};
// Sent first on each connection: the heartbeat must sign it.
std::string challenge_text(std::string_view nonce);  // "mailkeep-collector 1 challenge NONCE"
std::string hello_text(std::uint64_t seq,
                       std::string_view hash);  // "mailkeep-collector 1 SEQ HASH"
std::string ack_text(std::uint64_t seq);        // "ack SEQ"
std::optional<Reply> parse_reply(std::string_view text);

// Reads frames from a byte stream: octet-counted (RFC 5425) or, when a frame starts with '<',
// LF-terminated (RFC 6587 §3.4.2). A frame longer than max_frame, or a length that is not a
// number, is an error the stream cannot recover from (the frame boundaries are lost).
class FrameReader {
 public:
  explicit FrameReader(std::size_t max_frame) : max_(max_frame) {}
  // Appends received bytes. Returns false once the stream is broken (see error()).
  bool put(std::string_view bytes);
  // The next complete frame, if any.
  std::optional<std::string> next();
  const std::string& error() const { return error_; }
  std::size_t buffered() const { return buf_.size() - pos_; }

 private:
  std::size_t max_;
  std::string buf_;
  std::size_t pos_ = 0;
  std::string error_;
};

}  // namespace mk::audit::syslog
