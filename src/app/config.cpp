#include "app/config.hpp"

#include <functional>

#include <fmt/format.h>
#include <toml++/toml.h>

#include <boost/asio/ip/address.hpp>

#include "base/ip.hpp"
#include "base/read_file.hpp"
#include "base/strings.hpp"
#include "base/units.hpp"
#include "message/address.hpp"

namespace mk::app {
namespace {

struct Errors {
  std::string file;
  std::vector<std::string> list;
  void add(const toml::source_region& where, const std::string& msg) {
    list.push_back(fmt::format("{}:{}: {}", file, where.begin.line, msg));
  }
};

std::string resolve_path(const std::string& base, const std::string& p) {
  if (p.empty() || p[0] == '/' || base.empty()) return p;
  return base + "/" + p;
}

// A key's handler checks the node's type and value and stores it; it reports with the key's
// full name so messages read "smtp.max_recipients must be ...".
using Handler = std::function<void(const toml::node&, const std::string& key, Errors&, Config&)>;

Handler string_key(std::function<bool(const std::string&, Config&, std::string&)> set) {
  return [set](const toml::node& n, const std::string& key, Errors& e, Config& c) {
    auto v = n.value<std::string>();
    if (!n.is_string() || !v) return e.add(n.source(), fmt::format("{} must be a string", key));
    std::string why;
    if (!set(*v, c, why)) e.add(n.source(), fmt::format("{}: {}", key, why));
  };
}

// An array of strings, each checked (and normalized) by `check`; an error names the entry.
Handler string_list_key(std::string array_is, std::string entries_are,
                        std::function<std::optional<std::string>(const std::string&)> check,
                        std::function<std::vector<std::string>&(Config&)> field) {
  return [=](const toml::node& n, const std::string& key, Errors& e, Config& c) {
    const auto* arr = n.as_array();
    if (!arr) return e.add(n.source(), fmt::format("{} must be an array of {}", key, array_is));
    field(c).clear();
    for (const auto& item : *arr) {
      auto v = item.value<std::string>();
      auto ok = item.is_string() && v ? check(*v) : std::nullopt;
      if (!ok) {
        e.add(item.source(), fmt::format("{} entries must be {}", key, entries_are));
        continue;
      }
      field(c).push_back(std::move(*ok));
    }
  };
}

// An array of addresses or networks ("10.0.0.0/8", "2001:db8::/32").
Handler network_list_key(std::function<std::vector<IpNetwork>&(Config&)> field) {
  return [=](const toml::node& n, const std::string& key, Errors& e, Config& c) {
    const auto* arr = n.as_array();
    if (!arr) return e.add(n.source(), fmt::format("{} must be an array of networks (\"192.0.2.0/24\")", key));
    field(c).clear();
    for (const auto& item : *arr) {
      auto v = item.value<std::string>();
      auto net = item.is_string() && v ? IpNetwork::parse(*v) : std::nullopt;
      if (!net) {
        e.add(item.source(), fmt::format("{} entries must be addresses or networks (\"10.0.0.0/8\", \"2001:db8::/32\")", key));
        continue;
      }
      field(c).push_back(*net);
    }
  };
}

Handler bool_key(std::function<bool&(Config&)> field) {
  return [=](const toml::node& n, const std::string& key, Errors& e, Config& c) {
    auto v = n.value<bool>();
    if (!n.is_boolean() || !v) return e.add(n.source(), fmt::format("{} must be true or false", key));
    field(c) = *v;
  };
}

template <class N>
Handler count_key(std::size_t lo, std::size_t hi, std::function<N&(Config&)> field) {
  return [=](const toml::node& n, const std::string& key, Errors& e, Config& c) {
    auto v = n.value<std::int64_t>();
    if (!n.is_integer() || !v) return e.add(n.source(), fmt::format("{} must be an integer", key));
    if (*v < std::int64_t(lo) || std::uint64_t(*v) > hi)
      return e.add(n.source(), fmt::format("{} must be between {} and {}", key, lo, hi));
    field(c) = N(*v);
  };
}

Handler score_key(std::function<double&(Config&)> field) {
  return [=](const toml::node& n, const std::string& key, Errors& e, Config& c) {
    auto v = n.value<double>();
    if (!(n.is_floating_point() || n.is_integer()) || !v || *v < -100 || *v > 1000)
      return e.add(n.source(), fmt::format("{} must be a number (a score, such as 3 or 4.5)", key));
    field(c) = *v;
  };
}

// Domain names (ARC sealers, DNS list zones), kept lower-case; `are` says what they are,
// with an example.
Handler domain_list_key(std::string are, std::function<std::vector<std::string>&(Config&)> field) {
  return string_list_key("domain names", std::move(are),
                         [](const std::string& v) {
                           return message::is_valid_domain(v, false) ? std::optional(to_lower(v)) : std::nullopt;
                         },
                         std::move(field));
}

Handler duration_key(std::chrono::milliseconds lo, std::function<std::chrono::milliseconds&(Config&)> field) {
  return [=](const toml::node& n, const std::string& key, Errors& e, Config& c) {
    auto v = n.value<std::string>();
    auto d = v ? parse_duration(*v) : std::nullopt;
    if (!n.is_string() || !d)
      return e.add(n.source(), fmt::format("{} must be a duration string such as \"30s\", \"5m\" or \"1h\"", key));
    if (*d < lo)
      return e.add(n.source(), fmt::format("{} must be at least {}ms", key, lo.count()));
    field(c) = *d;
  };
}

// A size: bytes as an integer, or a string with a unit ("50MiB"); between lo and hi bytes.
Handler size_key(std::uint64_t lo, std::uint64_t hi, std::string_view range, std::function<std::uint64_t&(Config&)> field) {
  return [=, range = std::string(range)](const toml::node& n, const std::string& key, Errors& e, Config& c) {
    std::optional<std::uint64_t> v;
    if (auto i = n.value<std::int64_t>(); n.is_integer() && i && *i > 0) v = std::uint64_t(*i);
    else if (auto s = n.value<std::string>(); n.is_string() && s) v = parse_size(*s);
    if (!v || *v < lo || *v > hi) return e.add(n.source(), fmt::format("{} must be a size {}", key, range));
    field(c) = *v;
  };
}

Handler listen_key(std::function<std::vector<ListenAddr>&(Config&)> field) {
  return [field](const toml::node& n, const std::string& key, Errors& e, Config& c) {
    const auto* arr = n.as_array();
    if (!arr) return e.add(n.source(), fmt::format("{} must be an array of \"address:port\" strings", key));
    auto& out = field(c);
    out.clear();
    for (const auto& item : *arr) {
      auto v = item.value<std::string>();
      if (!item.is_string() || !v) {
        e.add(item.source(), fmt::format("{} entries must be strings like \"0.0.0.0:25\"", key));
        continue;
      }
      auto l = parse_listen(*v);
      if (!l) {
        e.add(item.source(), fmt::format("{}: {}", key, l.error().message));
        continue;
      }
      out.push_back(*l);
    }
  };
}

const std::vector<std::pair<std::string, Handler>>& schema() {
  using std::chrono::milliseconds;
  static const std::vector<std::pair<std::string, Handler>> kSchema = {
      {"server.hostname", string_key([](const std::string& v, Config& c, std::string& why) {
         if (!message::is_valid_domain(v, false)) return why = "must be a DNS host name such as mail.example.org", false;
         c.hostname = to_lower(v);
         return true;
       })},
      {"server.data_dir", string_key([](const std::string& v, Config& c, std::string& why) {
         if (v.empty()) return why = "must not be empty", false;
         c.data_dir = v;
         return true;
       })},
      {"store.backend", string_key([](const std::string& v, Config& c, std::string& why) {
         for (const char* b : store::kBackends)
           if (v == b) return c.store.backend = v, true;
         return why = "must be \"sqlite\" (the only storage backend of this build)", false;
       })},
      {"server.dev", [](const toml::node& n, const std::string& key, Errors& e, Config& c) {
         auto v = n.value<bool>();
         if (!n.is_boolean() || !v) return e.add(n.source(), fmt::format("{} must be true or false", key));
         c.dev = *v;
       }},
      {"server.shutdown_grace", duration_key(milliseconds(0), [](Config& c) -> milliseconds& { return c.shutdown_grace; })},
      {"log.format", string_key([](const std::string& v, Config& c, std::string& why) {
         if (!log::parse_format(v, c.log_format)) return why = "must be \"kv\" or \"json\"", false;
         return true;
       })},
      {"log.level", string_key([](const std::string& v, Config& c, std::string& why) {
         if (!log::parse_level(v, c.log_level)) return why = "must be \"debug\", \"info\", \"warn\" or \"error\"", false;
         return true;
       })},
      {"log.remote.collectors",
       string_list_key("\"host:port\" strings", "\"host:port\" (\"logs.example.org:6514\", \"[2001:db8::1]:6514\")",
                       [](const std::string& v) -> std::optional<std::string> {
                         const bool v6 = v.starts_with('[');
                         const auto colon = v6 ? v.find("]:") : v.rfind(':');
                         if (colon == std::string::npos || colon == 0) return std::nullopt;
                         const std::string host = v6 ? v.substr(1, colon - 1) : v.substr(0, colon);
                         auto port = parse_u64(v.substr(colon + (v6 ? 2 : 1)));
                         boost::system::error_code ec;
                         (void)boost::asio::ip::make_address(host, ec);
                         if (!port || *port == 0 || *port > 65535 || (ec && !message::is_valid_domain(host, false)))
                           return std::nullopt;
                         return v;
                       },
                       [](Config& c) -> std::vector<std::string>& { return c.log_remote.collectors; })},
      {"log.remote.ca_file", string_key([](const std::string& v, Config& c, std::string&) { c.log_remote.ca_file = v; return true; })},
      {"log.remote.server_name", string_key([](const std::string& v, Config& c, std::string& why) {
         if (!v.empty() && !message::is_valid_domain(v, false)) {
           boost::system::error_code ec;
           (void)boost::asio::ip::make_address(v, ec);
           if (ec) return why = "must be the name in the collectors' certificates (\"logs.example.org\")", false;
         }
         c.log_remote.server_name = v;
         return true;
       })},
      {"log.remote.client_cert", string_key([](const std::string& v, Config& c, std::string&) { c.log_remote.client_cert = v; return true; })},
      {"log.remote.client_key", string_key([](const std::string& v, Config& c, std::string&) { c.log_remote.client_key = v; return true; })},
      {"log.remote.spool_records", count_key<std::uint64_t>(1000, 1000000000, [](Config& c) -> std::uint64_t& { return c.log_remote.spool_records; })},
      {"log.remote.heartbeat", duration_key(milliseconds(1000), [](Config& c) -> milliseconds& { return c.log_remote.heartbeat; })},
      {"log.remote.operational", string_key([](const std::string& v, Config& c, std::string& why) {
         log::Level l;
         if (v == "off") c.log_remote.operational.reset();
         else if (log::parse_level(v, l)) c.log_remote.operational = l;
         else return why = "must be \"off\", \"error\", \"warn\", \"info\" or \"debug\"", false;
         return true;
       })},
      {"log.remote.operational_queue", size_key(64 << 10, 1ull << 30, "between 64KiB and 1GiB, e.g. \"16MiB\"",
                                                [](Config& c) -> std::uint64_t& { return c.log_remote.operational_queue; })},
      {"log.remote.timeout", duration_key(milliseconds(1000), [](Config& c) -> milliseconds& { return c.log_remote.timeout; })},
      {"security.breached_passwords", string_key([](const std::string& v, Config& c, std::string& why) {
         if (v != "block" && v != "warn") return why = "must be \"block\" or \"warn\"", false;
         c.security.block_breached = v == "block";
         return true;
       })},
      {"security.allow_networks", network_list_key([](Config& c) -> std::vector<IpNetwork>& { return c.security.throttle.allow; })},
      {"web.admins",
       string_list_key("addresses", "account addresses (\"admin@example.org\")",
                       [](const std::string& v) -> std::optional<std::string> {
                         auto mb = message::parse_mailbox(v);
                         if (!mb || mb->domain.empty() || mb->domain_literal) return std::nullopt;
                         return mb->canonical();
                       },
                       [](Config& c) -> std::vector<std::string>& { return c.web.admins; })},
      {"web.session_idle", duration_key(std::chrono::minutes(1), [](Config& c) -> milliseconds& { return c.web.idle; })},
      {"web.self_release", bool_key([](Config& c) -> bool& { return c.web.self_release; })},
      {"web.self_forwarding", bool_key([](Config& c) -> bool& { return c.web.self_forwarding; })},
      {"share.fetch_allow", network_list_key([](Config& c) -> std::vector<IpNetwork>& { return c.share.fetch_allow; })},
      {"share.enabled", bool_key([](Config& c) -> bool& { return c.share.enabled; })},
      {"web.session_max", duration_key(std::chrono::minutes(5), [](Config& c) -> milliseconds& { return c.web.absolute; })},
      {"security.admin_address", string_key([](const std::string& v, Config& c, std::string& why) {
         auto mb = message::parse_mailbox(v);
         if (!v.empty() && (!mb || mb->domain.empty())) return why = "must be an email address (\"admin@example.org\")", false;
         c.security.admin_address = v.empty() ? v : mb->canonical();
         return true;
       })},
      {"security.login_failures_before_ban", count_key<int>(3, 1000, [](Config& c) -> int& { return c.security.throttle.failures_before_ban; })},
      {"security.max_messages_per_hour", count_key<int>(1, 1000000, [](Config& c) -> int& { return c.security.sending.messages_per_hour; })},
      {"security.max_recipients_per_day", count_key<int>(1, 10000000, [](Config& c) -> int& { return c.security.sending.recipients_per_day; })},
      {"security.max_new_recipients_per_hour", count_key<int>(1, 1000000, [](Config& c) -> int& { return c.security.sending.new_recipients_per_hour; })},
      {"security.ban_time", duration_key(milliseconds(60000), [](Config& c) -> milliseconds& { return c.security.throttle.ban; })},
      {"tls.cert", string_key([](const std::string& v, Config& c, std::string&) { c.tls_cert = v; return true; })},
      {"tls.key", string_key([](const std::string& v, Config& c, std::string&) { c.tls_key = v; return true; })},
      {"tls.min_version", string_key([](const std::string& v, Config& c, std::string& why) {
         if (v == "1.2") c.tls_min = net::TlsMin::tls12;
         else if (v == "1.3") c.tls_min = net::TlsMin::tls13;
         else return why = "must be \"1.2\" or \"1.3\" (older TLS versions are not supported)", false;
         return true;
       })},
      {"smtp.listen", listen_key([](Config& c) -> std::vector<ListenAddr>& { return c.smtp.listen; })},
      {"submission.listen", listen_key([](Config& c) -> std::vector<ListenAddr>& { return c.submission.listen; })},
      {"submission.listen_tls", listen_key([](Config& c) -> std::vector<ListenAddr>& { return c.submission.listen_tls; })},
      {"submission.max_connections", count_key<std::size_t>(1, 1000000, [](Config& c) -> std::size_t& { return c.submission.max_connections; })},
      {"submission.max_connections_per_ip", count_key<std::size_t>(1, 1000000, [](Config& c) -> std::size_t& { return c.submission.max_connections_per_ip; })},
      {"smtp.arc_trusted_sealers", domain_list_key("domain names (\"lists.example.org\")",
                                                   [](Config& c) -> std::vector<std::string>& { return c.smtp.arc_trusted_sealers; })},
      {"dns.upstream",
       string_list_key("\"ip\" or \"ip@port\" strings", "IP addresses, optionally with @port (\"127.0.0.1@5353\")",
                       [](const std::string& v) -> std::optional<std::string> {
                         const auto at = v.find('@');
                         boost::system::error_code ec;
                         (void)boost::asio::ip::make_address(v.substr(0, at), ec);
                         auto port = at == std::string::npos ? std::optional<std::uint64_t>(53) : parse_u64(v.substr(at + 1));
                         if (ec || !port || *port == 0 || *port >= 65536) return std::nullopt;
                         return v;
                       },
                       [](Config& c) -> std::vector<std::string>& { return c.dns.upstream; })},
      {"dns.message_budget", duration_key(milliseconds(100), [](Config& c) -> milliseconds& { return c.dns.message_budget; })},
      {"dns.query_timeout", duration_key(milliseconds(100), [](Config& c) -> milliseconds& { return c.dns.query_timeout; })},
      {"dns.dnssec", bool_key([](Config& c) -> bool& { return c.dns.dnssec; })},
      {"dns.trust_anchor", string_key([](const std::string& v, Config& c, std::string&) { c.dns.trust_anchor = v; return true; })},
      {"outbound.port", [](const toml::node& n, const std::string& key, Errors& e, Config& c) {
         auto v = n.value<std::int64_t>();
         if (!n.is_integer() || !v || *v < 1 || *v > 65535) return e.add(n.source(), fmt::format("{} must be a port number (1-65535)", key));
         c.outbound.port = std::uint16_t(*v);
       }},
      {"outbound.max_age", duration_key(milliseconds(1000), [](Config& c) -> milliseconds& { return c.outbound.max_age; })},
      {"outbound.paused", bool_key([](Config& c) -> bool& { return c.outbound.paused; })},
      {"spam.tag_score", score_key([](Config& c) -> double& { return c.spam.thresholds.tag; })},
      {"spam.junk_score", score_key([](Config& c) -> double& { return c.spam.thresholds.junk; })},
      {"spam.reject_score", score_key([](Config& c) -> double& { return c.spam.thresholds.reject; })},
      {"spam.dnsbl", domain_list_key("DNS zone names (\"bl.example.org\")", [](Config& c) -> std::vector<std::string>& { return c.spam.lists.dnsbl; })},
      {"spam.dnswl", domain_list_key("DNS zone names (\"bl.example.org\")", [](Config& c) -> std::vector<std::string>& { return c.spam.lists.dnswl; })},
      {"spam.uribl", domain_list_key("DNS zone names (\"bl.example.org\")", [](Config& c) -> std::vector<std::string>& { return c.spam.lists.uribl; })},
      {"spam.dnsbl_score", score_key([](Config& c) -> double& { return c.spam.lists.dnsbl_score; })},
      {"spam.dnswl_score", score_key([](Config& c) -> double& { return c.spam.lists.dnswl_score; })},
      {"spam.uribl_score", score_key([](Config& c) -> double& { return c.spam.lists.uribl_score; })},
      {"spam.shared_learning", bool_key([](Config& c) -> bool& { return c.spam.shared_learning; })},
      {"spam.auto_learn", bool_key([](Config& c) -> bool& { return c.spam.auto_learn; })},
      {"dmarc.send_reports", bool_key([](Config& c) -> bool& { return c.dmarc.send_reports; })},
      {"dmarc.report_interval", duration_key(milliseconds(1000), [](Config& c) -> milliseconds& { return c.dmarc.report_interval; })},
      {"outbound.ca_file", string_key([](const std::string& v, Config& c, std::string&) { c.outbound.ca_file = v; return true; })},
      {"outbound.tls_report_interval", duration_key(milliseconds(1000), [](Config& c) -> milliseconds& { return c.outbound.tls_report_interval; })},
      {"outbound.max_connections", count_key<std::size_t>(1, 10000, [](Config& c) -> std::size_t& { return c.outbound.max_connections; })},
      {"outbound.connect_timeout", duration_key(milliseconds(1000), [](Config& c) -> milliseconds& { return c.outbound.connect_timeout; })},
      {"outbound.command_timeout", duration_key(milliseconds(1000), [](Config& c) -> milliseconds& { return c.outbound.command_timeout; })},
      {"outbound.retry_min", duration_key(milliseconds(1000), [](Config& c) -> milliseconds& { return c.outbound.min_backoff; })},
      {"outbound.delay_warning", duration_key(milliseconds(0), [](Config& c) -> milliseconds& { return c.outbound.delay_warning; })},
      {"outbound.connections_per_domain", count_key<std::size_t>(1, 100, [](Config& c) -> std::size_t& { return c.outbound.connections_per_domain; })},
      {"http.listen", listen_key([](Config& c) -> std::vector<ListenAddr>& { return c.http.listen; })},
      {"http.listen_tls", listen_key([](Config& c) -> std::vector<ListenAddr>& { return c.http.listen_tls; })},
      {"http.max_connections", count_key<std::size_t>(1, 1000000, [](Config& c) -> std::size_t& { return c.http.limits.max_connections; })},
      {"http.max_connections_per_ip", count_key<std::size_t>(1, 1000000, [](Config& c) -> std::size_t& { return c.http.limits.max_connections_per_ip; })},
      {"http.max_requests_per_connection", count_key<std::size_t>(1, 1000000, [](Config& c) -> std::size_t& { return c.http.limits.max_requests_per_connection; })},
      {"http.max_header_size", size_key(1024, 1 << 20, "between 1KiB and 1MiB, e.g. \"16KiB\"",
                                        [](Config& c) -> std::uint64_t& { return c.http.limits.max_header_size; })},
      {"http.max_body_size", size_key(1024, 1ull << 30, "between 1KiB and 1GiB, e.g. \"1MiB\"",
                                      [](Config& c) -> std::uint64_t& { return c.http.limits.max_body_size; })},
      {"http.header_timeout", duration_key(milliseconds(100), [](Config& c) -> milliseconds& { return c.http.limits.header_timeout; })},
      {"http.request_timeout", duration_key(milliseconds(100), [](Config& c) -> milliseconds& { return c.http.limits.request_timeout; })},
      {"http.idle_timeout", duration_key(milliseconds(100), [](Config& c) -> milliseconds& { return c.http.limits.idle_timeout; })},
      {"acme.directory", string_key([](const std::string& v, Config& c, std::string& why) {
         if (!v.empty() && !v.starts_with("https://") && !v.starts_with("http://127.") && !v.starts_with("http://localhost"))
           return why = "must be an https:// URL (or \"\" to turn ACME off)", false;
         c.acme.directory = v;
         return true;
       })},
      {"acme.contact", string_key([](const std::string& v, Config& c, std::string& why) {
         if (!v.empty() && (v.find('@') == std::string::npos || v.find_first_of(" \t\r\n,<>") != std::string::npos))
           return why = "must be an email address, e.g. \"postmaster@example.org\"", false;
         c.acme.contact = v;
         return true;
       })},
      {"acme.ca_file", string_key([](const std::string& v, Config& c, std::string&) { c.acme.ca_file = v; return true; })},
      {"acme.challenge", string_key([](const std::string& v, Config& c, std::string& why) {
         if (v == "http-01") c.acme.challenge = certs::Challenge::http01;
         else if (v == "tls-alpn-01") c.acme.challenge = certs::Challenge::tls_alpn01;
         else return why = "must be \"http-01\" or \"tls-alpn-01\"", false;
         return true;
       })},
      {"metrics.listen", listen_key([](Config& c) -> std::vector<ListenAddr>& { return c.metrics.listen; })},
      {"metrics.token_file", string_key([](const std::string& v, Config& c, std::string&) { c.metrics.token_file = v; return true; })},
      {"imap.listen", listen_key([](Config& c) -> std::vector<ListenAddr>& { return c.imap.listen; })},
      {"imap.listen_tls", listen_key([](Config& c) -> std::vector<ListenAddr>& { return c.imap.listen_tls; })},
      {"imap.max_connections", count_key<std::size_t>(1, 1000000, [](Config& c) -> std::size_t& { return c.imap.limits.max_connections; })},
      {"imap.max_connections_per_ip", count_key<std::size_t>(1, 1000000, [](Config& c) -> std::size_t& { return c.imap.limits.max_connections_per_ip; })},
      {"imap.max_sessions_per_account", count_key<std::size_t>(1, 1000000, [](Config& c) -> std::size_t& { return c.imap.limits.max_sessions_per_account; })},
      {"imap.idle_timeout", duration_key(milliseconds(1000), [](Config& c) -> milliseconds& { return c.imap.limits.idle_timeout; })},
      {"smtp.max_message_size", size_key(1024, 4ull << 30, "between 1KiB and 4GiB, e.g. \"50MiB\"",
                                         [](Config& c) -> std::uint64_t& { return c.smtp.limits.max_message_size; })},
      {"smtp.max_recipients", count_key<std::size_t>(100, 100000, [](Config& c) -> std::size_t& { return c.smtp.limits.max_recipients; })},
      {"smtp.max_connections", count_key<std::size_t>(1, 1000000, [](Config& c) -> std::size_t& { return c.smtp.limits.max_connections; })},
      {"smtp.max_connections_per_ip", count_key<std::size_t>(1, 1000000, [](Config& c) -> std::size_t& { return c.smtp.limits.max_connections_per_ip; })},
      {"smtp.max_errors", count_key<std::size_t>(1, 1000, [](Config& c) -> std::size_t& { return c.smtp.limits.max_errors; })},
      {"smtp.command_timeout", duration_key(milliseconds(100), [](Config& c) -> milliseconds& { return c.smtp.limits.command_timeout; })},
      {"smtp.data_timeout", duration_key(milliseconds(100), [](Config& c) -> milliseconds& { return c.smtp.limits.data_timeout; })},
      {"smtp.session_timeout", duration_key(milliseconds(100), [](Config& c) -> milliseconds& { return c.smtp.limits.session_timeout; })},
  };
  return kSchema;
}

const Handler* find_handler(const std::string& key) {
  for (const auto& [k, h] : schema())
    if (k == key) return &h;
  return nullptr;
}

bool is_section(const std::string& name) {
  for (const auto& [k, h] : schema())
    if (k.starts_with(name + ".")) return true;
  return false;
}

}  // namespace

std::vector<std::string> config_keys() {
  std::vector<std::string> out;
  for (const auto& [k, h] : schema()) out.push_back(k);
  return out;
}

Result<ListenAddr> parse_listen(const std::string& s) {
  std::string host;
  std::string port;
  if (!s.empty() && s[0] == '[') {
    auto close = s.find(']');
    if (close == std::string::npos || close + 1 >= s.size() || s[close + 1] != ':')
      return err(fmt::format("\"{}\" is not \"[IPv6]:port\"", s));
    host = s.substr(1, close - 1);
    port = s.substr(close + 2);
  } else {
    auto colon = s.rfind(':');
    if (colon == std::string::npos) return err(fmt::format("\"{}\" needs a port, e.g. \"0.0.0.0:25\"", s));
    host = s.substr(0, colon);
    port = s.substr(colon + 1);
  }
  boost::system::error_code ec;
  boost::asio::ip::make_address(host, ec);
  if (ec) return err(fmt::format("\"{}\" is not a numeric IP address", host));
  auto p = parse_u64(port);
  if (!p || *p == 0 || *p > 65535) return err(fmt::format("\"{}\" is not a port number (1-65535)", port));
  return ListenAddr{host, std::uint16_t(*p)};
}

Result<Config> parse_config(const std::string& text, const std::string& name,
                            const std::string& base_dir) {
  Config c;
  c.path = name;
  c.smtp.listen = {ListenAddr{"0.0.0.0", 25}, ListenAddr{"::", 25}};
  c.submission.listen = {ListenAddr{"0.0.0.0", 587}, ListenAddr{"::", 587}};
  c.submission.listen_tls = {ListenAddr{"0.0.0.0", 465}, ListenAddr{"::", 465}};
  c.imap.listen = {ListenAddr{"0.0.0.0", 143}, ListenAddr{"::", 143}};
  c.imap.listen_tls = {ListenAddr{"0.0.0.0", 993}, ListenAddr{"::", 993}};
  c.http.listen = {ListenAddr{"0.0.0.0", 80}, ListenAddr{"::", 80}};
  c.http.listen_tls = {ListenAddr{"0.0.0.0", 443}, ListenAddr{"::", 443}};
  c.metrics.listen = {ListenAddr{"127.0.0.1", kMetricsPort}};
  Errors e{name, {}};
  toml::table root;
  try {
    root = toml::parse(text, name);
  } catch (const toml::parse_error& pe) {
    return err(fmt::format("{}:{}: {}", name, pe.source().begin.line, pe.description()));
  }
  for (const auto& [sec_key, sec_node] : root) {
    const std::string sec(sec_key.str());
    const auto* table = sec_node.as_table();
    if (!table || !is_section(sec)) {
      e.add(sec_node.source(),
            fmt::format("unknown section or key \"{}\"; valid sections are [server], [log], [tls], [smtp], [submission], [imap], [http], [web], [share], [metrics], [acme], [dns], [outbound], [dmarc], [spam], [security], [store]", sec));
      continue;
    }
    std::function<void(const toml::table&, const std::string&)> keys = [&](const toml::table& t, const std::string& prefix) {
      for (const auto& [key, node] : t) {
        const std::string full = prefix + "." + std::string(key.str());
        if (const auto* sub = node.as_table(); sub && is_section(full)) {  // [log.remote]
          keys(*sub, full);
          continue;
        }
        const Handler* h = find_handler(full);
        if (!h) {
          e.add(node.source(), fmt::format("unknown key \"{}\"; see mailkeep.example.toml for the valid keys", full));
          continue;
        }
        (*h)(node, full, e, c);
      }
    };
    keys(*table, sec);
  }
  if (c.hostname.empty())
    e.list.push_back(fmt::format("{}: missing server.hostname (the name this server greets with, e.g. \"mail.example.org\")", name));
  if (c.data_dir.empty())
    e.list.push_back(fmt::format("{}: missing server.data_dir (where mail and the index are kept)", name));
  if (c.log_remote.heartbeat > std::chrono::seconds(30))
    e.list.push_back(fmt::format("{}: log.remote.heartbeat must be at most \"30s\" (collectors call a server silent "
                                 "after 45 s without one)",
                                 name));
  if (c.log_remote.timeout > std::chrono::minutes(5))
    e.list.push_back(fmt::format("{}: log.remote.timeout must be at most \"5m\"", name));
  if (c.log_remote.client_cert.empty() != c.log_remote.client_key.empty())
    e.list.push_back(fmt::format("{}: log.remote.client_cert and log.remote.client_key must be set together", name));
  if (c.metrics.token_file.empty())
    for (const auto& l : c.metrics.listen)
      if (!boost::asio::ip::make_address(l.host).is_loopback()) {
        // Only a configured listener can be off loopback: the key is in the file.
        const toml::node* n = root.at_path("metrics.listen").node();
        e.add(n ? n->source() : toml::source_region{},
              fmt::format("metrics.listen: {} is not a loopback address, and the metrics tell anyone who can reach "
                          "them how the server is attacked; set metrics.token_file (a secret Prometheus sends as a "
                          "bearer token) or listen on 127.0.0.1",
                          l.host));
      }
  if (c.tls_cert.empty() != c.tls_key.empty())
    e.list.push_back(fmt::format("{}: tls.cert and tls.key must be set together", name));
  if (!(c.spam.thresholds.tag <= c.spam.thresholds.junk && c.spam.thresholds.junk <= c.spam.thresholds.reject))
    e.list.push_back(fmt::format("{}: [spam] needs tag_score <= junk_score <= reject_score (now {}, {}, {})", name,
                                 c.spam.thresholds.tag, c.spam.thresholds.junk, c.spam.thresholds.reject));
  if (c.spam.lists.dnsbl_score < 0 || c.spam.lists.uribl_score < 0 || c.spam.lists.dnswl_score > 0)
    e.list.push_back(fmt::format("{}: [spam] dnsbl_score and uribl_score count against a message (>= 0), "
                                 "dnswl_score for it (<= 0)",
                                 name));
  if (!e.list.empty()) {
    std::string all;
    for (const auto& l : e.list) all += (all.empty() ? "" : "\n") + l;
    return err(all);
  }
  c.data_dir = resolve_path(base_dir, c.data_dir);
  c.store.data_dir = c.data_dir;
  c.tls_cert = resolve_path(base_dir, c.tls_cert);
  c.tls_key = resolve_path(base_dir, c.tls_key);
  c.outbound.ca_file = resolve_path(base_dir, c.outbound.ca_file);
  c.acme.ca_file = resolve_path(base_dir, c.acme.ca_file);
  c.metrics.token_file = resolve_path(base_dir, c.metrics.token_file);
  for (auto* p : {&c.log_remote.ca_file, &c.log_remote.client_cert, &c.log_remote.client_key}) *p = resolve_path(base_dir, *p);
  return c;
}

// Far larger than any real configuration; a file this big is a mistake (a log, a mailbox).
constexpr std::size_t kMaxConfigFile = 4u << 20;

Result<Config> load_config(const std::string& path) {
  auto text = read_file(path, kMaxConfigFile);
  if (!text) return err(fmt::format("{} (the configuration file)", text.error().message));
  auto slash = path.rfind('/');
  std::string base = slash == std::string::npos ? "." : path.substr(0, slash);
  if (base.empty()) base = "/";
  return parse_config(*text, path, base);
}

}  // namespace mk::app
