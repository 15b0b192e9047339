#include "smtp/command.hpp"

#include <array>
#include <utility>

#include "base/strings.hpp"

namespace mk::smtp {
namespace {

constexpr std::array<std::pair<std::string_view, Verb>, 14> kVerbs{{
    {"EHLO", Verb::ehlo}, {"HELO", Verb::helo}, {"MAIL", Verb::mail}, {"RCPT", Verb::rcpt},
    {"DATA", Verb::data}, {"BDAT", Verb::bdat}, {"RSET", Verb::rset}, {"NOOP", Verb::noop},
    {"QUIT", Verb::quit}, {"VRFY", Verb::vrfy}, {"EXPN", Verb::expn}, {"HELP", Verb::help},
    {"STARTTLS", Verb::starttls}, {"AUTH", Verb::auth},
}};

ParamError syntax(std::string text) { return {501, "5.5.4", std::move(text)}; }

std::string fmt_prefix_error(std::string_view prefix) {
  return "Syntax: expected " + std::string(prefix) + "<address>";
}

bool is_esmtp_keyword(std::string_view k) {
  // RFC 5321 §4.1.2 esmtp-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-")
  if (k.empty() || !(is_alpha(k[0]) || is_digit(k[0]))) return false;
  for (char c : k)
    if (!(is_alpha(c) || is_digit(c) || c == '-')) return false;
  return true;
}

bool is_esmtp_value(std::string_view v) {
  // esmtp-value = 1*(%d33-60 / %d62-126); RFC 6531 allows UTF-8 here too.
  if (v.empty()) return false;
  for (unsigned char c : v)
    if (c < 33 || c == '=' || c == 127) return false;
  return true;
}

struct Param {
  std::string_view key;
  std::optional<std::string_view> value;
};

// Splits " KEY[=VALUE] KEY2..." after the path. Returns false on malformed syntax.
bool split_params(std::string_view rest, std::vector<Param>& out, std::string& why) {
  while (!rest.empty()) {
    if (rest[0] != ' ') {
      why = "expected space before parameter";
      return false;
    }
    while (!rest.empty() && rest[0] == ' ') rest.remove_prefix(1);
    if (rest.empty()) break;  // trailing spaces are tolerated
    auto end = rest.find(' ');
    auto tok = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end);
    Param p;
    auto eq = tok.find('=');
    p.key = tok.substr(0, eq);
    if (eq != std::string_view::npos) p.value = tok.substr(eq + 1);
    if (!is_esmtp_keyword(p.key) || (p.value && !is_esmtp_value(*p.value))) {
      why = "malformed parameter";
      return false;
    }
    for (const auto& q : out) {
      if (iequals(q.key, p.key)) {
        why = "duplicate parameter " + to_upper(p.key);
        return false;
      }
    }
    out.push_back(p);
  }
  return true;
}

// What MAIL and RCPT share: the "FROM:"/"TO:" prefix, the path, and the parameter list
// (which needs EHLO). Returns false with out.error set on any error.
template <class T>
bool parse_head(std::string_view arg, std::string_view prefix, bool allow_null, bool ehlo,
                message::Path& path, std::vector<Param>& params, Parsed<T>& out) {
  if (!istarts_with(arg, prefix)) {
    out.error = syntax(fmt_prefix_error(prefix));
    return false;
  }
  arg.remove_prefix(prefix.size());
  while (!arg.empty() && arg[0] == ' ') arg.remove_prefix(1);  // common, if not RFC-strict
  auto p = message::parse_path(arg, /*allow_utf8=*/true, allow_null);
  if (!p) {
    out.error = {501, allow_null ? "5.1.7" : "5.1.3", "Bad address syntax: " + p.error().message};
    return false;
  }
  path = p->path;
  std::string why;
  if (!split_params(arg.substr(p->consumed), params, why)) {
    out.error = syntax(why);
    return false;
  }
  if (!params.empty() && !ehlo) {
    out.error = {555, "5.5.4", "Parameters require EHLO"};
    return false;
  }
  return true;
}

}  // namespace

Command parse_command(std::string_view line) {
  Command c;
  auto sp = line.find(' ');
  c.name = line.substr(0, sp);
  if (sp != std::string_view::npos) c.arg = line.substr(sp + 1);
  for (const auto& [name, verb] : kVerbs) {
    if (iequals(c.name, name)) {
      c.verb = verb;
      break;
    }
  }
  return c;
}

std::optional<std::string> xtext_decode(std::string_view s) {
  auto hex = [](char h) -> int {
    if (h >= '0' && h <= '9') return h - '0';
    if (h >= 'A' && h <= 'F') return h - 'A' + 10;
    return -1;  // RFC 3461 §4: hexchar is upper-case only
  };
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c == '+') {
      if (s.size() - i < 3) return std::nullopt;
      int hi = hex(s[i + 1]), lo = hex(s[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out += char(hi * 16 + lo);
      i += 2;
    } else if (c < 33 || c > 126 || c == '=') {
      return std::nullopt;
    } else {
      out += char(c);
    }
  }
  return out;
}

