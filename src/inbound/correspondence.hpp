// inbound/correspondence.hpp: the MX remembers who writes to each account, so that
// containment (guard/limits.hpp, guard/trust.hpp) does not take the people who wrote to a
// user first for strangers when the user answers them, and knows the link domains of the
// mail the server accepts (guard/content.hpp: "fresh" links).
//
// It wraps the MX's pipeline (inbound/spam_filter.hpp) and, once that has decided to accept
// a message, records for each local account that gets it outside Junk: the single From:
// author, whether sender authentication vouched for that author, and the addresses a reply
// to this message may go to (store::Reputation::Received): the author and the first
// Reply-To: address.
// SECURITY: only the From: author can be authenticated (DMARC pass, or SPF or DKIM aligned
// with the From: domain, RFC 7489 §3.1), and that vouches for the author, not for whom the
// message names: anyone can put any address in From:, Reply-To: and Cc: of an
// unauthenticated message, and anyone with a signing domain of their own can list fifty
// strangers in the Cc: of an authenticated one. So a message makes one or two addresses
// answerable, for a reply to that very message only; a reply-all's other recipients are new
// (the sender pays one message per stranger it wants to make answerable).
// Mail the filter sent to Junk or refused records nothing: spam must not make its senders
// or its link domains known. Recorded when the MX decides, before the message is stored;
// if storing then fails the sender retries, and recording again changes nothing. The record
// is queued, not awaited (store::Reputation::record_received): it is committed with the
// message's own batch or an earlier one, and costs the MX no wait of its own.
#pragma once

#include "base/log.hpp"
#include "dmarc/dmarc.hpp"
#include "inbound/spam_filter.hpp"
#include "message/parsed.hpp"
#include "smtp/hooks.hpp"
#include "store/reputation.hpp"

namespace mk::inbound {

// Reply-To: addresses of one received message a reply may answer.
inline constexpr std::size_t kMaxReplyTo = 1;

// Whether the assessment vouches for the From: author.
bool author_authenticated(const mailauth::Assessment& a);
// What one accepted message tells about its writer (author empty: no single From: author).
store::Reputation::Received received_of(const message::Parsed& msg, bool authenticated);

class Correspondence final : public smtp::Pipeline {
 public:
  Correspondence(InboundPipeline& inner, store::Reputation& store, log::Logger log)
      : inner_(inner), store_(store), log_(std::move(log)) {}
  boost::asio::awaitable<smtp::PipelineDecision> check(const smtp::Transaction& txn, const message::Parsed& msg,
                                                       std::string helo, std::string remote_ip) override;

 private:
  void record(const smtp::Transaction& txn, const message::Parsed& msg, const smtp::PipelineDecision& d,
              bool authenticated);
  InboundPipeline& inner_;
  store::Reputation& store_;
  log::Logger log_;
  dmarc::OrgDomains orgs_;
};

}  // namespace mk::inbound
