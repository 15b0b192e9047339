#include "app/spam_filter.hpp"

#include <ctime>

#include <fmt/format.h>

namespace mk::app {

namespace asio = boost::asio;

std::shared_ptr<const filter::Model> SpamModel::current() const {
  std::lock_guard lock(mu_);
  bool exists = false;
  if (watch_.changed(std::time(nullptr), exists)) {
    model_.reset();
    if (exists) {
      if (auto m = filter::Model::load(watch_.path())) model_ = std::make_shared<const filter::Model>(std::move(*m));
    }
  }
  return model_;
}

asio::awaitable<smtp::PipelineDecision> InboundPipeline::check(const smtp::Transaction& txn, std::string_view content,
                                                               std::string helo, std::string remote_ip) {
  smtp::PipelineDecision d;
  mailauth::Assessment assessment;
  if (auth_) {
    d = co_await auth_->decide(txn, content, std::move(helo), std::move(remote_ip), assessment);
    if (d.reject) co_return d;
  }
  const auto model = model_.current();
  filter::Inputs in;
  in.model = model.get();
  in.auth = auth_ ? &assessment : nullptr;
  in.thresholds = thresholds_;
  const filter::Verdict v = filter::judge(d.content ? std::string_view(*d.content) : content, in);
  d.fields += v.header();  // below Authentication-Results (and an ARC set we add), above Received
  d.log.push_back({"spam", filter::action_name(v.action)});
  d.log.push_back({"spam_score", fmt::format("{:.2f}", v.score)});
  d.log.push_back({"spam_signals", v.summary()});
  if (v.action == filter::Action::reject) {
    d.reject = smtp::Reply(550, "5.7.1", fmt::format("Message refused as spam (score {:.1f}: {})", v.score,
                                                     v.summary()));
  } else if (v.action == filter::Action::junk) {
    d.junk = true;
  }
  co_return d;
}

}  // namespace mk::app
