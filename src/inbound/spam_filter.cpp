#include "inbound/spam_filter.hpp"

#include <algorithm>
#include <ctime>
#include <filesystem>

#include <fmt/format.h>

#include "base/strings.hpp"
#include "filter/features.hpp"
#include "message/header.hpp"
#include "net/offload.hpp"
#include "delivery/recipients.hpp"

namespace mk::inbound {

namespace asio = boost::asio;

namespace {

// A display name that says who someone is ("Alice Smith"), not a role that many senders
// share ("Support", "Billing"): at least two words.
bool personal_name(std::string_view name) {
  const auto space = name.find(' ');
  return space != std::string_view::npos && space > 0 && space + 1 < name.size() && name.size() >= 5;
}

// The single author of a message: address (domain lower-case) and display name (decoded,
// trimmed); empty when From: is missing, unparsable or names several.
struct Author {
  std::string address, name;
};
Author author_in(const std::vector<message::HeaderField>& fields) {
  const auto from = message::header_value(fields, "From");
  if (!from) return {};
  const auto list = message::parse_address_list(*from, 2);
  if (list.size() != 1 || list[0].domain.empty()) return {};
  return {list[0].local + "@" + to_lower(list[0].domain), std::string(trim(message::decode_words(list[0].name)))};
}
Author author_of(std::string_view content) { return author_in(message::parse_message_header(content)); }

}  // namespace

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

UserModels::UserModels(std::string dir, store::Store& store, const SpamModel& global, log::Logger log)
    : dir_(std::move(dir)), store_(store), global_(global), log_(std::move(log)) {
  thread_ = std::thread([this] { run(); });
}

UserModels::~UserModels() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

std::string UserModels::path_of(std::int64_t account_id) const {
  return fmt::format("{}/user-{}.model", dir_, account_id);
}

void UserModels::train(imap::Session::TrainEvent ev) {
  {
    std::lock_guard lock(mu_);
    jobs_.push_back(std::move(ev));
  }
  cv_.notify_one();
}

void UserModels::drain() {
  std::unique_lock lock(mu_);
  idle_.wait(lock, [this] { return jobs_.empty() && !busy_; });
}

std::shared_ptr<const filter::Model> UserModels::of(std::int64_t account_id) {
  std::lock_guard lock(mu_);
  auto it = models_.find(account_id);
  if (it == models_.end()) {
    std::shared_ptr<const filter::Model> m;
    if (auto loaded = filter::Model::load(path_of(account_id)))
      m = std::make_shared<const filter::Model>(std::move(*loaded));
    it = models_.emplace(account_id, std::move(m)).first;
  }
  return it->second;
}

void UserModels::run() {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return stop_ || !jobs_.empty(); });
    if (jobs_.empty()) return;  // stopping, nothing left
    auto ev = std::move(jobs_.front());
    jobs_.pop_front();
    busy_ = true;
    lock.unlock();
    learn(ev);
    lock.lock();
    busy_ = false;
    if (jobs_.empty()) idle_.notify_all();
  }
}

void UserModels::learn(const imap::Session::TrainEvent& ev) {
  auto infos = store_.messages_by_uid(ev.mailbox, ev.uids);
  if (!infos) {
    log_.error("filter.train_failed", {{"error", infos.error().message}});
    return;
  }
  static const filter::Model kNoGlobal(10);
  const auto global = global_.current();
  const filter::Model& base = global ? *global : kNoGlobal;
  auto current = of(ev.account_id);
  filter::Model model = current ? *current : filter::Model(filter::Model::kUserBits);
  std::size_t n = 0;
  for (const auto& info : *infos) {
    if (n == kMaxMessagesPerEvent) break;
    auto text = store_.read_message(info);
    if (!text) continue;
    model.learn_over(base, filter::extract_features(*text), ev.spam);
    // The sender's record with this user (past verdicts, a reputation signal).
    if (const Author a = author_of(*text); !a.address.empty())
      log_.ok_or_log(store_.add_sender_verdict(ev.account_id, a.address, ev.spam), "filter.verdict_not_stored");
    ++n;
  }
  if (n == 0) return;
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (auto st = model.save(path_of(ev.account_id)); !st) {
    log_.error("filter.train_failed", {{"error", st.error().message}});
    return;
  }
  {
    std::lock_guard lock(mu_);
    models_[ev.account_id] = std::make_shared<const filter::Model>(std::move(model));
  }
  log_.info("filter.trained", {{"account_id", ev.account_id}, {"as", ev.spam ? "spam" : "ham"}, {"messages", n}});
}


