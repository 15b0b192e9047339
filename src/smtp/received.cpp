// The Received: trace header (RFC 5321 §4.4) with the RFC 3848 "with" keyword and the TLS
// parameters in a comment, in the form Postfix uses, which log tools already understand.
#include <ctime>

#include <fmt/format.h>

#include "base/strings.hpp"
#include "smtp/session.hpp"

namespace mk::smtp {

std::string rfc5322_date(std::chrono::system_clock::time_point t) {
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return fmt::format("{}, {} {} {} {:02d}:{:02d}:{:02d} +0000", kDays[tm.tm_wday], tm.tm_mday,
                     kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

namespace {

std::string bracket_ip(const std::string& ip) {
  if (ip.find(':') != std::string::npos) return "[IPv6:" + ip + "]";
  return "[" + ip + "]";
}

// A HELO name goes into a header: keep it to safe printable characters.
std::string header_safe(std::string_view s) {
  std::string out;
  for (unsigned char c : s.substr(0, 255)) {
    if (c > 0x20 && c < 0x7f && c != '(' && c != ')' && c != ';' && c != '\\') out += char(c);
    else out += '_';
  }
  return out;
}

}  // namespace

std::string received_header(const std::string& helo, const ConnInfo& conn,
                            const std::string& hostname, const std::string& id, bool esmtp,
                            bool smtputf8, bool authenticated, const std::optional<TlsInfo>& tls,
                            const std::vector<Recipient>& rcpts,
                            std::chrono::system_clock::time_point when) {
  // RFC 3848 and RFC 6531 §3.7.3
  std::string with = smtputf8 ? "UTF8SMTP" : (esmtp ? "ESMTP" : "SMTP");
  if (tls) with += "S";
  if (authenticated) with += "A";  // RFC 3848: ESMTPA, ESMTPSA
  std::string h = fmt::format("Received: from {} ({})\r\n\tby {} (mailkeep) with {} id {}\r\n",
                              header_safe(helo), bracket_ip(conn.remote_ip), hostname, with, id);
  if (tls) {
    h += fmt::format("\t(using {} with cipher {} ({}/{} bits))\r\n", tls->version, tls->cipher,
                     tls->bits, tls->bits);
  }
  // Name the recipient only when there is exactly one, so Bcc recipients stay private.
  if (rcpts.size() == 1) h += fmt::format("\tfor <{}>", header_safe(rcpts[0].address));
  else h += "\t";
  h += fmt::format("; {}\r\n", rfc5322_date(when));
  return h;
}

}  // namespace mk::smtp
