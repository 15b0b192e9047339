// acme/proto.cpp: parsing and writing ACME's JSON objects (see proto.hpp). Every reader
// checks the type of each member it uses and its bounds; unknown members are ignored, as
// RFC 8555 §7.1 asks of clients (servers add fields, e.g. Let's Encrypt's "validationRecord").
#include "acme/proto.hpp"

#include <algorithm>
#include <array>
#include <ctime>

#include <boost/json.hpp>
#include <fmt/format.h>

#include "base/ip.hpp"
#include "base/strings.hpp"

namespace mk::acme {
namespace json = boost::json;
namespace {

constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr std::string_view kAcmeErrorPrefix = "urn:ietf:params:acme:error:";

int b64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

// Parses a whole document into an object, with the size and depth limits.
Result<json::object> parse_object(std::string_view text, std::string_view what) {
  if (text.size() > kMaxDocument) return err(fmt::format("{} is larger than {} bytes", what, kMaxDocument));
  json::parse_options opt;
  opt.max_depth = kMaxDepth;
  boost::system::error_code ec;
  json::value v = json::parse(json::string_view(text.data(), text.size()), ec, {}, opt);
  if (ec) return err(fmt::format("{} is not JSON: {}", what, ec.message()));
  if (!v.is_object()) return err(fmt::format("{} is not a JSON object", what));
  return std::move(v.as_object());
}

// Reads members of one object, remembering the first problem: parsers read every member
// they need, then ask for the verdict once.
class Reader {
 public:
  Reader(const json::object& o, std::string what) : o_(o), what_(std::move(what)) {}

  // A string member; "" when absent and optional.
  std::string str(std::string_view key, bool required, std::size_t max = kMaxString) {
    const json::value* v = o_.if_contains(json::string_view(key.data(), key.size()));
    if (!v) {
      if (required) fail(fmt::format("has no \"{}\"", key));
      return {};
    }
    if (!v->is_string()) {
      fail(fmt::format("\"{}\" is not a string", key));
      return {};
    }
    const json::string& s = v->get_string();
    if (s.size() > max) {
      fail(fmt::format("\"{}\" is longer than {} bytes", key, max));
      return {};
    }
    return std::string(s.data(), s.size());
  }

  bool boolean(std::string_view key) {
    const json::value* v = o_.if_contains(json::string_view(key.data(), key.size()));
    if (!v) return false;
    if (!v->is_bool()) {
      fail(fmt::format("\"{}\" is not a boolean", key));
      return false;
    }
    return v->get_bool();
  }

  // An array member, bounded; nullptr when absent (and a failure when required).
  const json::array* array(std::string_view key, bool required, std::size_t max) {
    const json::value* v = o_.if_contains(json::string_view(key.data(), key.size()));
    if (!v) {
      if (required) fail(fmt::format("has no \"{}\"", key));
      return nullptr;
    }
    if (!v->is_array()) {
      fail(fmt::format("\"{}\" is not an array", key));
      return nullptr;
    }
    if (v->get_array().size() > max) {
      fail(fmt::format("\"{}\" has more than {} entries", key, max));
      return nullptr;
    }
    return &v->get_array();
  }

  std::vector<std::string> strings(std::string_view key, bool required, std::size_t max) {
    std::vector<std::string> out;
    const json::array* a = array(key, required, max);
    if (!a) return out;
    for (const json::value& v : *a) {
      if (!v.is_string() || v.get_string().size() > kMaxString) {
        fail(fmt::format("\"{}\" has an entry that is not a string of at most {} bytes", key, kMaxString));
        return {};
      }
      out.emplace_back(v.get_string().data(), v.get_string().size());
    }
    return out;
  }

  const json::object* object(std::string_view key, bool required) {
    const json::value* v = o_.if_contains(json::string_view(key.data(), key.size()));
    if (!v) {
      if (required) fail(fmt::format("has no \"{}\"", key));
      return nullptr;
    }
    if (!v->is_object()) {
      fail(fmt::format("\"{}\" is not an object", key));
      return nullptr;
    }
    return &v->get_object();
  }