filter::Thresholds InboundPipeline::thresholds_of(std::int64_t account) {
  if (auto a = store_.account_by_id(account); a && *a && !(*a)->spam_thresholds.empty()) {
    if (auto t = filter::parse_thresholds((*a)->spam_thresholds)) return *t;
  }
  return thresholds_;
}

void InboundPipeline::add_registrable(std::vector<std::string>& to, const std::string& domain) const {
  std::string reg = orgs_.organizational(to_lower(domain));
  if (std::find(to.begin(), to.end(), reg) == to.end()) to.push_back(std::move(reg));
}

InboundPipeline::MessageFacts InboundPipeline::facts_of(const std::vector<message::HeaderField>& fields) {
  MessageFacts m;
  const Author a = author_in(fields);
  m.author = a.address;
  m.author_name = a.name;
  m.thread_ids = message::msg_ids(message::header_value(fields, "In-Reply-To").value_or(""), 5);
  auto refs = message::msg_ids(message::header_value(fields, "References").value_or(""), 50);
  for (auto it = refs.rbegin(); it != refs.rend() && m.thread_ids.size() < 20; ++it)  // the newest last
    if (std::find(m.thread_ids.begin(), m.thread_ids.end(), *it) == m.thread_ids.end()) m.thread_ids.push_back(*it);
  if (auto domains = store_.list_domains())
    for (const auto& d : *domains) add_registrable(m.own_domains, d);
  return m;
}

void InboundPipeline::recipient_knowledge(std::int64_t account, const MessageFacts& m,
                                          const mailauth::Assessment* auth, filter::Inputs& in) {
  in.orgs = &orgs_;
  in.own_domains = m.own_domains;
  if (!account) return;
  if (auto domains = store_.correspondent_domains(account))
    for (const auto& d : *domains) add_registrable(in.known_domains, d);
  // The thread this replies to, if the account has it.
  if (!m.thread_ids.empty()) {
    if (auto thread = store_.thread_messages(account, m.thread_ids, 5); thread && !thread->empty()) {
      in.thread_found = true;
      for (const auto& info : *thread) {
        auto text = store_.read_message(info);
        if (text && !filter::add_thread_participants(*text, in.thread_participants)) in.thread_found = false;
      }
    }
  }
  if (m.author.empty()) return;
  const bool dmarc_pass = auth && auth->dmarc.result == dmarc::Outcome::pass;
  if (auto past = store_.sender_verdicts(account, m.author)) {
    in.author_junked = past->first;
    in.author_rescued = past->second;
  }
  if (dmarc_pass) in.authenticated_domain = auth->dmarc.from_domain;
  auto fresh = store_.new_correspondents(account, {m.author});
  const bool written_to = fresh && fresh->empty();
  if (written_to && dmarc_pass) {
    in.known_sender = m.author;
    // Remember the name an authenticated contact goes by, to notice others using it.
    if (personal_name(m.author_name) && !read_only_)
      log_.ok_or_log(store_.set_correspondent_name(account, m.author, m.author_name), "filter.contact_name_not_stored");
  } else if (!written_to && personal_name(m.author_name)) {
    if (auto named = store_.correspondents_named(account, m.author_name)) {
      for (auto& n : *named)
        if (n != m.author) in.namesakes.push_back(std::move(n));
    }
  }
}

asio::awaitable<smtp::PipelineDecision> InboundPipeline::check(const smtp::Transaction& txn, std::string_view content,
                                                               std::string helo, std::string remote_ip) {
  smtp::PipelineDecision d = co_await evaluate(txn, content, std::move(helo), std::move(remote_ip), nullptr);
  co_return d;
}

asio::awaitable<smtp::PipelineDecision> InboundPipeline::evaluate(const smtp::Transaction& txn,
                                                                  std::string_view content, std::string helo,
                                                                  std::string remote_ip, Explanation* explain) {
  smtp::PipelineDecision d;
  mailauth::Assessment assessment;
  const std::string client = remote_ip;
  if (auth_) {
    d = co_await auth_->decide(txn, content, std::move(helo), std::move(remote_ip), assessment);
    if (explain) {
      explain->auth_checked = true;
      explain->auth = assessment;
    }
    if (d.reject) co_return d;
  }
  std::vector<filter::Signal> listed;
  if (dns_ && !lists_.empty()) {
    // Named first: GCC 12 mishandles temporaries in a co_await's arguments.
    std::vector<std::string> domains = filter::link_domains(content, orgs_);
    std::string ip = client;
    auto r = co_await filter::check_blocklists(*dns_, lists_, std::move(ip), std::move(domains));
    listed = std::move(r.signals);
    for (const auto& note : r.notes) log_.warn("filter.dns_list_failed", {{"detail", note}});
    if (explain) explain->list_notes = r.notes;
  }
  // The verdicts read the store (what each recipient knows, the thread) and run the
  // classifier: on the work pool (net/offload.hpp).
  auto judge = [&] { judge_message(txn, content, assessment, listed, d, explain); };
  co_await net::offload(work_, judge);
  co_return d;
}

