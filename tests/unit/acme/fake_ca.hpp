// tests/unit/acme/fake_ca.hpp: a scripted ACME CA as an acme::Transport. A test lists the
// requests the client must make, in order, with the reply to each; the fake checks every
// request against the script (method, URL) and every POST as a CA would (RFC 8555 §6.2-6.5):
// the JWS verifies with the account key, its "url" is the request URL, its nonce is the
// newest one the fake handed out and was never used, "jwk" for newAccount and "kid" after,
// the payload is the expected one ("" for POST-as-GET). Each reply carries a fresh nonce.
// RecordingResponder is the Responder the tests hand the client.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <set>

#include "acme/client.hpp"
#include "acme/transport.hpp"
#include "acme_util.hpp"

namespace mk::test::acme {

using mk::acme::HttpReply;

inline const std::string kCa = "https://ca.test";
inline const std::string kAccountUrl = kCa + "/acct/1";

struct Request {
  std::string method, url;
  Jws jws;  // for POST
};

struct Exchange {
  std::string method = "POST";
  std::string url;
  bool jwk = false;                      // newAccount signs with the key itself
  std::optional<std::string> payload;    // nullopt: POST-as-GET
  bool any_payload = false;              // the test checks the payload in `check`
  std::function<void(const Request&)> check;
  HttpReply reply;
  std::function<HttpReply(const Request&)> make_reply;  // instead of `reply`
  std::string transport_error;           // the exchange fails below HTTP
  bool no_nonce = false;                 // the reply carries no Replay-Nonce
};

class FakeCa final : public mk::acme::Transport {
 public:
  FakeCa() : pub_(load_key(kAccountKey)) {}

  boost::asio::awaitable<Result<HttpReply>> get(const std::string& url) override {
    co_return answer("GET", url, "");
  }
  boost::asio::awaitable<Result<HttpReply>> head(const std::string& url) override {
    co_return answer("HEAD", url, "");
  }
  boost::asio::awaitable<Result<HttpReply>> post(const std::string& url, const std::string& body) override {
    co_return answer("POST", url, body);
  }

  std::deque<Exchange> script;
  std::vector<std::string> seen;  // "METHOD url" of every request, in order

 private:
  Result<HttpReply> answer(const std::string& method, const std::string& url, const std::string& body) {
    seen.push_back(method + " " + url);
    if (script.empty()) {
      ADD_FAILURE() << "request after the script ended: " << method << " " << url;
      return err("the fake CA has nothing scripted");
    }
    Exchange e = std::move(script.front());
    script.pop_front();
    EXPECT_EQ(method + " " + url, e.method + " " + e.url);
    Request r{method, url, {}};
    if (method == "POST") {
      r.jws = check_jws(body, pub_.get());
      EXPECT_EQ(r.jws.error, "") << url;
      auto str = [&](const char* k) {
        return r.jws.header.contains(k) && r.jws.header.at(k).is_string() ? std::string(r.jws.header.at(k).as_string())
                                                                          : std::string("<none>");
      };
      EXPECT_EQ(str("alg"), "ES256");
      EXPECT_EQ(str("url"), url);
      const std::string nonce = str("nonce");
      EXPECT_EQ(nonce, last_nonce_) << "not the newest nonce, at " << url;
      EXPECT_TRUE(used_.insert(nonce).second) << "nonce used twice: " << nonce;
      if (e.jwk) {
        EXPECT_TRUE(r.jws.header.contains("jwk"));
        EXPECT_FALSE(r.jws.header.contains("kid"));
      } else {
        EXPECT_EQ(str("kid"), kAccountUrl);
        EXPECT_FALSE(r.jws.header.contains("jwk"));
      }
      if (!e.any_payload) {
        if (e.payload) {
          EXPECT_FALSE(r.jws.payload_empty) << url;
          EXPECT_EQ(r.jws.payload, *e.payload) << url;
        } else {
          EXPECT_TRUE(r.jws.payload_empty) << "not POST-as-GET: " << url;
        }
      }
    }
    if (e.check) e.check(r);
    if (!e.transport_error.empty()) return err(e.transport_error);
    HttpReply reply = e.make_reply ? e.make_reply(r) : e.reply;
    if (!e.no_nonce && method != "GET") reply.replay_nonce = last_nonce_ = "bm9uY2U" + std::to_string(++nonces_);
    return reply;
  }

