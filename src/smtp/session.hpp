// smtp/session.hpp: the sans-I/O SMTP server state machine.
//
// A Session turns complete input events (a command line, DATA bytes, BDAT chunk bytes, a
// finished delivery, a timeout) into replies and a request for what the I/O layer must do
// next. It never reads a socket, so every RFC 5321 reply path is unit-tested by feeding
// lines (tests/unit/smtp/session_test.cpp) and the server (smtp/server.cpp) is a thin loop.
//
// STANDARDS: RFC 5321 (commands, sequencing §4.1.4, replies §4.2/§4.3.2), RFC 1870 (SIZE),
// RFC 2920 (PIPELINING), RFC 3030 (CHUNKING), RFC 3207 (STARTTLS), RFC 3461 (DSN params),
// RFC 6152 (8BITMIME), RFC 6531 (SMTPUTF8), RFC 8689 (REQUIRETLS), RFC 2034/3463 (enhanced
// codes), RFC 3848 (Received "with" keywords).
// Submission (RFC 6409, RFC 4954) is the same machine with SessionConfig::submission: AUTH
// PLAIN, LOGIN and SCRAM-SHA-256 (RFC 7677) are offered and accepted only over TLS, MAIL needs a successful AUTH, the
// envelope sender and every From: address must belong to the authenticated account, and a
// recipient in a domain we do not host is accepted for the outbound queue. Date and
// Message-ID are added when missing (RFC 6409 §8).
// SECURITY: recipients are resolved at RCPT time through the Recipients service; on port 25 a
// domain we do not host is refused with 554 5.7.1 (no relay, no AUTH there). STARTTLS makes
// the session forget everything learned before it (RFC 3207 §4.2) and the I/O layer discards
// input pipelined behind it (CVE-2011-0411). Credentials never leave the session: the server
// does not log lines answering an AUTH challenge (expecting_auth_response()).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <utility>
#include <string>
#include <string_view>
#include <vector>

#include "auth/scram.hpp"
#include "message/address.hpp"
#include "smtp/command.hpp"
#include "smtp/data_reader.hpp"
#include "smtp/limits.hpp"
#include "smtp/reply.hpp"

namespace mk::smtp {

// The session's limits (the connection limits and timeouts are the server's) and role.
struct SessionConfig : Limits {
  std::string hostname = "localhost";
  bool starttls_available = false;
  bool submission = false;  // 587/465: AUTH required, relay for the authenticated account
};

struct ConnInfo {
  std::string conn_id;
  std::string remote_ip;
  std::string local_ip;
};

struct TlsInfo {
  std::string version;  // "TLSv1.3"
  std::string cipher;   // "TLS_AES_256_GCM_SHA384"
  int bits = 0;
};

// Where one copy of an accepted recipient's mail goes. Resolved once at RCPT; the session
// only compares targets (one copy per target), delivery reads them.
struct Target {
  enum class Kind { mailbox, forward, remote };
  Kind kind = Kind::mailbox;
  std::int64_t account_id = 0;  // mailbox: the account; forward: the account forwarding its own mail (0: an alias)
  std::string where;            // mailbox: its name; forward: the address it goes to
  static Target mailbox(std::int64_t account, std::string name) { return {Kind::mailbox, account, std::move(name)}; }
  static Target forward(std::string address, std::int64_t owner = 0) {
    return {Kind::forward, owner, std::move(address)};
  }
  // A recipient in a domain we do not host, sent on by submission through the queue.
  static Target remote() { return {Kind::remote, 0, {}}; }
  bool operator==(const Target&) const = default;
};

// What a recipient address resolves to.
struct RcptVerdict {
  enum class Kind { accept, unknown_user, relay_denied, temp_fail, mailbox_full };
  Kind kind = Kind::unknown_user;
  std::vector<Target> targets;  // when accepted: at least one
};

class Recipients {
 public:
  virtual ~Recipients() = default;
  virtual RcptVerdict resolve(const message::Mailbox& rcpt) = 0;
};

// The submitting account, once AUTH succeeded.
struct AuthIdentity {
  std::int64_t account_id = 0;
  std::string address;
};

// SCRAM-SHA-256: a known account, its stored verifier (auth/scram.hpp), and whether it may
// log in now (one that may not still shows its own salt; auth/login.hpp scram_account).
struct ScramIdentity {
  AuthIdentity who;
  std::string secret;
  bool may_log_in = true;
};

// What submission asks of the rest of the server.
class SubmissionPolicy {
 public:
  virtual ~SubmissionPolicy() = default;
  // Checks the credentials; the same work whether or not the user exists.
  virtual std::optional<AuthIdentity> authenticate(std::string_view user, std::string_view password) = 0;
  // SCRAM-SHA-256: the account the user name names, if it has a verifier.
  virtual std::optional<ScramIdentity> scram_account(std::string_view user) = 0;
  // The key unknown users' SCRAM salts derive from (auth::LoginPolicy::scram_salt_key).
  virtual std::string scram_salt_key() const { return {}; }
  // Whether the account may use this address (canonical) as envelope sender or in From:.
  virtual bool may_send_as(const AuthIdentity& who, const std::string& address) = 0;
  // Why the account may not send now (its outbound mail is held, guard/); empty if it may.
  virtual std::string outbound_hold(const AuthIdentity& who) { return {}; }
};

struct Recipient {
  std::string address;  // canonical form as given in RCPT
  std::vector<Target> targets;
  RcptParams params;
  bool remote() const { return targets.size() == 1 && targets[0].kind == Target::Kind::remote; }
};

// A complete mail transaction, ready for delivery.
struct Transaction {
  std::string id;
  MailParams mail;
  std::vector<Recipient> rcpts;
  // The content as received (for submission: completed with Date and Message-ID), CRLF
  // line endings. Our own trace fields are kept apart, in `trace`.
  std::string message;
  bool tls = false;
  std::int64_t account_id = 0;  // submission: the authenticated account
  std::string from_domain;      // submission: the From: address's domain (lower-case), for DKIM
  // The fields we put on top of `message` when it is stored or sent: Return-Path (MX) and
  // Received, and later the MX's Authentication-Results or submission's DKIM-Signature.
  std::string trace;
};

enum class Next {
  read_command,  // read the next command line
  read_data,     // feed DATA bytes to on_data()
  read_chunk,    // feed exactly chunk_remaining() bytes to on_chunk()
  start_tls,     // drop buffered input, run the TLS handshake, then call on_tls()
  deliver,       // deliver transaction(), then call on_delivered()
  close,         // flush replies and close
};

struct Step {
  std::optional<Reply> reply;
  Next next = Next::read_command;
};

class Session {
 public:
  // policy is required when cfg.submission is set.
  Session(SessionConfig cfg, Recipients& recipients, ConnInfo conn, SubmissionPolicy* policy = nullptr);

