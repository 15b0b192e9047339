// Tests of acme/client.hpp against the scripted CA of fake_ca.hpp: the whole issuance, then
// a CA that rejects nonces, rate-limits, fails, validates nothing, never finishes, or sends
// what RFC 8555 does not allow. Each checks the exact requests made, the Failure's kind and
// text, and that the Responder serves nothing afterwards.
#include "acme/client.hpp"

#include <gtest/gtest.h>

#include "acme/x509.hpp"
#include "await.hpp"
#include "fake_ca.hpp"
#include "log_capture.hpp"

namespace mk::acme {
namespace {

using namespace mk::test::acme;
using Kind = Failure::Kind;

const std::string kT1 = "token1-aaaaaaaaaaaaaaaaaaaaaa";
const std::string kT2 = "token2-bbbbbbbbbbbbbbbbbbbbbb";
const std::string kAlpnToken = "tokenA-cccccccccccccccccccccc";
const std::vector<std::string> kNames = {"mail.example.org", "mta-sts.example.org"};
constexpr long kNotBefore = 1700000000, kNotAfter = 1707776000;

// One issuance: the fake CA, the responder, and builders for the usual exchanges.
struct Flow {
  FakeCa ca;
  RecordingResponder responder;
  TestCa test_ca;
  std::string cert_key = *new_p256_key_pem();
  std::string csr;
  std::vector<std::string> names = kNames;
  Settings settings{5, std::chrono::milliseconds(1), std::chrono::seconds(5), 5};

  std::string authz_url(int i) const { return kCa + "/authz/" + std::to_string(i); }

  void directory() { ca.script.push_back(ex_get(kCa + "/dir", json_reply(200, directory_json()))); }
  void account() {
    ca.script.push_back(ex_head_nonce());
    Exchange e = ex_post(kCa + "/acct", new_account_payload({"mailto:admin@example.org"}),
                         json_reply(201, R"({"status":"valid"})", kAccountUrl));
    e.jwk = true;
    ca.script.push_back(std::move(e));
  }
  void order(int authzs) {
    std::vector<std::string> az;
    for (int i = 1; i <= authzs; ++i) az.push_back(authz_url(i));
    ca.script.push_back(ex_post(kCa + "/order", new_order_payload(names),
                                json_reply(201, order_json("pending", names, az), kCa + "/order/1")));
  }
  void start(int authzs = 2) {
    directory();
    account();
    order(authzs);
  }
  static std::string challenges(const std::string& token, const std::string& http_status = "pending") {
    return challenge_json("http-01", kCa + "/chall/h", http_status, token) + "," +
           challenge_json("tls-alpn-01", kCa + "/chall/t", "pending", kAlpnToken) + "," +
           R"({"type":"dns-01","url":")" + kCa + R"(/chall/d","status":"pending","token":"x"})";
  }
  // A pending authorization answered with http-01; `pending_polls` polls before "valid".
  void authz_http(int i, const std::string& name, const std::string& token, int pending_polls = 1) {
    ca.script.push_back(ex_post(authz_url(i), std::nullopt, json_reply(200, authz_json(name, "pending", challenges(token)))));
    Exchange ch = ex_post(kCa + "/chall/h", std::string("{}"),
                          json_reply(200, challenge_json("http-01", kCa + "/chall/h", "processing", token)));
    // RFC 8555 §7.5.1: the answer is served before the CA is told to look.
    ch.check = [this, token](const Request&) {
      EXPECT_EQ(responder.live["http-01 " + token], token + "." + kAccountThumbprint);
    };
    ca.script.push_back(std::move(ch));
    for (int p = 0; p < pending_polls; ++p)
      ca.script.push_back(ex_post(authz_url(i), std::nullopt, json_reply(200, authz_json(name, "pending", challenges(token, "processing")))));
    ca.script.push_back(ex_post(authz_url(i), std::nullopt, json_reply(200, authz_json(name, "valid", challenges(token, "valid")))));
  }
  void authz_valid(int i, const std::string& name) {
    ca.script.push_back(ex_post(authz_url(i), std::nullopt, json_reply(200, authz_json(name, "valid", challenges(kT2, "valid")))));
  }
  void finish() {
    std::vector<std::string> az = {authz_url(1), authz_url(2)};
    ca.script.push_back(ex_post(kCa + "/order/1", std::nullopt, json_reply(200, order_json("ready", names, az))));
    Exchange fin = ex_post(kCa + "/order/1/finalize", std::nullopt, json_reply(200, order_json("processing", names, az)));
    fin.any_payload = true;
    fin.check = [this](const Request& r) {
      auto v = boost::json::parse(r.jws.payload);
      ASSERT_TRUE(v.is_object() && v.as_object().contains("csr")) << r.jws.payload;
      auto der = b64u_decode(std::string(v.as_object().at("csr").as_string()));
      ASSERT_TRUE(der);
      csr = *der;
    };
    ca.script.push_back(std::move(fin));
    ca.script.push_back(ex_post(kCa + "/order/1", std::nullopt, json_reply(200, order_json("processing", names, az))));
    ca.script.push_back(ex_post(kCa + "/order/1", std::nullopt,
                                json_reply(200, order_json("valid", names, az, R"(,"certificate":")" + kCa + "/cert/1\""))));
    Exchange cert = ex_post(kCa + "/cert/1", std::nullopt, {});
    cert.make_reply = [this](const Request&) {
      HttpReply r;
      r.status = 200;
      r.content_type = "application/pem-certificate-chain";
      r.body = test_ca.issue(csr, names, kNotBefore, kNotAfter);
      return r;
    };
    ca.script.push_back(std::move(cert));
  }

