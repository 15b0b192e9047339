// Phishing rules. Domains are compared by their registrable part (or the last two labels).
// - LINK_MISMATCH: a link whose visible text shows a domain the recipient knows (their own,
//   or one they write to) while it points at another: the oldest trick of credential
//   phishing (a bare IP address as a target is LINK_NUMERIC_HOST, content.cpp). Newsletters show their own domain and link
//   through a click tracker, so a mismatch with a domain the recipient has no relation to is
//   only weak evidence (LINK_TEXT_MISMATCH, no warning).
// - CREDENTIAL_FORM: an HTML form with a password field (clients post it directly).
// - DISPLAY_NAME_SPOOF: a From: display name that is itself an address at another domain
//   ("security@bank.example" <x@evil.example>), or names a domain the recipient knows that
//   is not the sender's: clients show the name, and the name lies. A brand in the name
//   ("News.com Daily" <news@mailer.example>) is how newsletters sign, not a lie.
#include <algorithm>

#include <fmt/format.h>

#include "base/strings.hpp"
#include "filter/lookalike.hpp"
#include "filter/verdict.hpp"
#include "message/codec.hpp"
#include "message/header.hpp"
#include "message/mime.hpp"

namespace mk::filter {
namespace {

constexpr std::size_t kMaxMismatches = 20;

bool host_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.';
}

// The host of "scheme://host/..." or of a bare "www.host.tld/..." / "host.tld"; "" if the
// text is not a URL or domain name.
std::string host_of(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) s.remove_suffix(1);
  if (auto p = s.find("://"); p != std::string_view::npos && p <= 6) s.remove_prefix(p + 3);
  if (auto at = s.find('@'); at != std::string_view::npos && at < s.find('/')) s.remove_prefix(at + 1);
  std::size_t n = 0;
  while (n < s.size() && host_char(s[n])) ++n;
  if (n < s.size() && s[n] != '/' && s[n] != ':' && s[n] != '?' && s[n] != '#') return {};  // words, not a host
  std::string host = to_lower(s.substr(0, n));
  while (!host.empty() && host.back() == '.') host.pop_back();
  const auto dot = host.rfind('.');
  if (dot == std::string::npos || dot == 0 || host.size() - dot < 3) return {};
  for (std::size_t i = dot + 1; i < host.size(); ++i)
    if (!std::isalpha(static_cast<unsigned char>(host[i]))) return {};  // "3.50" is a price
  return host;
}

std::string last_two(const std::string& host) {
  const auto last = host.rfind('.');
  if (last == std::string::npos || last == 0) return host;
  const auto prev = host.rfind('.', last - 1);
  return prev == std::string::npos ? host : host.substr(prev + 1);
}

// A link whose text shows one host and whose target is another.
struct Mismatch {
  std::string shown, target;
};

// Anchors of an HTML text: (href, visible text without tags); the first mismatches.
void anchors(std::string_view html, std::vector<Mismatch>& out) {
  const std::string lower = to_lower(html);
  for (std::size_t p = lower.find("<a"); p != std::string::npos; p = lower.find("<a", p + 2)) {
    if (p + 2 < lower.size() && !std::isspace(static_cast<unsigned char>(lower[p + 2]))) continue;
    const auto tag_end = lower.find('>', p);
    if (tag_end == std::string::npos) return;
    auto h = lower.find("href", p);
    if (h == std::string::npos || h > tag_end) continue;
    h = lower.find('=', h);
    if (h == std::string::npos || h > tag_end) continue;
    ++h;
    while (h < tag_end && (lower[h] == ' ' || lower[h] == '"' || lower[h] == '\'')) ++h;
    auto h_end = h;
    while (h_end < tag_end && lower[h_end] != '"' && lower[h_end] != '\'' && lower[h_end] != ' ') ++h_end;
    const std::string_view href = std::string_view(html).substr(h, h_end - h);
    const auto close = lower.find("</a", tag_end);
    if (close == std::string::npos) return;
    std::string text;
    bool in_tag = false;
    for (std::size_t i = tag_end + 1; i < close && text.size() < 300; ++i) {
      if (html[i] == '<') in_tag = true;
      else if (html[i] == '>') in_tag = false;
      else if (!in_tag) text += html[i];
    }
    if (!href.starts_with("http://") && !href.starts_with("https://")) continue;
    const std::string shown = host_of(text), target = host_of(href);
    if (shown.empty() || target.empty() || last_two(shown) == last_two(target)) continue;
    out.push_back({shown, target});
    if (out.size() >= kMaxMismatches) return;
  }
}

