// The visible warning on suspected phishing: a subject tag and a banner part in front of the
// message, which is kept byte for byte as the second part (no re-encoding, so nothing of it
// is lost or altered). Clients show an inline text part before the next one, whatever the
// original was (plain, HTML, alternative, with attachments).
#include <fmt/format.h>

#include "base/strings.hpp"
#include "filter/verdict.hpp"

namespace mk::filter {

bool is_phishing_signal(const Signal& s) {
  return s.name == "LINK_MISMATCH" || s.name == "DISPLAY_NAME_SPOOF" || s.name == "CREDENTIAL_FORM" ||
         s.name == "LOOKALIKE_DOMAIN" || s.name == "CONTACT_IMPERSONATION" || s.name == "OWN_NAME_SPOOF" ||
         s.name == "THREAD_HIJACK";
}

std::string warn_phishing(std::string_view msg, const std::vector<Signal>& signals) {
  // Header and body, whatever the line ends (messages from SMTP are CRLF).
  std::size_t split = msg.find("\r\n\r\n"), sep = 4;
  if (const auto lf = msg.find("\n\n"); lf != std::string_view::npos && (split == std::string_view::npos || lf < split))
    split = lf, sep = 2;
  const std::string_view head = split == std::string_view::npos ? msg : msg.substr(0, split + sep / 2);
  const std::string_view body = split == std::string_view::npos ? std::string_view() : msg.substr(split + sep);

  // The header's fields, each with its continuation lines.
  std::vector<std::string_view> fields;
  for (std::size_t i = 0; i < head.size();) {
    std::size_t e = head.find('\n', i);
    while (e != std::string_view::npos && e + 1 < head.size() && (head[e + 1] == ' ' || head[e + 1] == '\t'))
      e = head.find('\n', e + 1);
    const std::size_t end = e == std::string_view::npos ? head.size() : e + 1;
    fields.push_back(head.substr(i, end - i));
    i = end;
  }
  auto named = [](std::string_view f, std::string_view name) {
    return f.size() > name.size() && f[name.size()] == ':' && iequals(f.substr(0, name.size()), name);
  };
  static constexpr std::string_view kTag = "[SUSPECTED PHISHING]";
  std::string top, content_fields;
  bool subject = false, mime_version = false;
  for (auto f : fields) {
    std::string line(f);
    if (!line.ends_with("\n")) line += "\r\n";
    if (istarts_with(f, "content-")) {
      content_fields += line;  // they describe the original body, which becomes the second part
      continue;
    }
    if (named(f, "Subject") && !subject) {
      subject = true;
      if (f.find(kTag) == std::string_view::npos) {
        std::string_view rest = std::string_view(line).substr(8);  // after "Subject:"
        while (!rest.empty() && (rest.front() == ' ' || rest.front() == '\t')) rest.remove_prefix(1);
        line = fmt::format("Subject: {} {}", kTag, rest);
      }
    }
    if (named(f, "MIME-Version")) mime_version = true;
    top += line;
  }
  if (!subject) top += fmt::format("Subject: {}\r\n", kTag);
  if (!mime_version) top += "MIME-Version: 1.0\r\n";
  std::string boundary;
  do boundary = "mk-warning-" + random_id(12);
  while (body.find(boundary) != std::string_view::npos);
  top += fmt::format("Content-Type: multipart/mixed; boundary=\"{}\"\r\n", boundary);
  if (content_fields.empty()) content_fields = "Content-Type: text/plain; charset=us-ascii\r\n";

  std::string reasons;
  for (const auto& s : signals)
    if (is_phishing_signal(s)) reasons += fmt::format("  - {}\r\n", s.why);
  std::string out = std::move(top);
  out += "\r\n";
  out += fmt::format(
      "--{}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n"
      "Content-Disposition: inline\r\nContent-Description: mailkeep phishing warning\r\n\r\n"
      "WARNING: this message looks like phishing.\r\n{}"
      "Do not open its links or attachments, and never enter a password or payment details\r\n"
      "because of it. If it claims to come from someone you know, ask them another way.\r\n\r\n"
      "--{}\r\n{}\r\n",
      boundary, reasons, boundary, content_fields);
  out += body;
  if (!body.empty() && !body.ends_with("\n")) out += "\r\n";
  out += fmt::format("--{}--\r\n", boundary);
  return out;
}

}  // namespace mk::filter
