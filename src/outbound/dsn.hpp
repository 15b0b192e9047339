// outbound/dsn.hpp: delivery status notifications (RFC 3464, RFC 3461, RFC 3834 marking):
// the bounce for recipients that failed for good, and the notice for ones still delayed.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mk::outbound {

struct DsnRecipient {
  std::string rcpt;       // final recipient
  std::string orcpt;      // ORCPT as given ("rfc822;addr"), or empty
  std::string status;     // enhanced status code, "5.1.1"
  std::string remote_mta; // host that answered, or empty
  std::string diagnostic; // the SMTP reply ("550 5.1.1 ...") or our own reason
};

struct DsnInput {
  std::string reporting_mta;  // our hostname
  std::string to;             // the original envelope sender
  std::string envid;          // ENVID, or empty
  bool headers_only = false;  // RET=HDRS
  bool delayed = false;       // a delay notice rather than a bounce
  std::int64_t arrival = 0;   // when we accepted the message (unix seconds)
  std::int64_t now = 0;
  std::int64_t retry_until = 0;  // delay notices: when the message expires
  std::vector<DsnRecipient> rcpts;
  std::string_view original;  // the message as queued
};

// The complete notification message (CRLF), From MAILER-DAEMON, to be sent with MAIL FROM:<>.
std::string make_dsn(const DsnInput& in);

}  // namespace mk::outbound
