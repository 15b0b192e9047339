// Runs the MIME parser and header helpers over every message of the SpamAssassin public
// corpus (fetched by scripts/fetch-corpus.sh; its directory comes in MK_CORPUS_DIR): real,
// often malformed mail from 2002-2003. No crash, no sanitizer report, sane structure.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/strings.hpp"
#include "message/codec.hpp"
#include "message/header.hpp"
#include "message/mime.hpp"

namespace mk::message {
namespace {

std::size_t walk(const Part& p, std::string_view msg) {
  EXPECT_LE(p.body_offset + p.body_size, msg.size());
  EXPECT_LE(p.offset + p.header_size, msg.size());
  for (const auto& h : p.headers) {
    (void)decode_words(h.value);
    if (mk::iequals(h.name, "From") || mk::iequals(h.name, "To") || mk::iequals(h.name, "Cc"))
      (void)parse_address_list(h.value);
  }
  (void)decode_transfer(p.body(msg), p.encoding);
  std::size_t n = 1;
  for (const auto& c : p.children) n += walk(c, msg);
  return n;
}

TEST(MimeCorpus, ParsesEveryMessage) {
  const char* dir = std::getenv("MK_CORPUS_DIR");
  ASSERT_NE(dir, nullptr) << "set MK_CORPUS_DIR (scripts/fetch-corpus.sh prints it)";
  std::size_t files = 0, parts = 0, multipart = 0, with_from = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (e.path().extension() != ".txt") continue;
    std::ifstream in(e.path(), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    std::string text = ss.str();
    if (text.starts_with("From ")) text.erase(0, text.find('\n') + 1);  // mbox separator
    // As stored by mailkeep: CRLF line endings.
    std::string crlf;
    crlf.reserve(text.size() + text.size() / 20);
    for (char c : text) {
      if (c == '\n') crlf += '\r';
      crlf += c;
    }
    for (const std::string* m : {&text, &crlf}) {
      auto root = parse_mime(*m);
      parts += walk(root, *m);
      if (m == &crlf) {
        multipart += root.is_multipart();
        with_from += header_value(root.headers, "From").has_value();
      }
    }
    ++files;
  }
  std::printf("corpus: %zu messages, %zu parts (both line endings), %zu multipart, %zu with From\n",
              files, parts, multipart, with_from);
  EXPECT_GE(files, 6000u);
  EXPECT_GT(multipart, 300u);             // the corpus has many multipart messages
  EXPECT_GE(with_from, files * 99 / 100);  // headers are found in nearly all
}

}  // namespace
}  // namespace mk::message
