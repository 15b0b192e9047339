#include "message/mime.hpp"

#include "base/strings.hpp"

namespace mk::message {
namespace {

struct Ctx {
  std::string_view msg;
  const MimeLimits& limits;
  std::size_t parts = 0;
};

std::size_t count_lines(std::string_view s) {
  std::size_t n = 0;
  for (char c : s)
    if (c == '\n') ++n;
  // A final line without a line break still counts (IMAP counts lines as clients see them).
  if (!s.empty() && s.back() != '\n') ++n;
  return n;
}

void apply_headers(Part& p, bool parent_is_digest) {
  if (parent_is_digest) {
    // RFC 2046 §5.1.5: in multipart/digest the default type is message/rfc822.
    p.type = "message";
    p.subtype = "rfc822";
  }
  for (const auto& h : p.headers) {
    if (iequals(h.name, "Content-Type")) {
      if (p.explicit_type) continue;  // first one wins
      auto pv = parse_params(h.value);
      auto slash = pv.type.find('/');
      if (slash == std::string::npos || slash == 0 || slash + 1 == pv.type.size()) continue;
      p.type = pv.type.substr(0, slash);
      p.subtype = pv.type.substr(slash + 1);
      p.type_params = std::move(pv.params);
      p.explicit_type = true;
    } else if (iequals(h.name, "Content-Transfer-Encoding")) {
      auto v = to_lower(strip_comments(unfold(h.value)));
      auto t = trim(v);
      if (!t.empty()) p.encoding = std::string(t);
    } else if (iequals(h.name, "Content-ID")) {
      p.id = unfold(h.value);
    } else if (iequals(h.name, "Content-Description")) {
      p.description = unfold(h.value);
    } else if (iequals(h.name, "Content-MD5")) {
      p.md5 = unfold(h.value);
    } else if (iequals(h.name, "Content-Language")) {
      p.language = unfold(h.value);
    } else if (iequals(h.name, "Content-Location")) {
      p.location = unfold(h.value);
    } else if (iequals(h.name, "Content-Disposition")) {
      auto pv = parse_params(h.value);
      p.disposition = pv.type;
      p.disposition_params = std::move(pv.params);
    }
  }
  if (p.type == "text" && !p.explicit_type) p.type_params = {{"charset", "us-ascii"}};
}

// Finds the next delimiter line "--boundary" at a line start at or after pos. Returns its
// offset (the "--") and sets line_end past its line break, and closing if it is "--b--".
std::size_t find_delimiter(std::string_view body, std::string_view boundary, std::size_t pos,
                           std::size_t& line_end, bool& closing) {
  while (pos <= body.size()) {
    auto hit = body.find(boundary, pos);
    if (hit == std::string_view::npos || hit < 2) {
      if (hit == std::string_view::npos) return std::string_view::npos;
      pos = hit + 1;
      continue;
    }
    const std::size_t dash = hit - 2;
    const bool at_line_start = dash == 0 || body[dash - 1] == '\n';
    if (body.compare(dash, 2, "--") == 0 && at_line_start) {
      std::size_t after = hit + boundary.size();
      closing = body.compare(after, 2, "--") == 0;
      if (closing) after += 2;
      // RFC 2046 §5.1.1: only transport padding (white space) may follow on the line.
      std::size_t e = after;
      while (e < body.size() && (body[e] == ' ' || body[e] == '\t')) ++e;
      if (e == body.size() || body[e] == '\r' || body[e] == '\n') {
        if (e < body.size() && body[e] == '\r') ++e;
        if (e < body.size() && body[e] == '\n') ++e;
        line_end = e;
        return dash;
      }
    }
    pos = hit + 1;
  }
  return std::string_view::npos;
}

void parse_part(Ctx& ctx, Part& p, std::size_t begin, std::size_t end, std::size_t depth,
                bool parent_is_digest);

void parse_children(Ctx& ctx, Part& p, std::size_t depth) {
  std::string boundary;
  for (const auto& [k, v] : p.type_params)
    if (k == "boundary") boundary = v;
  const std::string_view body = ctx.msg.substr(p.body_offset, p.body_size);
  if (p.is_multipart()) {
    if (boundary.empty() || boundary.size() > 200) return;
    const bool digest = p.subtype == "digest";
    std::size_t line_end = 0;
    bool closing = false;
    std::size_t d = find_delimiter(body, boundary, 0, line_end, closing);
    while (d != std::string_view::npos && !closing && ctx.parts < ctx.limits.max_parts) {
      const std::size_t part_start = line_end;
      std::size_t next_end = 0;
      bool next_closing = false;
      std::size_t next = find_delimiter(body, boundary, part_start, next_end, next_closing);
      // The CRLF before a delimiter belongs to the delimiter (RFC 2046 §5.1.1).
      std::size_t part_end = next == std::string_view::npos ? body.size() : next;
      if (next != std::string_view::npos && part_end > part_start) {
        if (part_end >= 1 && body[part_end - 1] == '\n') --part_end;
        if (part_end > part_start && body[part_end - 1] == '\r') --part_end;
      }
      if (part_end < part_start) part_end = part_start;
      Part child;
      parse_part(ctx, child, p.body_offset + part_start, p.body_offset + part_end, depth + 1, digest);
      p.children.push_back(std::move(child));
      d = next;
      line_end = next_end;
      closing = next_closing;
    }
  } else if (p.is_message()) {
    Part child;
    parse_part(ctx, child, p.body_offset, p.body_offset + p.body_size, depth + 1, false);
    p.children.push_back(std::move(child));
  }
}

void parse_part(Ctx& ctx, Part& p, std::size_t begin, std::size_t end, std::size_t depth,
                bool parent_is_digest) {
  ++ctx.parts;
  p.offset = begin;
  const std::string_view text = ctx.msg.substr(begin, end - begin);
  std::size_t header_end = 0;
  const std::size_t body_start = find_body_start(text, header_end);
  p.header_size = body_start;
  p.headers = parse_header_block(text.substr(0, header_end), ctx.limits.header);
  p.body_offset = begin + body_start;
  p.body_size = text.size() - body_start;
  p.body_lines = count_lines(text.substr(body_start));
  apply_headers(p, parent_is_digest);
  if ((p.is_multipart() || p.is_message()) && depth < ctx.limits.max_depth &&
      ctx.parts < ctx.limits.max_parts) {
    parse_children(ctx, p, depth);
  }
}

}  // namespace

Part parse_mime(std::string_view msg, const MimeLimits& limits) {
  Ctx ctx{msg, limits};
  Part root;
  parse_part(ctx, root, 0, msg.size(), 0, false);
  return root;
}

const Part* find_part(const Part& root, const std::vector<unsigned>& path) {
  const Part* p = &root;
  for (unsigned n : path) {
    // Inside an encapsulated message, numbering refers to that message's parts.
    if (p != &root && p->is_message() && !p->children.empty()) p = &p->children[0];
    if (p->is_multipart()) {
      if (n == 0 || n > p->children.size()) return nullptr;
      p = &p->children[n - 1];
    } else {
      // A non-multipart has exactly one part, number 1 (RFC 3501 §6.4.5).
      if (n != 1) return nullptr;
    }
  }
  return p;
}

}  // namespace mk::message
