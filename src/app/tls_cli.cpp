// mailkeep tls status | tls rollover: the certificate the server presents and its keys, and
// the switch to the next key once its TLSA record is in the DNS.
//
// DANE (RFC 7672) pins the server's key, so a new key must be announced before it is used:
// quickstart publishes TLSA 3 1 1 for the key in use and for the next one (net/tls_keys.hpp).
// `tls rollover` makes the next key the one in use only when its record is published, keeps
// the old key's certificate presented until the CA has issued one for the new key (the
// certificate manager notices at its next look), and makes a new next key whose record the
// admin publishes in turn.
#include <cstdio>
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <fmt/format.h>

#include "app/app.hpp"
#include "base/read_file.hpp"
#include "base/strings.hpp"
#include "dns/rdata.hpp"
#include "dns/resolver.hpp"
#include "net/cert_store.hpp"
#include "net/selfsigned.hpp"
#include "net/tls_keys.hpp"

namespace mk::app {
namespace {

constexpr std::size_t kMaxPem = 1 << 20;

std::string hex(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) out += kHex[c >> 4], out += kHex[c & 15];
  return out;
}

std::string day(std::int64_t t) {
  std::tm tm{};
  const std::time_t tt = t;
  gmtime_r(&tt, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
  return buf;
}

// The TLSA 3 1 1 digests published for the hostname's SMTP service, and whether the answer
// was DNSSEC-validated.
struct Published {
  std::vector<std::string> digests;
  bool secure = false;
};
Result<Published> published_tlsa(const Config& cfg) {
  boost::asio::io_context io;
  auto resolver = dns::Resolver::create(io, cfg.dns);
  if (!resolver) return resolver.error();
  Result<Published> out = err("no answer");
  boost::asio::co_spawn(
      io,
      [&]() -> boost::asio::awaitable<void> {
        auto a = co_await (*resolver)->query("_25._tcp." + to_lower(cfg.hostname), dns::kTlsa);
        (*resolver)->stop();
        if (!a) {
          out = a.error();
          co_return;
        }
        if (a->temporary()) {
          out = err(a->bogus ? "the answer failed DNSSEC validation: " + a->why_bogus : "the lookup failed (SERVFAIL)");
          co_return;
        }
        Published p;
        p.secure = a->secure;
        for (const auto& rd : a->rdata)
          if (auto t = dns::parse_tlsa(rd); t && t->usage == 3 && t->selector == 1 && t->matching == 1)
            p.digests.push_back(hex(t->data));
        out = std::move(p);
      },
      [](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
      });
  io.run();
  return out;
}

}  // namespace

int cmd_tls_status(const std::string& config_path) {
  auto cfg = load_config(config_path);
  if (!cfg) return fail(cfg.error(), kExitUsage);
  const bool own = !cfg->tls_cert.empty();
  const std::string cert = own ? cfg->tls_cert : net::tls_cert_path(cfg->data_dir);
  auto chain = read_file(cert, kMaxPem);
  if (!chain) {
    std::printf("certificate: none yet (%s); the server makes one at its first start\n", cert.c_str());
  } else if (auto info = net::describe_chain(*chain); !info) {
    std::printf("certificate: %s does not parse: %s\n", cert.c_str(), info.error().message.c_str());
  } else {
    std::string names;
    for (const auto& n : info->names) names += (names.empty() ? "" : ", ") + n;
    const std::int64_t left = (info->not_after - std::int64_t(std::time(nullptr))) / 86400;
    std::printf("certificate: %s\n  names: %s\n  issuer: %s%s\n  valid until %s (%lld days left)\n", cert.c_str(),
                names.c_str(), info->issuer.c_str(), info->self_signed ? " (self-signed)" : "",
                day(info->not_after).c_str(), static_cast<long long>(left));
  }
  if (own) {
    std::printf("certificate files of your own (tls.cert, tls.key): keys are yours to roll over\n");
    return kExitOk;
  }
  for (const auto& [what, path] : {std::pair<const char*, std::string>{"key in use", net::tls_key_path(cfg->data_dir)},
                                   {"next key", net::tls_next_key_path(cfg->data_dir)}}) {
    auto d = net::tlsa_spki_sha256_hex(path);
    std::printf("%s: %s\n  _25._tcp.%s. IN TLSA 3 1 1 %s\n", what, path.c_str(), to_lower(cfg->hostname).c_str(),
                d ? d->c_str() : ("(" + d.error().message + ")").c_str());
  }
  return kExitOk;
}

int cmd_tls_rollover(const std::string& config_path, bool force) {
  auto cfg = load_config(config_path);
  if (!cfg) return fail(cfg.error(), kExitUsage);
  if (!cfg->tls_cert.empty())
    return fail(err("tls.cert is set: the certificate and its key are yours, mailkeep does not roll them over"),
                kExitUsage);
  const std::string key = net::tls_key_path(cfg->data_dir), next = net::tls_next_key_path(cfg->data_dir);
  auto next_digest = net::tlsa_spki_sha256_hex(next);
  auto key_digest = net::tlsa_spki_sha256_hex(key);
  if (!next_digest || !key_digest)
    return fail(err("no key pair to roll over in " + cfg->data_dir + "/tls: run mailkeep quickstart first"), kExitUsage);
  const std::string host = to_lower(cfg->hostname);
  if (!force) {
    auto pub = published_tlsa(*cfg);
    if (!pub)
      return fail(err(fmt::format("cannot read the TLSA records of _25._tcp.{}: {}; try again, or --force", host,
                                  pub.error().message)));
    if (std::find(pub->digests.begin(), pub->digests.end(), *next_digest) == pub->digests.end())
      return fail(err(fmt::format(
          "the next key's record is not published yet: publish\n  _25._tcp.{}. IN TLSA 3 1 1 {}\n"
          "wait for the old record's TTL to pass, then run this again (senders that check DANE would refuse "
          "to deliver to a key they do not know)",
          host, *next_digest)));
    if (!pub->secure)
      std::printf("note: the TLSA answer was not DNSSEC-validated (sign the zone, or check that the resolver "
                  "validates): without DNSSEC, senders ignore TLSA records\n");
  }
  // The old key and its certificate are kept aside: the running server presents them until
  // the CA has issued a certificate for the new key.
  const std::string dir = cfg->data_dir + "/tls/";
  const std::string cert = net::tls_cert_path(cfg->data_dir);
  // Files made here belong to whoever runs this (root, under sudo); the server runs as the
  // tls directory's owner and must read them, so they are given to that owner on every way
  // out, a failed step included.
  auto give_back = [&](Status s) {
    if (auto g = net::give_tls_files_to_dir_owner(cfg->data_dir); s && !g) return g;
    return s;
  };
  if (::rename(key.c_str(), (dir + "retired-key.pem").c_str()) != 0 ||
      ::rename(next.c_str(), key.c_str()) != 0)
    return fail(give_back(err("cannot move the keys in " + dir + ": " + std::strerror(errno))).error());
  ::rename(cert.c_str(), (dir + "retired-cert.pem").c_str());
  if (auto s = give_back(net::write_self_signed_for_key(cert, key, {host})); !s) return fail(s.error());
  if (auto s = give_back(net::ensure_tls_keys(cfg->data_dir)); !s) return fail(s.error());
  auto new_next = net::tlsa_spki_sha256_hex(next);
  std::printf(
      "the next key is now the key in use; the server asks the CA for a certificate for it within the hour\n"
      "(at once after a restart). Keep publishing the old key's record until `mailkeep tls status` shows\n"
      "the new certificate, then replace it with the new next key's:\n"
      "  _25._tcp.%s. IN TLSA 3 1 1 %s   (in use)\n  _25._tcp.%s. IN TLSA 3 1 1 %s   (next)\n",
      host.c_str(), next_digest->c_str(), host.c_str(), new_next ? new_next->c_str() : "?");
  warn_unless_audited(cfg->data_dir, "tls.key_rolled_over", {{"old", *key_digest}, {"new", *next_digest}});
  return kExitOk;
}

}  // namespace mk::app
