// message/compress.hpp: gzip and zip, as report attachments use them (TLS-RPT and DMARC
// aggregate reports: RFC 8460 §5.3, RFC 7489 §7.2.1.1).
// SECURITY: decompression of untrusted attachments is bounded by max_out, so a small "zip
// bomb" cannot exhaust memory; a result that would exceed it is an error.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "base/result.hpp"

namespace mk::message {

std::string gzip(std::string_view data);
Result<std::string> gunzip(std::string_view data, std::size_t max_out);
// The first file in a zip archive whose name ends with `suffix` (any file if empty).
Result<std::string> unzip_first(std::string_view archive, std::string_view suffix, std::size_t max_out);

}  // namespace mk::message
