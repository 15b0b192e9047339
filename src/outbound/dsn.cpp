#include "outbound/dsn.hpp"

#include <chrono>

#include <fmt/format.h>

#include "base/strings.hpp"
#include "smtp/session.hpp"

namespace mk::outbound {

std::string make_dsn(const DsnInput& in) {
  using std::chrono::system_clock;
  const auto at = [](std::int64_t t) { return smtp::rfc5322_date(system_clock::time_point(std::chrono::seconds(t))); };
  const std::string boundary = "mk-dsn-" + random_id(12);
  std::string m;
  m += fmt::format("From: Mail Delivery System <MAILER-DAEMON@{}>\r\n", in.reporting_mta);
  m += fmt::format("To: <{}>\r\n", in.to);
  m += in.delayed ? "Subject: Delayed Mail (still being retried)\r\n" : "Subject: Undelivered Mail Returned to Sender\r\n";
  m += "Date: " + at(in.now) + "\r\n";
  m += fmt::format("Message-ID: <{}@{}>\r\n", random_id(12), in.reporting_mta);
  m += "Auto-Submitted: auto-replied\r\n";
  m += "MIME-Version: 1.0\r\n";
  m += fmt::format("Content-Type: multipart/report; report-type=delivery-status;\r\n\tboundary=\"{}\"\r\n\r\n", boundary);
  m += "This is a MIME-encapsulated message.\r\n\r\n";
  // 1. For people.
  m += fmt::format("--{}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n", boundary);
  m += fmt::format("This is the mail system at {}.\r\n\r\n", in.reporting_mta);
  m += in.delayed ? "Your message could not be delivered yet to the recipients below. It is still being\r\n"
                    "retried; you will be told if it finally fails. Nothing needs to be done now.\r\n\r\n"
                  : "Your message could not be delivered to the recipients below. It was not sent to\r\n"
                    "them and will not be retried.\r\n\r\n";
  for (const auto& r : in.rcpts) {
    m += fmt::format("<{}>: {}\r\n", r.rcpt, r.diagnostic.empty() ? r.status : r.diagnostic);
    if (!r.remote_mta.empty()) m += fmt::format("    (reported by {})\r\n", r.remote_mta);
  }
  // 2. For programs (RFC 3464 §2.2, §2.3).
  m += fmt::format("\r\n--{}\r\nContent-Type: message/delivery-status\r\n\r\n", boundary);
  m += fmt::format("Reporting-MTA: dns; {}\r\n", in.reporting_mta);
  if (!in.envid.empty()) m += fmt::format("Original-Envelope-Id: {}\r\n", in.envid);
  m += "Arrival-Date: " + at(in.arrival) + "\r\n";
  for (const auto& r : in.rcpts) {
    m += "\r\n";
    m += fmt::format("Final-Recipient: rfc822; {}\r\n", r.rcpt);
    if (!r.orcpt.empty()) m += fmt::format("Original-Recipient: {}\r\n", r.orcpt);
    m += in.delayed ? "Action: delayed\r\n" : "Action: failed\r\n";
    m += fmt::format("Status: {}\r\n", r.status);
    if (!r.remote_mta.empty()) m += fmt::format("Remote-MTA: dns; {}\r\n", r.remote_mta);
    if (!r.diagnostic.empty()) m += fmt::format("Diagnostic-Code: smtp; {}\r\n", log_safe(r.diagnostic, 500));
    if (in.delayed) m += "Will-Retry-Until: " + at(in.retry_until) + "\r\n";
  }
  // 3. The original: whole, or its header (RET=HDRS; always for a delay notice).
  std::string_view orig = in.original;
  const bool hdrs = in.headers_only || in.delayed;
  if (hdrs) {
    auto end = orig.find("\r\n\r\n");
    orig = orig.substr(0, end == std::string_view::npos ? orig.size() : end + 2);
  }
  m += fmt::format("\r\n--{}\r\nContent-Type: {}\r\n\r\n", boundary, hdrs ? "text/rfc822-headers" : "message/rfc822");
  m += orig;
  if (!orig.ends_with("\r\n")) m += "\r\n";
  m += fmt::format("\r\n--{}--\r\n", boundary);
  return m;
}

}  // namespace mk::outbound
