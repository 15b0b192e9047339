// arc/arc.hpp: Authenticated Received Chain (RFC 8617): verifying the chain of ARC sets a
// message carries, and sealing a message we forward.
//
// An ARC set i is three fields: ARC-Authentication-Results (what the sealer saw),
// ARC-Message-Signature (a DKIM-like signature of the message as the sealer passed it on) and
// ARC-Seal (a signature over all sets up to i). A chain "pass" says which intermediaries
// handled the message and what they saw; it is worth only as much as the sealers are trusted,
// so the receiving policy (app/pipeline.cpp) acts on it only for configured sealers.
// SECURITY: at most kMaxInstances sets; any structural defect fails the chain (§5.2).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "base/result.hpp"
#include "dkim/sign.hpp"
#include "dns/lookup.hpp"

namespace mk::arc {

inline constexpr int kMaxInstances = 50;  // RFC 8617 §4.2.1

enum class Chain { none, pass, fail };
std::string_view chain_name(Chain c);

struct ChainResult {
  Chain status = Chain::none;
  int instances = 0;
  std::vector<std::string> sealers;  // d= of each ARC-Seal, instance 1 first
  std::string latest_results;        // the ARC-Authentication-Results payload of the newest set
  std::string problem;
};

// `message` (CRLF) must outlive the coroutine.
boost::asio::awaitable<ChainResult> verify(dns::Lookup& dns, std::string_view message, std::int64_t now);

struct Sealer {
  std::string domain, selector;
  dkim::Algorithm algorithm = dkim::Algorithm::ed25519_sha256;
  std::string private_pem;
};

// The three fields of the next ARC set, to put on top of the message: `results` is our
// Authentication-Results payload (after the authserv-id), `chain` what verify() said about
// the chain the message arrived with.
Result<std::string> seal(std::string_view message, const Sealer& sealer, std::string_view authserv_id,
                         std::string_view results, const ChainResult& chain, std::int64_t now);

}  // namespace mk::arc
