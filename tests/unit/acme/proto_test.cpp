// Tests of acme/proto.hpp: base64url (RFC 4648 §10 vectors in the url alphabet), the ACME
// objects of RFC 8555 §7.1 (its own examples, then malformed variants), problem documents,
// Retry-After, URLs and DNS names.
#include "acme/proto.hpp"

#include <gtest/gtest.h>

namespace mk::acme {
namespace {

TEST(Base64url, Rfc4648VectorsWithoutPadding) {
  struct Case {
    std::string bytes, text;
  } cases[] = {{"", ""},         {"f", "Zg"},         {"fo", "Zm8"},          {"foo", "Zm9v"},
               {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"},
               {"\xfb\xff\xfe", "-__-"}};  // the two url-safe characters
  for (const auto& c : cases) {
    EXPECT_EQ(base64url_encode(c.bytes), c.text);
    EXPECT_EQ(base64url_decode(c.text), c.bytes) << c.text;
  }
}

TEST(Base64url, RefusesWhatIsNotCanonicalBase64url) {
  for (const char* bad : {"Zg==", "Zm9v+A", "Zm9v/A", "Zm 9v", "Z", "Zh", "Zm9=", "Zm9vY"}) {
    EXPECT_FALSE(base64url_decode(bad)) << bad;
  }
}

// RFC 8555 §7.1.1's example directory.
constexpr const char* kDirectory = R"({
  "newNonce": "https://example.com/acme/new-nonce",
  "newAccount": "https://example.com/acme/new-account",
  "newOrder": "https://example.com/acme/new-order",
  "newAuthz": "https://example.com/acme/new-authz",
  "revokeCert": "https://example.com/acme/revoke-cert",
  "keyChange": "https://example.com/acme/key-change",
  "meta": {
    "termsOfService": "https://example.com/acme/terms/2017-5-30",
    "website": "https://www.example.com/",
    "caaIdentities": ["example.com"],
    "externalAccountRequired": false
  }
})";

TEST(Directory, ParsesTheRfcExample) {
  auto d = parse_directory(kDirectory);
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(d->new_nonce, "https://example.com/acme/new-nonce");
  EXPECT_EQ(d->new_account, "https://example.com/acme/new-account");
  EXPECT_EQ(d->new_order, "https://example.com/acme/new-order");
  EXPECT_EQ(d->revoke_cert, "https://example.com/acme/revoke-cert");
  EXPECT_EQ(d->key_change, "https://example.com/acme/key-change");
  EXPECT_EQ(d->terms_of_service, "https://example.com/acme/terms/2017-5-30");
  EXPECT_FALSE(d->external_account_required);
  EXPECT_EQ(d->caa_identities, std::vector<std::string>{"example.com"});
}

TEST(Directory, MalformedOnesAreErrorsThatSayWhy) {
  struct Case {
    std::string json, error;
  } cases[] = {
      {"", "directory is not JSON"},
      {"<html>Bad Gateway</html>", "directory is not JSON"},
      {"[1,2]", "directory is not a JSON object"},
      {R"({"newAccount":"a","newOrder":"o"})", R"(directory has no "newNonce")"},
      {R"({"newNonce":"n","newAccount":"a","newOrder":7})", R"(directory "newOrder" is not a string)"},
      {R"({"newNonce":"n","newAccount":"a","newOrder":"o","meta":[]})", R"(directory "meta" is not an object)"},
      {R"({"newNonce":"n","newAccount":"a","newOrder":"o","meta":{"externalAccountRequired":"no"}})",
       R"(directory meta "externalAccountRequired" is not a boolean)"},
      {R"({"newNonce":")" + std::string(kMaxString + 1, 'a') + R"(","newAccount":"a","newOrder":"o"})",
       R"(directory "newNonce" is longer than 8192 bytes)"},
      {std::string(40, '[') + std::string(40, ']'), "directory is not JSON"},  // deeper than kMaxDepth
      {std::string(kMaxDocument + 1, ' '), "directory is larger than 1048576 bytes"},
      {R"({"newNonce":"n","newAccount":"a","newOrder":"o"} trailing)", "directory is not JSON"},
  };
  for (const auto& c : cases) {
    auto d = parse_directory(c.json);
    ASSERT_FALSE(d) << c.json.substr(0, 80);
    EXPECT_EQ(d.error().message.substr(0, c.error.size()), c.error) << d.error().message;
  }
}

// RFC 8555 §7.1.3's example order, with a certificate URL.
constexpr const char* kOrder = R"({
  "status": "valid",
  "expires": "2016-01-20T14:09:07.99Z",
  "identifiers": [{ "type": "dns", "value": "www.example.org" }, { "type": "dns", "value": "example.org" }],
  "notBefore": "2016-01-01T00:00:00Z",
  "notAfter": "2016-01-08T00:00:00Z",
  "authorizations": ["https://example.com/acme/authz/PAniVnsZcis", "https://example.com/acme/authz/r4HqLzrSrpI"],
  "finalize": "https://example.com/acme/order/TOlocE8rfgo/finalize",
  "certificate": "https://example.com/acme/cert/mAt3xBGaobw"
})";

