#include "reports/alerts.hpp"

#include <chrono>
#include <memory>

#include <fmt/format.h>

#include "base/strings.hpp"
#include "smtp/session.hpp"

namespace mk::reports {

void Alerts::tell_user(const std::string& address, const std::string& subject, const std::string& body) {
  send(address, subject, body);
}

void Alerts::tell_admin(const std::string& subject, const std::string& body) {
  if (!admin_.empty()) send(admin_, "[admin] " + subject, body);
}

void Alerts::send(const std::string& to, const std::string& subject, const std::string& body) {
  const auto now = std::chrono::system_clock::now();
  std::string text;
  for (char c : body) {  // CRLF line endings
    if (c == '\n') text += '\r';
    text += c;
  }
  const std::string from = "postmaster@" + hostname_;
  const std::string msg = fmt::format(
      "From: Mail server security <{}>\r\nTo: <{}>\r\nSubject: {}\r\nDate: {}\r\nMessage-ID: <{}@{}>\r\n"
      "Auto-Submitted: auto-generated\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
      "Content-Transfer-Encoding: 8bit\r\n\r\n{}\r\n",
      from, to, subject, smtp::rfc5322_date(now), random_id(12), hostname_, text);
  // Never waits for the disk: alerts are raised on io threads.
  mail_.send_async(msg, {to}, "alert", [log = log_, to](Status st) {
    if (!st) log.error("alert.failed", {{"to", to}, {"error", st.error().message}});
  });
  log_.info("alert.sent", {{"to", to}, {"subject", subject}});
}

}  // namespace mk::reports
