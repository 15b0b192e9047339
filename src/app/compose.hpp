// app/compose.hpp: the parts of the server that more than one command builds, made one way.
// run_server (runtime.cpp) runs the MX's inbound chain on port 25; check-message
// (check_message.cpp) runs the very same chain on a message file, read-only.
#pragma once

#include <memory>

#include <boost/asio/thread_pool.hpp>

#include "app/config.hpp"
#include "base/log.hpp"
#include "dns/resolver.hpp"
#include "inbound/auth_pipeline.hpp"
#include "inbound/correspondence.hpp"
#include "inbound/global_learning.hpp"
#include "inbound/spam_filter.hpp"
#include "store/store.hpp"

namespace mk::app {

// The MX's inbound chain: sender authentication and the receiver policy (when there is DNS),
// then the filter with the instance's and the users' models and the DNS lists.
struct InboundChain {
  std::unique_ptr<inbound::AuthPipeline> auth;  // null without DNS
  std::unique_ptr<inbound::SpamModel> spam_model;
  // The shared model's learner ([spam] shared_learning; never in read-only use). Before the
  // users' trainer, which offers it what the users teach: it is destroyed after it.
  std::unique_ptr<inbound::GlobalLearner> learner;
  std::unique_ptr<inbound::UserModels> user_models;
  std::unique_ptr<inbound::InboundPipeline> pipeline;
  // The MX's pipeline: `pipeline`, remembering who writes to each account (null read-only).
  std::unique_ptr<inbound::Correspondence> recorder;
};

// read_only: decide as the MX would but keep nothing (check-message). work: where the
// chain's store work and verdicts run (net/offload.hpp); null: in the caller's thread.
InboundChain make_inbound_chain(const Config& cfg, dns::Resolver* resolver, store::Store& store,
                                const log::Logger& log, bool read_only = false,
                                boost::asio::thread_pool* work = nullptr);

}  // namespace mk::app
