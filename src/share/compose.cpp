// share/compose.cpp: the shared link's mail (see compose.hpp).
#include "share/compose.hpp"

#include <fmt/format.h>

#include "base/strings.hpp"
#include "http/message.hpp"
#include "message/codec.hpp"

namespace mk::share {
namespace {

// A text/plain or text/html part in UTF-8, base64 (lines of any length, any character).
std::string text_part(std::string_view type, std::string_view text) {
  return fmt::format("Content-Type: {}; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n{}", type,
                     message::base64_lines(text));
}

std::string plain_text(const MailParts& m) {
  std::string t = subject_of(m) + "\n";
  if (!m.site_name.empty()) t += m.site_name + "\n";
  if (!m.description.empty()) t += "\n" + m.description + "\n";
  if (!m.note.empty()) t += "\nYour note: " + m.note + "\n";
  t += "\n" + m.link + "\n";
  if (!m.failure.empty()) t += "\nNo preview: " + m.failure + "\n";
  if (!m.image_note.empty()) t += "\nNo image: " + m.image_note + "\n";
  t += "\n-- \nShared to your mailbox by mailkeep.\n";
  std::string crlf;
  for (char c : t) {
    if (c == '\n') crlf += '\r';
    crlf += c;
  }
  return crlf;
}

std::string html_text(const MailParts& m, std::string_view cid) {
  std::string h = "<!DOCTYPE html>\r\n<html><head><meta charset=\"utf-8\"><title>" + http::xml_escape(subject_of(m)) +
                  "</title></head>\r\n<body style=\"font-family:sans-serif;max-width:40em\">\r\n";
  if (!cid.empty())
    h += fmt::format("<p><a href=\"{}\"><img src=\"cid:{}\" alt=\"\" style=\"max-width:100%\"></a></p>\r\n",
                     http::xml_escape(m.link), cid);
  h += fmt::format("<h1 style=\"font-size:1.3em\"><a href=\"{}\">{}</a></h1>\r\n", http::xml_escape(m.link),
                   http::xml_escape(subject_of(m)));
  if (!m.site_name.empty()) h += "<p style=\"color:#555\">" + http::xml_escape(m.site_name) + "</p>\r\n";
  if (!m.description.empty()) h += "<p>" + http::xml_escape(m.description) + "</p>\r\n";
  if (!m.note.empty()) h += "<p><strong>Your note:</strong> " + http::xml_escape(m.note) + "</p>\r\n";
  h += fmt::format("<p><a href=\"{}\">{}</a></p>\r\n", http::xml_escape(m.link), http::xml_escape(m.link));
  if (!m.failure.empty()) h += "<p style=\"color:#555\">No preview: " + http::xml_escape(m.failure) + "</p>\r\n";
  if (!m.image_note.empty()) h += "<p style=\"color:#555\">No image: " + http::xml_escape(m.image_note) + "</p>\r\n";
  h += "</body></html>\r\n";
  return h;
}

std::string extension(std::string_view type) {
  if (type == "image/jpeg") return "jpg";
  return std::string(type.substr(type.find('/') + 1));
}

}  // namespace

std::string image_type(std::string_view b) {
  if (b.starts_with("\x89PNG\r\n\x1a\n")) return "image/png";
  if (b.starts_with("\xFF\xD8\xFF")) return "image/jpeg";
  if (b.starts_with("GIF87a") || b.starts_with("GIF89a")) return "image/gif";
  if (b.size() >= 12 && b.starts_with("RIFF") && b.substr(8, 4) == "WEBP") return "image/webp";
  return "";
}

std::string subject_of(const MailParts& m) { return m.title.empty() ? m.link : m.title; }

std::string compose_mail(const MailParts& m) {
  const std::string mark = random_id(12);
  const std::string alt = "mk-alt-" + mark, rel = "mk-rel-" + mark;
  const bool with_image = m.image && !image_type(m.image->bytes).empty();
  const std::string cid = with_image ? "preview-" + mark + "@mailkeep" : "";
  std::string out;
  out += fmt::format("From: <{}>\r\nTo: <{}>\r\n", m.address, m.address);
  out += "Subject: " + message::encode_words(subject_of(m), 9) + "\r\n";
  out += "Date: " + m.date + "\r\n";
  out += fmt::format("Message-ID: <{}>\r\n", m.message_id);
  out += "X-Mailkeep-Share: " + std::string(m.failure.empty() ? "preview" : "link only") + "\r\n";
  out += "MIME-Version: 1.0\r\n";
  const std::string alternative = fmt::format(
      "Content-Type: multipart/alternative; boundary=\"{0}\"\r\n\r\n--{0}\r\n{1}\r\n--{0}\r\n{2}\r\n--{0}--\r\n", alt,
      text_part("text/plain", plain_text(m)), text_part("text/html", html_text(m, cid)));
  if (!with_image) return out + alternative;
  const std::string& type = m.image->type.empty() ? image_type(m.image->bytes) : m.image->type;
  out += fmt::format("Content-Type: multipart/related; type=\"multipart/alternative\"; boundary=\"{}\"\r\n\r\n", rel);
  out += fmt::format("--{}\r\n{}\r\n", rel, alternative);
  out += fmt::format(
      "--{0}\r\nContent-Type: {1}; name=\"preview.{2}\"\r\nContent-Transfer-Encoding: base64\r\n"
      "Content-ID: <{3}>\r\nContent-Disposition: inline; filename=\"preview.{2}\"\r\n\r\n{4}\r\n--{0}--\r\n",
      rel, type, extension(type), cid, message::base64_lines(m.image->bytes));
  return out;
}

}  // namespace mk::share