void InboundPipeline::judge_message(const smtp::Transaction& txn, std::string_view content,
                                    const mailauth::Assessment& assessment, const std::vector<filter::Signal>& listed,
                                    smtp::PipelineDecision& d, Explanation* explain) {
  const auto model = model_.current();
  bool elsewhere = false;
  const auto accounts = delivery::local_accounts(txn, elsewhere);
  const std::int64_t account = !elsewhere && accounts.size() == 1 ? accounts[0] : 0;
  const std::string_view current = d.content ? std::string_view(*d.content) : content;
  // Parsed once: the facts, every recipient's verdict and the Message-ID read the same tree.
  const message::Part root = filter::parse_for_filter(current);
  if (auto ids = message::msg_ids(message::header_value(root.headers, "Message-ID").value_or(""), 1); !ids.empty())
    d.message_id = std::move(ids[0]);
  else
    d.message_id = std::string();
  // The inputs for one recipient account (0: what holds for every recipient).
  const MessageFacts facts = facts_of(root.headers);
  std::vector<std::shared_ptr<const filter::Model>> keep;  // the user models in use
  auto inputs_for = [&](std::int64_t id) {
    filter::Inputs in;
    in.model = model.get();
    in.auth = auth_ ? &assessment : nullptr;
    in.thresholds = thresholds_;
    in.extra = listed;
    if (id) {
      keep.push_back(users_.of(id));
      in.user_model = keep.back().get();
      in.thresholds = thresholds_of(id);
    }
    recipient_knowledge(id, facts, auth_ ? &assessment : nullptr, in);
    return in;
  };
  // The message's verdict (its header, a refusal), with the recipient's own model and
  // knowledge when there is one recipient account.
  const filter::Verdict v = filter::judge(current, root, inputs_for(account));
  if (explain) {
    explain->filtered = true;
    explain->verdict = v;
    explain->model = model != nullptr;
  }
  std::vector<filter::Signal> phishing;
  auto add_phishing = [&phishing](const filter::Verdict& x) {
    for (const auto& s : x.signals)
      if (filter::is_phishing_signal(s) &&
          std::none_of(phishing.begin(), phishing.end(), [&](const filter::Signal& p) { return p.name == s.name; }))
        phishing.push_back(s);
  };
  add_phishing(v);
  // Several recipient accounts: each gets a verdict of its own too (its model, thresholds and
  // knowledge), which decides whether its copy goes to Junk; the first kMaxPersonalVerdicts.
  if (account == 0 && accounts.size() > 1 && v.action != filter::Action::reject) {
    std::string per;
    for (std::size_t i = 0; i < accounts.size() && i < kMaxPersonalVerdicts; ++i) {
      const filter::Verdict pv = filter::judge(current, root, inputs_for(accounts[i]));
      if (pv.action == filter::Action::junk || pv.action == filter::Action::reject)
        d.junk_accounts.push_back(accounts[i]);  // a refusal for one of several: its Junk
      add_phishing(pv);
      per += fmt::format("{}{}={}/{:.2f}", per.empty() ? "" : " ", accounts[i], filter::action_name(pv.action), pv.score);
    }
    d.log.push_back({"spam_per_account", per});
  }
  // Suspected phishing that is delivered carries a visible warning.
  if (v.action != filter::Action::reject && !phishing.empty()) {
    d.content = filter::warn_phishing(current, phishing);
    d.log.push_back({"phishing", "warned"});
  }
  d.fields += v.header();  // below Authentication-Results (and an ARC set we add), above Received
  d.log.push_back({"spam", filter::action_name(v.action)});
  d.log.push_back({"spam_score", fmt::format("{:.2f}", v.score)});
  d.log.push_back({"spam_signals", v.summary()});
  if (v.action == filter::Action::reject) {
    d.reject = smtp::Reply(550, "5.7.1", fmt::format("Message refused as spam (score {:.1f}: {})", v.score,
                                                     v.summary()));
  } else if (v.action == filter::Action::junk) {
    if (account == 0 && accounts.size() > 1) {  // the personal verdicts decided for the first ones
      for (std::size_t i = kMaxPersonalVerdicts; i < accounts.size(); ++i) d.junk_accounts.push_back(accounts[i]);
    } else {
      d.junk = true;
    }
  }
}

}  // namespace mk::inbound