// An HTML form in a message: mail clients submit it straight to its action, so a password
// field there collects credentials without any login page.
void forms(std::string_view html, std::vector<Signal>& out) {
  const std::string lower = to_lower(html);
  const auto form = lower.find("<form");
  if (form == std::string::npos) return;
  std::string target = "(no address)";
  const auto tag_end = std::min(lower.find('>', form), lower.size());  // an unclosed tag ends with the text
  if (const auto a = lower.find("action", form); a != std::string::npos && a < tag_end) {
    auto v = lower.find('=', a);
    if (v != std::string::npos && v < tag_end) {
      ++v;
      while (v < tag_end && (lower[v] == ' ' || lower[v] == '"' || lower[v] == '\'')) ++v;
      auto e = v;
      while (e < tag_end && lower[e] != '"' && lower[e] != '\'' && lower[e] != ' ') ++e;
      const std::string host = host_of(std::string_view(lower).substr(v, e - v));
      if (!host.empty()) target = host;
    }
  }
  for (std::size_t p = lower.find("password", form); p != std::string::npos; p = lower.find("password", p + 8)) {
    // type=password, type="password", type='password' inside an input tag
    const auto open = lower.rfind('<', p);
    if (open == std::string::npos || lower.compare(open, 6, "<input") != 0 || lower.find('>', open) < p) continue;
    const auto t = lower.rfind("type", p);
    if (t == std::string::npos || t < open) continue;
    out.push_back({"CREDENTIAL_FORM", 3, fmt::format("an HTML form asks for a password and sends it to {}", target)});
    return;
  }
}

void walk(std::string_view msg, const message::Part& part, std::vector<Signal>& out, std::vector<Mismatch>& links,
          int& budget) {
  if (part.is_multipart() || part.is_message()) {
    for (const auto& c : part.children) walk(msg, c, out, links, budget);
    return;
  }
  if (budget <= 0 || part.type != "text" || part.subtype != "html" || part.disposition == "attachment") return;
  --budget;
  const std::string html = message::decode_transfer(part.body(msg).substr(0, 256 * 1024), part.encoding);
  anchors(html, links);
  forms(html, out);
}

}  // namespace

namespace {

bool has(const std::vector<std::string>& v, const std::string& x) { return std::find(v.begin(), v.end(), x) != v.end(); }
bool ours(const Inputs& in, const std::string& x) {
  return in.own_domains && in.own_domains->contains(x);
}
bool writes_to(const Inputs& in, const std::string& x) {
  return in.known_domains && in.known_domains->contains(x);
}

// Whether the recipient knows the domain: their own or one they write to.
bool known(const std::string& host, const Inputs& in) {
  const std::string reg = in.orgs ? in.orgs->organizational(host) : last_two(host);
  return ours(in, reg) || writes_to(in, reg) || ours(in, last_two(host)) ||
         writes_to(in, last_two(host));
}

void display_name_rule(const std::vector<message::Address>& list, const Inputs& in, std::vector<Signal>& out) {
  if (list.size() != 1 || list[0].domain.empty() || list[0].name.empty()) return;
  const std::string name = message::decode_words(list[0].name);
  // A domain-looking word in the name: "support@bank.example", "bank.example security".
  std::string shown;
  bool address = false;  // the name shows a whole address, not just a domain
  for (std::size_t i = 0; i < name.size() && shown.empty();) {
    while (i < name.size() && !host_char(name[i])) ++i;
    std::size_t j = i;
    while (j < name.size() && (host_char(name[j]) || name[j] == '@')) ++j;
    std::string_view word = std::string_view(name).substr(i, j - i);
    const auto at = word.rfind('@');
    if (at != std::string_view::npos) word.remove_prefix(at + 1);
    shown = host_of(word);
    address = !shown.empty() && at != std::string_view::npos && at > 0;
    i = j;
  }
  const std::string real = to_lower(list[0].domain);
  if (shown.empty() || last_two(shown) == last_two(real)) return;
  if (!address && !known(shown, in)) return;
  out.push_back({"DISPLAY_NAME_SPOOF", 2, fmt::format("the sender's name shows {} but the address is at {}",
                                                      shown, real)});
}

}  // namespace

