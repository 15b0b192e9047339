// Fuzzes reading an HTTP request (http::RequestReader: Beast's parser and mailkeep's rules)
// and answering it through the router with the well-known mail files and the ACME
// challenge route, as the server does: bytes in, one response out, never a crash.
#include <cstdint>
#include <string>
#include <string_view>

#include "http/acme_challenge.hpp"
#include "http/request_reader.hpp"
#include "http/router.hpp"
#include "http/wellknown.hpp"

namespace {

mk::http::Router& router() {
  static mk::http::AcmeChallenges challenges;
  static mk::http::Router r = [] {
    challenges.put("tok-en_1", "tok-en_1.thumbprint");
    mk::http::Router router("mail.example.org", [](std::string_view h) { return h == "mail.example.org"; });
    mk::http::MailSite site;
    site.hostname = "mail.example.org";
    site.hosted = [](std::string_view d) { return d == "example.org"; };
    mk::http::add_acme_challenge(router, challenges);
    mk::http::add_well_known(router, site);
    return router;
  }();
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  mk::http::Limits limits;
  limits.max_header_size = 4096;
  limits.max_body_size = 8192;
  std::string in(reinterpret_cast<const char*>(data), size);
  // The first byte picks the transport and how the bytes arrive (whole, or in small reads).
  const bool tls = size > 0 && (data[0] & 1);
  const std::size_t chunk = size > 0 ? 1 + (data[0] >> 1) % 64 : 1;
  // Pipelined requests: read each in turn from what is left.
  for (int n = 0; n < 4 && !in.empty(); ++n) {
    mk::http::RequestReader reader(limits);
    std::string pending;
    auto state = mk::http::RequestReader::State::need_more;
    while (state == mk::http::RequestReader::State::need_more && !in.empty()) {
      const std::size_t take = std::min(chunk, in.size());
      pending.append(in, 0, take);
      in.erase(0, take);
      state = reader.feed(pending);
      (void)reader.header_done();
      (void)reader.expects_continue();
    }
    if (state == mk::http::RequestReader::State::need_more) state = reader.end();
    if (state != mk::http::RequestReader::State::done) break;
    (void)reader.keep_alive();
    (void)reader.http_minor();
    auto req = reader.take(tls, "192.0.2.1");
    if (!req) break;
    (void)router().route(*req);
    (void)req->param("emailaddress");
    in.insert(0, pending);  // what followed the request
  }
  return 0;
}
