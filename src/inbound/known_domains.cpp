#include "inbound/known_domains.hpp"

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/strings.hpp"

namespace mk::inbound {
namespace {

std::shared_ptr<const filter::KnownDomains> registrable(const std::vector<std::string>& domains,
                                                        const dmarc::OrgDomains& orgs) {
  std::vector<std::string> out;
  out.reserve(domains.size());
  for (const auto& d : domains) out.push_back(orgs.organizational(to_lower(d)));
  return std::make_shared<const filter::KnownDomains>(std::move(out));
}

// Says why the store could not give `what`, for the caller's log.
void failed(std::string* error, std::string_view what, const Error& e) {
  if (error) *error = std::string(what) + ": " + e.message;
}

}  // namespace

std::shared_ptr<const filter::KnownDomains> HostedDomainsCache::get(std::string* error) {
  const auto version = store_.domains_version();
  if (!version) {
    failed(error, "the hosted domains' version", version.error());
    return kept();
  }
  {
    std::lock_guard lock(mu_);
    if (domains_ && version_ == *version) {
      confirmed_ = Clock::now();
      return domains_;
    }
  }
  auto listed = store_.list_domains();
  if (!listed) {
    failed(error, "the hosted domains", listed.error());
    return kept();
  }
  auto built = registrable(*listed, orgs_);
  std::lock_guard lock(mu_);
  if (!domains_ || *version >= version_) {  // a slower reader does not put an older list back
    domains_ = built;
    version_ = *version;
    confirmed_ = Clock::now();
  }
  return built;
}

std::shared_ptr<const filter::KnownDomains> HostedDomainsCache::get(const log::Logger& log, std::string_view event) {
  std::string unread;
  auto domains = get(&unread);
  if (!unread.empty())
    log.log(domains ? log::Level::warn : log::Level::error, event, {{"error", unread}, {"kept", domains != nullptr}});
  return domains;
}

std::shared_ptr<const filter::KnownDomains> HostedDomainsCache::kept() {
  std::lock_guard lock(mu_);
  return Clock::now() - confirmed_ <= stale_for_ ? domains_ : nullptr;
}

std::shared_ptr<const filter::KnownDomains> KnownDomainsCache::of(std::int64_t account, std::string* error) {
  const auto version = store_.correspondents_version(account);
  if (!version) {
    failed(error, "the correspondents' version", version.error());
    return kept(account);
  }
  {
    std::lock_guard lock(mu_);
    if (auto it = entries_.find(account); it != entries_.end() && it->second.version == *version) {
      it->second.confirmed = Clock::now();
      recent_.splice(recent_.begin(), recent_, it->second.place);
      return it->second.domains;
    }
  }
  // Read and built outside the lock: verdicts for other accounts do not wait for it. Two
  // verdicts for the same account may both build it; the later one's stays.
  auto listed = store_.correspondent_domains(account);
  if (!listed) {
    failed(error, "the correspondents' domains", listed.error());
    return kept(account);
  }
  auto built = registrable(*listed, orgs_);
  std::lock_guard lock(mu_);
  if (auto it = entries_.find(account); it != entries_.end() && it->second.version > *version) return built;
  drop(account);
  if (cost(*built) > max_domains_) return built;  // used, not kept
  while (!recent_.empty() && held_ + cost(*built) > max_domains_) drop(recent_.back());
  recent_.push_front(account);
  try {
    entries_.emplace(account, Entry{*version, built, recent_.begin(), Clock::now()});
  } catch (...) {
    recent_.pop_front();  // no entry without its place, nor a place without its entry
    throw;
  }
  held_ += cost(*built);
  return built;
}

std::shared_ptr<const filter::KnownDomains> KnownDomainsCache::kept(std::int64_t account) {
  std::lock_guard lock(mu_);
  const auto it = entries_.find(account);
  if (it == entries_.end() || Clock::now() - it->second.confirmed > stale_for_) return nullptr;
  return it->second.domains;
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
