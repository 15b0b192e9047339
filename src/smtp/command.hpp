// smtp/command.hpp: sans-I/O parsing of SMTP command lines and MAIL/RCPT parameters.
//
// STANDARDS: RFC 5321 §4.1 (commands), §4.5.3.1.4 (command line length), RFC 1870 (SIZE),
// RFC 6152 (8BITMIME), RFC 3030 (CHUNKING/BDAT), RFC 3461 (DSN: RET, ENVID, NOTIFY, ORCPT),
// RFC 6531 (SMTPUTF8), RFC 8689 (REQUIRETLS), RFC 3461 §4 (xtext).
// SECURITY: every input is untrusted; lines arrive without CRLF and were already checked for
// bare CR/LF by the line reader. No function here allocates more than the input size.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.hpp"
#include "message/address.hpp"

namespace mk::smtp {

// RFC 5321 §4.5.3.1.4 sets 512 octets; SMTP extensions (RFC 1869 §4.1.2) each add to it.
// 2048 matches common practice (Postfix line_length_limit) with a margin for DSN params.
inline constexpr std::size_t kMaxCommandLine = 2048;
inline constexpr std::size_t kMaxEnvidLength = 100;   // RFC 3461 §4.4
inline constexpr std::size_t kMaxOrcptLength = 500;   // RFC 3461 §4.2

enum class Verb {
  ehlo, helo, mail, rcpt, data, bdat, rset, noop, quit, vrfy, expn, help, starttls, auth,
  unknown
};

struct Command {
  Verb verb = Verb::unknown;
  std::string_view name;  // verb as sent
  std::string_view arg;   // everything after the verb and one space, may be empty
};

Command parse_command(std::string_view line);

enum class Body { unspecified, seven_bit, eight_bit_mime };
enum class Ret { unspecified, full, hdrs };

struct MailParams {
  message::Path path;
  std::optional<std::uint64_t> size;
  Body body = Body::unspecified;
  bool smtputf8 = false;
  bool requiretls = false;
  Ret ret = Ret::unspecified;
  std::string envid;  // xtext-decoded
};

struct RcptParams {
  message::Path path;
  std::string notify;  // "NEVER" or comma list of SUCCESS,FAILURE,DELAY; empty = not given
  std::string orcpt;   // "rfc822;addr" decoded from xtext
};

// A parameter error carries the reply to send (code + enhanced + text).
struct ParamError {
  int code;
  std::string enhanced;
  std::string text;
};

template <class T>
struct Parsed {
  std::optional<T> value;
  ParamError error{0, "", ""};
  bool ok() const { return value.has_value(); }
};

// arg is what follows "MAIL " (i.e. starts with "FROM:"). utf8_allowed: EHLO was used (the
// SMTPUTF8 keyword is only valid then) -- non-ASCII addresses also need SMTPUTF8 in params.
Parsed<MailParams> parse_mail(std::string_view arg, bool ehlo);
// smtputf8: the transaction's MAIL carried SMTPUTF8.
Parsed<RcptParams> parse_rcpt(std::string_view arg, bool ehlo, bool smtputf8);

// RFC 3461 §4: xtext decoding ("+2B" -> "+"); nullopt if malformed.
std::optional<std::string> xtext_decode(std::string_view s);

struct BdatArgs {
  std::uint64_t size = 0;
  bool last = false;
};
std::optional<BdatArgs> parse_bdat(std::string_view arg);

}  // namespace mk::smtp
