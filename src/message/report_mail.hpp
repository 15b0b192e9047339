// message/report_mail.hpp: the email that carries an aggregate report as a compressed
// attachment (TLS-RPT, RFC 8460 §5.3; DMARC, RFC 7489 §7.2.1.1): a short text part and the
// report, base64-encoded.
#pragma once

#include <string>
#include <vector>

namespace mk::message {

struct ReportMail {
  std::string from;           // address
  std::string from_name;      // display name, ASCII
  std::vector<std::string> to;
  std::string subject;
  std::string date;           // RFC 5322 date-time
  std::string message_id;     // without angle brackets
  std::string extra_headers;  // complete fields, CRLF-terminated
  std::string content_type;   // of the whole message: "multipart/report; report-type=tlsrpt"
  std::string text;           // the human-readable part
  std::string attachment_type, attachment_name;
  std::string attachment;     // raw bytes (already compressed)
};

std::string report_mail(const ReportMail& m);

}  // namespace mk::message
