// filter/blocklist_config.hpp: which DNS lists the spam filter asks and what a listing
// scores (filter/blocklists.hpp does the asking); also the [spam] section's keys.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace mk::filter {

// On by default: lists free for a small server that queries them with its own resolver
// (mailkeep's default: recursive from the root servers; the big lists refuse queries that
// come through public resolvers, which blocklists.hpp treats as no answer and `mailkeep
// check` reports). Spamhaus ZEN for the client's address (SpamCop lists big shared senders
// for a while after a few reports: with one score for every list, it would junk them
// alone), DNSWL.org to vouch for it (by its trust level, blocklists.cpp), Spamhaus DBL for
// link domains. `dnsbl = []` in [spam] turns a kind off.
struct BlocklistConfig {
  std::vector<std::string> dnsbl{"zen.spamhaus.org"};
  std::vector<std::string> dnswl{"list.dnswl.org"};
  std::vector<std::string> uribl{"dbl.spamhaus.org"};
  double dnsbl_score = 3, dnswl_score = -2, uribl_score = 3;
  // The lists' own bound; in the MX their lookups also end at the message's DNS deadline
  // ([dns] message_budget, query_timeout), whichever comes first.
  std::chrono::milliseconds timeout{5000};
  bool empty() const { return dnsbl.empty() && dnswl.empty() && uribl.empty(); }
};

}  // namespace mk::filter
