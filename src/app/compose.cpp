#include "app/compose.hpp"

#include "app/app.hpp"

namespace mk::app {

InboundChain make_inbound_chain(const Config& cfg, dns::Resolver* resolver, store::Store& store,
                                const log::Logger& log, bool read_only, boost::asio::thread_pool* work) {
  InboundChain c;
  if (resolver) {
    inbound::AuthPipeline::Options po;
    po.authserv_id = cfg.hostname;
    po.trusted_sealers = cfg.smtp.arc_trusted_sealers;
    po.record_for_reports = cfg.dmarc.send_reports && !cfg.dev;  // reports go out through the queue
    po.report_interval = cfg.dmarc.report_interval;
    po.log = log.with({{"svc", "smtp"}});
    po.dns_budget = cfg.dns.message_budget;
    po.dns_query_timeout = cfg.dns.query_timeout;
    po.read_only = read_only;
    po.work = work;
    c.auth = std::make_unique<inbound::AuthPipeline>(*resolver, store, po);
  }
  const log::Logger filter_log = log.with({{"svc", "filter"}});
  c.spam_model = std::make_unique<inbound::SpamModel>(spam_model_path(cfg.data_dir),
                                                      cfg.spam.shared_learning ? spam_learned_model_path(cfg.data_dir) : "");
  if (cfg.spam.shared_learning && !read_only)
    c.learner = std::make_unique<inbound::GlobalLearner>(spam_learned_model_path(cfg.data_dir),
                                                         spam_learning_state_path(cfg.data_dir), *c.spam_model, filter_log);
  c.user_models = std::make_unique<inbound::UserModels>(cfg.data_dir + "/spam", store, *c.spam_model, filter_log,
                                                        c.learner.get());
  c.pipeline = std::make_unique<inbound::InboundPipeline>(c.auth.get(), resolver, cfg.spam.lists, *c.spam_model,
                                                          *c.user_models, store, cfg.spam.thresholds, filter_log);
  c.pipeline->set_read_only(read_only);
  c.pipeline->set_work_pool(work);
  c.pipeline->set_learner(c.learner.get(), cfg.spam.auto_learn);
  if (!read_only) c.recorder = std::make_unique<inbound::Correspondence>(*c.pipeline, store, filter_log);
  return c;
}

}  // namespace mk::app
