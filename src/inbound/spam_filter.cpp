#include "inbound/spam_filter.hpp"

#include <algorithm>
#include <ctime>
#include <filesystem>
#include <functional>
#include <string_view>

#include <fmt/format.h>

#include "base/all.hpp"
#include "base/strings.hpp"
#include "filter/features.hpp"
#include "inbound/global_learning.hpp"
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

// The display name of the single author, decoded and trimmed.
std::string author_name(const message::Authors& authors) {
  const message::Address* a = authors.single();
  return a ? std::string(trim(message::decode_words(a->name))) : std::string();
}

// The calling thread's CPU time so far, in seconds (0 if the clock cannot be read).
double thread_cpu_seconds() {
  timespec t{};
  if (::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t) != 0) return 0;
  return double(t.tv_sec) + double(t.tv_nsec) / 1e9;
}

}  // namespace

SpamModel::SpamModel(std::string path, std::string learned_path) : watch_(std::move(path), kRecheckSeconds) {
  if (!learned_path.empty()) learned_watch_.emplace(std::move(learned_path), kRecheckSeconds);
}

namespace {

std::shared_ptr<const filter::Model> load_model(const FileChange& watch, bool exists) {
  if (!exists) return nullptr;
  auto m = filter::Model::load(watch.path());
  return m ? std::make_shared<const filter::Model>(std::move(*m)) : nullptr;
}

// What UserModels remembers of one lesson: this account learnt this file with this label.
std::string lesson_key(std::int64_t account_id, const std::string& blob, bool spam) {
  return fmt::format("{} {} {}", account_id, spam ? 's' : 'h', blob);
}

}  // namespace

void SpamModel::refresh() const {
  const std::int64_t now = std::time(nullptr);
  bool exists = false;
  if (watch_.changed(now, exists)) {
    base_ = load_model(watch_, exists);
    stale_ = true;
  }
  if (learned_watch_ && learned_watch_->changed(now, exists)) {
    learned_ = load_model(*learned_watch_, exists);
    stale_ = true;
  }
}

std::shared_ptr<const filter::Model> SpamModel::combine(const std::shared_ptr<const filter::Model>& base,
                                                        const std::shared_ptr<const filter::Model>& learned) {
  if (!learned || !filter::shared_ready(*learned)) return base;
  if (!base) return learned;
  return std::make_shared<const filter::Model>(filter::Model::sum(*base, *learned));
}

std::shared_ptr<const filter::Model> SpamModel::current() const { return current_and_base().first; }

std::pair<std::shared_ptr<const filter::Model>, std::shared_ptr<const filter::Model>> SpamModel::current_and_base()
    const {
  std::lock_guard lock(mu_);
  refresh();
  if (stale_) {
    combined_ = combine(base_, learned_);
    stale_ = false;
  }
  return {combined_, base_};
}

std::shared_ptr<const filter::Model> SpamModel::base() const {
  std::lock_guard lock(mu_);
  refresh();
  return base_;
}

void SpamModel::set_learned(std::shared_ptr<const filter::Model> learned) {
  // The sum (16 MiB with a bulk-trained model) is made here, on the learner's thread, not
  // under the lock the verdicts take.
  const auto base = this->base();
  auto combined = combine(base, learned);
  std::lock_guard lock(mu_);
  learned_watch_.reset();
  learned_ = std::move(learned);
  if (base_ == base) {
    combined_ = std::move(combined);
    stale_ = false;
  } else {
    stale_ = true;  // spam.model was replaced meanwhile: summed at the next verdict
  }
}

UserModels::UserModels(std::string dir, FilterStore store, const SpamModel& global, log::Logger log,
                       GlobalLearner* shared)
    : dir_(std::move(dir)), store_(store), global_(global), log_(std::move(log)), shared_(shared) {
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
    if (jobs_.size() >= kMaxQueue) {
      log_.warn("filter.train_queue_full", {{"account_id", ev.account_id}});
      return;
    }
    jobs_.push_back(Job{std::move(ev), {}});
  }
  cv_.notify_one();
}

