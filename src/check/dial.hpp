// check/dial.hpp: which addresses mailkeep check dials for each configured listener, and
// the certificate chain a listener serves there.
//
// A listener is dialled where the world reaches it when that can be done from here: at the
// hostname's addresses (through mailkeep's resolver) that are this machine's own and that the
// listener accepts. Behind NAT, or when the hostname does not resolve to this machine, the
// configured address is dialled instead (0.0.0.0 as 127.0.0.1, :: as ::1): the chain is the
// same, only the path differs. The TLS handshake sends SNI = the hostname; STARTTLS listeners
// are upgraded the way their clients do (SMTP: EHLO, STARTTLS; IMAP: STARTTLS).
// STANDARDS: RFC 3207 (SMTP STARTTLS), RFC 9051 §6.2.1 (IMAP STARTTLS), RFC 8314 (implicit
// TLS), RFC 6066 §3 (SNI).
// SECURITY: every connect, read and handshake has a deadline; what the peer sends is bounded.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "base/result.hpp"
#include "net/tls.hpp"

namespace mk::check {

enum class TlsMode { smtp_starttls, imap_starttls, implicit };

struct Listener {
  std::string service;  // "smtp", "submission", "submissions", "imap", "imaps", "https"
  std::string host;     // the configured address: numeric, "0.0.0.0" or "::" for every address
  std::uint16_t port = 0;
  TlsMode mode = TlsMode::implicit;
};

struct Target {
  Listener listener;
  std::string ip;  // where to dial it
  // "smtp 192.0.2.1:25", "imaps [2001:db8::1]:993"
  std::string name() const;
};

// Pure: the targets of each listener (see above), each (address, port) once, in listener order.
std::vector<Target> dial_targets(const std::vector<Listener>& listeners, const std::vector<std::string>& host_addresses,
                                 const std::function<bool(const std::string&)>& is_local);

// Whether ip is an address of one of this machine's interfaces.
bool is_local_address(const std::string& ip);

// The error code (Error::code) of a listener that does not offer STARTTLS.
inline constexpr int kNoStartTls = 3207;

// The chain served at the target (DER, leaf first), after the listener's STARTTLS if it has one.
boost::asio::awaitable<Result<std::vector<std::string>>> fetch_chain(Target target, std::string hostname,
                                                                     net::TlsContext& tls,
                                                                     std::chrono::milliseconds timeout);

}  // namespace mk::check
