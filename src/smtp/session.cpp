#include "smtp/session.hpp"

#include <algorithm>
#include <array>
#include <utility>

#include <fmt/format.h>

#include "auth/sasl.hpp"
#include "base/strings.hpp"
#include "message/codec.hpp"
#include "message/header.hpp"
#include "message/parsed.hpp"

namespace mk::smtp {
namespace {

using S = Session::State;

constexpr unsigned bit(S s) { return 1u << static_cast<unsigned>(s); }
constexpr unsigned kAny = bit(S::greeted) | bit(S::ready) | bit(S::mail) | bit(S::rcpt) | bit(S::bdat);

bool printable_token(std::string_view s) {
  for (unsigned char c : s)
    if (c < 0x21 || c > 0x7e) return false;
  return !s.empty();
}

}  // namespace

// The command table (OpenSMTPD style): verb, states it is valid in, the reply when it is
// not, and its handler. A handler only runs in an allowed state.
struct Session::Spec {
  Verb verb;
  unsigned states;
  const char* out_of_sequence;
  Step (*handle)(Session&, std::string_view);
};

Session::Session(SessionConfig cfg, Recipients& recipients, ConnInfo conn, SubmissionPolicy* policy)
    : cfg_(std::move(cfg)), recipients_(recipients), conn_(std::move(conn)), policy_(policy) {
  if (!policy_) cfg_.submission = false;
}

Step Session::greet() {
  // RFC 2034 §4: no enhanced code on the greeting.
  return {Reply(220, "", cfg_.hostname + " ESMTP mailkeep"), Next::read_command};
}

Step Session::error(int code, std::string enh, std::string text) {
  if (++errors_ >= cfg_.max_errors) {
    return {Reply(421, "4.7.0", cfg_.hostname + " Too many errors, closing connection"),
            Next::close};
  }
  return {Reply(code, std::move(enh), std::move(text)), Next::read_command};
}

void Session::reset_transaction() {
  txn_ = Transaction{};
  have_mail_ = false;
  data_.reset();
  chunk_total_ = 0;
  chunk_error_.reset();
  if (state_ != S::greeted) state_ = S::ready;
}

Step Session::on_command(std::string_view line) {
  static constexpr std::array<Spec, 14> kTable{{
      {Verb::ehlo, kAny, "", [](Session& s, std::string_view a) { return s.ehlo(a, true); }},
      {Verb::helo, kAny, "", [](Session& s, std::string_view a) { return s.ehlo(a, false); }},
      {Verb::mail, bit(S::ready), "", [](Session& s, std::string_view a) { return s.mail(a); }},
      {Verb::rcpt, bit(S::mail) | bit(S::rcpt), "Need MAIL before RCPT",
       [](Session& s, std::string_view a) { return s.rcpt(a); }},
      {Verb::data, bit(S::mail) | bit(S::rcpt), "Need MAIL and RCPT before DATA",
       [](Session& s, std::string_view a) { return s.data(a); }},
      {Verb::bdat, kAny, "", [](Session& s, std::string_view a) { return s.bdat(a); }},
      {Verb::rset, kAny, "",
       [](Session& s, std::string_view a) -> Step {
         if (!a.empty()) return s.error(501, "5.5.4", "RSET takes no arguments");
         s.reset_transaction();
         return {Reply(250, "2.0.0", "OK"), Next::read_command};
       }},
      {Verb::noop, kAny, "",
       [](Session&, std::string_view) -> Step {
         return {Reply(250, "2.0.0", "OK"), Next::read_command};
       }},
      {Verb::quit, kAny, "",
       [](Session& s, std::string_view a) -> Step {
         if (!a.empty()) return s.error(501, "5.5.4", "QUIT takes no arguments");
         return {Reply(221, "2.0.0", s.cfg_.hostname + " closing connection"), Next::close};
       }},
      {Verb::vrfy, kAny, "",
       [](Session& s, std::string_view a) -> Step {
         if (a.empty()) return s.error(501, "5.5.4", "VRFY needs an argument");
         // RFC 5321 §3.5.3: 252 without disclosing whether the user exists.
         return {Reply(252, "2.5.0", "Cannot VRFY user, but will accept message and attempt delivery"),
                 Next::read_command};
       }},
      {Verb::expn, kAny, "",
       [](Session& s, std::string_view) -> Step {
         return s.error(502, "5.5.1", "EXPN is not supported");
       }},
      {Verb::help, kAny, "",
       [](Session&, std::string_view) -> Step {
         return {Reply(214, "2.0.0",
                       "Commands: EHLO HELO MAIL RCPT DATA BDAT RSET NOOP QUIT VRFY HELP STARTTLS"),
                 Next::read_command};
       }},
      {Verb::starttls, kAny, "",
       [](Session& s, std::string_view a) -> Step {
         if (!a.empty()) return s.error(501, "5.5.4", "STARTTLS takes no arguments");
         if (s.tls_) return s.error(503, "5.5.1", "TLS already active");
         if (!s.cfg_.starttls_available || !s.esmtp_)
           return s.error(454, "4.7.0", "TLS not available");
         if (s.state_ != S::ready) return s.error(503, "5.5.1", "STARTTLS not allowed inside a transaction");
         return {Reply(220, "2.0.0", "Ready to start TLS"), Next::start_tls};
       }},
      {Verb::auth, kAny, "", [](Session& s, std::string_view a) { return s.auth(a); }},
  }};

  if (auth_ != AuthStep::none) return auth_response(line);
  const Command cmd = parse_command(line);
  if (cmd.verb == Verb::unknown)
    return error(500, "5.5.2", "Syntax error, command unrecognized");
  const Spec* spec = nullptr;
  for (const auto& s : kTable)
    if (s.verb == cmd.verb) spec = &s;
  if (!(spec->states & bit(state_))) {
    if (state_ == S::greeted && cmd.verb != Verb::bdat)
      return error(503, "5.5.1", "Send EHLO or HELO first");
    if (state_ == S::bdat && cmd.verb != Verb::bdat)
      return error(503, "5.5.1", "Only BDAT, RSET, NOOP or QUIT allowed during a BDAT transfer");
    if (cmd.verb == Verb::mail) return error(503, "5.5.1", "Sender already specified");
    return error(503, "5.5.1", spec->out_of_sequence);
  }
  return spec->handle(*this, cmd.arg);
}

Step Session::on_line_error(LineStatus status) {
  switch (status) {
    case LineStatus::too_long:
      return error(500, "5.5.2", fmt::format("Line too long (limit {} octets)", kMaxCommandLine));
    case LineStatus::bare_lf:
    case LineStatus::bare_cr:
      // RFC 5321 §2.3.8. We hang up rather than guess where the line ends.
      return {Reply(554, "5.5.2", "Bare CR or LF not allowed; lines must end with CRLF"),
              Next::close};
    default:
      return error(500, "5.5.2", "Syntax error");
  }
}

std::vector<std::string> Session::ehlo_keywords() const {
  std::vector<std::string> k;
  k.push_back("PIPELINING");
  k.push_back(fmt::format("SIZE {}", cfg_.max_message_size));
  k.push_back("8BITMIME");
  k.push_back("SMTPUTF8");
  k.push_back("ENHANCEDSTATUSCODES");
  k.push_back("CHUNKING");
  k.push_back("DSN");
  if (cfg_.starttls_available && !tls_) k.push_back("STARTTLS");
  if (tls_) k.push_back("REQUIRETLS");  // RFC 8689 §4.1: only over TLS
  if (cfg_.submission && tls_) k.push_back("AUTH SCRAM-SHA-256 PLAIN LOGIN");  // RFC 4954: never in the clear
  k.push_back("HELP");
  return k;
}

Step Session::ehlo(std::string_view arg, bool extended) {
  arg = trim(arg);
  auto sp = arg.find(' ');
  auto name = arg.substr(0, sp);
  if (name.empty()) return error(501, "5.5.4", extended ? "EHLO needs a hostname" : "HELO needs a hostname");
  if (!printable_token(name)) return error(501, "5.5.4", "Invalid hostname");
  // RFC 5321 §4.1.4: EHLO resets any transaction.
  reset_transaction();
  helo_ = std::string(name.substr(0, message::kMaxDomain));
  esmtp_ = extended;
  state_ = S::ready;
  std::vector<std::string> lines;
  lines.push_back(fmt::format("{} Hello {} [{}]", cfg_.hostname, log_safe(helo_, 64), conn_.remote_ip));
  if (extended)
    for (auto& k : ehlo_keywords()) lines.push_back(std::move(k));
  return {Reply(250, "", std::move(lines)), Next::read_command};
}

Step Session::mail(std::string_view arg) {
  auto parsed = parse_mail(arg, esmtp_);
  if (!parsed.ok()) return error(parsed.error.code, parsed.error.enhanced, parsed.error.text);
  auto& mp = *parsed.value;
  if (mp.size && *mp.size > cfg_.max_message_size) {
    return error(552, "5.3.4",
                 fmt::format("Message size exceeds fixed limit of {} bytes", cfg_.max_message_size));
  }
  if (cfg_.submission) {
    if (!tls_) return error(530, "5.7.0", "Must issue a STARTTLS command first");
    if (!identity_) return error(530, "5.7.0", "Authentication required");
    if (!mp.path.null && !policy_->may_send_as(*identity_, mp.path.mailbox.canonical())) {
      return error(553, "5.7.1", fmt::format("Sender address rejected: not owned by {}",
                                             log_safe(identity_->address, 80)));
    }
    // A contained account: refused, with a temporary code so clients keep the mail.
    if (const std::string why = policy_->outbound_hold(*identity_); !why.empty())
      return error(451, "4.7.1", fmt::format("Sending from {} is suspended pending review ({}); your administrator "
                                             "can release it", log_safe(identity_->address, 80), log_safe(why, 120)));
  }
  if (mp.requiretls && !tls_) {
    // RFC 8689 §4.1: REQUIRETLS is only valid over TLS.
    return error(530, "5.7.10", "REQUIRETLS needs a TLS connection");
  }
  txn_ = Transaction{};
  txn_.id = random_id(8);
  txn_.mail = std::move(mp);
  txn_.tls = tls_.has_value();
  if (identity_) txn_.account_id = identity_->account_id;
  have_mail_ = true;
  state_ = S::mail;
  return {Reply(250, "2.1.0", "Sender OK"), Next::read_command};
}

Step Session::rcpt(std::string_view arg) {
  auto parsed = parse_rcpt(arg, esmtp_, txn_.mail.smtputf8);
  if (!parsed.ok()) return error(parsed.error.code, parsed.error.enhanced, parsed.error.text);
  auto& rp = *parsed.value;
  if (txn_.rcpts.size() >= cfg_.max_recipients)
    return {Reply(452, "4.5.3", "Too many recipients"), Next::read_command};
  const auto& mb = rp.path.mailbox;
  auto verdict = recipients_.resolve(mb);
  if (cfg_.submission && verdict.kind == RcptVerdict::Kind::relay_denied) {
    // The authenticated account sends elsewhere: the outbound queue takes it.
    if (mb.domain_literal) return error(550, "5.1.2", "Address literals are not accepted as recipients");
    verdict = {RcptVerdict::Kind::accept, {Target::remote()}};
  }
  switch (verdict.kind) {
    case RcptVerdict::Kind::accept:
      break;
    case RcptVerdict::Kind::unknown_user:
      return error(550, "5.1.1", "Recipient address rejected: user unknown");
    case RcptVerdict::Kind::relay_denied:
      return error(554, "5.7.1", "Relay access denied");
    case RcptVerdict::Kind::mailbox_full:
      // RFC 3463 X.2.2; temporary, so the sender retries once the user has made room.
      return {Reply(452, "4.2.2", "Mailbox full, try again later"), Next::read_command};
    case RcptVerdict::Kind::temp_fail:
      return {Reply(451, "4.3.0", "Temporary failure looking up recipient, try again later"),
              Next::read_command};
  }
  std::string addr = mb.canonical();
  // RFC 5321 §3.7.2 spirit: one copy per mailbox even if named twice.
  const bool dup = std::any_of(txn_.rcpts.begin(), txn_.rcpts.end(), [&](const Recipient& r) {
    return r.targets == verdict.targets && (!r.remote() || r.address == addr);
  });
  if (!dup) txn_.rcpts.push_back(Recipient{std::move(addr), std::move(verdict.targets), std::move(rp)});
  state_ = S::rcpt;
  return {Reply(250, "2.1.5", "Recipient OK"), Next::read_command};
}

Step Session::data(std::string_view arg) {
  if (!arg.empty()) return error(501, "5.5.4", "DATA takes no arguments");
  if (txn_.rcpts.empty()) return error(554, "5.5.1", "No valid recipients");
  data_.emplace(cfg_.max_message_size);
  return {Reply(354, "", "End data with <CR><LF>.<CR><LF>"), Next::read_data};
}

std::optional<Step> Session::on_data(std::string_view in, std::size_t& consumed) {
  const DataStatus st = data_->feed(in, consumed);
  switch (st) {
    case DataStatus::need_more:
      return std::nullopt;
    case DataStatus::bare_lf:
    case DataStatus::bare_cr:
      reset_transaction();
      return Step{Reply(554, "5.6.11",
                        "Message contains bare CR or LF; lines must end with CRLF (RFC 5321 2.3.8)"),
                  Next::close};
    case DataStatus::done:
      break;
  }
  if (data_->too_big()) {
    reset_transaction();
    return error(552, "5.3.4",
                 fmt::format("Message size exceeds fixed limit of {} bytes", cfg_.max_message_size));
  }
  txn_.message = std::move(data_->message());
  data_.reset();
  return finish_message();
}

Step Session::bdat(std::string_view arg) {
  auto b = parse_bdat(arg);
  if (!b) {
    // Without a size we cannot find the next command in the stream: hang up.
    return {Reply(501, "5.5.4", "Syntax: BDAT <size> [LAST]"), Next::close};
  }
  chunk_remaining_ = b->size;
  chunk_last_ = b->last;
  chunk_discard_ = false;
  chunk_error_.reset();
  // RFC 3030 §2: the chunk is read even when the command is refused.
  auto refuse = [&](int code, const char* enh, std::string text) {
    chunk_discard_ = true;
    ++errors_;
    chunk_error_ = Reply(code, enh, std::move(text));
  };
  if (!esmtp_) refuse(503, "5.5.1", "BDAT requires EHLO");
  else if (state_ == S::greeted) refuse(503, "5.5.1", "Send EHLO first");
  else if (state_ == S::ready) refuse(503, "5.5.1", "Need MAIL before BDAT");
  else if (txn_.rcpts.empty()) refuse(554, "5.5.1", "No valid recipients");
  else if (chunk_total_ + b->size > cfg_.max_message_size) {
    refuse(552, "5.3.4",
           fmt::format("Message size exceeds fixed limit of {} bytes", cfg_.max_message_size));
  }
  if (!chunk_discard_) state_ = S::bdat;
  if (chunk_remaining_ == 0) {
    std::size_t none = 0;
    return *on_chunk({}, none);
  }
  return {std::nullopt, Next::read_chunk};
}

std::optional<Step> Session::on_chunk(std::string_view in, std::size_t& consumed) {
  const auto take = static_cast<std::size_t>(std::min<std::uint64_t>(in.size(), chunk_remaining_));
  if (!chunk_discard_) txn_.message.append(in.substr(0, take));
  consumed = take;
  chunk_remaining_ -= take;
  if (chunk_remaining_ > 0) return std::nullopt;
  if (chunk_discard_) {
    Reply r = *chunk_error_;
    // A refused chunk inside a transaction ends that transaction (RFC 3030 §2).
    if (state_ == S::bdat || r.code == 552) reset_transaction();
    if (errors_ >= cfg_.max_errors)
      return Step{Reply(421, "4.7.0", cfg_.hostname + " Too many errors, closing connection"),
                  Next::close};
    return Step{std::move(r), Next::read_command};
  }
  chunk_total_ = txn_.message.size();
  if (!chunk_last_) {
    return Step{Reply(250, "2.0.0", fmt::format("{} octets received", chunk_total_)),
                Next::read_command};
  }
  // BDAT content is raw; normalize bare LF to CRLF so stored messages are canonical.
  std::string& m = txn_.message;
  if (m.find('\n') != std::string::npos) {
    std::string norm;
    norm.reserve(m.size() + 64);
    for (std::size_t i = 0; i < m.size(); ++i) {
      if (m[i] == '\n' && (i == 0 || m[i - 1] != '\r')) norm += '\r';
      norm += m[i];
    }
    m.swap(norm);
  }
  if (!m.empty() && !m.ends_with("\r\n")) m += "\r\n";
  return finish_message();
}

Step Session::finish_message() {
  const auto now = std::chrono::system_clock::now();
  if (cfg_.submission) {
    if (auto refused = check_submitted_headers()) {
      reset_transaction();
      return *refused;
    }
  }
  std::string hdr = received_header(helo_, conn_, cfg_.hostname, txn_.id, esmtp_,
                                    txn_.mail.smtputf8, identity_.has_value(), tls_, txn_.rcpts, now);
  if (cfg_.submission) {
    // Return-Path is for the final delivery, which for remote recipients is elsewhere.
    txn_.trace = std::move(hdr);
  } else {
    // RFC 5321 §4.4: the delivering server records the reverse-path as Return-Path.
    const std::string rp = txn_.mail.path.null ? "" : txn_.mail.path.mailbox.canonical();
    txn_.trace = "Return-Path: <" + rp + ">\r\n" + hdr;
  }
  return {std::nullopt, Next::deliver};
}

std::optional<Step> Session::check_submitted_headers() {
  std::string& m = txn_.message;
  std::size_t header_end = 0;
  const std::size_t body = message::find_body_start(m, header_end);
  (void)body;
  const auto fields = message::parse_header_block(std::string_view(m).substr(0, header_end));
  message::Authors authors = message::authors_of(fields);
  // Fields past the parser's limits are not read: another From: may be among them.
  if (message::header_truncated(std::string_view(m).substr(0, header_end), fields.size())) authors.truncated = true;
  if (authors.fields == 0) return error(550, "5.6.0", "Message has no From: header");
  // RFC 5322 §3.6: exactly one From field. A second one would escape the ownership check
  // below (clients may show either), so it is refused.
  if (authors.fields > 1) return error(550, "5.6.0", "Message has more than one From: header");
  if (authors.truncated) return error(550, "5.6.0", "Message header or From: address list too large to check");
  if (authors.mailboxes.empty()) return error(550, "5.6.0", "From: header has no address");
  txn_.from_domain = to_lower(authors.mailboxes[0].domain);  // the signing domain (DKIM)
  for (const auto& a : authors.mailboxes) {
    message::Mailbox mb;
    mb.local = a.local;
    mb.domain = a.domain;
    if (a.domain.empty() || !policy_->may_send_as(*identity_, mb.canonical())) {
      return error(550, "5.7.1", fmt::format("From: address {}@{} is not owned by {}", log_safe(a.local, 64),
                                             log_safe(a.domain, 64), log_safe(identity_->address, 80)));
    }
  }
  // RFC 6409 §8.2/§8.3: complete the message the client left without Date or Message-ID.
  std::string add;
  if (!message::header_value(fields, "Date")) add += "Date: " + rfc5322_date(std::chrono::system_clock::now()) + "\r\n";
  if (!message::header_value(fields, "Message-ID"))
    add += fmt::format("Message-ID: <{}.{}@{}>\r\n", random_id(12), txn_.id, cfg_.hostname);
  if (!add.empty()) m.insert(header_end, add);
  return std::nullopt;
}

Step Session::auth(std::string_view arg) {
  if (!cfg_.submission) return error(502, "5.5.1", "AUTH is not offered on this port; use submission (587/465)");
  if (!tls_) return error(538, "5.7.11", "Encryption required for requested authentication mechanism");
  if (identity_) return error(503, "5.5.1", "Already authenticated");
  if (state_ == S::greeted) return error(503, "5.5.1", "Send EHLO first");
  if (state_ != S::ready) return error(503, "5.5.1", "AUTH not permitted during a mail transaction");
  arg = trim(arg);
  const auto sp = arg.find(' ');
  const std::string mech = to_upper(arg.substr(0, sp));
  const std::string_view initial = sp == std::string_view::npos ? std::string_view() : trim(arg.substr(sp + 1));
  if (mech == "PLAIN") {
    if (initial.empty()) {
      auth_ = AuthStep::plain;
      return {Reply(334, "", ""), Next::read_command};
    }
    return auth_plain(initial == "=" ? std::string_view() : initial);
  }
  if (mech == "LOGIN") {
    if (initial.empty()) {
      auth_ = AuthStep::login_user;
      return {Reply(334, "", "VXNlcm5hbWU6"), Next::read_command};  // "Username:"
    }
    auth_ = AuthStep::login_user;
    return auth_response(initial);
  }
  if (mech == "SCRAM-SHA-256") {
    scram_ = std::make_unique<auth::ScramServer>(
        [this](const std::string& user) -> std::optional<auth::ScramServer::Verifier> {
          auth_attempt_user_ = user;
          auto a = policy_->scram_account(user);
          if (!a) return std::nullopt;
          if (a->may_log_in) scram_identity_ = a->who;
          return auth::ScramServer::Verifier{std::move(a->secret), a->may_log_in};
        },
        policy_->scram_salt_key());
    scram_identity_.reset();
    auth_ = AuthStep::scram_first;
    if (initial.empty()) return {Reply(334, "", ""), Next::read_command};
    return auth_response(initial);
  }
  return error(504, "5.5.4", "Unrecognized authentication type; use SCRAM-SHA-256, PLAIN or LOGIN");
}

Step Session::auth_scram(std::string_view decoded) {
  const AuthStep step = auth_;
  auth_ = AuthStep::none;
  auto fail = [this](int code, const char* enh, std::string text) {
    scram_.reset();
    scram_identity_.reset();
    return error(code, enh, std::move(text));
  };
  if (step == AuthStep::scram_done) {
    // The client has checked our server signature; RFC 4954 §4 has no success-with-data.
    if (!decoded.empty() || !scram_identity_) return fail(535, "5.7.8", "Authentication credentials invalid");
    identity_ = std::move(*scram_identity_);
    scram_.reset();
    scram_identity_.reset();
    return {Reply(235, "2.7.0", "Authentication successful"), Next::read_command};
  }
  const auto r = step == AuthStep::scram_first ? scram_->client_first(decoded) : scram_->client_final(decoded);
  using K = auth::ScramServer::Step::Kind;
  if (r.kind == K::failure) {
    if (r.data == "invalid credentials") return fail(535, "5.7.8", "Authentication credentials invalid");
    return fail(501, "5.5.2", "SCRAM: " + r.data);
  }
  // A verified proof is a login for the books now (take_verified_login); the session is
  // authenticated only after the client's empty response.
  if (r.kind == K::success && scram_identity_) verified_login_ = scram_identity_->address;
  auth_ = r.kind == K::challenge ? AuthStep::scram_final : AuthStep::scram_done;
  return {Reply(334, "", message::base64_encode(r.data)), Next::read_command};
}

Step Session::auth_response(std::string_view line) {
  const AuthStep step = auth_;
  auth_ = AuthStep::none;
  line = trim(line);
  if (line == "*") {
    auth_user_.clear();
    scram_.reset();
    return error(501, "5.0.0", "Authentication cancelled");
  }
  if (step == AuthStep::plain) return auth_plain(line);
  auto decoded = auth::sasl_base64_decode(line);
  if (!decoded) {
    auth_user_.clear();
    scram_.reset();
    return error(501, "5.5.2", "Invalid base64 in AUTH response");
  }
  if (step == AuthStep::scram_first || step == AuthStep::scram_final || step == AuthStep::scram_done) {
    auth_ = step;
    return auth_scram(*decoded);
  }
  if (step == AuthStep::login_user) {
    auth_user_ = std::move(*decoded);
    auth_ = AuthStep::login_pass;
    return {Reply(334, "", "UGFzc3dvcmQ6"), Next::read_command};  // "Password:"
  }
  std::string user = std::move(auth_user_);
  auth_user_.clear();
  return auth_check(user, *decoded);
}

Step Session::auth_plain(std::string_view b64) {
  auto r = auth::parse_plain(b64);
  if (!r) return error(501, "5.5.2", "Invalid PLAIN response");
  if (!r->authzid.empty() && !iequals(r->authzid, r->user))
    return error(535, "5.7.8", "Authentication credentials invalid");
  return auth_check(r->user, r->password);
}

Step Session::auth_check(std::string_view user, std::string_view pass) {
  auth_attempt_user_ = std::string(user);
  auto who = policy_->authenticate(user, pass);
  if (!who) return error(535, "5.7.8", "Authentication credentials invalid");
  verified_login_ = who->address;
  identity_ = std::move(*who);
  return {Reply(235, "2.7.0", "Authentication successful"), Next::read_command};
}

Step Session::on_delivered(bool ok, std::string_view detail) {
  Step s;
  if (ok) {
    ++accepted_;
    s = {Reply(250, "2.0.0", fmt::format("OK id={}", txn_.id)), Next::read_command};
  } else {
    s = {Reply(451, "4.3.0", fmt::format("Temporary local problem, try again later ({})",
                                         log_safe(detail, 80))),
         Next::read_command};
  }
  reset_transaction();
  return s;
}

Step Session::on_rejected(Reply reply) {
  reset_transaction();
  return {std::move(reply), Next::read_command};
}

Step Session::on_tls(TlsInfo info) {
  tls_ = std::move(info);
  // RFC 3207 §4.2: discard all knowledge obtained from the client before TLS.
  reset_transaction();
  state_ = S::greeted;
  helo_.clear();
  esmtp_ = false;
  identity_.reset();
  return {std::nullopt, Next::read_command};
}

Step Session::on_tls_failed() { return {std::nullopt, Next::close}; }

Step Session::on_timeout() {
  return {Reply(421, "4.4.2", cfg_.hostname + " Timeout, closing connection"), Next::close};
}

Step Session::on_shutdown() {
  return {Reply(421, "4.3.2", cfg_.hostname + " Service shutting down, try again later"),
          Next::close};
}

}  // namespace mk::smtp