  // RFC 8555 §7.1.6: only the states `allowed` for this object.
  Status status(std::initializer_list<Status> allowed) {
    const std::string s = str("status", true, 32);
    if (!ok()) return Status::invalid;
    for (Status st : allowed)
      if (s == to_string(st)) return st;
    fail(fmt::format("has status \"{}\", which it cannot have", log_safe(s, 32)));
    return Status::invalid;
  }

  void fail(std::string why) {
    if (error_.empty()) error_ = fmt::format("{} {}", what_, why);
  }
  // A nested object's error, under this object's name.
  void merge(const Error& e) {
    if (error_.empty()) error_ = what_ + ": " + e.message;
  }
  bool ok() const { return error_.empty(); }
  Error error() const { return err(error_); }

 private:
  const json::object& o_;
  std::string what_;
  std::string error_;
};

Result<Identifier> read_identifier(const json::object& o, std::string what) {
  Reader r(o, std::move(what));
  Identifier id;
  id.type = r.str("type", true, 64);
  id.value = r.str("value", true, 255);
  if (!r.ok()) return r.error();
  return id;
}

Result<Problem> read_problem(const json::object& o, int depth) {
  Reader r(o, "problem document");
  Problem p;
  // RFC 7807 §4.2: a missing type means "about:blank".
  p.type = r.str("type", false);
  if (p.type.empty()) p.type = "about:blank";
  p.detail = r.str("detail", false);
  p.instance = r.str("instance", false);
  if (const json::value* s = o.if_contains("status")) {
    if (!s->is_int64() || s->get_int64() < 100 || s->get_int64() > 599)
      r.fail("\"status\" is not an HTTP status code");
    else
      p.status = static_cast<int>(s->get_int64());
  }
  if (const json::object* id = r.object("identifier", false)) {
    auto parsed = read_identifier(*id, "problem identifier");
    if (!parsed) r.merge(parsed.error());
    else p.identifier = std::move(*parsed);
  }
  // §6.7.1: subproblems sit one level down and have none of their own.
  if (depth == 0) {
    if (const json::array* subs = r.array("subproblems", false, kMaxSubproblems)) {
      for (const json::value& v : *subs) {
        if (!v.is_object()) {
          r.fail("has a subproblem that is not an object");
          break;
        }
        auto sub = read_problem(v.get_object(), depth + 1);
        if (!sub) {
          r.merge(sub.error());
          break;
        }
        p.subproblems.push_back(std::move(*sub));
      }
    }
  }
  if (!r.ok()) return r.error();
  return p;
}

Result<Challenge> read_challenge(const json::object& o) {
  Reader r(o, "challenge");
  Challenge c;
  c.type = r.str("type", true, 64);
  c.url = r.str("url", true);
  c.status = r.status({Status::pending, Status::processing, Status::valid, Status::invalid});
  c.token = r.str("token", false, kMaxToken);
  // §8.3, RFC 8737 §3: the token goes into a URL path and a key authorization, so it must be
  // base64url of at least 128 bits; other types are not ours to check.
  if (r.ok() && (c.type == "http-01" || c.type == "tls-alpn-01") &&
      (c.token.size() < kMinToken || !is_base64url(c.token)))
    r.fail("has a token that is not base64url of at least 128 bits");
  if (const json::object* e = r.object("error", false)) {
    auto p = read_problem(*e, 0);
    if (!p) r.merge(p.error());
    else c.error = std::move(*p);
  }
  if (!r.ok()) return r.error();
  return c;
}

void append_string_array(std::string& out, const std::vector<std::string>& v) {
  out += '[';
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (i) out += ',';
    append_json_string(out, v[i]);
  }
  out += ']';
}

}  // namespace