TEST(Order, ParsesTheRfcExample) {
  auto o = parse_order(kOrder);
  ASSERT_TRUE(o) << o.error().message;
  EXPECT_EQ(o->status, Status::valid);
  ASSERT_EQ(o->identifiers.size(), 2u);
  EXPECT_EQ(o->identifiers[1].type, "dns");
  EXPECT_EQ(o->identifiers[1].value, "example.org");
  EXPECT_EQ(o->authorizations.size(), 2u);
  EXPECT_EQ(o->finalize, "https://example.com/acme/order/TOlocE8rfgo/finalize");
  EXPECT_EQ(o->certificate, "https://example.com/acme/cert/mAt3xBGaobw");
  EXPECT_FALSE(o->error);
}

TEST(Order, MalformedOnesAreErrors) {
  const std::string ok_tail = R"("identifiers":[],"authorizations":[],"finalize":"f"})";
  std::string many = R"({"status":"pending","identifiers":[],"finalize":"f","authorizations":[)";
  for (std::size_t i = 0; i <= kMaxNames; ++i) many += (i ? ",\"a\"" : "\"a\"");
  many += "]}";
  struct Case {
    std::string json, error;
  } cases[] = {
      {R"({"status":"revoked",)" + ok_tail, R"(order has status "revoked", which it cannot have)"},
      {R"({"status":"done",)" + ok_tail, R"(order has status "done")"},
      {R"({"status":1,)" + ok_tail, R"(order "status" is not a string)"},
      {R"({)" + ok_tail, R"(order has no "status")"},
      {R"({"status":"pending","identifiers":[],"authorizations":[]})", R"(order has no "finalize")"},
      {R"({"status":"pending","identifiers":[],"authorizations":[1],"finalize":"f"})",
       R"(order "authorizations" has an entry that is not a string)"},
      {R"({"status":"pending","identifiers":["x"],"authorizations":[],"finalize":"f"})",
       "order has an identifier that is not an object"},
      {R"({"status":"pending","identifiers":[{"type":"dns"}],"authorizations":[],"finalize":"f"})",
       R"(order: order identifier has no "value")"},
      {R"({"status":"invalid","error":"oops",)" + ok_tail, R"(order "error" is not an object)"},
      {R"({"status":"invalid","error":{"status":"400"},)" + ok_tail,
       R"(order: problem document "status" is not an HTTP status code)"},
      {many, R"(order "authorizations" has more than 100 entries)"},
  };
  for (const auto& c : cases) {
    auto o = parse_order(c.json);
    ASSERT_FALSE(o) << c.json.substr(0, 100);
    EXPECT_EQ(o.error().message.substr(0, c.error.size()), c.error) << o.error().message;
  }
}

