// The one-line and JSON forms of findings, and the exit code.
#include "check/finding.hpp"

#include <gtest/gtest.h>

namespace mk::check {
namespace {

TEST(Finding, Lines) {
  EXPECT_EQ(render_line(Finding::pass("records", "check.example MX")), "ok   check.example MX");
  EXPECT_EQ(render_line(Finding::failed("records", "check.example TXT (SPF)", "not published", "publish: x")),
            "FAIL check.example TXT (SPF): not published \u2014 fix: publish: x");
  EXPECT_EQ(render_line(Finding::unknown("dnsbl", "192.0.2.1 on zen.spamhaus.org", "refused", "use a local resolver")),
            "?    192.0.2.1 on zen.spamhaus.org: could not check: refused \u2014 fix: use a local resolver");
  // A hostile answer cannot start a second line.
  EXPECT_EQ(render_line(Finding::failed("records", "a", "is \"x\r\nok   forged\"", "f")),
            "FAIL a: is \"x\\x0d\\x0aok   forged\" \u2014 fix: f");
}

TEST(Finding, ExitCode) {
  EXPECT_EQ(exit_code({}), 0);
  EXPECT_EQ(exit_code({Finding::pass("a", "b")}), 0);
  EXPECT_EQ(exit_code({Finding::pass("a", "b"), Finding::failed("a", "b", "c", "d")}), 1);
  EXPECT_EQ(exit_code({Finding::unknown("a", "b", "c", "d")}), 1);  // not known to pass
}

TEST(Finding, Json) {
  const std::string j = render_json({Finding::pass("tls", "smtp 192.0.2.1:25"),
                                     Finding::failed("records", "x \"y\"", "p", "f")});
  EXPECT_EQ(j,
            "{\"ok\":false,\"findings\":[{\"check\":\"tls\",\"subject\":\"smtp 192.0.2.1:25\",\"outcome\":\"ok\","
            "\"problem\":\"\",\"fix\":\"\"},{\"check\":\"records\",\"subject\":\"x \\\"y\\\"\",\"outcome\":\"fail\","
            "\"problem\":\"p\",\"fix\":\"f\"}]}\n");
  EXPECT_EQ(render_json({}), "{\"ok\":true,\"findings\":[]}\n");
}

}  // namespace
}  // namespace mk::check
