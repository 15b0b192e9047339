// dns/config.hpp: [dns] in mailkeep.toml: where lookups go, DNSSEC, and the time they may
// take. The defaults here are the only ones (app/config.cpp binds each key to its field).
#pragma once

#include <string>
#include <vector>

#include "base/duration.hpp"

namespace mk::dns {

struct Config {
  std::vector<std::string> upstream;  // forwarders "ip" or "ip@port"; empty: full recursion from the root
  bool dnssec = true;
  std::string trust_anchor = "/usr/share/dns/root.key";
  // The MX's lookups for one message (SPF, DKIM, DMARC, ARC, reverse DNS, DNS lists)
  // together end within message_budget, each within query_timeout (dns/deadline.hpp).
  Duration message_budget{std::chrono::seconds(20)};
  Duration query_timeout{std::chrono::seconds(5)};
  // The resolver's own give-up time for one query (queue runner, reports; not a key).
  Duration resolver_timeout{std::chrono::seconds(30)};
};

}  // namespace mk::dns
