// check/relay.hpp: the verdicts on the open-relay and AUTH-before-TLS replies.
#include "check/relay.hpp"

#include <gtest/gtest.h>

namespace mk::check {
namespace {

outbound::SmtpReply reply(int code, std::string text = "text") { return outbound::SmtpReply{code, {std::move(text)}}; }
const outbound::SmtpReply kNone{};

TEST(Relay, Table) {
  struct Row {
    outbound::SmtpReply mail, rcpt;
    std::string want;
  };
  const std::string s = "smtp 192.0.2.1:25";
  const Row rows[] = {
      {reply(250, "2.1.0 OK"), reply(554, "5.7.1 Relay access denied"),
       "ok   smtp 192.0.2.1:25: open relay test (relaying refused)"},
      {reply(250, "OK"), reply(250, "OK"),
       "FAIL smtp 192.0.2.1:25: open relay test: open relay: RCPT TO:<relay-test@relay-test.invalid> from "
       "<mailkeep-check@relay-test.invalid> without authentication was accepted (\"250 OK\"), so anyone can send mail "
       "anywhere through this server \u2014 fix: stop whatever answers on this port and let mailkeep listen there "
       "(mailkeep accepts mail without AUTH only for its hosted domains)"},
      {reply(250, "OK"), reply(451, "4.3.0 try later"),
       "?    smtp 192.0.2.1:25: open relay test: could not check: RCPT TO:<relay-test@relay-test.invalid> was answered "
       "\"451 4.3.0 try later\", neither accepted nor refused \u2014 fix: run the check again; if it persists, look at "
       "the server log for the connection"},
      {reply(250, "OK"), kNone,
       "?    smtp 192.0.2.1:25: open relay test: could not check: RCPT TO:<relay-test@relay-test.invalid> was answered "
       "no reply, neither accepted nor refused \u2014 fix: run the check again; if it persists, look at the server log "
       "for the connection"},
      {reply(421, "busy"), kNone,
       "?    smtp 192.0.2.1:25: open relay test: could not check: MAIL FROM:<mailkeep-check@relay-test.invalid> was "
       "answered \"421 busy\", so relaying could not be tried \u2014 fix: run the check again; if it persists, look at "
       "the server log for the connection"},
  };
  for (const auto& r : rows) EXPECT_EQ(render_line(judge_relay(s, r.mail, r.rcpt)), r.want);
}

TEST(AuthBeforeTls, Table) {
  const std::string s = "submission 192.0.2.1:587";
  const std::string fix =
      " \u2014 fix: let mailkeep answer on this port (it offers AUTH only after STARTTLS), or make the program that "
      "does refuse AUTH without TLS";
  EXPECT_EQ(render_line(judge_auth_before_tls(s, false, reply(538, "5.7.11 Encryption required"))),
            "ok   submission 192.0.2.1:587: AUTH before TLS refused");
  EXPECT_EQ(render_line(judge_auth_before_tls(s, false, reply(530, "5.7.0 Must issue a STARTTLS command first"))),
            "ok   submission 192.0.2.1:587: AUTH before TLS refused");
  EXPECT_EQ(render_line(judge_auth_before_tls(s, true, reply(538))),
            "FAIL submission 192.0.2.1:587: AUTH before TLS: EHLO offers AUTH on a connection without TLS: mail "
            "clients may send passwords in the clear" + fix);
  EXPECT_EQ(render_line(judge_auth_before_tls(s, false, reply(334, ""))),
            "FAIL submission 192.0.2.1:587: AUTH before TLS: AUTH PLAIN was accepted without TLS (334): passwords "
            "travel in the clear" + fix);
  EXPECT_EQ(render_line(judge_auth_before_tls(s, false, reply(504, "5.5.4 Unrecognized"))),
            "FAIL submission 192.0.2.1:587: AUTH before TLS: AUTH PLAIN without TLS was answered \"504 5.5.4 "
            "Unrecognized\", not 530 or 538: clients are not told to start TLS first (RFC 3207 §4, RFC 4954 §6)" + fix);
  EXPECT_EQ(judge_auth_before_tls(s, false, kNone).outcome, Outcome::unknown);
  EXPECT_EQ(judge_auth_before_tls(s, false, reply(454)).outcome, Outcome::unknown);
}

}  // namespace
}  // namespace mk::check
