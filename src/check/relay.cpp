// check/relay.cpp: open relay and AUTH-before-TLS self-tests (see relay.hpp).
#include "check/relay.hpp"

#include <optional>

#include <boost/asio/this_coro.hpp>

#include <fmt/format.h>

namespace mk::check {

namespace asio = boost::asio;

namespace {

std::string quoted(const outbound::SmtpReply& r) { return r.code ? fmt::format("\"{}\"", r.text()) : "no reply"; }

}  // namespace

Finding judge_relay(const std::string& subject, const outbound::SmtpReply& mail, const outbound::SmtpReply& rcpt) {
  const std::string s = subject + ": open relay test";
  if (mail.code / 100 != 2)
    return Finding::unknown("relay", s,
                            fmt::format("MAIL FROM:<{}> was answered {}, so relaying could not be tried", kRelaySender,
                                        quoted(mail)),
                            "run the check again; if it persists, look at the server log for the connection");
  if (rcpt.code / 100 == 2)
    return Finding::failed("relay", s,
                           fmt::format("open relay: RCPT TO:<{}> from <{}> without authentication was accepted ({}), "
                                       "so anyone can send mail anywhere through this server",
                                       kRelayRecipient, kRelaySender, quoted(rcpt)),
                           "stop whatever answers on this port and let mailkeep listen there (mailkeep accepts "
                           "mail without AUTH only for its hosted domains)");
  if (rcpt.code / 100 == 5) return Finding::pass("relay", s + " (relaying refused)");
  return Finding::unknown("relay", s,
                          fmt::format("RCPT TO:<{}> was answered {}, neither accepted nor refused", kRelayRecipient,
                                      quoted(rcpt)),
                          "run the check again; if it persists, look at the server log for the connection");
}

Finding judge_auth_before_tls(const std::string& subject, bool auth_offered, const outbound::SmtpReply& auth) {
  const std::string s = subject + ": AUTH before TLS";
  const std::string fix =
      "let mailkeep answer on this port (it offers AUTH only after STARTTLS), or make the program that does refuse "
      "AUTH without TLS";
  if (auth_offered)
    return Finding::failed("auth", s, "EHLO offers AUTH on a connection without TLS: mail clients may send passwords in the clear", fix);
  if (auth.code == 334)
    return Finding::failed("auth", s, "AUTH PLAIN was accepted without TLS (334): passwords travel in the clear", fix);
  if (auth.code == 530 || auth.code == 538) return Finding::pass("auth", s + " refused");
  if (auth.code / 100 == 2)
    return Finding::failed("auth", s, fmt::format("AUTH PLAIN without TLS was answered {}", quoted(auth)), fix);
  if (auth.code / 100 == 5)
    return Finding::failed("auth", s,
                           fmt::format("AUTH PLAIN without TLS was answered {}, not 530 or 538: clients are not told "
                                       "to start TLS first (RFC 3207 §4, RFC 4954 §6)",
                                       quoted(auth)),
                           fix);
  return Finding::unknown("auth", s, fmt::format("AUTH PLAIN was answered {}", quoted(auth)),
                          "run the check again; if it persists, look at the server log for the connection");
}

// Ends a probe's session politely. The verdict is taken before: whatever the server answers
// now, or a connection it already closed, changes nothing (the caller closes the socket).
asio::awaitable<void> leave(outbound::Connection& c, std::string line, std::chrono::milliseconds timeout) {
  co_await c.command(std::move(line), timeout);
}

// Connects and says EHLO, as both probes start: nullopt when that went well, else the
// finding that says why the probe could not be made.
asio::awaitable<std::optional<Finding>> greet(outbound::Connection& c, std::string check, std::string subject,
                                              std::string ip, std::uint16_t port, std::string hostname,
                                              std::chrono::milliseconds timeout) {
  auto greeting = co_await c.open(ip, port, timeout);
  if (!greeting || greeting->code != 220) {
    c.close();
    co_return Finding::unknown(check, subject,
                               greeting ? fmt::format("greeted with {}", quoted(*greeting))
                                        : fmt::format("cannot connect: {}", greeting.error().message),
                               "make sure mailkeep is running and listens on this address");
  }
  auto ehlo = co_await c.ehlo(hostname, timeout);
  if (ehlo.code != 250) {
    c.close();
    co_return Finding::unknown(check, subject, fmt::format("EHLO was answered {}", quoted(ehlo)),
                               "run the check again; if it persists, look at the server log for the connection");
  }
  co_return std::nullopt;
}

asio::awaitable<Finding> relay_test(std::string subject, std::string ip, std::uint16_t port, std::string hostname,
                                    std::chrono::milliseconds timeout) {
  outbound::Connection c(co_await asio::this_coro::executor);
  // Named first: GCC 12 mishandles temporaries in a co_await's operand.
  auto greeted = greet(c, "relay", subject + ": open relay test", ip, port, hostname, timeout);
  if (auto failed = co_await std::move(greeted)) co_return std::move(*failed);
  auto mail = co_await c.command(fmt::format("MAIL FROM:<{}>", kRelaySender), timeout);
  outbound::SmtpReply rcpt;
  if (mail.code / 100 == 2) rcpt = co_await c.command(fmt::format("RCPT TO:<{}>", kRelayRecipient), timeout);
  // Never DATA: an open relay ends this session with nothing to deliver.
  co_await leave(c, "RSET", timeout);
  co_await leave(c, "QUIT", timeout);
  c.close();
  co_return judge_relay(subject, mail, rcpt);
}

asio::awaitable<Finding> auth_before_tls_test(std::string subject, std::string ip, std::uint16_t port,
                                              std::string hostname, std::chrono::milliseconds timeout) {
  outbound::Connection c(co_await asio::this_coro::executor);
  auto greeted = greet(c, "auth", subject + ": AUTH before TLS", ip, port, hostname, timeout);
  if (auto failed = co_await std::move(greeted)) co_return std::move(*failed);
  const bool offered = c.has("AUTH");
  // No initial response: nothing that looks like a credential is ever sent.
  auto auth = co_await c.command("AUTH PLAIN", timeout);
  if (auth.code == 334) co_await leave(c, "*", timeout);  // RFC 4954 §4: cancel the exchange
  co_await leave(c, "QUIT", timeout);
  c.close();
  co_return judge_auth_before_tls(subject, offered, auth);
}

}  // namespace mk::check