bool list_traffic(const std::vector<message::HeaderField>& fields) {
  for (const char* name : {"List-Id", "List-Post", "Mailing-List", "X-Mailing-List", "List-Archive"})
    if (message::header_value(fields, name)) return true;
  if (const auto p = message::header_value(fields, "Precedence")) {
    const std::string v = to_lower(trim(*p));
    if (v == "list" || v == "bulk" || v == "junk") return true;
  }
  return false;
}

bool add_thread_participants(std::string_view msg, std::vector<std::string>& out) {
  // Read to its first kThreadHeaderBytes, a message may end inside its header: the field cut
  // there is left out (half an address is nobody's, and may look like someone else's).
  std::size_t header_end = 0;
  if (msg.size() >= kThreadHeaderBytes && message::find_body_start(msg, header_end) == msg.size()) {
    for (std::size_t nl = msg.rfind('\n'); nl != std::string_view::npos && nl > 0; nl = msg.rfind('\n', nl - 1)) {
      if (nl + 1 < msg.size() && msg[nl + 1] != ' ' && msg[nl + 1] != '\t') {
        msg = msg.substr(0, nl + 1);
        break;
      }
    }
  }
  const auto fields = message::parse_message_header(msg);
  if (list_traffic(fields)) return false;
  for (const char* name : {"From", "To", "Cc", "Reply-To", "Sender"}) {
    for (const auto& f : fields) {
      if (!iequals(f.name, name)) continue;
      for (const auto& a : message::parse_address_list(f.value, 50)) {
        if (a.domain.empty()) continue;
        std::string addr = to_lower(a.local + "@" + a.domain);
        if (std::find(out.begin(), out.end(), addr) == out.end() && out.size() < 500) out.push_back(std::move(addr));
      }
    }
  }
  return true;
}

bool has_attachment(const message::Part& part, int depth) {
  if (depth > 8) return false;
  if (part.is_multipart() || part.is_message()) {
    for (const auto& c : part.children)
      if (has_attachment(c, depth + 1)) return true;
    return false;
  }
  return part.disposition == "attachment" || (part.type != "text" && part.type != "multipart");
}

