// Logging in: LOGIN, AUTHENTICATE PLAIN and AUTHENTICATE SCRAM-SHA-256.
//
// Every way in ends the same: the outcome becomes an AuthEvent that the connection loop hands
// to auth::LoginGate (failures counted, delayed and banned; successes into the security log
// and the login history), and a success takes one of the account's session slots. The
// password paths check through auth::check_login (app passwords, breached passwords, the
// throttle's lock); SCRAM never sees a password, and auth::scram_account applies the rules
// that still can: no SCRAM for an account that requires app passwords, for one flagged as
// breached, or for one locked for this network, each showing its own salt and failing at the
// proof as a wrong password does. A proof that verifies is a successful login for the
// books at once, when the server's signature goes out: that signature tells the client the
// password was right, whether or not it then completes the exchange.
//
// STANDARDS: RFC 9051 §6.2.2 (AUTHENTICATE: "+" challenges, "*" cancels with BAD) and §6.2.3
// (LOGIN), RFC 4959 (SASL-IR), RFC 4616 (PLAIN), RFC 5802 and RFC 7677 (SCRAM-SHA-256). IMAP
// has no "additional data with success" (RFC 4422 §4): the server's signature goes in a last
// challenge, which the client answers with an empty line before the tagged OK.
// SECURITY: nothing before TLS when TLS is offered ([PRIVACYREQUIRED]); a SCRAM failure on
// the proof is a failed login like a wrong password; a malformed exchange is a BAD, which
// tells a guesser nothing. Passwords and proofs are never logged.
#include <fmt/format.h>

#include "auth/login.hpp"
#include "auth/sasl.hpp"
#include "base/strings.hpp"
#include "imap/server/session.hpp"
#include "message/codec.hpp"

