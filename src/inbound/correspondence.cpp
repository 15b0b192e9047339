#include "inbound/correspondence.hpp"

#include <algorithm>
#include <ctime>

#include "base/strings.hpp"
#include "delivery/recipients.hpp"
#include "filter/blocklists.hpp"
#include "message/header.hpp"

namespace mk::inbound {

namespace asio = boost::asio;

namespace {

// The first `max` mailboxes of the message's Reply-To: field(s).
void add_reply_to(const message::Parsed& msg, std::size_t max, std::vector<std::string>& out) {
  std::size_t added = 0;
  for (const auto& f : msg.header()) {
    if (!iequals(f.name, "Reply-To")) continue;
    for (const auto& a : message::parse_address_list(f.value, max)) {
      if (a.domain.empty() || added == max) continue;
      std::string addr = to_lower(a.local + "@" + a.domain);
      if (std::find(out.begin(), out.end(), addr) == out.end()) out.push_back(std::move(addr));
      ++added;
    }
  }
}

}  // namespace

bool author_authenticated(const mailauth::Assessment& a) {
  return a.dmarc.result == dmarc::Outcome::pass || a.dmarc.spf_aligned || a.dmarc.dkim_aligned;
}

store::Reputation::Received received_of(const message::Parsed& msg, bool authenticated) {
  store::Reputation::Received r;
  r.author = msg.authors().single_address();
  if (r.author.empty()) return r;  // no single author: nobody to know, nobody to answer
  r.author = to_lower(r.author);
  r.authenticated = authenticated;
  r.message_id = msg.message_id();
  r.answerable.push_back(r.author);
  add_reply_to(msg, kMaxReplyTo, r.answerable);
  return r;
}

asio::awaitable<smtp::PipelineDecision> Correspondence::check(const smtp::Transaction& txn, const message::Parsed& msg,
                                                              std::string helo, std::string remote_ip) {
  InboundPipeline::Explanation explain;
  smtp::PipelineDecision d = co_await inner_.evaluate(txn, msg, std::move(helo), std::move(remote_ip), &explain);
  if (d.reject) co_return d;
  // Tagged or suspected phishing: not someone to know, and its links are not "seen" (they
  // would quiet containment's FRESH_LINK for that domain; review of issue 18).
  if (explain.filtered && (explain.verdict.action != filter::Action::deliver ||
                           std::any_of(explain.verdict.signals.begin(), explain.verdict.signals.end(),
                                       filter::is_phishing_signal)))
    co_return d;
  record(txn, msg, d, explain.auth_checked && author_authenticated(explain.auth));
  co_return d;
}

void Correspondence::record(const smtp::Transaction& txn, const message::Parsed& msg, const smtp::PipelineDecision& d,
                            bool authenticated) {
  if (d.junk) return;
  bool elsewhere = false;
  std::vector<std::int64_t> accounts = delivery::local_accounts(txn, elsewhere);
  std::erase_if(accounts, [&](std::int64_t id) {
    return std::find(d.junk_accounts.begin(), d.junk_accounts.end(), id) != d.junk_accounts.end();
  });
  if (accounts.empty()) return;
  auto received = received_of(msg, authenticated);
  auto domains = filter::link_domains(msg.links(), orgs_);
  if (received.author.empty() && domains.empty()) return;  // nothing to remember
  // Queued, not awaited: it is written with the store's next commit, which is the message's
  // own or an earlier one (the message is handed to the store after this).
  const std::size_t n = accounts.size();
  store_.record_received(std::move(accounts), std::move(received), std::move(domains), std::time(nullptr),
                         [log = log_, n](Status st) {
                           log.ok_or_log(st, "inbound.correspondence_not_stored", {{"accounts", n}});
                         });
}

}  // namespace mk::inbound