  IssueResult run(Client& client, ChallengeType type = ChallengeType::http01) {
    return mk::test::await(client.issue(names, cert_key, responder, type));
  }
  IssueResult run(ChallengeType type = ChallengeType::http01) {
    Client client(ca, kCa + "/dir", kAccountKey, {"mailto:admin@example.org"}, {}, settings);
    return run(client, type);
  }
  // The end state every test checks: the script used up, nothing left served.
  void expect_clean() {
    EXPECT_TRUE(ca.script.empty()) << ca.script.size() << " scripted requests not made, next: "
                                   << (ca.script.empty() ? "" : ca.script.front().url);
    EXPECT_TRUE(responder.live.empty());
  }
};

const Failure& failure_of(const IssueResult& r) {
  static const Failure none{Kind::config, "issue() succeeded", std::nullopt, ""};
  const Failure* f = std::get_if<Failure>(&r);
  EXPECT_NE(f, nullptr) << "expected a failure";
  return f ? *f : none;
}

TEST(Client, IssuesACertificate) {
  Flow f;
  f.start();
  f.authz_http(1, "mail.example.org", kT1);
  f.authz_valid(2, "mta-sts.example.org");  // reused by the CA: nothing to answer
  f.finish();
  mk::test::LogCapture log(::testing::TempDir() + "acme_issue.log");
  Client client(f.ca, kCa + "/dir", kAccountKey, {"mailto:admin@example.org"}, log.logger(), f.settings);
  IssueResult r = f.run(client);
  ASSERT_TRUE(std::holds_alternative<Issued>(r)) << failure_of(r).message;
  const Issued& issued = std::get<Issued>(r);
  EXPECT_EQ(issued.not_before, kNotBefore);
  EXPECT_EQ(issued.not_after, kNotAfter);
  EXPECT_TRUE(leaf_matches(issued.chain_pem, kNames, f.cert_key));
  EXPECT_EQ(split_chain(issued.chain_pem)->size(), 2u);
  EXPECT_EQ(client.account_url(), kAccountUrl);
  EXPECT_EQ(f.responder.calls, (std::vector<std::string>{"put http-01 " + kT1 + " " + kT1 + "." + kAccountThumbprint,
                                                         "remove http-01 " + kT1}));
  f.expect_clean();
  // Steps logged with the order URL; never the key or a payload.
  const std::string text = log.text();
  EXPECT_NE(text.find("event=acme.order order=https://ca.test/order/1"), std::string::npos) << text;
  EXPECT_NE(text.find("event=acme.issued"), std::string::npos);
  EXPECT_EQ(text.find("PRIVATE"), std::string::npos);
  EXPECT_EQ(text.find("termsOfServiceAgreed"), std::string::npos);
  EXPECT_EQ(text.find(kT1 + "." + kAccountThumbprint), std::string::npos);
}

TEST(Client, AnswersTlsAlpn01WhenAsked) {
  Flow f;
  f.names = {"mail.example.org"};
  f.start(1);
  f.ca.script.push_back(ex_post(f.authz_url(1), std::nullopt,
                                json_reply(200, authz_json("mail.example.org", "pending", Flow::challenges(kT1)))));
  Exchange ch = ex_post(kCa + "/chall/t", std::string("{}"),
                        json_reply(200, challenge_json("tls-alpn-01", kCa + "/chall/t", "processing", kAlpnToken)));
  ch.check = [&](const Request&) {
    EXPECT_EQ(f.responder.live["tls-alpn-01 mail.example.org"], kAlpnToken + "." + kAccountThumbprint);
  };
  f.ca.script.push_back(std::move(ch));
  f.ca.script.push_back(ex_post(f.authz_url(1), std::nullopt,
                                json_reply(200, authz_json("mail.example.org", "valid", Flow::challenges(kT1)))));
  IssueResult r = [&] {
    // Stop after the authorization: the order "goes invalid", which is enough here.
    f.ca.script.push_back(ex_post(kCa + "/order/1", std::nullopt,
                                  json_reply(200, order_json("invalid", f.names, {f.authz_url(1)},
                                                             R"(,"error":{"type":"urn:ietf:params:acme:error:caa","detail":"CAA forbids"})"))));
    return f.run(ChallengeType::tls_alpn01);
  }();
  EXPECT_EQ(failure_of(r).kind, Kind::challenge_failed);
  EXPECT_EQ(failure_of(r).message, "the order is invalid: CAA forbids");
  EXPECT_EQ(f.responder.calls,
            (std::vector<std::string>{"put tls-alpn-01 mail.example.org " + kAlpnToken + "." + kAccountThumbprint,
                                      "remove tls-alpn-01 mail.example.org"}));
  f.expect_clean();
}

TEST(Client, RetriesABadNonceWithTheNonceItBrought) {
  Flow f;
  f.directory();
  f.account();
  // The fake checks that the retry carries the nonce of the badNonce reply.
  f.ca.script.push_back(ex_post(kCa + "/order", new_order_payload(f.names),
                                problem_reply(400, "badNonce", "JWS has an invalid anti-replay nonce")));
  f.order(2);
  f.authz_http(1, "mail.example.org", kT1);
  f.authz_valid(2, "mta-sts.example.org");
  f.finish();
  IssueResult r = f.run();
  EXPECT_TRUE(std::holds_alternative<Issued>(r)) << failure_of(r).message;
  f.expect_clean();
}

TEST(Client, ABadNonceWithoutANewNonceFetchesOne) {
  Flow f;
  f.directory();
  f.account();
  Exchange bad = ex_post(kCa + "/order", new_order_payload(f.names), problem_reply(400, "badNonce", "stale"));
  bad.no_nonce = true;
  f.ca.script.push_back(std::move(bad));
  f.ca.script.push_back(ex_head_nonce());
  f.order(2);
  f.authz_valid(1, "mail.example.org");
  f.authz_valid(2, "mta-sts.example.org");
  f.finish();
  IssueResult r = f.run();
  EXPECT_TRUE(std::holds_alternative<Issued>(r)) << failure_of(r).message;
  f.expect_clean();
}

TEST(Client, BadNonceRetriesAreBounded) {
  Flow f;
  f.directory();
  f.ca.script.push_back(ex_head_nonce());
  for (int i = 0; i <= f.settings.max_bad_nonce_retries; ++i) {
    Exchange e = ex_post(kCa + "/acct", new_account_payload({"mailto:admin@example.org"}),
                         problem_reply(400, "badNonce", "JWS has an invalid anti-replay nonce"));
    e.jwk = true;
    f.ca.script.push_back(std::move(e));
  }
  IssueResult r = f.run();
  const Failure& fail = failure_of(r);
  EXPECT_EQ(fail.kind, Kind::ca_error);
  EXPECT_EQ(fail.problem, "badNonce");
  EXPECT_EQ(fail.message,
            "newAccount: HTTP 400 urn:ietf:params:acme:error:badNonce: JWS has an invalid anti-replay nonce");
  f.expect_clean();
}

TEST(Client, CaErrorsBecomeFailuresWithRetryAfter) {
  using std::chrono::seconds;
  HttpReply no_body;
  no_body.status = 503;
  no_body.retry_after = seconds(30);
  HttpReply not_found;
  not_found.status = 404;
  not_found.body = "<html>Not Found</html>";
  struct Case {
    HttpReply reply;
    std::string transport_error;
    Kind kind;
    std::optional<seconds> retry_after;
    std::string problem;
    std::string message;
  } cases[] = {
      {problem_reply(429, "rateLimited", "too many certificates already issued", seconds(3600)), "",
       Kind::rate_limited, seconds(3600), "rateLimited",
       "newOrder: HTTP 429 urn:ietf:params:acme:error:rateLimited: too many certificates already issued"},
      {problem_reply(500, "serverInternal", "database is down", seconds(60)), "", Kind::ca_error, seconds(60),
       "serverInternal", "newOrder: HTTP 500 urn:ietf:params:acme:error:serverInternal: database is down"},
      {problem_reply(400, "rejectedIdentifier", "will not issue for example.org"), "", Kind::ca_error, std::nullopt,
       "rejectedIdentifier",
       "newOrder: HTTP 400 urn:ietf:params:acme:error:rejectedIdentifier: will not issue for example.org"},
      {no_body, "", Kind::ca_error, seconds(30), "", "newOrder: HTTP 503"},
      {not_found, "", Kind::bad_response, std::nullopt, "", "newOrder: unexpected HTTP 404 without a problem document"},
      {{}, "connection refused", Kind::transport, std::nullopt, "", "newOrder: connection refused"},
  };
  for (const auto& c : cases) {
    Flow f;
    f.directory();
    f.account();
    Exchange e = ex_post(kCa + "/order", new_order_payload(f.names), c.reply);
    e.transport_error = c.transport_error;
    f.ca.script.push_back(std::move(e));
    IssueResult r = f.run();
    const Failure& fail = failure_of(r);
    EXPECT_EQ(kind_name(fail.kind), kind_name(c.kind)) << c.message;
    EXPECT_EQ(fail.retry_after, c.retry_after) << c.message;
    EXPECT_EQ(fail.problem, c.problem);
    EXPECT_EQ(fail.message, c.message);
    f.expect_clean();
  }
}

TEST(Client, AnAuthorizationThatGoesInvalidFailsWithTheCasDetail) {
  Flow f;
  f.start();
  f.authz_valid(1, "mail.example.org");
  const std::string name = "mta-sts.example.org";
  f.ca.script.push_back(ex_post(f.authz_url(2), std::nullopt, json_reply(200, authz_json(name, "pending", Flow::challenges(kT2)))));
  f.ca.script.push_back(ex_post(kCa + "/chall/h", std::string("{}"),
                                json_reply(200, challenge_json("http-01", kCa + "/chall/h", "processing", kT2))));
  const std::string error =
      R"({"type":"urn:ietf:params:acme:error:connection","detail":"127.0.0.1: Connection refused","status":400})";
  f.ca.script.push_back(ex_post(f.authz_url(2), std::nullopt,
                                json_reply(200, authz_json(name, "invalid",
                                                           challenge_json("http-01", kCa + "/chall/h", "invalid", kT2, error)))));
  IssueResult r = f.run();
  const Failure& fail = failure_of(r);
  EXPECT_EQ(fail.kind, Kind::challenge_failed);
  EXPECT_EQ(fail.message, "mta-sts.example.org: http-01: 127.0.0.1: Connection refused");
  EXPECT_EQ(fail.problem, "connection");
  EXPECT_EQ(f.responder.calls, (std::vector<std::string>{"put http-01 " + kT2 + " " + kT2 + "." + kAccountThumbprint,
                                                         "remove http-01 " + kT2}));
  f.expect_clean();
}

TEST(Client, AMalformedDirectoryIsABadResponse) {
  const std::string cases[] = {"", "not json", "[]", R"({"newNonce":"n","newAccount":"a"})",
                               R"({"newNonce":1,"newAccount":"a","newOrder":"o"})", std::string(60, '[')};
  for (const auto& body : cases) {
    Flow f;
    f.ca.script.push_back(ex_get(kCa + "/dir", json_reply(200, body)));
    IssueResult r = f.run();
    EXPECT_EQ(failure_of(r).kind, Kind::bad_response) << body;
    EXPECT_EQ(failure_of(r).message.substr(0, 9), "directory") << failure_of(r).message;
    f.expect_clean();
  }
  Flow eab;
  eab.ca.script.push_back(ex_get(kCa + "/dir", json_reply(200, R"({"newNonce":"n","newAccount":"a","newOrder":"o",
      "meta":{"externalAccountRequired":true}})")));
  EXPECT_EQ(failure_of(eab.run()).kind, Kind::config);
  eab.expect_clean();
}

TEST(Client, UrlsOutsideTheDirectorysOriginAreNeverRequested) {
  // A CA (or whoever poses as it) pointing mailkeep at a service on its loopback, or
  // anywhere else: refused before any request is made there.
  for (const std::string& foreign : {std::string("http://127.0.0.1:9090/metrics"), std::string("https://other.test/nonce"),
                                     std::string("https://ca.test:8443/nonce"), std::string("http://ca.test/nonce")}) {
    Flow f;
    f.ca.script.push_back(ex_get(kCa + "/dir", json_reply(200, R"({"newNonce":")" + foreign +
                                                                   R"(","newAccount":")" + kCa + R"(/acct","newOrder":")" +
                                                                   kCa + R"(/order"})")));
    IssueResult r = f.run();
    EXPECT_EQ(failure_of(r).kind, Kind::bad_response) << foreign;
    EXPECT_NE(failure_of(r).message.find("outside its directory's origin"), std::string::npos) << failure_of(r).message;
    f.expect_clean();  // the script had nothing for the foreign URL: it was never asked
  }
}

TEST(Client, PollingThatNeverEndsIsBoundedByCount) {
  Flow f;
  f.settings.max_polls = 4;
  f.start();
  // Pending for ever: exactly max_polls polls after the challenge, then the Failure.
  f.authz_http(1, "mail.example.org", kT1, 0);
  f.ca.script.pop_back();  // no "valid" at the end
  for (int i = 1; i < f.settings.max_polls; ++i)
    f.ca.script.push_back(ex_post(f.authz_url(1), std::nullopt,
                                  json_reply(200, authz_json("mail.example.org", "pending", Flow::challenges(kT1)))));
  f.ca.script.push_back(ex_post(f.authz_url(1), std::nullopt,
                                json_reply(200, authz_json("mail.example.org", "pending", Flow::challenges(kT1)))));
  IssueResult r = f.run();
  EXPECT_EQ(failure_of(r).kind, Kind::timeout);
  EXPECT_EQ(failure_of(r).message, "mail.example.org: the CA has not validated the name within 5s");
  EXPECT_EQ(f.responder.calls.size(), 2u);
  f.expect_clean();
}

TEST(Client, PollingThatNeverEndsIsBoundedInTimeAndHonoursRetryAfter) {
  Flow f;
  f.settings.max_polls = 1000;
  f.settings.poll_timeout = std::chrono::milliseconds(300);
  f.start();
  f.authz_valid(1, "mail.example.org");
  f.authz_valid(2, "mta-sts.example.org");
  // The order stays "pending" with Retry-After: 1: with a 300 ms budget the client waits
  // the rest of the budget (not a second), polls once more and gives up.
  HttpReply pending = json_reply(200, order_json("pending", f.names, {f.authz_url(1), f.authz_url(2)}));
  pending.retry_after = std::chrono::seconds(1);
  for (int i = 0; i < 2; ++i) f.ca.script.push_back(ex_post(kCa + "/order/1", std::nullopt, pending));
  const auto start = std::chrono::steady_clock::now();
  IssueResult r = f.run();
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(failure_of(r).kind, Kind::timeout);
  EXPECT_EQ(failure_of(r).message, "the order is still pending after 300ms");
  EXPECT_GE(took, std::chrono::milliseconds(300));
  EXPECT_LT(took, std::chrono::seconds(10));  // a hang guard, not a timing check
  f.expect_clean();
}

TEST(Client, MalformedResponsesAreBadResponses) {
  struct Case {
    std::string what;
    std::function<void(Flow&)> script;
    std::string message;
    std::size_t responder_calls;
  } cases[] = {
      {"order not JSON",
       [](Flow& f) {
         f.directory();
         f.account();
         f.ca.script.push_back(ex_post(kCa + "/order", new_order_payload(f.names), json_reply(201, "{", kCa + "/o")));
       },
       "newOrder: order is not JSON", 0},
      {"order without Location",
       [](Flow& f) {
         f.directory();
         f.account();
         f.ca.script.push_back(ex_post(kCa + "/order", new_order_payload(f.names),
                                       json_reply(201, order_json("pending", f.names, {}))));
       },
       "newOrder: no Location", 0},
      {"order for other names",
       [](Flow& f) {
         f.directory();
         f.account();
         f.ca.script.push_back(ex_post(kCa + "/order", new_order_payload(f.names),
                                       json_reply(201, order_json("pending", {"evil.example"}, {}), kCa + "/o")));
       },
       "newOrder: the order is not for the names asked", 0},
      {"account without Location",
       [](Flow& f) {
         f.directory();
         f.ca.script.push_back(ex_head_nonce());
         Exchange e = ex_post(kCa + "/acct", new_account_payload({"mailto:admin@example.org"}),
                              json_reply(201, R"({"status":"valid"})"));
         e.jwk = true;
         f.ca.script.push_back(std::move(e));
       },
       "newAccount: no Location", 0},
      {"token with a slash",
       [](Flow& f) {
         f.start();
         f.ca.script.push_back(ex_post(f.authz_url(1), std::nullopt,
                                       json_reply(200, authz_json("mail.example.org", "pending",
                                                                  Flow::challenges("../../../../etc/passwd/aaaaaaa")))));
       },
       "authorization: challenge has a token that is not base64url of at least 128 bits", 0},
      {"authorization for a name not ordered",
       [](Flow& f) {
         f.start();
         f.ca.script.push_back(ex_post(f.authz_url(1), std::nullopt,
                                       json_reply(200, authz_json("evil.example", "pending", Flow::challenges(kT1)))));
       },
       "an authorization is for a name not ordered: evil.example", 0},
      {"challenge reply not JSON",
       [](Flow& f) {
         f.start();
         f.ca.script.push_back(ex_post(f.authz_url(1), std::nullopt,
                                       json_reply(200, authz_json("mail.example.org", "pending", Flow::challenges(kT1)))));
         f.ca.script.push_back(ex_post(kCa + "/chall/h", std::string("{}"), json_reply(200, "<html>")));
       },
       "challenge is not JSON", 2},
      {"certificate that is not PEM",
       [](Flow& f) {
         f.start();
         f.authz_valid(1, "mail.example.org");
         f.authz_valid(2, "mta-sts.example.org");
         f.finish();
         f.ca.script.back().make_reply = [](const Request&) { return json_reply(200, "{}"); };
       },
       "certificate: the chain has no certificate", 0},
      {"certificate for other names",
       [](Flow& f) {
         f.start();
         f.authz_valid(1, "mail.example.org");
         f.authz_valid(2, "mta-sts.example.org");
         f.finish();
         f.ca.script.back().make_reply = [&f](const Request&) {
           return json_reply(200, f.test_ca.issue(f.csr, {"mail.example.org"}, kNotBefore, kNotAfter));
         };
       },
       "certificate: the certificate does not name mta-sts.example.org", 0},
      {"valid order without a certificate URL",
       [](Flow& f) {
         f.start();
         f.authz_valid(1, "mail.example.org");
         f.authz_valid(2, "mta-sts.example.org");
         f.ca.script.push_back(ex_post(kCa + "/order/1", std::nullopt,
                                       json_reply(200, order_json("valid", f.names, {f.authz_url(1), f.authz_url(2)}))));
       },
       "the valid order has no certificate URL", 0},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    Flow f;
    c.script(f);
    IssueResult r = f.run();
    EXPECT_EQ(failure_of(r).kind, Kind::bad_response);
    EXPECT_EQ(failure_of(r).message.substr(0, c.message.size()), c.message) << failure_of(r).message;
    EXPECT_EQ(f.responder.calls.size(), c.responder_calls);
    f.expect_clean();
  }
}

TEST(Client, InputThatCannotWorkIsAConfigFailureBeforeAnyRequest) {
  struct Case {
    std::vector<std::string> names;
    std::string account_key, cert_key;
    std::string message;
  } cases[] = {
      {kNames, "junk", "", "the ACME account key is not a PEM private key"},
      {{"*.example.org"}, kAccountKey, "", "not a DNS name: *.example.org"},
      {{}, kAccountKey, "", "a certificate needs 1 to 100 names"},
      {kNames, kAccountKey, "junk", "the certificate key is not a PEM private key"},
  };
  for (const auto& c : cases) {
    Flow f;
    if (c.cert_key.size()) f.cert_key = c.cert_key;
    f.names = c.names;
    Client client(f.ca, kCa + "/dir", c.account_key, {}, {}, f.settings);
    IssueResult r = f.run(client);
    EXPECT_EQ(failure_of(r).kind, Kind::config);
    EXPECT_EQ(failure_of(r).message, c.message);
    EXPECT_TRUE(f.ca.seen.empty());
  }
}

TEST(Client, ASecondIssueReusesTheDirectoryAccountAndNonce) {
  Flow f;
  f.start();
  f.authz_valid(1, "mail.example.org");
  f.authz_valid(2, "mta-sts.example.org");
  f.finish();
  Client client(f.ca, kCa + "/dir", kAccountKey, {"mailto:admin@example.org"}, {}, f.settings);
  ASSERT_TRUE(std::holds_alternative<Issued>(f.run(client)));
  f.expect_clean();
  // No GET directory, no HEAD newNonce, no newAccount: straight to newOrder.
  f.order(2);
  f.authz_valid(1, "mail.example.org");
  f.authz_valid(2, "mta-sts.example.org");
  f.finish();
  const std::size_t before = f.ca.seen.size();
  ASSERT_TRUE(std::holds_alternative<Issued>(f.run(client)));
  EXPECT_EQ(f.ca.seen.at(before), "POST " + kCa + "/order");
  f.expect_clean();
}

}  // namespace
}  // namespace mk::acme
