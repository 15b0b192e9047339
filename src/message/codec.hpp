// message/codec.hpp: content transfer decodings (RFC 2045 §6.7 quoted-printable, §6.8 base64)
// and RFC 2047 "Q". Lenient on input as MUAs are: invalid characters are skipped, and a
// broken escape is kept literally, so a damaged message still decodes to something.
#pragma once

#include <string>
#include <string_view>

namespace mk::message {

std::string base64_decode(std::string_view in);
std::string base64_encode(std::string_view in);
// quoted-printable; q_encoding selects RFC 2047 "Q" (underscore is a space).
std::string qp_decode(std::string_view in, bool q_encoding = false);
// Decodes a body by its Content-Transfer-Encoding (7bit/8bit/binary pass through).
std::string decode_transfer(std::string_view body, std::string_view encoding);
// base64 in lines of 76 characters, each ended with CRLF (RFC 2045 §6.8), for a MIME part.
std::string base64_lines(std::string_view in);
// UTF-8 text as an unstructured header field's value (RFC 2047 §5(1)): printable ASCII as
// is, anything else as "B" encoded words of at most 75 characters, folded onto lines of their
// own (CRLF, space) and never split inside a character. Controls become spaces. `used`: the
// characters already on the first line ("Subject: " is 9), so it stays within 76 too.
std::string encode_words(std::string_view utf8, std::size_t used = 0);

}  // namespace mk::message