std::string base64url_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() * 4 + 2) / 3);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t n = (std::uint8_t(bytes[i]) << 16) | (std::uint8_t(bytes[i + 1]) << 8) |
                            std::uint8_t(bytes[i + 2]);
    out += kAlphabet[n >> 18];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += kAlphabet[n & 63];
  }
  const std::size_t rest = bytes.size() - i;
  if (rest == 1) {
    const std::uint32_t n = std::uint8_t(bytes[i]) << 16;
    out += kAlphabet[n >> 18];
    out += kAlphabet[(n >> 12) & 63];
  } else if (rest == 2) {
    const std::uint32_t n = (std::uint8_t(bytes[i]) << 16) | (std::uint8_t(bytes[i + 1]) << 8);
    out += kAlphabet[n >> 18];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
  }
  return out;
}

std::optional<std::string> base64url_decode(std::string_view text) {
  if (text.size() % 4 == 1) return std::nullopt;  // no whole byte in a lone sextet
  std::string out;
  out.reserve(text.size() * 3 / 4);
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    const int v = b64_value(c);
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | std::uint32_t(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += char((acc >> bits) & 0xff);
    }
  }
  // RFC 4648 §3.5: the bits left over must be zero, so each text has one decoding.
  if (bits > 0 && (acc & ((1u << bits) - 1)) != 0) return std::nullopt;
  return out;
}

bool is_base64url(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return b64_value(c) >= 0; });
}

std::string_view to_string(Status s) {
  switch (s) {
    case Status::pending: return "pending";
    case Status::ready: return "ready";
    case Status::processing: return "processing";
    case Status::valid: return "valid";
    case Status::invalid: return "invalid";
    case Status::deactivated: return "deactivated";
    case Status::expired: return "expired";
    case Status::revoked: return "revoked";
  }
  return "unknown";
}

std::string_view Problem::acme_error() const {
  std::string_view t = type;
  if (t.substr(0, kAcmeErrorPrefix.size()) != kAcmeErrorPrefix) return {};
  return t.substr(kAcmeErrorPrefix.size());
}

std::string Problem::describe() const {
  std::string out = detail.empty() ? type : detail;
  for (const Problem& sub : subproblems) {
    out += "; ";
    if (sub.identifier) out += sub.identifier->value + ": ";
    out += sub.detail.empty() ? sub.type : sub.detail;
  }
  return out;
}

Result<Directory> parse_directory(std::string_view text) {
  auto o = parse_object(text, "directory");
  if (!o) return o.error();
  Reader r(*o, "directory");
  Directory d;
  d.new_nonce = r.str("newNonce", true);
  d.new_account = r.str("newAccount", true);
  d.new_order = r.str("newOrder", true);
  d.revoke_cert = r.str("revokeCert", false);
  d.key_change = r.str("keyChange", false);
  if (const json::object* meta = r.object("meta", false)) {
    Reader m(*meta, "directory meta");
    d.terms_of_service = m.str("termsOfService", false);
    d.external_account_required = m.boolean("externalAccountRequired");
    d.caa_identities = m.strings("caaIdentities", false, kMaxContacts);
    if (!m.ok()) return m.error();
  }
  if (!r.ok()) return r.error();
  return d;
}

Result<Account> parse_account(std::string_view text) {
  auto o = parse_object(text, "account");
  if (!o) return o.error();
  Reader r(*o, "account");
  Account a;
  a.status = r.status({Status::valid, Status::deactivated, Status::revoked});
  a.contact = r.strings("contact", false, kMaxContacts);
  a.orders = r.str("orders", false);
  if (!r.ok()) return r.error();
  return a;
}