namespace mk::imap {

// The caller has recorded the success (auth_event_).
Output Session::complete_login(const CommandHead& h, const store::Account& acct) {
  if (cfg_.slots && !(account_slot_ = cfg_.slots->acquire(acct.id)))
    return {tagged(h, "NO", "[LIMIT] Too many sessions for this account; close some and retry")};
  account_id_ = acct.id;
  user_ = acct.address;
  return {tagged(h, "OK", "[CAPABILITY " + capabilities() + "] Logged in")};
}

Output Session::finish_login(const CommandHead& h, const std::string& user, const std::string& pass) {
  if (!tls_ && cfg_.tls_available)
    return {tagged(h, "NO", "[PRIVACYREQUIRED] Use STARTTLS or port 993 first")};
  const auto client = IpAddr::parse(remote_ip_);
  auto acct = cfg_.login ? auth::check_login(store_.accounts, user, pass, *cfg_.login, nullptr, client ? &*client : nullptr, "imap")
                         : auth::check_login(store_.accounts, user, pass, {}, nullptr, nullptr, "imap");
  if (!acct) {
    auth_event_ = AuthEvent{false, user};
    return {tagged(h, "NO", "[AUTHENTICATIONFAILED] Invalid credentials")};
  }
  auth_event_ = AuthEvent{true, acct->address};
  return complete_login(h, *acct);
}

Output Session::cmd_login(const CommandHead& h, Cursor& c) {
  if (!tls_ && cfg_.tls_available)
    return {tagged(h, "NO", "[PRIVACYREQUIRED] LOGIN is disabled before STARTTLS")};
  std::optional<std::string> user, pass;
  if (!c.sp() || !(user = c.astring()) || !c.sp() || !(pass = c.astring()) || !c.eof())
    return {tagged(h, "BAD", "Syntax: LOGIN user password")};
  return finish_login(h, *user, *pass);
}

Output Session::cmd_authenticate(const CommandHead& h, Cursor& c) {
  if (!tls_ && cfg_.tls_available)
    return {tagged(h, "NO", "[PRIVACYREQUIRED] Authentication is disabled before STARTTLS")};
  std::optional<std::string_view> mech;
  if (!c.sp() || !(mech = c.atom())) return {tagged(h, "BAD", "Syntax: AUTHENTICATE mechanism [initial-response]")};
  if (iequals(*mech, "PLAIN")) {
    auth_step_ = AuthStep::plain;
  } else if (iequals(*mech, "SCRAM-SHA-256")) {
    auth_step_ = AuthStep::scram_first;
    scram_account_.reset();
    scram_ = std::make_unique<auth::ScramServer>(
        [this](const std::string& user) -> std::optional<auth::ScramServer::Verifier> {
          const auto client = IpAddr::parse(remote_ip_);
          auto found = auth::scram_account(store_.accounts, user, cfg_.login, client ? &*client : nullptr);
          if (!found) return std::nullopt;
          if (found->may_log_in) scram_account_ = found->account;
          return auth::ScramServer::Verifier{found->account.scram, found->may_log_in};
        },
        cfg_.login ? cfg_.login->scram_salt_key : std::string());
  } else {
    return {tagged(h, "NO", "Unsupported authentication mechanism")};
  }
  // SASL-IR (RFC 4959) puts the first response on the command line; otherwise ask for it.
  if (!c.sp()) {
    auth_pending_ = h;
    return {"+ \r\n"};
  }
  auto ir = c.atom();
  if (!ir || !c.eof()) return end_auth(h, "BAD", "Invalid initial response");
  // RFC 4959 §3: "=" is an empty initial response.
  return auth_response(h, *ir == "=" ? std::string_view() : *ir);
}

Output Session::on_auth_response(std::string_view line) {
  // RFC 9051 §6.2.2: the line is the client's response to our challenge, or "*" to cancel.
  CommandHead h = *auth_pending_;
  auth_pending_.reset();
  line = trim(line);
  if (line == "*") return end_auth(h, "BAD", "Authentication cancelled");
  return auth_response(h, line);
}

void Session::reset_auth() {
  scram_.reset();
  scram_account_.reset();
  auth_pending_.reset();
}

Output Session::end_auth(const CommandHead& h, std::string_view status, std::string_view text) {
  reset_auth();
  return {tagged(h, status, text)};
}

Output Session::auth_response(const CommandHead& h, std::string_view b64) {
  if (auth_step_ == AuthStep::plain) return finish_plain(h, b64);
  auto decoded = auth::sasl_base64_decode(b64);
  if (!decoded) return end_auth(h, "BAD", "Invalid base64 in the SASL response");
  if (auth_step_ == AuthStep::scram_done) {
    // The client checked our signature and answers with an empty response (RFC 4422 §4).
    if (!decoded->empty() || !scram_account_) return end_auth(h, "BAD", "Expected an empty response");
    const store::Account acct = std::move(*scram_account_);
    reset_auth();
    return complete_login(h, acct);
  }
  const bool first = auth_step_ == AuthStep::scram_first;
  const auto r = first ? scram_->client_first(*decoded) : scram_->client_final(*decoded);
  using K = auth::ScramServer::Step::Kind;
  if (r.kind == K::failure) {
    if (first || r.data != "invalid credentials") return end_auth(h, "BAD", "SCRAM: " + r.data);
    // A wrong proof, or an account that may not log in this way: a failed login.
    auth_event_ = AuthEvent{false, scram_->user()};
    return end_auth(h, "NO", "[AUTHENTICATIONFAILED] Invalid credentials");
  }
  // A verified proof: the books hear of the login now, as the signature below confirms the
  // password to the client even if it then cancels (the session logs in only at the end).
  if (r.kind == K::success && scram_account_) auth_event_ = AuthEvent{true, scram_account_->address};
  auth_step_ = r.kind == K::challenge ? AuthStep::scram_final : AuthStep::scram_done;
  auth_pending_ = h;
  return {"+ " + message::base64_encode(r.data) + "\r\n"};
}

Output Session::finish_plain(const CommandHead& h, std::string_view b64) {
  auto r = auth::parse_plain(b64);
  if (!r) return {tagged(h, "BAD", "Invalid PLAIN response")};
  if (!r->authzid.empty() && !iequals(r->authzid, r->user))
    return {tagged(h, "NO", "[AUTHORIZATIONFAILED] Cannot act as another user")};
  return finish_login(h, r->user, r->password);
}

}  // namespace mk::imap
