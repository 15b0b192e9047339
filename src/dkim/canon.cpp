#include "dkim/canon.hpp"

#include <openssl/sha.h>

#include <algorithm>

#include "base/strings.hpp"

namespace mk::dkim {
namespace {

bool wsp(char c) { return c == ' ' || c == '\t'; }

// Relaxed: every run of WSP (and CRLF inside folding) becomes one SP; none at the ends.
std::string compress_wsp(std::string_view v, bool strip_ends) {
  std::string out;
  out.reserve(v.size());
  bool pending = false;
  for (char c : v) {
    if (wsp(c) || c == '\r' || c == '\n') {
      pending = true;
      continue;
    }
    if (pending && (!out.empty() || !strip_ends)) out += ' ';
    pending = false;
    out += c;
  }
  if (pending && !strip_ends) out += ' ';
  return out;
}

}  // namespace

std::vector<RawField> split_header(std::string_view msg, std::size_t& body_start) {
  std::vector<RawField> out;
  std::size_t pos = 0;
  body_start = msg.size();
  while (pos < msg.size()) {
    if (msg.substr(pos, 2) == "\r\n") {
      body_start = pos + 2;
      return out;
    }
    // A field runs to the CRLF not followed by WSP.
    std::size_t end = pos;
    for (;;) {
      end = msg.find("\r\n", end);
      if (end == std::string_view::npos) {
        end = msg.size();
        break;
      }
      if (end + 2 < msg.size() && wsp(msg[end + 2])) {
        end += 2;
        continue;
      }
      break;
    }
    std::string_view field = msg.substr(pos, end - pos);
    const auto colon = field.find(':');
    if (colon != std::string_view::npos) out.push_back(RawField{field.substr(0, colon), field.substr(colon + 1)});
    pos = end + 2;
  }
  return out;
}

std::string canon_header(const RawField& f, Canon c) {
  if (c == Canon::simple) return std::string(f.name) + ":" + std::string(f.value) + "\r\n";
  // RFC 6376 §3.4.2: lower-case name, no WSP around the colon, unfolded, WSP compressed.
  std::string name = to_lower(f.name);
  while (!name.empty() && wsp(name.back())) name.pop_back();
  return name + ":" + compress_wsp(f.value, true) + "\r\n";
}

std::string canon_body(std::string_view body, Canon c) {
  std::string out;
  out.reserve(body.size());
  std::size_t pos = 0;
  while (pos < body.size()) {
    auto eol = body.find("\r\n", pos);
    const bool last = eol == std::string_view::npos;
    std::string_view line = body.substr(pos, last ? std::string_view::npos : eol - pos);
    if (c == Canon::relaxed) {
      std::string l = compress_wsp(line, false);
      if (!l.empty() && l.back() == ' ') l.pop_back();  // no WSP at the end of a line
      out += l;
    } else {
      out += line;
    }
    out += "\r\n";
    pos = last ? body.size() : eol + 2;
  }
  // Both: no empty lines at the end of the body.
  while (out.size() >= 4 && out.compare(out.size() - 4, 4, "\r\n\r\n") == 0) out.resize(out.size() - 2);
  if (out == "\r\n") out.clear();
  if (out.empty() && c == Canon::simple) out = "\r\n";
  return out;
}

std::string signed_fields(const std::vector<RawField>& fields, const std::vector<std::string>& names, Canon c) {
  std::string out;
  std::vector<std::pair<std::string, std::size_t>> used;  // lower-case name -> instances consumed
  for (const auto& n : names) {
    const std::string name = to_lower(trim(n));
    auto it = std::find_if(used.begin(), used.end(), [&](const auto& u) { return u.first == name; });
    if (it == used.end()) it = used.insert(used.end(), {name, 0});
    std::size_t seen = 0;
    for (auto f = fields.rbegin(); f != fields.rend(); ++f) {
      if (!iequals(trim(f->name), name)) continue;
      if (seen++ == it->second) {
        out += canon_header(*f, c);
        break;
      }
    }
    ++it->second;
  }
  return out;
}

std::string sha256(std::string_view data) {
  unsigned char d[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), d);
  return std::string(reinterpret_cast<char*>(d), sizeof d);
}

std::optional<CanonPair> parse_canon(std::string_view c) {
  auto named = [](std::string_view n) -> std::optional<Canon> {
    if (n == "simple") return Canon::simple;
    if (n == "relaxed") return Canon::relaxed;
    return std::nullopt;
  };
  const auto slash = c.find('/');
  auto h = named(c.substr(0, slash));
  auto b = slash == std::string_view::npos ? std::optional<Canon>(Canon::simple) : named(c.substr(slash + 1));
  if (!h || !b) return std::nullopt;
  return CanonPair{*h, *b};
}

}  // namespace mk::dkim