void UserModels::replied(std::int64_t account_id, std::vector<std::string> thread_ids) {
  if (thread_ids.empty()) return;
  if (thread_ids.size() > kMaxRepliedMessages) thread_ids.resize(kMaxRepliedMessages);
  {
    std::lock_guard lock(mu_);
    if (jobs_.size() >= kMaxQueue) {
      log_.warn("filter.train_queue_full", {{"account_id", account_id}});
      return;
    }
    Job job;
    job.ev.account_id = account_id;
    job.replied_to = std::move(thread_ids);
    jobs_.push_back(std::move(job));
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
    auto job = std::move(jobs_.front());
    jobs_.pop_front();
    busy_ = true;
    lock.unlock();
    try {
      learn(job);
    } catch (const std::exception& e) {  // resource exhaustion: this job is lost, learning goes on
      train_failed(e.what());
    }
    lock.lock();
    busy_ = false;
    if (jobs_.empty()) idle_.notify_all();
  }
}

void UserModels::train_failed(const std::string& error) {
  log_.error("filter.train_failed", {{"error", error}});
  job_failed_ = true;
}

bool UserModels::first_time(std::int64_t account_id, const std::string& blob, bool spam) {
  if (blob.empty()) return true;
  const std::string key = lesson_key(account_id, blob, spam);
  // Learning the other label (moved back out of Junk, then in again) may count again.
  remembered_.erase(lesson_key(account_id, blob, !spam));
  if (!remembered_.insert(key).second) return false;
  remembered_order_.push_back(key);
  if (remembered_order_.size() > kMaxRemembered) {
    remembered_.erase(remembered_order_.front());
    remembered_order_.pop_front();
  }
  return true;
}

std::vector<UserModels::Lesson> UserModels::lessons_of(imap::Session::TrainEvent& ev) {
  std::vector<Lesson> out;
  // Messages that are gone (expunged unread from Junk) came with their bytes.
  for (auto& g : ev.gone) {
    if (out.size() == kMaxMessagesPerEvent) return out;
    out.push_back({std::move(g.blob), std::move(g.text)});
  }
  if (ev.uids.empty() || !ev.gone.empty()) return out;
  auto infos = store_.mail.messages_by_uid(ev.mailbox, ev.uids);
  if (!infos) {
    train_failed(infos.error().message);
    return out;
  }
  for (const auto& info : *infos) {
    if (out.size() == kMaxMessagesPerEvent) break;
    auto text = store_.mail.read_message(info);
    if (text) out.push_back({info.blob, std::move(*text)});
  }
  return out;
}

std::vector<UserModels::Lesson> UserModels::lessons_of_reply(std::int64_t account_id,
                                                            const std::vector<std::string>& ids) {
  std::vector<Lesson> out;
  auto infos = store_.reputation.thread_messages(account_id, ids, kMaxRepliedMessages);
  if (!infos) {
    train_failed(infos.error().message);
    return out;
  }
  for (const auto& info : *infos) {
    // The user's own messages (Sent, Drafts) say nothing about what others send.
    auto mailbox = store_.mail.mailbox_by_id(info.mailbox_id);
    if (!mailbox || mailbox->special_use == "\\Sent" || mailbox->special_use == "\\Drafts") continue;
    if (std::any_of(out.begin(), out.end(), [&](const Lesson& l) { return l.blob == info.blob; })) continue;
    auto text = store_.mail.read_message(info);
    if (text) out.push_back({info.blob, std::move(*text)});
  }
  return out;
}