// RFC 8555 §7.1.4's example authorization (tokens lengthened: §8.1 asks for 128 bits).
constexpr const char* kAuthorization = R"({
  "status": "pending",
  "expires": "2016-01-02T14:09:30Z",
  "identifier": { "type": "dns", "value": "www.example.org" },
  "challenges": [
    { "type": "http-01", "url": "https://example.com/acme/chall/prV_B7yEyA4",
      "status": "pending", "token": "DGyRejmCefe7v4NfDGDKfA-0123456789_abcdefgh" },
    { "type": "dns-01", "url": "https://example.com/acme/chall/Rg5dV14Gh1Q",
      "status": "pending", "token": "DGyRejmCefe7v4NfDGDKfA" },
    { "type": "tls-alpn-01", "url": "https://example.com/acme/chall/x", "status": "invalid",
      "token": "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA",
      "error": { "type": "urn:ietf:params:acme:error:tls", "detail": "handshake failed" } }
  ]
})";

TEST(Authorization, ParsesTheRfcExample) {
  auto a = parse_authorization(kAuthorization);
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_EQ(a->status, Status::pending);
  EXPECT_EQ(a->identifier.value, "www.example.org");
  EXPECT_FALSE(a->wildcard);
  ASSERT_EQ(a->challenges.size(), 3u);
  EXPECT_EQ(a->challenges[0].type, "http-01");
  EXPECT_EQ(a->challenges[0].url, "https://example.com/acme/chall/prV_B7yEyA4");
  EXPECT_EQ(a->challenges[0].token, "DGyRejmCefe7v4NfDGDKfA-0123456789_abcdefgh");
  EXPECT_EQ(a->challenges[2].status, Status::invalid);
  ASSERT_TRUE(a->challenges[2].error);
  EXPECT_EQ(a->challenges[2].error->acme_error(), "tls");
  EXPECT_EQ(a->challenges[2].error->detail, "handshake failed");
}

TEST(Authorization, MalformedOnesAreErrors) {
  auto with_challenge = [](const std::string& ch) {
    return R"({"status":"pending","identifier":{"type":"dns","value":"a.example"},"challenges":[)" + ch + "]}";
  };
  std::string many;
  for (std::size_t i = 0; i <= kMaxChallenges; ++i)
    many += std::string(i ? "," : "") + R"({"type":"dns-01","url":"u","status":"pending"})";
  struct Case {
    std::string json, error;
  } cases[] = {
      {with_challenge(R"({"type":"http-01","url":"u","status":"pending","token":"../../etc/passwd-aaaaaaaaaaa"})"),
       "authorization: challenge has a token that is not base64url"},
      {with_challenge(R"({"type":"http-01","url":"u","status":"pending","token":"short"})"),
       "authorization: challenge has a token that is not base64url of at least 128 bits"},
      {with_challenge(R"({"type":"tls-alpn-01","url":"u","status":"pending"})"),
       "authorization: challenge has a token that is not base64url"},
      {with_challenge(R"({"type":"http-01","url":"u","status":"ready","token":"DGyRejmCefe7v4NfDGDKfA"})"),
       R"(authorization: challenge has status "ready", which it cannot have)"},
      {with_challenge(R"({"url":"u","status":"pending"})"), R"(authorization: challenge has no "type")"},
      {with_challenge(R"("http-01")"), "authorization has a challenge that is not an object"},
      {with_challenge(many), R"(authorization "challenges" has more than 16 entries)"},
      {R"({"status":"pending","challenges":[]})", R"(authorization has no "identifier")"},
      {R"({"status":"ready","identifier":{"type":"dns","value":"a"},"challenges":[]})",
       R"(authorization has status "ready", which it cannot have)"},
      {R"({"status":"pending","identifier":{"type":"dns","value":"a"},"challenges":{}})",
       R"(authorization "challenges" is not an array)"},
      {R"({"status":"pending","identifier":{"type":"dns","value":"a"},"challenges":[],"wildcard":1})",
       R"(authorization "wildcard" is not a boolean)"},
  };
  for (const auto& c : cases) {
    auto a = parse_authorization(c.json);
    ASSERT_FALSE(a) << c.json.substr(0, 120);
    EXPECT_EQ(a.error().message.substr(0, c.error.size()), c.error) << a.error().message;
  }
}