  Step greet();
  Step on_command(std::string_view line);
  Step on_line_error(LineStatus status);  // too_long / bare_lf / bare_cr on a command line
  // DATA: consumes from in; returns a step once the terminator or an error is seen.
  std::optional<Step> on_data(std::string_view in, std::size_t& consumed);
  // BDAT: consumes up to chunk_remaining() bytes; returns a step at the chunk's end.
  std::optional<Step> on_chunk(std::string_view in, std::size_t& consumed);
  std::uint64_t chunk_remaining() const { return chunk_remaining_; }
  Step on_tls(TlsInfo info);
  Step on_tls_failed();
  Step on_delivered(bool ok, std::string_view detail);
  // The message was refused after its content was read (sender authentication, filtering).
  Step on_rejected(Reply reply);
  Step on_timeout();
  Step on_shutdown();

  const Transaction& transaction() const { return txn_; }
  Transaction& transaction() { return txn_; }
  bool tls_active() const { return tls_.has_value(); }
  const std::optional<AuthIdentity>& identity() const { return identity_; }
  // The next line answers an AUTH challenge: credentials, never to be logged.
  bool expecting_auth_response() const { return auth_ != AuthStep::none; }
  const std::string& helo() const { return helo_; }
  // The user name of the latest AUTH attempt (any mechanism), for brute-force accounting.
  const std::string& auth_attempt_user() const { return auth_attempt_user_; }
  // The account whose credentials were just verified, once: a successful login for the books
  // (auth/login_gate.hpp). With SCRAM that is when the server's signature goes out, before
  // the 235: the signature tells the client the password was right even if it then cancels.
  std::optional<std::string> take_verified_login() { return std::exchange(verified_login_, std::nullopt); }
  std::uint64_t accepted_messages() const { return accepted_; }

  enum class State { greeted, ready, mail, rcpt, bdat };
  State state() const { return state_; }

 private:
  struct Spec;
  Step ehlo(std::string_view arg, bool extended);
  Step mail(std::string_view arg);
  Step rcpt(std::string_view arg);
  Step data(std::string_view arg);
  Step bdat(std::string_view arg);
  Step finish_message();  // after DATA end or BDAT LAST
  Step auth(std::string_view arg);
  Step auth_response(std::string_view line);
  Step auth_plain(std::string_view b64);
  Step auth_check(std::string_view user, std::string_view pass);
  Step auth_scram(std::string_view decoded);
  std::optional<Step> check_submitted_headers();
  Step error(int code, std::string enh, std::string text);
  void reset_transaction();
  std::vector<std::string> ehlo_keywords() const;

  enum class AuthStep { none, plain, login_user, login_pass, scram_first, scram_final, scram_done };

  SessionConfig cfg_;
  Recipients& recipients_;
  ConnInfo conn_;
  SubmissionPolicy* policy_ = nullptr;
  std::optional<AuthIdentity> identity_;
  AuthStep auth_ = AuthStep::none;
  std::string auth_user_;  // AUTH LOGIN: the user name while the password is awaited
  std::string auth_attempt_user_;
  std::optional<std::string> verified_login_;
  std::unique_ptr<auth::ScramServer> scram_;
  std::optional<AuthIdentity> scram_identity_;
  std::optional<TlsInfo> tls_;
  State state_ = State::greeted;
  bool esmtp_ = false;
  std::string helo_;
  Transaction txn_;
  bool have_mail_ = false;
  std::optional<DataReader> data_;
  std::uint64_t chunk_remaining_ = 0;
  bool chunk_last_ = false;
  bool chunk_discard_ = false;  // reading a chunk only to stay in sync after an error
  std::optional<Reply> chunk_error_;
  std::uint64_t chunk_total_ = 0;
  std::size_t errors_ = 0;
  std::uint64_t accepted_ = 0;
};

// RFC 5322 date-time in UTC, e.g. "Tue, 24 Nov 2026 11:24:29 +0000".
std::string rfc5322_date(std::chrono::system_clock::time_point t);

// RFC 5321 §4.4 trace header for a transaction.
std::string received_header(const std::string& helo, const ConnInfo& conn,
                            const std::string& hostname, const std::string& id, bool esmtp,
                            bool smtputf8, bool authenticated, const std::optional<TlsInfo>& tls,
                            const std::vector<Recipient>& rcpts,
                            std::chrono::system_clock::time_point when);

}  // namespace mk::smtp