std::size_t UserModels::learn_kept(std::int64_t account_id, const Kept& kept,
                                   const filter::Model& base, filter::Model& model, bool& failed) {
  std::size_t n = 0;
  const auto fail = [&](const std::string& error) {  // keeps what was learnt
    train_failed(error);
    failed = true;
    return n;
  };
  if (kept.most == 0) return 0;
  auto infos = store_.mail.messages_by_uid(kept.mailbox, kept.uids);
  if (!infos) return fail(infos.error().message);
  std::sort(infos->begin(), infos->end(),
            [](const auto& a, const auto& b) { return a.uid > b.uid; });
  std::optional<std::vector<std::int64_t>> junk;  // the account's Junk folders, read once
  for (const auto& info : *infos) {
    if (n == kept.most) break;
    if (!store::has_flag(info.flags, "\\Seen") || store::has_flag(info.flags, "\\Deleted"))
      continue;
    if (info.blob.empty() || remembered(account_id, info.blob, false) ||
        remembered(account_id, info.blob, true))
      continue;
    // Also in Junk (a COPY there shares the file): spam to the user, not kept mail.
    auto junked = in_junk(account_id, info.blob, junk);
    if (!junked) return fail(junked.error().message);
    if (*junked) continue;
    auto text = store_.mail.read_message(info);
    if (!text) continue;
    message::Parsed parsed(std::move(*text));
    // From a sender whose mail the user has judged spam more often than ham (the COPY in Junk
    // may be gone since: emptied).
    const std::string author = parsed.authors().single_address();
    if (!author.empty()) {
      auto verdicts = store_.reputation.sender_verdicts(account_id, author);
      if (!verdicts) return fail(verdicts.error().message);
      if (verdicts->first > verdicts->second) continue;
    }
    model.learn_over(base, filter::classifier_features(parsed), false);
    first_time(account_id, info.blob, false);
    ++n;
  }
  return n;
}

Result<bool> UserModels::in_junk(std::int64_t account_id, const std::string& blob,
                                 std::optional<std::vector<std::int64_t>>& junk) {
  if (!junk) {
    auto boxes = store_.mail.list_mailboxes(account_id);
    if (!boxes) return boxes.error();
    junk.emplace();
    for (const auto& box : *boxes)
      if (box.special_use == "\\Junk") junk->push_back(box.id);
  }
  for (const std::int64_t box : *junk) {
    auto found = store_.mail.has_blob(box, blob);
    if (!found || *found) return found;
  }
  return false;
}

bool UserModels::moved_on(const Kept& kept) {
  auto mb = store_.mail.mailbox_by_id(kept.mailbox);
  if (!mb) return true;  // a folder gone: learn_kept finds nothing there
  if (mb->uidnext <= kept.uidnext) return false;
  const auto moved_in = std::count_if(kept.moved_in.begin(), kept.moved_in.end(),
                                      [&](std::uint32_t uid) { return uid >= kept.uidnext; });
  return mb->uidnext - kept.uidnext > std::uint64_t(moved_in);
}

bool UserModels::remembered(std::int64_t account_id, const std::string& blob, bool spam) const {
  return !blob.empty() && remembered_.count(lesson_key(account_id, blob, spam)) > 0;
}

