// Fuzzes the IMAP session: every framed command in the input runs against a real store
// (SQLite in a temporary directory, created once) as a logged-in user with a mailbox of
// a few messages selected. APPENDs are committed. Crashes and sanitizer reports are bugs;
// so is a response that does not end in CRLF.
#include <sodium.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <future>
#include <string>

#include "auth/password.hpp"
#include "imap/proto/framer.hpp"
#include "imap/server/session.hpp"
#include "store/store.hpp"

namespace {

mk::store::Store& shared_store() {
  static mk::store::Store* store = [] {
    char tmpl[] = "/tmp/mk-fuzz-imap-XXXXXX";
    mk::store::StoreConfig cfg;
    cfg.data_dir = ::mkdtemp(tmpl);
    auto opened = mk::store::open(cfg);
    if (!opened) std::abort();
    auto* s = opened.value().release();
    (void)s->add_domain("example.org");
    // A minimal-cost argon2id hash: LOGIN runs for every input and must stay cheap here.
    char hash[crypto_pwhash_STRBYTES];
    if (crypto_pwhash_str(hash, "fuzz password 1", 15, crypto_pwhash_OPSLIMIT_MIN,
                          crypto_pwhash_MEMLIMIT_MIN) != 0)
      std::abort();
    auto id = s->add_account("me@example.org", hash);
    for (const char* m : {"From: A <a@x.example>\r\nSubject: one\r\nDate: Mon, 2 Jan 2023 10:00:00 +0000\r\n\r\nbody\r\n",
                          "Content-Type: multipart/mixed; boundary=b\r\nSubject: Re: two\r\n\r\n--b\r\n\r\npart\r\n--b\r\nContent-Type: message/rfc822\r\n\r\nSubject: in\r\n\r\nx\r\n--b--\r\n"}) {
      mk::store::NewMessage nm;
      nm.data = std::make_shared<const std::string>(m);
      nm.deliveries.push_back({*id, "INBOX", "me@example.org", ""});
      if (!s->deliver_sync(nm)) std::abort();
    }
    return s;
  }();
  return *store;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto& store = shared_store();
  mk::imap::Session s({}, store, "127.0.0.1");
  (void)s.on_command("l LOGIN me@example.org \"fuzz password 1\"");
  (void)s.on_command("s SELECT INBOX");
  mk::imap::FrameLimits lim;
  lim.max_line = 1024;
  lim.max_literal = 4096;
  mk::imap::CommandFramer f(lim);
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::size_t pos = 0;
  int commands = 0;
  while (pos < in.size() && commands < 20) {
    std::size_t used = 0;
    auto ev = f.feed(in.substr(pos), used);
    pos += used;
    if (ev == mk::imap::Frame::need_more) break;
    if (ev != mk::imap::Frame::command) continue;
    ++commands;
    auto out = s.on_command(f.take());
    while (out.next == mk::imap::Next::more) {
      if (!out.data.ends_with("\r\n")) std::abort();  // pieces end at line boundaries
      out = s.on_more();
    }
    if (out.next == mk::imap::Next::append) {
      std::promise<mk::store::DeliverResult> p;
      store.deliver_all(s.take_append(), [&p](mk::store::DeliverResult r) { p.set_value(std::move(r)); });
      out = s.on_appended(p.get_future().get());
    } else if (out.next == mk::imap::Next::idle) {
      out = s.on_idle_line("DONE");
    }
    if (!out.data.empty() && !out.data.ends_with("\r\n")) std::abort();
    if (out.next == mk::imap::Next::close) break;
  }
  return 0;
}