TEST(Account, ParsesAndChecksItsStates) {
  auto a = parse_account(R"({"status":"valid","contact":["mailto:a@example.org"],"orders":"https://x/o"})");
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_EQ(a->status, Status::valid);
  EXPECT_EQ(a->contact, std::vector<std::string>{"mailto:a@example.org"});
  EXPECT_EQ(parse_account(R"({"status":"deactivated"})")->status, Status::deactivated);
  EXPECT_FALSE(parse_account(R"({"status":"pending"})"));
  EXPECT_FALSE(parse_account(R"({"status":"valid","contact":"mailto:a@example.org"})"));
}

// RFC 8555 §6.7.1's example with subproblems.
TEST(Problem, ParsesTheRfcExampleWithSubproblems) {
  auto p = parse_problem(R"({
    "type": "urn:ietf:params:acme:error:malformed",
    "detail": "Some of the identifiers requested were rejected",
    "subproblems": [
      { "type": "urn:ietf:params:acme:error:malformed", "detail": "Invalid underscore in DNS name \"_example.org\"",
        "identifier": { "type": "dns", "value": "_example.org" } },
      { "type": "urn:ietf:params:acme:error:rejectedIdentifier", "detail": "This CA will not issue for \"example.net\"",
        "identifier": { "type": "dns", "value": "example.net" } }
    ]
  })");
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->acme_error(), "malformed");
  ASSERT_EQ(p->subproblems.size(), 2u);
  EXPECT_EQ(p->subproblems[1].acme_error(), "rejectedIdentifier");
  EXPECT_EQ(p->describe(),
            "Some of the identifiers requested were rejected; _example.org: Invalid underscore in DNS name "
            "\"_example.org\"; example.net: This CA will not issue for \"example.net\"");
}

TEST(Problem, TypesAndStatus) {
  struct Case {
    std::string json;
    std::string acme_error;
    int status;
    std::string describe;
  } cases[] = {
      {R"({"type":"urn:ietf:params:acme:error:badNonce","detail":"JWS has an invalid anti-replay nonce","status":400})",
       "badNonce", 400, "JWS has an invalid anti-replay nonce"},
      {R"({"type":"urn:ietf:params:acme:error:rateLimited"})", "rateLimited", 0,
       "urn:ietf:params:acme:error:rateLimited"},
      {R"({"type":"https://example.com/probs/out-of-credit","detail":"x"})", "", 0, "x"},
      {R"({"detail":"no type"})", "", 0, "no type"},  // RFC 7807 §4.2: about:blank
  };
  for (const auto& c : cases) {
    auto p = parse_problem(c.json);
    ASSERT_TRUE(p) << c.json;
    EXPECT_EQ(p->acme_error(), c.acme_error);
    EXPECT_EQ(p->status, c.status);
    EXPECT_EQ(p->describe(), c.describe);
  }
  EXPECT_FALSE(parse_problem(R"({"type":5})"));
  EXPECT_FALSE(parse_problem(R"({"subproblems":[{"subproblems":"x"}, 3]})"));
}

TEST(Payloads, AreCompactJsonWithEscaping) {
  EXPECT_EQ(new_account_payload({}), R"({"termsOfServiceAgreed":true})");
  EXPECT_EQ(new_account_payload({"mailto:a@example.org", "mailto:\"b\"@example.org"}),
            R"({"termsOfServiceAgreed":true,"contact":["mailto:a@example.org","mailto:\"b\"@example.org"]})");
  EXPECT_EQ(new_order_payload({"mail.example.org", "mta-sts.example.org"}),
            R"({"identifiers":[{"type":"dns","value":"mail.example.org"},{"type":"dns","value":"mta-sts.example.org"}]})");
  EXPECT_EQ(finalize_payload(std::string("\x30\x82\xff", 3)), R"({"csr":"MIL_"})");
}

