#include "inbound/known_domains.hpp"

#include <string>
#include <utility>
#include <vector>

#include "base/strings.hpp"

namespace mk::inbound {

std::shared_ptr<const filter::KnownDomains> KnownDomainsCache::of(std::int64_t account) {
  const auto version = store_.correspondents_version(account);
  if (!version) return nullptr;
  {
    std::lock_guard lock(mu_);
    if (auto it = entries_.find(account); it != entries_.end() && it->second.version == *version) {
      recent_.splice(recent_.begin(), recent_, it->second.place);
      return it->second.domains;
    }
  }
  // Read and built outside the lock: verdicts for other accounts do not wait for it. Two
  // verdicts for the same account may both build it; the later one's stays.
  auto listed = store_.correspondent_domains(account);
  if (!listed) return nullptr;
  std::vector<std::string> registrable;
  registrable.reserve(listed->size());
  for (const auto& d : *listed) registrable.push_back(orgs_.organizational(to_lower(d)));
  auto built = std::make_shared<const filter::KnownDomains>(std::move(registrable));
  std::lock_guard lock(mu_);
  drop(account);
  if (cost(*built) > max_domains_) return built;  // used, not kept
  while (!recent_.empty() && held_ + cost(*built) > max_domains_) drop(recent_.back());
  recent_.push_front(account);
  entries_[account] = Entry{*version, built, recent_.begin()};
  held_ += cost(*built);
  return built;
}

void KnownDomainsCache::drop(std::int64_t account) {
  const auto it = entries_.find(account);
  if (it == entries_.end()) return;
  held_ -= cost(*it->second.domains);
  recent_.erase(it->second.place);
  entries_.erase(it);
}

std::size_t KnownDomainsCache::accounts() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

std::size_t KnownDomainsCache::domains() const {
  std::lock_guard lock(mu_);
  return held_;
}

}  // namespace mk::inbound
