#include "dmarc/record.hpp"

#include "base/strings.hpp"

namespace mk::dmarc {
namespace {

constexpr int kMaxPct = 100;
constexpr std::uint64_t kMaxInterval = 366ull * 86400;

std::optional<Policy> policy_named(std::string_view v) {
  const std::string s = to_lower(trim(v));
  if (s == "none") return Policy::none;
  if (s == "quarantine") return Policy::quarantine;
  if (s == "reject") return Policy::reject;
  return std::nullopt;
}

// "mailto:a@example.com!10m, mailto:b@example.net": the URIs without size limits.
std::vector<std::string> uri_list(std::string_view v) {
  std::vector<std::string> out;
  for (auto u : split(v, ',')) {
    u = trim(u);
    if (u.empty()) continue;
    const auto bang = u.rfind('!');
    if (bang != std::string_view::npos && bang > u.find(':')) u = u.substr(0, bang);
    out.emplace_back(u);
  }
  return out;
}

}  // namespace

std::string_view policy_name(Policy p) {
  switch (p) {
    case Policy::none: return "none";
    case Policy::quarantine: return "quarantine";
    case Policy::reject: return "reject";
  }
  return "none";
}

bool is_dmarc_record(std::string_view txt) {
  txt = trim(txt);
  if (!istarts_with(txt, "v")) return false;
  txt = trim(txt.substr(1));
  if (txt.empty() || txt[0] != '=') return false;
  txt = trim(txt.substr(1));
  if (!istarts_with(txt, "DMARC1")) return false;
  txt = trim(txt.substr(6));
  return txt.empty() || txt[0] == ';';
}

Result<Record> parse_record(std::string_view txt) {
  if (!is_dmarc_record(txt)) return err("not a DMARC record (v=DMARC1 must come first)");
  Record r;
  bool have_p = false, bad_p = false;
  const auto parts = split(txt, ';');
  for (std::size_t i = 1; i < parts.size(); ++i) {
    const std::string_view part = trim(parts[i]);
    if (part.empty()) continue;
    const auto eq = part.find('=');
    if (eq == std::string_view::npos) return err("tag without '=': " + log_safe(part, 40));
    const std::string name = to_lower(trim(part.substr(0, eq)));
    const std::string_view value = trim(part.substr(eq + 1));
    if (name == "p") {
      auto p = policy_named(value);
      have_p = p.has_value();
      bad_p = !have_p;
      if (p) r.p = *p;
    } else if (name == "sp" || name == "np") {
      if (auto p = policy_named(value)) (name == "sp" ? r.sp : r.np) = *p;  // invalid: as if absent
    } else if (name == "adkim" || name == "aspf") {
      const std::string v = to_lower(value);
      if (v != "r" && v != "s") return err(name + "= must be r or s");
      (name == "adkim" ? r.strict_dkim : r.strict_spf) = v == "s";
    } else if (name == "pct") {
      auto n = parse_u64(value);
      if (!n || *n > std::uint64_t(kMaxPct)) return err("pct= must be 0 to 100");
      r.pct = int(*n);
    } else if (name == "t") {
      r.testing = iequals(value, "y");
    } else if (name == "rua") {
      r.rua = uri_list(value);
    } else if (name == "ruf") {
      r.ruf = uri_list(value);
    } else if (name == "fo") {
      r.fo = std::string(value);
    } else if (name == "ri") {
      auto n = parse_u64(value);
      if (n && *n > 0 && *n <= kMaxInterval) r.ri = int(*n);
    }
  }
  if (!have_p) {
    if (r.rua.empty()) return err(bad_p ? "invalid p= and no rua=" : "missing p= and no rua=");
    r.p = Policy::none;
  }
  return r;
}

}  // namespace mk::dmarc
