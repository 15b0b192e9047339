// Fuzzes the SMTP session state machine: input is split into CRLF lines and fed as commands,
// DATA content or BDAT chunks, as the session asks, with deliveries alternately succeeding
// and failing. Any crash, sanitizer report or inconsistent request is a bug.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "smtp/session.hpp"

namespace {
class AnyRecipients : public mk::smtp::Recipients {
 public:
  mk::smtp::RcptVerdict resolve(const mk::message::Mailbox& mb) override {
    using K = mk::smtp::RcptVerdict::Kind;
    if (mb.local.empty()) return {K::unknown_user, {}};
    switch (mb.local[0] % 4) {
      case 0: return {K::accept, {mk::smtp::Target::mailbox(1, mb.local)}};
      case 1: return {K::unknown_user, {}};
      case 2: return {K::relay_denied, {}};
      default: return {K::temp_fail, {}};
    }
  }
};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  AnyRecipients rcpts;
  mk::smtp::SessionConfig cfg;
  cfg.max_message_size = 2048;
  cfg.max_recipients = 100;
  cfg.starttls_available = true;
  mk::smtp::Session s(cfg, rcpts, {"c", "192.0.2.1", "192.0.2.2"});
  auto step = s.greet();
  bool deliver_ok = true;
  for (int guard = 0; guard < 10000 && step.next != mk::smtp::Next::close; ++guard) {
    using N = mk::smtp::Next;
    switch (step.next) {
      case N::start_tls:
        step = s.on_tls({"TLSv1.3", "TLS_AES_128_GCM_SHA256", 128});
        break;
      case N::deliver:
        step = s.on_delivered(deliver_ok, "x");
        deliver_ok = !deliver_ok;
        break;
      case N::read_data:
      case N::read_chunk: {
        std::size_t used = 0;
        auto done = step.next == N::read_data ? s.on_data(in, used) : s.on_chunk(in, used);
        if (used > in.size()) std::abort();
        in.remove_prefix(used);
        if (done) step = *done;
        else return 0;  // input exhausted mid-message
        break;
      }
      case N::read_command: {
        if (in.empty()) return 0;
        auto l = mk::smtp::next_line(in, mk::smtp::kMaxCommandLine);
        if (l.status == mk::smtp::LineStatus::need_more) return 0;
        in.remove_prefix(l.consumed);
        step = l.status == mk::smtp::LineStatus::line ? s.on_command(l.line) : s.on_line_error(l.status);
        break;
      }
      case N::close:
        break;
    }
    if (step.reply && (step.reply->code < 200 || step.reply->code > 599)) std::abort();
  }
  return 0;
}