Parsed<MailParams> parse_mail(std::string_view arg, bool ehlo) {
  Parsed<MailParams> out;
  MailParams mp;
  std::vector<Param> params;
  if (!parse_head(arg, "FROM:", true, ehlo, mp.path, params, out)) return out;
  for (const auto& p : params) {
    std::string key = to_upper(p.key);
    std::string_view v = p.value.value_or("");
    if (key == "SIZE") {
      auto n = parse_u64(v);
      if (!n) {
        out.error = syntax("SIZE needs a number");
        return out;
      }
      mp.size = *n;
    } else if (key == "BODY") {
      if (iequals(v, "7BIT")) mp.body = Body::seven_bit;
      else if (iequals(v, "8BITMIME")) mp.body = Body::eight_bit_mime;
      else {
        out.error = {555, "5.5.4", "BODY must be 7BIT or 8BITMIME"};
        return out;
      }
    } else if (key == "SMTPUTF8" && !p.value) {
      mp.smtputf8 = true;
    } else if (key == "REQUIRETLS" && !p.value) {
      mp.requiretls = true;
    } else if (key == "RET") {
      if (iequals(v, "FULL")) mp.ret = Ret::full;
      else if (iequals(v, "HDRS")) mp.ret = Ret::hdrs;
      else {
        out.error = syntax("RET must be FULL or HDRS");
        return out;
      }
    } else if (key == "ENVID") {
      auto d = xtext_decode(v);
      if (!d || d->size() > kMaxEnvidLength) {
        out.error = syntax("malformed ENVID");
        return out;
      }
      mp.envid = *d;
    } else if (key == "AUTH" && p.value) {
      // RFC 4954 §5: the original submitter, for relays between trusted servers. We trust
      // only our own AUTH, so the value is checked for form and otherwise ignored.
      if (!xtext_decode(v)) {
        out.error = syntax("malformed AUTH");
        return out;
      }
    } else {
      out.error = {555, "5.5.4", "Unsupported MAIL parameter " + log_safe(key, 40)};
      return out;
    }
  }
  if (mp.path.mailbox.utf8 && !mp.smtputf8) {
    out.error = {553, "5.6.7", "Non-ASCII address requires SMTPUTF8"};
    return out;
  }
  out.value = std::move(mp);
  return out;
}

Parsed<RcptParams> parse_rcpt(std::string_view arg, bool ehlo, bool smtputf8) {
  Parsed<RcptParams> out;
  RcptParams rp;
  std::vector<Param> params;
  if (!parse_head(arg, "TO:", false, ehlo, rp.path, params, out)) return out;
  for (const auto& p : params) {
    std::string key = to_upper(p.key);
    std::string_view v = p.value.value_or("");
    if (key == "NOTIFY") {
      std::string norm = to_upper(v);
      bool ok = !norm.empty();
      if (norm != "NEVER") {
        for (auto item : split(norm, ','))
          if (item != "SUCCESS" && item != "FAILURE" && item != "DELAY") ok = false;
      }
      if (!ok) {
        out.error = syntax("NOTIFY must be NEVER or a list of SUCCESS,FAILURE,DELAY");
        return out;
      }
      rp.notify = norm;
    } else if (key == "ORCPT") {
      auto semi = v.find(';');
      auto d = semi == std::string_view::npos ? std::nullopt : xtext_decode(v.substr(semi + 1));
      if (!d || v.size() > kMaxOrcptLength) {
        out.error = syntax("malformed ORCPT");
        return out;
      }
      rp.orcpt = std::string(v.substr(0, semi)) + ";" + *d;
    } else {
      out.error = {555, "5.5.4", "Unsupported RCPT parameter " + log_safe(key, 40)};
      return out;
    }
  }
  if (rp.path.mailbox.utf8 && !smtputf8) {
    out.error = {553, "5.6.7", "Non-ASCII address requires SMTPUTF8"};
    return out;
  }
  out.value = std::move(rp);
  return out;
}

std::optional<BdatArgs> parse_bdat(std::string_view arg) {
  BdatArgs b;
  auto parts = split(arg, ' ');
  if (parts.empty() || parts.size() > 2) return std::nullopt;
  auto n = parse_u64(parts[0]);
  if (!n) return std::nullopt;
  b.size = *n;
  if (parts.size() == 2) {
    if (!iequals(parts[1], "LAST")) return std::nullopt;
    b.last = true;
  }
  return b;
}

}  // namespace mk::smtp
