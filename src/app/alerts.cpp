#include "app/alerts.hpp"

#include <chrono>
#include <memory>

#include <fmt/format.h>

#include "base/strings.hpp"
#include "smtp/session.hpp"

namespace mk::app {

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
  store::NewMessage m;
  m.data = std::make_shared<const std::string>(msg);
  m.mail_from = "";
  m.internaldate = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  auto acct = store_.find_account(to);
  if (acct && *acct) m.deliveries.push_back(store::Delivery{(*acct)->id, "INBOX", to, ""});
  else m.outbound.push_back(store::OutboundRcpt{to, "NOTIFY=NEVER"});
  const bool queued = !m.outbound.empty();
  store_.deliver(std::move(m), [log = log_, to, queued, cb = on_queued_](auto res) {
    if (!res) log.error("alert.failed", {{"to", to}, {"error", res.error().message}});
    else if (queued && cb) cb();
  });
  log_.info("alert.sent", {{"to", to}, {"subject", subject}});
}

}  // namespace mk::app
