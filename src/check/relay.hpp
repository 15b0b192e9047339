// check/relay.hpp: the two abuse tests mailkeep check runs against its own SMTP listeners.
//
// Open relay (port 25): a transaction from an outside sender to an outside recipient,
// without authentication, must be refused at RCPT. Both addresses are in the reserved
// domain relay-test.invalid (RFC 2606 §2), and the session ends after RCPT without DATA, so
// even a server that is an open relay has nothing to deliver and cannot reach anyone.
// AUTH before TLS (submission, 587): EHLO must not offer AUTH on a connection without TLS,
// and AUTH must be refused with 530 (RFC 3207 §4: STARTTLS first) or 538 (RFC 4954 §6:
// encryption required); no credentials are ever sent.
// STANDARDS: RFC 5321 §3.6.2 and §7.1 (no relaying for strangers), RFC 3207 §4, RFC 4954 §4
// and §6, RFC 8314 §3.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "check/finding.hpp"
#include "outbound/client.hpp"

namespace mk::check {

inline constexpr std::string_view kRelaySender = "mailkeep-check@relay-test.invalid";
inline constexpr std::string_view kRelayRecipient = "relay-test@relay-test.invalid";

// Pure verdicts on the replies; a reply with code 0 is "none" (connection lost, timeout).
// Transient outcomes (4xx, none) are Outcome::unknown: the caller retries those.
Finding judge_relay(const std::string& subject, const outbound::SmtpReply& mail, const outbound::SmtpReply& rcpt);
Finding judge_auth_before_tls(const std::string& subject, bool auth_offered, const outbound::SmtpReply& auth);

// The tests over one connection each (EHLO names `hostname`).
boost::asio::awaitable<Finding> relay_test(std::string subject, std::string ip, std::uint16_t port,
                                           std::string hostname, std::chrono::milliseconds timeout);
boost::asio::awaitable<Finding> auth_before_tls_test(std::string subject, std::string ip, std::uint16_t port,
                                                     std::string hostname, std::chrono::milliseconds timeout);

}  // namespace mk::check
