// app/spam_filter.hpp: the spam filter in the MX (port 25): after sender authentication
// (app/pipeline.hpp, when DNS is available) every accepted message gets the filter's verdict
// (filter/verdict.hpp): an X-Mailkeep-Spam field naming every signal, a log entry, and the
// action: delivered, tagged, delivered into Junk, or refused at SMTP time with 550 5.7.1.
// The classifier uses the instance's global model (`mailkeep spam train`), re-read within
// seconds when it is replaced; without one, only the fixed rules apply.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "app/pipeline.hpp"
#include "base/file_change.hpp"
#include "filter/verdict.hpp"

namespace mk::app {

// The instance's global spam model file.
class SpamModel {
 public:
  explicit SpamModel(std::string path) : watch_(std::move(path), kRecheckSeconds) {}
  // Null while there is no (readable) model.
  std::shared_ptr<const filter::Model> current() const;
  static constexpr std::int64_t kRecheckSeconds = 10;

 private:
  mutable std::mutex mu_;
  mutable FileChange watch_;
  mutable std::shared_ptr<const filter::Model> model_;
};

class InboundPipeline final : public smtp::Pipeline {
 public:
  // auth: null when there is no DNS (dev mode without dns.upstream).
  InboundPipeline(AuthPipeline* auth, const SpamModel& model, filter::Thresholds thresholds, log::Logger log)
      : auth_(auth), model_(model), thresholds_(thresholds), log_(std::move(log)) {}
  boost::asio::awaitable<smtp::PipelineDecision> check(const smtp::Transaction& txn, std::string_view content,
                                                       std::string helo, std::string remote_ip) override;

 private:
  AuthPipeline* auth_;
  const SpamModel& model_;
  filter::Thresholds thresholds_;
  log::Logger log_;
};

}  // namespace mk::app