TEST(RetryAfter, SecondsAndDates) {
  const std::int64_t now = 784111777;  // Sun, 06 Nov 1994 08:49:37 GMT
  struct Case {
    std::string value;
    std::optional<std::int64_t> seconds;
  } cases[] = {
      {"120", 120},
      {" 0 ", 0},
      {"Sun, 06 Nov 1994 08:51:37 GMT", 120},
      {"Sun, 06 Nov 1994 08:49:37 GMT", 0},
      {"Sat, 05 Nov 1994 08:49:37 GMT", 0},  // in the past
      {"999999999999999999999", 86400 * 365},  // clamped, no overflow
      {"-5", std::nullopt},
      {"1.5", std::nullopt},
      {"", std::nullopt},
      {"Sunday, 06-Nov-94 08:49:37 GMT", std::nullopt},  // RFC 850 form: obsolete
      {"Sun, 06 Nov 1994 25:49:37 GMT", std::nullopt},
      {"Sun, 06 Foo 1994 08:49:37 GMT", std::nullopt},
  };
  for (const auto& c : cases) {
    auto r = parse_retry_after(c.value, now);
    if (!c.seconds) {
      EXPECT_FALSE(r) << c.value;
    } else {
      ASSERT_TRUE(r) << c.value;
      EXPECT_EQ(r->count(), *c.seconds) << c.value;
    }
  }
}

TEST(Url, ParsesWhatTheTransportNeeds) {
  struct Case {
    std::string text;
    bool https;
    std::string host;
    int port;
    std::string target;
    bool ip;
  } cases[] = {
      {"https://acme-v02.api.letsencrypt.org/directory", true, "acme-v02.api.letsencrypt.org", 443, "/directory",
       false},
      {"https://127.0.0.1:14000/dir", true, "127.0.0.1", 14000, "/dir", true},
      {"http://[::1]:8080/a?b=c", false, "::1", 8080, "/a?b=c", true},
      {"HTTPS://CA.Example", true, "ca.example", 443, "/", false},
      {"https://ca.example?x", true, "ca.example", 443, "/?x", false},
  };
  for (const auto& c : cases) {
    auto u = parse_url(c.text);
    ASSERT_TRUE(u) << c.text << ": " << u.error().message;
    EXPECT_EQ(u->https, c.https);
    EXPECT_EQ(u->host, c.host);
    EXPECT_EQ(u->port, c.port);
    EXPECT_EQ(u->target, c.target);
    EXPECT_EQ(u->ip_literal, c.ip);
  }
  for (const char* bad : {"ftp://ca.example/", "https://user@evil.example@ca.example/", "https://ca.example/#frag",
                          "https://ca.example:0/", "https://ca.example:65536/", "https:///dir", "https://[::1/",
                          "https://ca.example/a b", "https://ca exa.mple/", "https://[127.0.0.1]/"}) {
    EXPECT_FALSE(parse_url(bad)) << bad;
  }
  EXPECT_TRUE(is_loopback_host(*parse_url("http://127.0.0.2:1/")));
  EXPECT_TRUE(is_loopback_host(*parse_url("http://[::1]/")));
  EXPECT_TRUE(is_loopback_host(*parse_url("http://localhost/")));
  EXPECT_FALSE(is_loopback_host(*parse_url("http://128.0.0.1/")));
  EXPECT_FALSE(is_loopback_host(*parse_url("http://localhost.example/")));
}

TEST(DnsName, OnlyWhatHttp01AndTlsAlpn01CanProve) {
  for (const char* good : {"mail.example.org", "MTA-STS.example.org", "a.b", "xn--bcher-kva.example"})
    EXPECT_TRUE(is_valid_dns_name(good)) << good;
  for (const char* bad : {"", "localhost", "*.example.org", "-a.example", "a-.example", "a..example", "a.example.",
                          "a_b.example", "a b.example", "192.0.2.1x!"})
    EXPECT_FALSE(is_valid_dns_name(bad)) << bad;
  EXPECT_FALSE(is_valid_dns_name(std::string(64, 'a') + ".example"));
}

}  // namespace
}  // namespace mk::acme
