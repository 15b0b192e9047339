#include "imap/proto/fetch.hpp"

#include <fmt/format.h>

#include "base/strings.hpp"
#include "imap/proto/encode.hpp"
#include "message/header.hpp"

namespace mk::imap {
namespace {

using message::Part;

std::string nstr(const std::string& s) { return s.empty() ? "NIL" : imap_string(s); }

std::optional<std::string> field(const Part& p, std::string_view name) {
  return message::header_value(p.headers, name);
}

std::string address_list(const Part& p, std::string_view name) {
  auto v = field(p, name);
  if (!v || v->empty()) return "NIL";
  auto addrs = message::parse_address_list(*v);
  if (addrs.empty()) return "NIL";
  std::string out = "(";
  for (const auto& a : addrs) {
    if (a.group_start) {
      out += "(NIL NIL " + imap_string(a.group) + " NIL)";
    } else if (a.group_end) {
      out += "(NIL NIL NIL NIL)";
    } else {
      out += "(" + nstr(a.name) + " " + nstr(a.route) + " " + nstr(a.local) + " " +
             (a.domain.empty() ? "NIL" : imap_string(a.domain)) + ")";
    }
  }
  out += ")";
  return out;
}

std::string params(const std::vector<std::pair<std::string, std::string>>& ps) {
  if (ps.empty()) return "NIL";
  std::string out = "(";
  for (std::size_t i = 0; i < ps.size(); ++i) {
    if (i) out += ' ';
    out += imap_string(ps[i].first) + " " + imap_string(ps[i].second);
  }
  return out + ")";
}

std::string disposition(const Part& p) {
  if (p.disposition.empty()) return "NIL";
  return "(" + imap_string(p.disposition) + " " + params(p.disposition_params) + ")";
}

std::string language(const Part& p) {
  if (p.language.empty()) return "NIL";
  auto langs = split(p.language, ',');
  if (langs.size() == 1) return imap_string(std::string(trim(langs[0])));
  std::string out = "(";
  for (std::size_t i = 0; i < langs.size(); ++i)
    out += (i ? " " : "") + imap_string(std::string(trim(langs[i])));
  return out + ")";
}

void append_body(std::string& out, const Part& p, bool ext, int depth) {
  out += '(';
  if (p.is_multipart() && !p.children.empty() && depth < kMaxNesting) {
    for (const auto& c : p.children) append_body(out, c, ext, depth + 1);
    out += " " + imap_string(p.subtype);
    if (ext) out += " " + params(p.type_params) + " " + disposition(p) + " " + language(p) + " " + nstr(p.location);
    out += ')';
    return;
  }
  // A multipart without parts is shown as what it carries: opaque text (RFC 9051 needs >= 1 part).
  const bool empty_multipart = p.is_multipart();
  const std::string type = empty_multipart ? "text" : p.type;
  const std::string subtype = empty_multipart ? "plain" : p.subtype;
  out += imap_string(type) + " " + imap_string(subtype) + " " + params(p.type_params) + " " +
         nstr(p.id) + " " + nstr(p.description) + " " + imap_string(p.encoding) + " " +
         std::to_string(p.body_size);
  if (p.is_message() && !p.children.empty() && depth < kMaxNesting) {
    out += " " + render_envelope(p.children[0]) + " ";
    append_body(out, p.children[0], ext, depth + 1);
    out += " " + std::to_string(p.body_lines);
  } else if (type == "text") {
    out += " " + std::to_string(p.body_lines);
  }
  if (ext) out += " " + nstr(p.md5) + " " + disposition(p) + " " + language(p) + " " + nstr(p.location);
  out += ')';
}

// Header lines whose names are (or, with exclude, are not) in fields, plus the empty line.
std::string filter_header(std::string_view header, const std::vector<std::string>& fields, bool exclude) {
  std::string out;
  std::size_t pos = 0;
  bool keep = false;
  while (pos < header.size()) {
    auto lf = header.find('\n', pos);
    const std::size_t end = lf == std::string_view::npos ? header.size() : lf + 1;
    auto line = header.substr(pos, end - pos);
    if (line == "\r\n" || line == "\n") break;
    if (!line.empty() && (line[0] == ' ' || line[0] == '\t')) {
      if (keep) out += line;
    } else {
      auto colon = line.find(':');
      auto name = trim(line.substr(0, colon == std::string_view::npos ? 0 : colon));
      bool listed = false;
      for (const auto& f : fields)
        if (iequals(f, name)) listed = true;
      keep = colon != std::string_view::npos && (exclude ? !listed : listed);
      if (keep) out += line;
    }
    pos = end;
  }
  return out + "\r\n";
}

bool parse_section(Cursor& c, Section& s, std::string& name) {
  // section-spec inside [...]; name gets the canonical text for the response.
  while (true) {
    auto n = c.nz_number();
    if (!n) break;
    s.part.push_back(*n);
    if (s.part.size() > 100) return false;
    if (!c.consume('.')) break;
  }
  if (!c.peek(']')) {
    if (c.keyword("HEADER.FIELDS.NOT")) s.text = Section::Text::header_fields_not;
    else if (c.keyword("HEADER.FIELDS")) s.text = Section::Text::header_fields;
    else if (c.keyword("HEADER")) s.text = Section::Text::header;
    else if (c.keyword("TEXT")) s.text = Section::Text::text;
    else if (c.keyword("MIME") && !s.part.empty()) s.text = Section::Text::mime;
    else return false;
    if (s.text == Section::Text::header_fields || s.text == Section::Text::header_fields_not) {
      if (!c.sp() || !c.consume('(')) return false;
      do {
        auto f = c.astring();
        if (!f) return false;
        s.fields.push_back(to_upper(*f));
        if (s.fields.size() > 1000) return false;
      } while (c.sp());
      if (!c.consume(')')) return false;
    }
  }
  // Rebuild the canonical name (upper-cased keywords, fields as given).
  std::string n;
  for (std::size_t i = 0; i < s.part.size(); ++i) n += (i ? "." : "") + std::to_string(s.part[i]);
  const char* kw = nullptr;
  switch (s.text) {
    case Section::Text::none: break;
    case Section::Text::header: kw = "HEADER"; break;
    case Section::Text::header_fields: kw = "HEADER.FIELDS"; break;
    case Section::Text::header_fields_not: kw = "HEADER.FIELDS.NOT"; break;
    case Section::Text::text: kw = "TEXT"; break;
    case Section::Text::mime: kw = "MIME"; break;
  }
  if (kw) n += (n.empty() ? "" : ".") + std::string(kw);
  if (!s.fields.empty()) {
    n += " (";
    for (std::size_t i = 0; i < s.fields.size(); ++i) n += (i ? " " : "") + s.fields[i];
    n += ")";
  }
  name = n;
  return true;
}

bool parse_partial(Cursor& c, FetchAtt& a) {
  if (!c.consume('<')) return true;
  auto origin = c.number64();
  if (!origin || !c.consume('.')) return false;
  auto count = c.number64();
  if (!count || *count == 0 || !c.consume('>')) return false;
  a.partial = std::make_pair(*origin, *count);
  return true;
}

std::optional<FetchAtt> parse_att(Cursor& c) {
  FetchAtt a{};
  using K = FetchAtt::Kind;
  auto simple = [&](K k, const char* name) {
    a.kind = k;
    a.name = name;
    return a;
  };
  if (c.keyword("FLAGS")) return simple(K::flags, "FLAGS");
  if (c.keyword("UID")) return simple(K::uid, "UID");
  if (c.keyword("INTERNALDATE")) return simple(K::internaldate, "INTERNALDATE");
  if (c.keyword("RFC822.SIZE")) return simple(K::rfc822_size, "RFC822.SIZE");
  if (c.keyword("RFC822.HEADER")) return simple(K::rfc822_header, "RFC822.HEADER");
  if (c.keyword("RFC822.TEXT")) return simple(K::rfc822_text, "RFC822.TEXT");
  if (c.keyword("RFC822")) return simple(K::rfc822, "RFC822");
  if (c.keyword("ENVELOPE")) return simple(K::envelope, "ENVELOPE");
  if (c.keyword("BODYSTRUCTURE")) return simple(K::body_structure, "BODYSTRUCTURE");
  if (c.keyword("MODSEQ")) return simple(K::modseq, "MODSEQ");
  const bool binary_size = c.keyword("BINARY.SIZE");
  const bool binary_peek = !binary_size && c.keyword("BINARY.PEEK");
  const bool binary = binary_size || binary_peek || c.keyword("BINARY");
  const bool body_peek = !binary && c.keyword("BODY.PEEK");
  const bool body = binary || body_peek || c.keyword("BODY");
  if (!body) return std::nullopt;
  if (!c.consume('[')) {
    if (binary) return std::nullopt;
    return simple(K::body, "BODY");
  }
  std::string section_name;
  if (binary) {
    // section-binary = "[" [section-part] "]"
    while (true) {
      auto n = c.nz_number();
      if (!n) break;
      a.section.part.push_back(*n);
      if (!c.consume('.')) break;
    }
    for (std::size_t i = 0; i < a.section.part.size(); ++i)
      section_name += (i ? "." : "") + std::to_string(a.section.part[i]);
  } else if (!parse_section(c, a.section, section_name)) {
    return std::nullopt;
  }
  if (!c.consume(']')) return std::nullopt;
  a.kind = binary_size ? K::binary_size : binary ? K::binary : K::body_section;
  a.peek = body_peek || binary_peek;
  if (!binary_size && !parse_partial(c, a)) return std::nullopt;
  a.name = std::string(binary_size ? "BINARY.SIZE" : binary ? "BINARY" : "BODY") + "[" + section_name + "]";
  if (a.partial) a.name += fmt::format("<{}>", a.partial->first);
  return a;
}

}  // namespace

std::optional<std::vector<FetchAtt>> parse_fetch_atts(Cursor& c, std::string& error) {
  std::vector<FetchAtt> out;
  auto add = [&](std::initializer_list<const char*> names) {
    for (const char* n : names) {
      Cursor m(n);
      out.push_back(*parse_att(m));
    }
  };
  // RFC 9051 §6.4.5 macros
  if (c.keyword("ALL")) return add({"FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE"}), out;
  if (c.keyword("FAST")) return add({"FLAGS", "INTERNALDATE", "RFC822.SIZE"}), out;
  if (c.keyword("FULL")) return add({"FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE", "BODY"}), out;
  const bool list = c.consume('(');
  do {
    auto a = parse_att(c);
    if (!a) {
      error = "Invalid fetch attribute";
      return std::nullopt;
    }
    out.push_back(std::move(*a));
    if (out.size() > 200) {
      error = "Too many fetch attributes";
      return std::nullopt;
    }
  } while (list && c.sp());
  if (list && !c.consume(')')) {
    error = "Missing ) after fetch attributes";
    return std::nullopt;
  }
  return out;
}

std::string render_envelope(const Part& p) {
  auto raw = [&](std::string_view name) {
    auto v = field(p, name);
    return v && !v->empty() ? imap_string(*v) : std::string("NIL");
  };
  const std::string from = address_list(p, "From");
  std::string sender = address_list(p, "Sender");
  std::string reply_to = address_list(p, "Reply-To");
  // RFC 9051 §7.5.2: absent Sender/Reply-To take the From value.
  if (sender == "NIL") sender = from;
  if (reply_to == "NIL") reply_to = from;
  return "(" + raw("Date") + " " + raw("Subject") + " " + from + " " + sender + " " + reply_to + " " +
         address_list(p, "To") + " " + address_list(p, "Cc") + " " + address_list(p, "Bcc") + " " +
         raw("In-Reply-To") + " " + raw("Message-ID") + ")";
}

std::string render_body_structure(const Part& p, bool extensible) {
  std::string out;
  append_body(out, p, extensible, 0);
  return out;
}

std::optional<std::string> section_bytes(std::string_view msg, const Part& root, const Section& s) {
  const Part* p = message::find_part(root, s.part);
  if (!p) return std::nullopt;
  // HEADER/TEXT of a part name its encapsulated message (RFC 9051 §6.4.5).
  const Part* m = p;
  if (!s.part.empty() && s.text != Section::Text::mime && s.text != Section::Text::none) {
    if (!p->is_message() || p->children.empty()) return std::nullopt;
    m = &p->children[0];
  }
  switch (s.text) {
    case Section::Text::none:
      if (s.part.empty()) return std::string(msg);
      return std::string(p->body(msg));
    case Section::Text::header:
      return std::string(m->header_text(msg));
    case Section::Text::header_fields:
      return filter_header(m->header_text(msg), s.fields, false);
    case Section::Text::header_fields_not:
      return filter_header(m->header_text(msg), s.fields, true);
    case Section::Text::text:
      return std::string(m->body(msg));
    case Section::Text::mime:
      return std::string(p->header_text(msg));
  }
  return std::nullopt;
}

}  // namespace mk::imap