Result<Order> parse_order(std::string_view text) {
  auto o = parse_object(text, "order");
  if (!o) return o.error();
  Reader r(*o, "order");
  Order order;
  order.status = r.status({Status::pending, Status::ready, Status::processing, Status::valid, Status::invalid});
  if (const json::array* ids = r.array("identifiers", true, kMaxNames)) {
    for (const json::value& v : *ids) {
      if (!v.is_object()) {
        r.fail("has an identifier that is not an object");
        break;
      }
      auto id = read_identifier(v.get_object(), "order identifier");
      if (!id) {
        r.merge(id.error());
        break;
      }
      order.identifiers.push_back(std::move(*id));
    }
  }
  order.authorizations = r.strings("authorizations", true, kMaxNames);
  order.finalize = r.str("finalize", true);
  order.certificate = r.str("certificate", false);
  if (const json::object* e = r.object("error", false)) {
    auto p = read_problem(*e, 0);
    if (!p) r.merge(p.error());
    else order.error = std::move(*p);
  }
  if (!r.ok()) return r.error();
  return order;
}

Result<Authorization> parse_authorization(std::string_view text) {
  auto o = parse_object(text, "authorization");
  if (!o) return o.error();
  Reader r(*o, "authorization");
  Authorization a;
  a.status = r.status({Status::pending, Status::valid, Status::invalid, Status::deactivated,
                       Status::expired, Status::revoked});
  if (const json::object* id = r.object("identifier", true)) {
    auto parsed = read_identifier(*id, "authorization identifier");
    if (!parsed) r.merge(parsed.error());
    else a.identifier = std::move(*parsed);
  }
  a.wildcard = r.boolean("wildcard");
  if (const json::array* cs = r.array("challenges", true, kMaxChallenges)) {
    for (const json::value& v : *cs) {
      if (!v.is_object()) {
        r.fail("has a challenge that is not an object");
        break;
      }
      auto c = read_challenge(v.get_object());
      if (!c) {
        r.merge(c.error());
        break;
      }
      a.challenges.push_back(std::move(*c));
    }
  }
  if (!r.ok()) return r.error();
  return a;
}

Result<Challenge> parse_challenge(std::string_view text) {
  auto o = parse_object(text, "challenge");
  if (!o) return o.error();
  return read_challenge(*o);
}

Result<Problem> parse_problem(std::string_view text) {
  auto o = parse_object(text, "problem document");
  if (!o) return o.error();
  return read_problem(*o, 0);
}

std::string new_account_payload(const std::vector<std::string>& contact) {
  std::string out = R"({"termsOfServiceAgreed":true)";
  if (!contact.empty()) {
    out += R"(,"contact":)";
    append_string_array(out, contact);
  }
  out += '}';
  return out;
}

std::string new_order_payload(const std::vector<std::string>& dns_names) {
  std::string out = R"({"identifiers":[)";
  for (std::size_t i = 0; i < dns_names.size(); ++i) {
    if (i) out += ',';
    out += R"({"type":"dns","value":)";
    append_json_string(out, dns_names[i]);
    out += '}';
  }
  out += "]}";
  return out;
}

std::string finalize_payload(std::string_view csr_der) {
  return R"({"csr":")" + base64url_encode(csr_der) + "\"}";
}

