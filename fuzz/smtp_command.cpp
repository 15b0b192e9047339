// Fuzzes the SMTP command-line parsers: verb split, MAIL/RCPT paths and parameters, BDAT.
#include <cstdint>
#include <string_view>

#include "smtp/command.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view line(reinterpret_cast<const char*>(data), size);
  auto c = mk::smtp::parse_command(line);
  (void)mk::smtp::parse_mail(c.arg, true);
  (void)mk::smtp::parse_mail(line, false);
  (void)mk::smtp::parse_rcpt(c.arg, true, true);
  (void)mk::smtp::parse_rcpt(line, true, false);
  (void)mk::smtp::parse_bdat(c.arg);
  (void)mk::smtp::xtext_decode(line);
  return 0;
}
