// RFC 3464 reports: the machine-readable part, RET=HDRS, delay notices.
#include "outbound/dsn.hpp"

#include <gtest/gtest.h>

namespace mk::outbound {
namespace {

const std::string kOriginal = "From: me@example.org\r\nSubject: hello\r\n\r\nsecret body\r\n";

DsnInput input() {
  DsnInput in;
  in.reporting_mta = "mail.example.org";
  in.to = "me@example.org";
  in.envid = "QQ314159";
  in.arrival = 1764547200;
  in.now = 1764550800;
  in.retry_until = 1764979200;
  in.rcpts.push_back({"bob@example.net", "rfc822;Bob@example.net", "5.1.1", "mx.example.net",
                      "550 5.1.1 No such user"});
  in.original = kOriginal;
  return in;
}

TEST(Dsn, Bounce) {
  const std::string m = make_dsn(input());
  EXPECT_NE(m.find("From: Mail Delivery System <MAILER-DAEMON@mail.example.org>\r\n"), std::string::npos);
  EXPECT_NE(m.find("Auto-Submitted: auto-replied\r\n"), std::string::npos);
  EXPECT_NE(m.find("Content-Type: multipart/report; report-type=delivery-status;"), std::string::npos);
  EXPECT_NE(m.find("Reporting-MTA: dns; mail.example.org\r\nOriginal-Envelope-Id: QQ314159\r\n"
                   "Arrival-Date: Mon, 1 Dec 2025 00:00:00 +0000\r\n\r\n"
                   "Final-Recipient: rfc822; bob@example.net\r\nOriginal-Recipient: rfc822;Bob@example.net\r\n"
                   "Action: failed\r\nStatus: 5.1.1\r\nRemote-MTA: dns; mx.example.net\r\n"
                   "Diagnostic-Code: smtp; 550 5.1.1 No such user\r\n"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("Content-Type: message/rfc822\r\n\r\n" + kOriginal), std::string::npos);
  EXPECT_TRUE(m.ends_with("--\r\n"));
}

TEST(Dsn, HeadersOnlyAndDelay) {
  auto in = input();
  in.headers_only = true;
  std::string m = make_dsn(in);
  EXPECT_NE(m.find("Content-Type: text/rfc822-headers\r\n\r\nFrom: me@example.org\r\nSubject: hello\r\n"), std::string::npos);
  EXPECT_EQ(m.find("secret body"), std::string::npos);
  in = input();
  in.delayed = true;
  m = make_dsn(in);
  EXPECT_NE(m.find("Subject: Delayed Mail (still being retried)\r\n"), std::string::npos);
  EXPECT_NE(m.find("Action: delayed\r\n"), std::string::npos);
  EXPECT_NE(m.find("Will-Retry-Until: Sat, 6 Dec 2025 00:00:00 +0000\r\n"), std::string::npos);
  EXPECT_EQ(m.find("secret body"), std::string::npos);  // a delay notice carries headers only
}

}  // namespace
}  // namespace mk::outbound