void impersonation_rules(const message::Part& root, const std::vector<message::Address>& list, const Inputs& in,
                         bool links, bool payment_talk, std::vector<Signal>& out) {
  if (list.size() != 1 || list[0].domain.empty()) return;
  const std::string domain = to_lower(list[0].domain);
  const std::string author = list[0].local + "@" + domain;
  const std::string reg = in.orgs ? in.orgs->organizational(domain) : last_two(domain);
  const bool own = ours(in, reg);
  if (!own && !writes_to(in, reg)) {
    if (auto k = in.own_domains ? in.own_domains->imitated(reg) : std::nullopt) {
      out.push_back({"LOOKALIKE_DOMAIN", 3.5,
                     fmt::format("the sender's domain {} looks like {}, the recipient's own domain", reg, *k)});
    } else if (auto w = in.known_domains ? in.known_domains->imitated(reg) : std::nullopt) {
      out.push_back({"LOOKALIKE_DOMAIN", 3.5,
                     fmt::format("the sender's domain {} looks like {}, a domain the recipient writes to", reg, *w)});
    }
  }
  // A reply in a conversation the recipient (or a colleague: their own domain) took part in,
  // as an author or a named recipient, from someone outside it (neither a participant nor
  // from a participant's organisation), carrying a payload (a link, an attachment, or talk
  // of payments): the reply-chain hijack of business email compromise, which borrows a real
  // conversation's credibility. Mailing lists are not conversations among known people:
  // anyone on the list may answer (add_thread_participants leaves their messages out).
  const auto org_of = [&](const std::string& address) {
    const std::string d = address.substr(address.rfind('@') + 1);
    return in.orgs ? in.orgs->organizational(d) : last_two(d);
  };
  const bool took_part = std::any_of(in.thread_participants.begin(), in.thread_participants.end(),
                                     [&](const std::string& a) { return ours(in, org_of(a)); });
  if (in.thread_found && took_part && (links || has_attachment(root, 0) || payment_talk) && !list_traffic(root.headers)) {
    const std::string author_lower = to_lower(author);
    bool member = has(in.thread_participants, author_lower);
    for (std::size_t i = 0; i < in.thread_participants.size() && !member; ++i)
      member = org_of(in.thread_participants[i]) == reg;
    if (!member)
      out.push_back({"THREAD_HIJACK", 3, fmt::format("a reply in a conversation among {} from {}, who was not part of it",
                                                     in.thread_participants.empty() ? std::string("others")
                                                                                    : in.thread_participants[0] +
                                                                                          (in.thread_participants.size() > 1 ? " and others" : ""),
                                                     author)});
  }
  if (!in.namesakes.empty())
    out.push_back({"CONTACT_IMPERSONATION", 2.5,
                   fmt::format("the sender uses the name of a contact, {}, from another address ({})", in.namesakes[0],
                               author)});
  // The recipient's organisation named by an outsider: "Example IT desk" <x@elsewhere.example>.
  const bool spoofed = std::any_of(out.begin(), out.end(), [](const Signal& s) { return s.name == "DISPLAY_NAME_SPOOF"; });
  if (own || spoofed || list[0].name.empty() || !in.own_domains) return;
  const std::string name = to_lower(message::decode_words(list[0].name));
  if (const auto d = in.own_domains->named_in(name)) {
    const std::string label = d->substr(0, d->find('.'));
    out.push_back({"OWN_NAME_SPOOF", 2, fmt::format("the sender's name mentions {} (the recipient's {}) but the address is at {}",
                                                    label, *d, domain)});
  }
}

void phishing_rules(std::string_view msg, const message::Part& root, const std::vector<message::Address>& from,
                    const Inputs& in, std::vector<Signal>& out) {
  int budget = 4;  // HTML parts looked at
  display_name_rule(from, in, out);
  std::vector<Signal> found;
  std::vector<Mismatch> links;
  walk(msg, root, found, links, budget);
  const Mismatch* strong = nullptr;
  for (const auto& m : links)
    if (!strong && known(m.shown, in)) strong = &m;
  if (strong)
    found.push_back({"LINK_MISMATCH", 2.5, fmt::format("a link shows {} but leads to {}", strong->shown, strong->target)});
  else if (!links.empty())
    found.push_back({"LINK_TEXT_MISMATCH", 0.25, fmt::format("a link shows {} but leads to {}", links[0].shown,
                                                             links[0].target)});
  // Each signal once, however many parts show it.
  for (auto& s : found)
    if (std::none_of(out.begin(), out.end(), [&](const Signal& o) { return o.name == s.name; })) out.push_back(std::move(s));
}

}  // namespace mk::filter
