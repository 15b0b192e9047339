#include "message/report_mail.hpp"

#include <fmt/format.h>

#include "base/strings.hpp"
#include "message/codec.hpp"

namespace mk::message {

std::string report_mail(const ReportMail& r) {
  const std::string boundary = "mk-report-" + random_id(12);
  std::string to_list;
  for (const auto& t : r.to) to_list += (to_list.empty() ? "" : ", ") + t;
  std::string m;
  m += fmt::format("From: {} <{}>\r\n", r.from_name, r.from);
  m += fmt::format("To: {}\r\n", to_list);
  m += fmt::format("Subject: {}\r\n", r.subject);
  m += "Date: " + r.date + "\r\n";
  m += fmt::format("Message-ID: <{}>\r\n", r.message_id);
  m += r.extra_headers;
  m += "Auto-Submitted: auto-generated\r\nMIME-Version: 1.0\r\n";
  m += fmt::format("Content-Type: {};\r\n\tboundary=\"{}\"\r\n\r\n", r.content_type, boundary);
  m += fmt::format("--{}\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n{}\r\n\r\n", boundary, r.text);
  m += fmt::format("--{}\r\nContent-Type: {}; name=\"{}\"\r\nContent-Transfer-Encoding: base64\r\n"
                   "Content-Disposition: attachment; filename=\"{}\"\r\n\r\n",
                   boundary, r.attachment_type, r.attachment_name, r.attachment_name);
  m += base64_lines(r.attachment);
  m += fmt::format("--{}--\r\n", boundary);
  return m;
}

}  // namespace mk::message
