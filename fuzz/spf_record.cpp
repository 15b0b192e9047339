// Fuzzes SPF: record parsing, macro expansion, and a whole check_host() whose records come
// from the input (the first line is the record of the checked domain, the next ones are
// records of a.example and b.example).
#include <cstdint>
#include <string_view>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include "base/strings.hpp"
#include "dns/mock.hpp"
#include "spf/check.hpp"
#include "spf/record.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace mk;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  (void)spf::parse_record(in);
  spf::MacroContext ctx;
  ctx.local_part = "user";
  ctx.sender_domain = ctx.domain = "example.com";
  ctx.ip = *IpAddr::parse("2001:db8::1");
  (void)spf::expand(in, ctx, true);
  (void)spf::valid_domain_spec(in);

  dns::MockLookup dns;
  const auto lines = split(in, '\n');
  static constexpr std::string_view kNames[] = {"example.com", "a.example", "b.example"};
  for (std::size_t i = 0; i < lines.size() && i < std::size(kNames); ++i) dns.add_txt(kNames[i], lines[i]);
  dns.add_address("a.example", "192.0.2.1");
  dns.add_address("a.example", "2001:db8::1");
  dns.add_mx("example.com", 10, "a.example");
  dns.add_ptr("1.2.0.192.in-addr.arpa", "a.example");
  dns.fail("b.example", dns::kA);
  for (const char* ip : {"192.0.2.1", "2001:db8::1"}) {
    spf::Request req;
    req.ip = *IpAddr::parse(ip);
    req.sender = "user@example.com";
    req.helo = "mail.example.com";
    boost::asio::io_context io;
    boost::asio::co_spawn(io, [&]() -> boost::asio::awaitable<void> {
      spf::Verdict v = co_await spf::check_mail_from(dns, req);
      (void)spf::received_spf(v, req);
    }, boost::asio::detached);
    io.run();
  }
  return 0;
}