void UserModels::learn(Job& job) {
  auto& ev = job.ev;
  const bool reply = !job.replied_to.empty();
  const bool spam = !reply && ev.spam;
  job_failed_ = false;
  const filter::Evidence evidence = reply                 ? filter::Evidence::replied
                                    : ev.unread_deletion ? filter::Evidence::deleted_unread
                                                         : filter::Evidence::moved;
  std::vector<Lesson> lessons = reply ? lessons_of_reply(ev.account_id, job.replied_to) : lessons_of(ev);
  static const filter::Model kNoGlobal(10);
  const auto global = global_.current();
  const filter::Model& base = global ? *global : kNoGlobal;
  auto current = of(ev.account_id);
  filter::Model model = current ? *current : filter::Model(filter::Model::kUserBits);
  std::size_t n = 0, shared = 0;
  for (const auto& lesson : lessons) {
    if (!first_time(ev.account_id, lesson.blob, spam)) continue;
    auto features = filter::classifier_features(message::Parsed(lesson.text));
    model.learn_over(base, features, spam);
    const message::Authors authors = message::authors_of(message::parse_message_header(lesson.text));
    const std::string author = authors.single_address();
    // The sender's record with this user (past verdicts, a reputation signal): what the user
    // moved, not what it deleted or answered.
    if (evidence == filter::Evidence::moved && !author.empty())
      log_.ok_or_log(store_.reputation.add_sender_verdict(ev.account_id, author, spam), "filter.verdict_not_stored");
    if (shared_) {
      filter::Example ex;
      ex.account_id = ev.account_id;
      ex.domain = shared_->author_domain(author);
      ex.features = std::move(features);
      ex.spam = spam;
      ex.evidence = evidence;
      shared += shared_->offer(std::move(ex));
    }
    ++n;
  }
  // What the user read and kept beside earlier spam (Kept), into their own model only (no
  // reputation, nothing shared), once they have moved on; this event's joins what waits.
  // Ham moved out of Junk into the waiting set's folder is not newer mail there.
  if (!spam && !reply && !ev.unread_deletion) {
    auto it = pending_kept_.find(ev.account_id);
    if (it != pending_kept_.end() && it->second.mailbox == ev.mailbox) {
      auto& in = it->second.moved_in;
      in.insert(in.end(), ev.uids.begin(), ev.uids.end());
      if (in.size() > kMaxMovedIn) in.erase(in.begin(), in.end() - kMaxMovedIn);
    }
  }
  std::size_t kept = 0;
  if (spam) {
    // (A spam event that names no kept mail, an unread deletion from Junk, is no new folder.)
    // One that learnt nothing new (the spam was known) adds to a set of its folder, but
    // neither starts one (it has no budget to give) nor releases one as another folder.
    auto it = pending_kept_.find(ev.account_id);
    const bool other_folder = n > 0 && !ev.kept.empty() && it != pending_kept_.end() &&
                              it->second.mailbox != ev.kept_mailbox;
    if (it != pending_kept_.end() && (other_folder || moved_on(it->second))) {
      bool failed = false;
      kept = learn_kept(ev.account_id, it->second, base, model, failed);
      if (failed) {
        it->second.most -= kept;
      } else {
        pending_kept_.erase(it);
        it = pending_kept_.end();
      }
    }
    const bool joins = !ev.kept.empty() &&
                       (it == pending_kept_.end() ? n > 0 : it->second.mailbox == ev.kept_mailbox);
    if (joins) {
      if (it == pending_kept_.end())
        it = pending_kept_.emplace(ev.account_id, Kept{ev.kept_mailbox, {}, 0, 0, {}}).first;
      Kept& p = it->second;
      p.uids.insert(p.uids.end(), ev.kept.begin(), ev.kept.end());
      std::sort(p.uids.begin(), p.uids.end(), std::greater<>());
      p.uids.erase(std::unique(p.uids.begin(), p.uids.end()), p.uids.end());
      if (p.uids.size() > imap::Session::TrainEvent::kMaxKept)
        p.uids.resize(imap::Session::TrainEvent::kMaxKept);
      p.most += n;
      p.uidnext = std::max(p.uidnext, ev.kept_uidnext);
      std::erase_if(p.moved_in, [&](std::uint32_t uid) { return uid < p.uidnext; });
    }
  }
  if (n == 0 && kept == 0) {
    // Every message named was learnt before, or is gone. Logged, so that every move the
    // learner takes up ends in filter.trained, filter.learnt_nothing or filter.train_failed (a
    // reply to a thread the store does not have says nothing).
    if (!reply && !job_failed_)
      log_.info("filter.learnt_nothing",
                {{"account_id", ev.account_id},
                 {"as", spam ? "spam" : "ham"},
                 {"messages_named", std::max(ev.uids.size(), ev.gone.size())},
                 {"evidence", filter::evidence_name(evidence)}});
    return;
  }
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (auto st = model.save(path_of(ev.account_id)); !st) {
    train_failed(st.error().message);
    return;
  }
  {
    std::lock_guard lock(mu_);
    models_[ev.account_id] = std::make_shared<const filter::Model>(std::move(model));
  }
  log_.info("filter.trained", {{"account_id", ev.account_id},
                               {"as", spam ? "spam" : "ham"},
                               {"messages", n},
                               {"evidence", filter::evidence_name(evidence)},
                               {"kept_as_ham", kept},
                               {"offered_to_shared", shared}});
}

