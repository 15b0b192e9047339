// filter/blocklist_config.hpp: which DNS lists the spam filter asks and what a listing
// scores (filter/blocklists.hpp does the asking); also the [spam] section's keys.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace mk::filter {

struct BlocklistConfig {
  std::vector<std::string> dnsbl, dnswl, uribl;  // zones
  double dnsbl_score = 3, dnswl_score = -2, uribl_score = 3;
  // The lists' own bound; in the MX their lookups also end at the message's DNS deadline
  // ([dns] message_budget, query_timeout), whichever comes first.
  std::chrono::milliseconds timeout{5000};
  bool empty() const { return dnsbl.empty() && dnswl.empty() && uribl.empty(); }
};

}  // namespace mk::filter
