#include "guard/content.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace mk::guard {
namespace {

// Domains named in a reason; the rest are counted.
constexpr std::size_t kDomainsNamed = 3;

std::string some(const std::vector<std::string>& items) {
  if (items.size() <= kDomainsNamed) return fmt::format("{}", fmt::join(items, ", "));
  return fmt::format("{} and {} more", fmt::join(items.begin(), items.begin() + kDomainsNamed, ", "),
                     items.size() - kDomainsNamed);
}

}  // namespace

std::vector<std::string> fresh_domains(const Content& c, std::int64_t now, const ContentThresholds& t) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < c.link_domains.size(); ++i) {
    const std::string& d = c.link_domains[i];
    if (std::find(c.own_domains.begin(), c.own_domains.end(), d) != c.own_domains.end()) continue;
    const std::int64_t seen = i < c.link_first_seen.size() ? c.link_first_seen[i] : 0;
    if (seen == 0 || now - seen < t.fresh_link_age) out.push_back(d);
  }
  return out;
}

std::vector<Signal> signals(const Content& c, std::int64_t now, Audience to, int near, int thread_outsiders,
                            const ContentThresholds& t) {
  std::vector<Signal> out;
  if ((to.fresh || to.answered) && c.filter && (c.filter->reject || c.filter->junk))
    out.push_back({"FILTER_SPAM", c.filter->reject ? t.filter_reject : t.filter_junk,
                   fmt::format("the inbound spam filter would {} it (score {:.1f}: {})",
                               c.filter->reject ? "refuse" : "junk", c.filter->score, c.filter->signals)});
  if (to.fresh && near >= t.near_duplicates_before)
    out.push_back({"NEAR_DUPLICATE", t.near_duplicate,
                   fmt::format("its text is near-identical to {} earlier message(s) to new recipients", near)});
  // Fresh links count to unauthenticated writers being answered too: anyone can forge such a
  // writer, and a fresh link is what a spam run carries (review of issue 18). Near-identical
  // answers to them do not: a secretary's replies to fifty questions look alike.
  if (to.fresh || to.answered) {
    if (const auto fresh = fresh_domains(c, now, t); !fresh.empty())
      out.push_back({"FRESH_LINK", t.fresh_link,
                     fmt::format("links to {}, new to this server's mail (first seen less than {} hours ago, or never)",
                                 some(fresh), t.fresh_link_age / 3600)});
  }
  if (!c.thread.empty() && !c.thread_outsiders.empty() && thread_outsiders >= t.thread_outsiders_min)
    out.push_back({"THREAD_OUTSIDERS", t.thread_outsiders,
                   fmt::format("replies in one thread went to {} people outside it", thread_outsiders)});
  return out;
}

std::optional<std::string> suspicion(const std::vector<Signal>& hour, const ContentThresholds& t) {
  int total = 0;
  for (const auto& s : hour) total += s.weight;
  if (total < t.hold) return std::nullopt;
  // Each signal once, in the order first seen, with its count, its weight and the latest why.
  struct Sum {
    std::string name, why;
    int count = 0, weight = 0;
  };
  std::vector<Sum> sums;
  for (const auto& s : hour) {
    auto it = std::find_if(sums.begin(), sums.end(), [&](const Sum& x) { return x.name == s.name; });
    if (it == sums.end()) it = sums.insert(sums.end(), Sum{s.name, {}, 0, 0});
    ++it->count;
    it->weight += s.weight;
    it->why = s.why;
  }
  std::vector<std::string> parts;
  for (const auto& s : sums)
    parts.push_back(s.count == 1 ? fmt::format("{}={} ({})", s.name, s.weight, s.why)
                                 : fmt::format("{}={} in {} messages (last: {})", s.name, s.weight, s.count, s.why));
  return fmt::format("its mail within an hour looks like a spam run, suspicion {} of {}: {}", total, t.hold,
                     fmt::join(parts, "; "));
}

}  // namespace mk::guard