void InboundPipeline::auto_learn(filter::MessageAnalysis& analysis, const filter::Verdict& v, bool known_sender,
                                 std::int64_t account, smtp::PipelineDecision& d) {
  const message::Parsed& msg = analysis.message();
  // The instance's thresholds, not the account's: an account that junks more does not make
  // the shared model learn more.
  const auto label = filter::auto_learn_label(v, known_sender, thresholds_);
  if (!label) return;
  filter::Example ex;
  ex.account_id = account;
  ex.domain = learner_->author_domain(msg.authors().single_address());
  ex.spam = *label;
  ex.evidence = *label ? filter::Evidence::auto_spam : filter::Evidence::auto_ham;
  // The features only when the budget would take them (a flood costs no extraction).
  if (!learner_->would_admit(ex)) {
    d.log.push_back({"autolearn", "capped"});
    return;
  }
  ex.features = analysis.features();
  if (learner_->offer(std::move(ex))) d.log.push_back({"autolearn", *label ? "spam" : "ham"});
}

filter::Thresholds InboundPipeline::thresholds_of(std::int64_t account) {
  if (auto a = store_.directory.account_by_id(account); a && *a && !(*a)->spam_thresholds.empty()) {
    if (auto t = filter::parse_thresholds((*a)->spam_thresholds)) return *t;
  }
  return thresholds_;
}

void InboundPipeline::recipient_knowledge(std::int64_t account, const message::Parsed& msg,
                                          const mailauth::Assessment* auth, filter::Inputs& in) {
  in.orgs = &orgs_;
  if (!account) return;
  // What the store cannot say, the verdict goes on without; one line a verdict says which
  // reads failed (at warn when a list kept from before stood in for all of them).
  Unread unread;
  gather_knowledge(account, msg, auth, in, unread);
  if (unread.reads.empty()) return;
  log_.log(unread.lost ? log::Level::error : log::Level::warn, "filter.recipient_unread",
           {{"account_id", account}, {"reads", unread.reads}, {"error", unread.first_error}});
}

void InboundPipeline::Unread::note(std::string_view what, const std::string& error, bool substituted) {
  reads += reads.empty() ? "" : ", ";
  reads += what;
  if (first_error.empty()) first_error = error;
  lost = lost || !substituted;
}

void InboundPipeline::gather_knowledge(std::int64_t account, const message::Parsed& msg,
                                       const mailauth::Assessment* auth, filter::Inputs& in, Unread& unread) {
  const auto read = [&](const auto& r, std::string_view what) {
    if (!r) unread.note(what, r.error().message, false);
    return r.ok();
  };
  std::string why;
  in.known_domains = known_.of(account, &why);
  if (!why.empty())
    unread.note(in.known_domains ? "correspondents' domains (the list kept from before)" : "correspondents' domains",
                why, in.known_domains != nullptr);
  // The thread this replies to, if the account has it.
  if (!msg.thread_ids().empty()) {
    auto thread = store_.reputation.thread_messages(account, msg.thread_ids(), 5);
    if (read(thread, "thread") && !thread->empty()) {
      in.thread_found = true;
      for (const auto& info : *thread) {
        // Not noted when it fails: the message may have been expunged since it was found
        // (its file goes at once), which is no fault of the store's.
        auto head = store_.mail.read_message_start(info, filter::kThreadHeaderBytes);
        if (head && !filter::add_thread_participants(*head, in.thread_participants)) in.thread_found = false;
      }
    }
  }
  const std::string author = msg.authors().single_address();
  if (author.empty()) return;
  const std::string name = author_name(msg.authors());
  const bool dmarc_pass = auth && auth->dmarc.result == dmarc::Outcome::pass;
  if (auto past = store_.reputation.sender_verdicts(account, author); read(past, "sender verdicts")) {
    in.author_junked = past->first;
    in.author_rescued = past->second;
  }
  if (dmarc_pass) in.authenticated_domain = auth->dmarc.from_domain;
  auto fresh = store_.reputation.new_correspondents(account, {author});
  const bool written_to = read(fresh, "correspondents") && fresh->empty();
  if (written_to && dmarc_pass) {
    in.known_sender = author;
    // Remember the name an authenticated contact goes by, to notice others using it.
    if (personal_name(name) && !read_only_)
      log_.ok_or_log(store_.reputation.set_correspondent_name(account, author, name), "filter.contact_name_not_stored");
  } else if (!written_to && personal_name(name)) {
    if (auto named = store_.reputation.correspondents_named(account, name); read(named, "contacts by name")) {
      for (auto& n : *named)
        if (n != author) in.namesakes.push_back(std::move(n));
    }
  }
}