  std::shared_ptr<EVP_PKEY> pub_;
  std::string last_nonce_;
  std::set<std::string> used_;
  int nonces_ = 0;
};

// Records every call; `live` is what is being served right now.
class RecordingResponder final : public mk::acme::Responder {
 public:
  void put_http01(const std::string& token, const std::string& ka) override {
    calls.push_back("put http-01 " + token + " " + ka);
    live["http-01 " + token] = ka;
  }
  void remove_http01(const std::string& token) override {
    calls.push_back("remove http-01 " + token);
    live.erase("http-01 " + token);
  }
  void put_tls_alpn01(const std::string& name, const std::string& ka) override {
    calls.push_back("put tls-alpn-01 " + name + " " + ka);
    live["tls-alpn-01 " + name] = ka;
  }
  void remove_tls_alpn01(const std::string& name) override {
    calls.push_back("remove tls-alpn-01 " + name);
    live.erase("tls-alpn-01 " + name);
  }
  std::vector<std::string> calls;
  std::map<std::string, std::string> live;
};

// Bodies and exchanges of the usual flow.
inline HttpReply json_reply(int status, std::string body, std::string location = {}) {
  HttpReply r;
  r.status = status;
  r.content_type = "application/json";
  r.location = std::move(location);
  r.body = std::move(body);
  return r;
}

inline HttpReply problem_reply(int status, const std::string& type, const std::string& detail,
                               std::optional<std::chrono::seconds> retry_after = {}) {
  HttpReply r;
  r.status = status;
  r.content_type = "application/problem+json";
  r.body = R"({"type":"urn:ietf:params:acme:error:)" + type + R"(","detail":")" + detail + R"(","status":)" +
           std::to_string(status) + "}";
  r.retry_after = retry_after;
  return r;
}

inline std::string directory_json() {
  return R"({"newNonce":")" + kCa + R"(/nonce","newAccount":")" + kCa + R"(/acct","newOrder":")" + kCa +
         R"(/order","meta":{"termsOfService":")" + kCa + R"(/tos"}})";
}

inline std::string order_json(const std::string& status, const std::vector<std::string>& names,
                              const std::vector<std::string>& authzs, const std::string& extra = {}) {
  std::string ids, az;
  for (const auto& n : names) ids += std::string(ids.empty() ? "" : ",") + R"({"type":"dns","value":")" + n + "\"}";
  for (const auto& a : authzs) az += std::string(az.empty() ? "" : ",") + "\"" + a + "\"";
  return R"({"status":")" + status + R"(","identifiers":[)" + ids + R"(],"authorizations":[)" + az +
         R"(],"finalize":")" + kCa + R"(/order/1/finalize")" + extra + "}";
}

inline std::string challenge_json(const std::string& type, const std::string& url, const std::string& status,
                                  const std::string& token, const std::string& error = {}) {
  return R"({"type":")" + type + R"(","url":")" + url + R"(","status":")" + status + R"(","token":")" + token +
         "\"" + (error.empty() ? "" : R"(,"error":)" + error) + "}";
}

inline std::string authz_json(const std::string& name, const std::string& status, const std::string& challenges) {
  return R"({"identifier":{"type":"dns","value":")" + name + R"("},"status":")" + status + R"(","challenges":[)" +
         challenges + "]}";
}

inline Exchange ex_get(std::string url, HttpReply reply) {
  Exchange e;
  e.method = "GET";
  e.url = std::move(url);
  e.reply = std::move(reply);
  return e;
}

inline Exchange ex_head_nonce() {
  Exchange e;
  e.method = "HEAD";
  e.url = kCa + "/nonce";
  e.reply.status = 200;
  return e;
}

inline Exchange ex_post(std::string url, std::optional<std::string> payload, HttpReply reply) {
  Exchange e;
  e.url = std::move(url);
  e.payload = std::move(payload);
  e.reply = std::move(reply);
  return e;
}

}  // namespace mk::test::acme
