#include "http/request_reader.hpp"

#include <algorithm>
#include <cstdint>
#include <optional>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include "base/strings.hpp"

namespace mk::http {

namespace bhttp = boost::beast::http;

struct RequestReader::Impl {
  bhttp::request_parser<bhttp::string_body> parser;
  bool framing_checked = false;
};

RequestReader::RequestReader(const Limits& limits) : impl_(std::make_unique<Impl>()) {
  auto& p = impl_->parser;
  p.header_limit(std::uint32_t(std::min<std::uint64_t>(limits.max_header_size, UINT32_MAX)));
  p.body_limit(limits.max_body_size);
  p.eager(true);
}

RequestReader::~RequestReader() = default;

namespace {

// RFC 9112 §6.1 and §6.3: the framing a server must refuse, where Beast's parser would take
// a guess (a Transfer-Encoding that does not end in chunked frames the body as empty, and
// the body is then read as the next request). Refused whole, so no proxy in front and this
// server can ever disagree on where a request ends; and one Host only (§3.2).
std::optional<std::string> framing_problem(const bhttp::request_parser<bhttp::string_body>& p) {
  const auto& m = p.get();
  std::size_t te = 0, host = 0, length = 0;
  for (const auto& f : m) {
    if (f.name() == bhttp::field::transfer_encoding) ++te;
    else if (f.name() == bhttp::field::host) ++host;
    else if (f.name() == bhttp::field::content_length) ++length;
  }
  if (te > 0 && !p.chunked()) return "A Transfer-Encoding other than chunked is not accepted.\n";
  if (te > 0 && length > 0) return "Transfer-Encoding and Content-Length together are not accepted.\n";
  if (host > 1) return "More than one Host header.\n";
  return std::nullopt;
}

}  // namespace

RequestReader::State RequestReader::feed(std::string& in) {
  auto& p = impl_->parser;
  boost::system::error_code ec;
  while (!in.empty() && !p.is_done()) {
    const std::size_t used = p.put(boost::asio::buffer(in.data(), in.size()), ec);
    in.erase(0, used);
    if (!ec || ec == bhttp::error::need_more) {
      if (p.is_header_done() && !impl_->framing_checked) {
        impl_->framing_checked = true;
        if (auto problem = framing_problem(p)) {
          error_ = Response::text(400, *problem);
          return State::error;
        }
      }
    }
    if (ec == bhttp::error::need_more) return State::need_more;
    if (ec) break;
    if (used == 0) return State::need_more;
  }
  if (ec) {
    if (ec == bhttp::error::header_limit) error_ = Response::text(431, "The request's header is too large.\n");
    else if (ec == bhttp::error::body_limit) error_ = Response::text(413, "The request's body is too large.\n");
    else error_ = Response::text(400, "Malformed request.\n");
    return State::error;
  }
  return p.is_done() ? State::done : State::need_more;
}

RequestReader::State RequestReader::end() {
  auto& p = impl_->parser;
  if (p.is_done()) return State::done;
  boost::system::error_code ec;
  p.put_eof(ec);  // a body delimited by the end of input is not allowed in a request
  if (!ec && p.is_done()) return State::done;
  error_ = Response::text(400, "The request ended early.\n");
  return State::error;
}

bool RequestReader::header_done() const { return impl_->parser.is_header_done(); }

bool RequestReader::expects_continue() const {
  const auto& m = impl_->parser.get();
  return header_done() && m.version() >= 11 && iequals(std::string_view(m[bhttp::field::expect]), "100-continue");
}

bool RequestReader::keep_alive() const { return impl_->parser.get().keep_alive(); }

int RequestReader::http_minor() const { return impl_->parser.get().version() == 10 ? 0 : 1; }

std::optional<Request> RequestReader::take(bool tls, const std::string& remote_ip) {
  auto& m = impl_->parser.get();
  Request req;
  req.method = std::string(m.method_string());
  req.tls = tls;
  req.remote_ip = remote_ip;
  for (const auto& f : m)
    req.headers.emplace_back(to_lower(std::string_view(f.name_string().data(), f.name_string().size())),
                             std::string(f.value()));
  req.host = host_of(std::string_view(m[bhttp::field::host]));
  const std::string_view target(m.target().data(), m.target().size());
  const std::size_t q = target.find('?');
  req.path = std::string(target.substr(0, q));
  if (q != std::string_view::npos) req.query = std::string(target.substr(q + 1));
  // RFC 9112 §3.2: a 1.1 request without a (valid) Host is refused; so is a target that is
  // not a path (absolute form is for proxies, which this is not; "*" only for OPTIONS).
  if (m.version() >= 11 && req.host.empty()) {
    error_ = Response::text(400, "A valid Host header is required.\n");
    return std::nullopt;
  }
  if (req.path.empty() || req.path.front() != '/') {
    error_ = Response::text(400, "The request target must be a path.\n");
    return std::nullopt;
  }
  req.body = std::move(m.body());
  return req;
}

}  // namespace mk::http