asio::awaitable<smtp::PipelineDecision> InboundPipeline::check(const smtp::Transaction& txn, const message::Parsed& msg,
                                                               std::string helo, std::string remote_ip) {
  smtp::PipelineDecision d = co_await evaluate(txn, msg, std::move(helo), std::move(remote_ip), nullptr);
  co_return d;
}

asio::awaitable<smtp::PipelineDecision> InboundPipeline::evaluate(const smtp::Transaction& txn,
                                                                  const message::Parsed& msg, std::string helo,
                                                                  std::string remote_ip, Explanation* explain) {
  smtp::PipelineDecision d;
  mailauth::Assessment assessment;
  std::vector<filter::Signal> listed;
  const bool lists = dns_ && !lists_.empty();
  // The DNS lists: asked for the client's address and the message's link domains.
  filter::BlocklistResult found;
  auto ask_lists = [&](dns::Lookup& dns) -> asio::awaitable<void> {
    // Named first: GCC 12 mishandles temporaries in a co_await's arguments.
    std::vector<std::string> domains = filter::link_domains(msg.links(), orgs_);
    std::string ip = remote_ip;
    found = co_await filter::check_blocklists(dns, lists_, std::move(ip), std::move(domains));
  };
  if (auth_) {
    // Sender authentication and the DNS lists do not wait for each other: their lookups run
    // at once, under the message's one DNS deadline (dns/deadline.hpp).
    // Each with its own count of answers and failures under the same budget: whether DNS is
    // unreachable is judged on sender authentication's lookups alone (a list answered from
    // the resolver's cache is not DNS answering).
    dns::DeadlineLookup dns = auth_->message_dns();
    dns::DeadlineLookup list_dns = auth_->message_dns();
    auto authenticate = [&]() -> asio::awaitable<void> {
      d = co_await auth_->decide(txn, msg, helo, remote_ip, assessment, dns);
    };
    auto lookup_lists = [&]() -> asio::awaitable<void> {
      if (lists) co_await ask_lists(list_dns);
    };
    auto both = all(authenticate(), lookup_lists());  // named first, as above
    co_await std::move(both);
    if (explain) {
      explain->auth_checked = true;
      explain->auth = assessment;
    }
    if (d.reject) co_return d;
  } else if (lists) {
    co_await ask_lists(*dns_);
  }
  if (lists) {
    listed = std::move(found.signals);
    for (const auto& note : found.notes) log_.warn("filter.dns_list_failed", {{"detail", note}});
    if (explain) explain->list_notes = found.notes;
  }
  // The verdicts read the store (what each recipient knows, the thread) and run the
  // classifier: on the work pool (net/offload.hpp), one thread from start to end, whose own
  // CPU time is what they cost (the metrics' mailkeep_spam_verdict_cpu_seconds; a model file
  // read again after it changed counts in the verdict that reads it).
  auto judge = [&] {
    const double started = thread_cpu_seconds();
    judge_message(txn, msg, assessment, listed, d, explain);
    d.verdict_cpu_seconds = thread_cpu_seconds() - started;
  };
  co_await net::offload(work_, judge);
  co_return d;
}

