#include "tlspolicy/mta_sts.hpp"

#include "base/strings.hpp"

namespace mk::tlspolicy {

std::string_view to_string(StsMode m) {
  switch (m) {
    case StsMode::none: return "none";
    case StsMode::testing: return "testing";
    case StsMode::enforce: return "enforce";
  }
  return "none";
}

bool mx_pattern_matches(std::string_view pattern, std::string_view host) {
  const std::string p = to_lower(pattern), h = to_lower(host);
  if (p.starts_with("*.")) {
    // One label, not more, not none: "*.example.net" matches "mx.example.net" only.
    const auto dot = h.find('.');
    return dot != std::string::npos && dot > 0 && std::string_view(h).substr(dot + 1) == std::string_view(p).substr(2);
  }
  return p == h;
}

bool StsPolicy::allows(std::string_view mx_host) const {
  for (const auto& p : mx)
    if (mx_pattern_matches(p, mx_host)) return true;
  return false;
}

std::optional<TagList> parse_versioned_txt(std::string_view txt, std::string_view version) {
  TagList out;
  bool first = true;
  for (auto part : split(txt, ';')) {
    part = trim(part);
    if (part.empty()) continue;
    const auto eq = part.find('=');
    if (eq == std::string_view::npos) return std::nullopt;
    const auto key = trim(part.substr(0, eq)), value = trim(part.substr(eq + 1));
    if (first) {
      if (key != "v" || value != version) return std::nullopt;
      first = false;
      continue;
    }
    out.emplace_back(key, value);
  }
  if (first) return std::nullopt;
  return out;
}

std::optional<std::string> parse_sts_txt(std::string_view txt) {
  // sts-text-record = sts-version 1*(sts-sep sts-field) [sts-sep]; version first.
  auto tags = parse_versioned_txt(txt, "STSv1");
  if (!tags) return std::nullopt;
  std::optional<std::string> id;
  for (const auto& [key, value] : *tags) {
    if (key != "id") continue;
    if (value.empty() || value.size() > 32) return std::nullopt;
    for (char c : value)
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) return std::nullopt;
    id = std::string(value);
  }
  return id;
}

std::optional<StsPolicy> parse_sts_policy(std::string_view body) {
  if (body.size() > kMaxPolicySize) return std::nullopt;
  StsPolicy p;
  bool version = false, mode = false, age = false;
  for (auto line : split(body, '\n')) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (trim(line).empty()) continue;
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;  // unknown lines are ignored
    const auto key = trim(line.substr(0, colon)), value = trim(line.substr(colon + 1));
    if (key == "version") {
      if (value != "STSv1") return std::nullopt;
      version = true;
    } else if (key == "mode") {
      if (value == "enforce") p.mode = StsMode::enforce;
      else if (value == "testing") p.mode = StsMode::testing;
      else if (value == "none") p.mode = StsMode::none;
      else return std::nullopt;
      mode = true;
    } else if (key == "max_age") {
      auto v = parse_u64(value);
      if (!v || value.size() > 10) return std::nullopt;
      p.max_age = std::int64_t(std::min<std::uint64_t>(*v, 31557600));  // at most a year
      age = true;
    } else if (key == "mx") {
      if (value.empty() || value.size() > 253) return std::nullopt;
      p.mx.push_back(to_lower(value));
    }
  }
  if (!version || !mode || !age) return std::nullopt;
  if (p.mode != StsMode::none && p.mx.empty()) return std::nullopt;
  return p;
}

std::string render_sts_policy(StsMode mode, const std::vector<std::string>& mx, std::int64_t max_age) {
  std::string out = "version: STSv1\r\nmode: ";
  out += to_string(mode);
  out += "\r\n";
  for (const auto& m : mx) out += "mx: " + m + "\r\n";
  out += "max_age: " + std::to_string(max_age) + "\r\n";
  return out;
}

std::string served_sts_policy(std::string_view mx_host) {
  return render_sts_policy(StsMode::enforce, {to_lower(mx_host)}, kServedMaxAge);
}

std::string sts_txt_for(std::string_view policy) {
  // FNV-1a, 64 bits, as 16 hex digits: not a secret, only a fingerprint of the text.
  std::uint64_t h = 14695981039346656037ull;
  for (unsigned char c : policy) h = (h ^ c) * 1099511628211ull;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id(16, '0');
  for (int i = 15; i >= 0; --i, h >>= 4) id[std::size_t(i)] = kHex[h & 15];
  return "v=STSv1; id=" + id;
}

std::optional<HttpResponse> parse_http_response(std::string_view raw, std::size_t max_body) {
  const auto head_end = raw.find("\r\n\r\n");
  if (head_end == std::string_view::npos) return std::nullopt;
  const std::string_view head = raw.substr(0, head_end);
  std::string_view body = raw.substr(head_end + 4);
  HttpResponse r;
  const auto eol = head.find("\r\n");
  const std::string_view status_line = head.substr(0, eol);
  if (!status_line.starts_with("HTTP/1.") || status_line.size() < 12 || status_line[8] != ' ') return std::nullopt;
  auto code = parse_u64(status_line.substr(9, 3));
  if (!code) return std::nullopt;
  r.status = int(*code);
  bool chunked = false;
  std::optional<std::uint64_t> length;
  if (eol != std::string_view::npos) {
    for (auto line : split(head.substr(eol + 2), '\n')) {
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      const auto colon = line.find(':');
      if (colon == std::string_view::npos) continue;
      const std::string key = to_lower(trim(line.substr(0, colon)));
      const auto value = trim(line.substr(colon + 1));
      if (key == "transfer-encoding" && iequals(value, "chunked")) chunked = true;
      else if (key == "content-length") length = parse_u64(value);
      else if (key == "content-type") r.content_type = to_lower(value);
    }
  }
  if (chunked) {
    std::size_t pos = 0;
    for (;;) {
      const auto le = body.find("\r\n", pos);
      if (le == std::string_view::npos) return std::nullopt;
      auto size_field = body.substr(pos, le - pos);
      size_field = size_field.substr(0, size_field.find(';'));  // chunk extensions
      std::uint64_t n = 0;
      if (size_field.empty() || size_field.size() > 8) return std::nullopt;
      for (char c : size_field) {
        const int d = hex_value(c);
        if (d < 0) return std::nullopt;
        n = n * 16 + std::uint64_t(d);
      }
      pos = le + 2;
      if (n == 0) break;
      if (pos + n + 2 > body.size() || r.body.size() + n > max_body) return std::nullopt;
      r.body.append(body.substr(pos, n));
      pos += n + 2;
    }
    return r;
  }
  if (length) {
    if (*length > max_body || *length > body.size()) return std::nullopt;
    body = body.substr(0, *length);
  }
  if (body.size() > max_body) return std::nullopt;
  r.body = std::string(body);
  return r;
}

}  // namespace mk::tlspolicy