std::optional<std::chrono::seconds> parse_retry_after(std::string_view value, std::int64_t now) {
  value = trim(value);
  if (value.empty()) return std::nullopt;
  if (std::all_of(value.begin(), value.end(), is_digit)) {
    // More than a day is not a pause but a refusal; clamp so arithmetic cannot overflow.
    auto n = parse_u64(value.substr(0, 12));
    if (!n) return std::nullopt;
    return std::chrono::seconds(std::min<std::uint64_t>(*n, 86400 * 365));
  }
  // IMF-fixdate (RFC 9110 §5.6.7): "Sun, 06 Nov 1994 08:49:37 GMT".
  if (value.size() != 29 || value.substr(3, 2) != ", " || value.substr(25) != " GMT") return std::nullopt;
  static constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                               "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  auto num = [&](std::size_t at, std::size_t len) -> int {
    int n = 0;
    for (std::size_t i = at; i < at + len; ++i) {
      if (!is_digit(value[i])) return -1;
      n = n * 10 + (value[i] - '0');
    }
    return n;
  };
  std::tm tm{};
  tm.tm_mday = num(5, 2);
  const auto month = std::find(kMonths.begin(), kMonths.end(), value.substr(8, 3));
  tm.tm_year = num(12, 4) - 1900;
  tm.tm_hour = num(17, 2);
  tm.tm_min = num(20, 2);
  tm.tm_sec = num(23, 2);
  if (month == kMonths.end() || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_year < 70 || tm.tm_hour < 0 ||
      tm.tm_hour > 23 || tm.tm_min < 0 || tm.tm_min > 59 || tm.tm_sec < 0 || tm.tm_sec > 60 ||
      value[7] != ' ' || value[11] != ' ' || value[16] != ' ' || value[19] != ':' || value[22] != ':')
    return std::nullopt;
  tm.tm_mon = int(month - kMonths.begin());
  const std::int64_t at = ::timegm(&tm);
  return std::chrono::seconds(at > now ? std::min<std::int64_t>(at - now, 86400 * 365) : 0);
}

Result<Url> parse_url(std::string_view text) {
  Url u;
  std::string_view rest;
  if (istarts_with(text, "https://")) {
    rest = text.substr(8);
  } else if (istarts_with(text, "http://")) {
    u.https = false;
    u.port = 80;
    rest = text.substr(7);
  } else {
    return err("URL is not http(s): " + log_safe(text, 100));
  }
  if (text.size() > kMaxString) return err("URL is too long");
  const std::size_t end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, end);
  std::string_view target = end == std::string_view::npos ? std::string_view{} : rest.substr(end);
  if (target.find('#') != std::string_view::npos) return err("URL has a fragment: " + log_safe(text, 100));
  if (authority.find('@') != std::string_view::npos) return err("URL has userinfo: " + log_safe(text, 100));
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return err("URL has an unclosed IPv6 literal");
    auto ip = IpAddr::parse(authority.substr(1, close - 1));
    if (!ip || ip->v4) return err("URL has a bad IPv6 literal");
    u.host = std::string(authority.substr(1, close - 1));
    u.ip_literal = true;
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return err("URL has junk after its IPv6 literal");
      port = after.substr(1);
    }
  } else {
    const std::size_t colon = authority.find(':');
    u.host = to_lower(authority.substr(0, colon));
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
    if (u.host.empty()) return err("URL has no host: " + log_safe(text, 100));
    u.ip_literal = IpAddr::parse(u.host).has_value();
    if (!u.ip_literal) {
      // A host name: LDH labels (a CA's own name; underscores tolerated for test rigs).
      for (char c : u.host)
        if (!(is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_'))
          return err("URL has a bad host: " + log_safe(text, 100));
    }
  }
  if (!port.empty()) {
    auto p = parse_u64(port);
    if (!p || *p == 0 || *p > 65535) return err("URL has a bad port: " + log_safe(text, 100));
    u.port = static_cast<std::uint16_t>(*p);
  }
  u.target = target.empty() ? "/" : std::string(target);
  if (u.target.front() == '?') u.target.insert(0, "/");
  for (char c : u.target)
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return err("URL has a control character or space");
  return u;
}

bool is_loopback_host(const Url& url) {
  if (url.host == "localhost") return true;
  auto ip = IpAddr::parse(url.host);
  if (!ip) return false;
  static const IpNetwork v4 = *IpNetwork::parse("127.0.0.0/8");
  static const IpNetwork v6 = *IpNetwork::parse("::1/128");
  return v4.contains(*ip) || v6.contains(*ip);
}

bool is_valid_dns_name(std::string_view name) {
  if (name.empty() || name.size() > 253) return false;
  int labels = 0;
  for (std::string_view label : split(name, '.')) {
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
    for (char c : label)
      if (!(is_alpha(c) || is_digit(c) || c == '-')) return false;
    ++labels;
  }
  return labels >= 2;
}

}  // namespace mk::acme