void InboundPipeline::judge_message(const smtp::Transaction& txn, const message::Parsed& msg,
                                    const mailauth::Assessment& assessment, const std::vector<filter::Signal>& listed,
                                    smtp::PipelineDecision& d, Explanation* explain) {
  const auto models = model_.current_and_base();
  const std::shared_ptr<const filter::Model>& model = models.first;
  const double rule_weight = filter::hand_rule_weight(models.second.get());
  bool elsewhere = false;
  const auto accounts = delivery::local_accounts(txn, elsewhere);
  const std::int64_t account = !elsewhere && accounts.size() == 1 ? accounts[0] : 0;
  // Sender authentication may have rewritten it (forged results removed): the verdicts are
  // on what is delivered. Every recipient's verdict reads the same parsed message.
  const std::shared_ptr<const message::Parsed> rewritten = d.content;  // kept alive below
  const message::Parsed& current = rewritten ? *rewritten : msg;
  const std::shared_ptr<const filter::KnownDomains> own = hosted_.get(log_, "filter.hosted_domains_unread");
  std::vector<std::shared_ptr<const filter::Model>> keep;  // the user models in use
  // The inputs for one recipient account (0: what holds for every recipient).
  auto inputs_for = [&](std::int64_t id) {
    filter::Inputs in;
    in.model = model.get();
    in.rule_weight = rule_weight;
    in.auth = auth_ ? &assessment : nullptr;
    in.thresholds = thresholds_;
    in.extra = listed;
    in.own_domains = own;
    if (id) {
      keep.push_back(users_.of(id));
      in.user_model = keep.back().get();
      in.thresholds = thresholds_of(id);
    }
    recipient_knowledge(id, current, auth_ ? &assessment : nullptr, in);
    return in;
  };
  // The message's verdict (its header, a refusal), with the recipient's own model and
  // knowledge when there is one recipient account.
  const filter::Inputs message_inputs = inputs_for(account);
  filter::MessageAnalysis analysis(current);  // the rules and features, once for every verdict
  const filter::Verdict v = filter::judge(current, message_inputs, &analysis);
  // Trusted verdicts teach the shared model; counted against the (first) recipient account.
  if (learner_ && auto_learn_ && !read_only_ && !accounts.empty())
    auto_learn(analysis, v, !message_inputs.known_sender.empty(), account ? account : accounts[0], d);
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
      const filter::Verdict pv = filter::judge(current, inputs_for(accounts[i]), &analysis);
      if (pv.action == filter::Action::junk || pv.action == filter::Action::reject)
        d.junk_accounts.push_back(accounts[i]);  // a refusal for one of several: its Junk
      add_phishing(pv);
      per += fmt::format("{}{}={}/{:.2f}", per.empty() ? "" : " ", accounts[i], filter::action_name(pv.action), pv.score);
    }
    d.log.push_back({"spam_per_account", per});
  }
  // Suspected phishing that is delivered carries a visible warning.
  if (v.action != filter::Action::reject && !phishing.empty()) {
    d.content = std::make_shared<const message::Parsed>(filter::warn_phishing(current.text(), phishing));
    d.warned = true;
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
  // The metrics' reason: what the filter did (refused, or junked for someone, or warned about
  // phishing), unless sender authentication already junked it.
  const bool flagged =
      v.action == filter::Action::reject || d.junk || !d.junk_accounts.empty() || !phishing.empty();
  if (flagged && (d.reason.empty() || v.action == filter::Action::reject))
    d.reason = phishing.empty() ? "spam" : "phishing";
}

}  // namespace mk::inbound
