"""The JSON API (/api/v1/) of the real server over HTTPS, as a browser's session and as
automation with a token: the login and its cookie, CSRF, who may reach what, the security log,
brute-force bans, an app password made over the API and used by imaplib, a hold released, and
the OpenAPI document checked against the implementation: every operation it names is called,
answers the status it documents, and its body validates against the documented JSON Schema
(python3-jsonschema). A new route without a call here fails the test."""
import imaplib
import json
import re
import smtplib
import sqlite3
import time
import unittest
import urllib.parse

import jsonschema

import mkharness as mk
import rig as rigmod
from webapi import Client, totp_code

SECOND = "sender@localhost"
SECOND_PW = "a second account's long password"


def q(s):
    return urllib.parse.quote(s, safe="@")


class ApiTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # A real queue (paused: mail waits in it), and a tight budget so a hold can be made.
        # The test DNS (dnslib) answers the live check of a domain's records.
        cls.dns = rigmod.Dns()
        cls.srv = mk.Server(extra_config={"server.dev": "false", "outbound.paused": "true",
                                          "security.max_new_recipients_per_hour": "3",
                                          "web.self_release": "true",
                                          "dns.upstream": '["127.0.0.1@%d"]' % cls.dns.port,
                                          "dns.dnssec": "false"}).start()
        cls.admin = Client(cls.srv)
        a = cls.admin.login()
        assert a.status == 200, a

    @classmethod
    def tearDownClass(cls):
        mk.stop_all(cls.srv, cls.dns)

    def audit(self):
        with open(self.srv.dir + "/security.log") as f:
            return [json.loads(line) for line in f if line.strip()]

    def ensure_second(self):
        if self.admin.get("/api/v1/accounts/" + q(SECOND)).status == 404:
            a = self.admin.post("/api/v1/accounts", {"address": SECOND, "password": SECOND_PW})
            self.assertEqual(a.status, 201, a)

    def test_login_cookie_is_strict_and_the_answer_names_the_admin(self):
        c = Client(self.srv)
        a = c.login()
        self.assertEqual(a.status, 200, a)
        cookie = a.header("Set-Cookie")[0]
        self.assertTrue(cookie.startswith("__Host-mk_session="), cookie)
        for attr in ("Path=/", "Secure", "HttpOnly", "SameSite=Strict"):
            self.assertIn(attr, [p.strip() for p in cookie.split(";")])
        self.assertEqual(a.json["address"], "me@localhost")
        self.assertTrue(a.json["admin"])
        self.assertEqual(a.header("Content-Type"), ["application/json"])
        self.assertIn("default-src 'none'", a.header("Content-Security-Policy")[0])
        self.assertEqual(a.header("Cache-Control"), ["no-store"])
        # The secret reaches neither the security log nor the server's log.
        secret = cookie.split(";")[0].split("=", 1)[1]
        with open(self.srv.dir + "/security.log") as f:
            self.assertNotIn(secret, f.read())
        self.assertNotIn(secret, self.srv.stderr())
        self.assertEqual(c.delete("/api/v1/session").status, 204)
        self.assertEqual(c.get("/api/v1/me").status, 401)

    def test_wrong_password_is_refused_and_recorded(self):
        c = Client(self.srv)
        a = c.login(password="not the password")
        self.assertEqual(a.status, 401)
        self.assertEqual(a.code, "login_failed")
        self.assertTrue(any(r.get("event") == "login_failed" and r.get("service") == "web" for r in self.audit()))

    def test_a_change_without_the_csrf_token_is_refused(self):
        a = self.admin.post("/api/v1/domains", {"name": "csrf.example"}, csrf=False)
        self.assertEqual(a.status, 403)
        self.assertEqual(a.code, "csrf")
        self.assertNotIn("csrf.example", self.admin.get("/api/v1/domains").json)
        # A cross-site form post carries no JSON and no token either.
        a = self.admin.request("POST", "/api/v1/domains", raw=b"name=csrf.example", csrf=False,
                               headers={"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(a.status, 403)

    def test_a_user_reaches_only_their_own_account(self):
        self.ensure_second()
        user = Client(self.srv)
        self.assertEqual(user.login(SECOND, SECOND_PW).status, 200)
        for path in ("/api/v1/accounts", "/api/v1/accounts/me%40localhost", "/api/v1/queue", "/api/v1/holds",
                     "/api/v1/bans", "/api/v1/security/log", "/api/v1/tokens", "/api/v1/domains"):
            self.assertEqual(user.get(path).status, 403, path)
        self.assertEqual(user.post("/api/v1/domains", {"name": "x.example"}).status, 403)
        self.assertEqual(user.delete("/api/v1/accounts/me%40localhost").status, 403)
        self.assertEqual(user.get("/api/v1/me").json["address"], SECOND)
        # The admin's sessions, by id: not the user's to end.
        admin_sessions = [s["id"] for s in self.admin.get("/api/v1/me/sessions").json]
        for sid in admin_sessions:
            self.assertEqual(user.delete("/api/v1/me/sessions/%d" % sid).status, 404)
        self.assertEqual(self.admin.get("/api/v1/me").status, 200)
        # The user's cookie with the admin's CSRF token is still only the user.
        mixed = Client(self.srv)
        mixed.cookie, mixed.csrf = user.cookie, self.admin.csrf
        self.assertEqual(mixed.post("/api/v1/me/app-passwords", {"name": "x"}).status, 403)

    def test_app_password_made_over_the_api_logs_in_to_imap(self):
        a = self.admin.post("/api/v1/me/app-passwords", {"name": "laptop", "scopes": "imap", "password": mk.PASSWORD})
        self.assertEqual(a.status, 201, a)
        pw = a.json["password"]
        with imaplib.IMAP4_SSL("127.0.0.1", self.srv.imaps_port, ssl_context=mk.client_tls_context()) as m:
            self.assertEqual(m.login("me@localhost", pw)[0], "OK")
        listed = self.admin.get("/api/v1/me/app-passwords").json
        laptop = [p for p in listed if p["name"] == "laptop"][0]
        self.assertNotIn("password", laptop)
        self.assertGreater(laptop["last_used"], 0)
        self.assertEqual(self.admin.delete("/api/v1/me/app-passwords/laptop").status, 204)
        with imaplib.IMAP4_SSL("127.0.0.1", self.srv.imaps_port, ssl_context=mk.client_tls_context()) as m:
            with self.assertRaises(imaplib.IMAP4.error):
                m.login("me@localhost", pw)

    def test_tokens(self):
        a = self.admin.post("/api/v1/tokens", {"name": "monitoring", "password": mk.PASSWORD})
        self.assertEqual(a.status, 201, a)
        reader = Client(self.srv, token=a.json["token"])
        self.assertEqual(reader.get("/api/v1/accounts").status, 200)
        # A token is for the admin routes: not the admin's own account, not more tokens.
        self.assertEqual(reader.get("/api/v1/me").status, 403)
        self.assertEqual(reader.post("/api/v1/me/app-passwords", {"name": "stolen"}).status, 403)
        self.assertEqual(reader.post("/api/v1/tokens", {"name": "more"}).status, 403)
        self.assertEqual(reader.post("/api/v1/domains", {"name": "t.example"}).status, 403)
        a = self.admin.post("/api/v1/tokens", {"name": "deploy", "write": True, "password": mk.PASSWORD})
        writer = Client(self.srv, token=a.json["token"])
        self.assertEqual(writer.put("/api/v1/me/password", {"current": mk.PASSWORD, "new": "x" * 20}).status, 403)
        self.assertEqual(writer.post("/api/v1/domains", {"name": "t.example"}).status, 201)
        self.assertEqual(writer.delete("/api/v1/domains/t.example").status, 204)
        actions = [r for r in self.audit() if r.get("event") == "web_action" and r.get("action") == "domain_added"
                   and r.get("domain") == "t.example"]
        self.assertEqual(actions[-1]["via"], "token")
        self.assertEqual(actions[-1]["by"], "me@localhost")
        self.assertEqual(self.admin.delete("/api/v1/tokens/monitoring").status, 204)
        self.assertEqual(reader.get("/api/v1/accounts").status, 401)
        self.assertEqual(self.admin.delete("/api/v1/tokens/deploy").status, 204)

    def test_openapi_document_matches_the_implementation(self):
        doc = Client(self.srv).get("/api/v1/openapi.json")
        self.assertEqual(doc.status, 200)
        spec = doc.json
        self.assertEqual(spec["openapi"], "3.1.0")
        documented = {(m.upper(), p) for p, item in spec["paths"].items() for m in item}
        calls = self.conformance_calls()
        self.assertEqual(documented, set(calls), "operations without a call here, or calls of no operation")
        error_schema = spec["components"]["schemas"]["Error"]
        for (method, path), call in calls.items():
            op = spec["paths"][path][method.lower()]
            ((status, response),) = [(int(s), r) for s, r in op["responses"].items() if s != "default"]
            with self.subTest(op="%s %s" % (method, path)):
                client, concrete, body = call()
                a = client.request(method, concrete, body)
                self.assertEqual(a.status, status, "%s %s -> %r" % (method, concrete, a))
                if status != 204:
                    schema = response["content"]["application/json"]["schema"]
                    jsonschema.validate(a.json, schema)
                # Every operation also answers an error in the documented shape.
                if op.get("x-access") != "anyone":
                    e = Client(self.srv).request(method, concrete, body)
                    self.assertEqual(e.status, 401)
                    jsonschema.validate(e.json, error_schema)

    def test_a_queued_message_goes_back_to_its_sender(self):
        self.srv.submit(["far-away@remote.example"], "to be returned")
        (m,) = [m for m in self.admin.get("/api/v1/queue?q=far-away").json]
        a = self.admin.post("/api/v1/queue/%d/bounce" % m["id"], {"reason": "the address is wrong, ask Bob"})
        self.assertEqual((a.status, a.json), (200, {"recipients": 1}), a)
        self.assertEqual(self.admin.get("/api/v1/queue?q=far-away").json, [])
        # The sender (hosted here) finds the bounce in the inbox: a DSN with the reason.
        bounce = mk.wait_for(lambda: [b for _, b in self.srv.messages() if b"far-away@remote.example" in b and
                                      b"multipart/report" in b], "no bounce in the sender's inbox")
        self.assertIn(b"Status: 5.0.0", bounce[0])
        self.assertIn(b"the address is wrong, ask Bob", bounce[0])
        self.assertIn(b"to be returned", bounce[0])  # the original, or its header
        self.assertEqual(self.admin.post("/api/v1/queue/999999/bounce", {}).status, 404)

    def test_long_lists_come_in_pages(self):
        for i in range(5):
            a = "pager%d@localhost" % i
            if self.admin.get("/api/v1/accounts/" + a).status == 404:
                self.assertEqual(self.admin.post("/api/v1/accounts", {"address": a, "password": "a long enough password"}).status, 201)
        seen, path = [], "/api/v1/accounts?q=PAGER&limit=2"
        for _ in range(5):
            a = self.admin.get(path)
            self.assertEqual(a.status, 200, a)
            seen += [x["address"] for x in a.json]
            link = a.header("Link")
            if not link:
                break
            path = re.match(r"<([^>]+)>; rel=\"next\"", link[0]).group(1)
        self.assertEqual(seen, ["pager%d@localhost" % i for i in range(5)])
        self.assertEqual(len(self.admin.get("/api/v1/accounts?limit=1").json), 1)
        for bad in ("limit=0", "limit=1001", "limit=x"):
            self.assertEqual(self.admin.get("/api/v1/accounts?" + bad).status, 400, bad)
        after = self.admin.get("/api/v1/accounts?q=pager&after=pager3%40localhost").json
        self.assertEqual([x["address"] for x in after], ["pager4@localhost"])
        self.assertEqual(self.admin.get("/api/v1/queue?q=nobody-at-all&limit=5").json, [])

    def test_the_live_check_reads_each_record_as_published(self):
        domain = "live.example"
        if self.admin.get("/api/v1/domains/%s/dns" % domain).status == 404:
            self.assertEqual(self.admin.post("/api/v1/domains", {"name": domain}).status, 201)
        records = self.admin.get("/api/v1/domains/%s/dns" % domain).json["records"]
        z = self.dns.zones
        for r in records:
            owner = r["owner"].rstrip(".")
            if r["type"] == "MX" and owner == domain:
                pref, host = r["value"].split()
                z.add(owner, "MX", (host, int(pref)))
            elif r["type"] == "TXT" and owner == domain:  # SPF: as asked
                z.add(owner, "TXT", "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', r["value"])))
        # Checked once before DMARC is published (a cached NXDOMAIN must not hide what follows).
        first = self.admin.get("/api/v1/domains/%s/dns/check" % domain)
        self.assertEqual(first.status, 200, first)
        before = {f["subject"]: f for f in first.json["findings"]}["_dmarc.%s TXT (DMARC)" % domain]
        self.assertIn("not published", before["problem"])
        z.add("_dmarc." + domain, "TXT", "v=DMARC1; p=none")  # not what was asked
        a = self.admin.get("/api/v1/domains/%s/dns/check" % domain)
        self.assertEqual(a.status, 200, a)
        by_subject = {f["subject"]: f for f in a.json["findings"]}
        self.assertEqual(by_subject["%s MX" % domain]["outcome"], "ok", a.json)
        self.assertEqual(by_subject["%s TXT (SPF)" % domain]["outcome"], "ok", a.json)
        dmarc = by_subject["_dmarc.%s TXT (DMARC)" % domain]
        self.assertEqual(dmarc["outcome"], "fail")
        self.assertTrue(dmarc["problem"] and dmarc["fix"], dmarc)
        dkim = [f for s, f in by_subject.items() if "._domainkey.%s" % domain in s]
        self.assertTrue(dkim and all(f["outcome"] == "fail" for f in dkim), a.json)  # not published
        self.assertEqual(self.admin.get("/api/v1/domains/nowhere.example/dns/check").status, 404)
        # Reports and checks are the admin's.
        self.ensure_second()
        user = Client(self.srv)
        self.assertEqual(user.login(SECOND, SECOND_PW).status, 200)
        for path in ("/api/v1/domains/%s/dns/check" % domain, "/api/v1/reports/spam", "/api/v1/reports/dmarc",
                     "/api/v1/reports/security", "/api/v1/check"):
            self.assertEqual(user.get(path).status, 403, path)

    def conformance_calls(self):
        """One call per documented operation: (client, concrete path, body), with the state it
        needs made first."""
        admin = self.admin
        self.ensure_second()

        def fresh_admin():
            c = Client(self.srv)
            assert c.login().status == 200
            return c

        def queued_id():
            ids = [m["id"] for m in admin.get("/api/v1/queue").json]
            if ids:
                return ids[0]
            self.srv.submit(["queued@remote.example"], "for the queue")
            return admin.get("/api/v1/queue").json[0]["id"]

        def held():
            if not any(h["address"] == SECOND for h in admin.get("/api/v1/holds").json):
                for i in range(5):
                    try:
                        self.srv.submit([unique("friend") + "@remote.example"], "burst %d" % i, user=SECOND,
                                        password=SECOND_PW)
                    except smtplib.SMTPException:
                        break
            return SECOND

        def banned():
            db = sqlite3.connect(self.srv.dir + "/index.sqlite", timeout=30)
            db.execute("INSERT OR REPLACE INTO bans(key, until, count, reason, created) VALUES(?, ?, 1, ?, ?)",
                       ("198.51.100.77", int(time.time()) + 3600, "test", int(time.time())))
            db.commit()
            db.close()
            return "198.51.100.77"

        def with_app_password():
            admin.post("/api/v1/me/app-passwords", {"name": "conformance", "password": mk.PASSWORD})
            return "conformance"

        def with_token():
            admin.post("/api/v1/tokens", {"name": "conformance", "password": mk.PASSWORD})
            return "conformance"

        def with_share_token():
            admin.post("/api/v1/me/share-tokens", {"name": "conformance-device"})
            return "conformance-device"

        def other_session():
            fresh_admin()
            mine = [s for s in admin.get("/api/v1/me/sessions").json if not s["current"]]
            return mine[0]["id"]

        def removable_account():
            admin.post("/api/v1/accounts", {"address": "gone@localhost", "password": "a password to be removed"})
            return "gone@localhost"

        def removable_alias():
            admin.post("/api/v1/aliases", {"address": "old-alias@localhost", "target": "me@localhost"})
            return "old-alias@localhost"

        def removable_domain():
            admin.post("/api/v1/domains", {"name": "removable.example"})
            return "removable.example"

        def password_user():
            c = Client(self.srv)
            admin.post("/api/v1/accounts", {"address": "changer@localhost", "password": "the first long password"})
            assert c.login("changer@localhost", "the first long password").status == 200
            return c

        def totp_user():
            c = Client(self.srv)
            address = unique("totp") + "@localhost"
            admin.post("/api/v1/accounts", {"address": address, "password": "a totp user's password"})
            assert c.login(address, "a totp user's password").status == 200
            return c

        def enrolled_user():
            c = totp_user()
            e = c.post("/api/v1/me/totp").json
            a = c.put("/api/v1/me/totp", {"secret": e["secret"], "code": totp_code(e["secret"]),
                                          "password": "a totp user's password"})
            assert a.status == 204, a
            return c, e["secret"]

        def enrolment():
            c = totp_user()
            e = c.post("/api/v1/me/totp").json
            return c, {"secret": e["secret"], "code": totp_code(e["secret"]), "password": "a totp user's password"}

        def disable():
            c, secret = enrolled_user()
            return c, "/api/v1/me/totp?code=" + totp_code(secret, 30), None

        def held_user():
            """A new account, held by a burst to new recipients, logged in."""
            address = unique("burst") + "@localhost"
            admin.post("/api/v1/accounts", {"address": address, "password": "a bursting user's password"})
            for i in range(5):
                try:
                    self.srv.submit([unique("to") + "@remote.example"], "burst %d" % i, user=address,
                                    password="a bursting user's password")
                except smtplib.SMTPException:
                    break
            c = Client(self.srv)
            assert c.login(address, "a bursting user's password").status == 200
            assert c.get("/api/v1/me").json["held"], "not held"
            return c

        def forwarding_user():
            """A new account, logged in, with its password (forwarding it moves no one else's mail)."""
            address = unique("fwd") + "@localhost"
            admin.post("/api/v1/accounts", {"address": address, "password": "a forwarding user's password"})
            c = Client(self.srv)
            assert c.login(address, "a forwarding user's password").status == 200
            return c

        n = [0]

        def unique(prefix):
            n[0] += 1
            return "%s%d-%d" % (prefix, n[0], int(time.time() * 1000) % 100000)

        return {
            ("POST", "/api/v1/session"): lambda: (Client(self.srv), "/api/v1/session",
                                                  {"address": "me@localhost", "password": mk.PASSWORD}),
            ("GET", "/api/v1/session"): lambda: (admin, "/api/v1/session", None),
            ("DELETE", "/api/v1/session"): lambda: (fresh_admin(), "/api/v1/session", None),
            ("GET", "/api/v1/me"): lambda: (admin, "/api/v1/me", None),
            ("PUT", "/api/v1/me/password"): lambda: (password_user(), "/api/v1/me/password",
                                                     {"current": "the first long password",
                                                      "new": "the second, longer password"}),
            ("GET", "/api/v1/me/app-passwords"): lambda: (admin, "/api/v1/me/app-passwords", None),
            ("POST", "/api/v1/me/app-passwords"): lambda: (admin, "/api/v1/me/app-passwords",
                                                           {"name": unique("phone"), "password": mk.PASSWORD}),
            ("DELETE", "/api/v1/me/app-passwords/{name}"): lambda: (
                admin, "/api/v1/me/app-passwords/" + with_app_password(), None),
            ("GET", "/api/v1/me/sessions"): lambda: (admin, "/api/v1/me/sessions", None),
            # No site is allowed here: the share is refused and the link still filed (test_share).
            ("POST", "/api/v1/share"): lambda: (admin, "/api/v1/share", {"url": "http://127.0.0.1:9/", "tag": "api"}),
            ("GET", "/api/v1/me/share-tokens"): lambda: (admin, "/api/v1/me/share-tokens", None),
            ("POST", "/api/v1/me/share-tokens"): lambda: (admin, "/api/v1/me/share-tokens", {"name": unique("device")}),
            ("DELETE", "/api/v1/me/share-tokens/{name}"): lambda: (
                admin, "/api/v1/me/share-tokens/" + with_share_token(), None),
            ("GET", "/api/v1/me/events"): lambda: (admin, "/api/v1/me/events", None),
            ("GET", "/api/v1/me/forward"): lambda: (admin, "/api/v1/me/forward", None),
            ("PUT", "/api/v1/me/forward"): lambda: (forwarding_user(), "/api/v1/me/forward",
                                                    {"to": "away@remote.example", "keep": True,
                                                     "password": "a forwarding user's password"}),
            ("DELETE", "/api/v1/me/forward"): lambda: (forwarding_user(), "/api/v1/me/forward", None),
            ("PUT", "/api/v1/accounts/{address}/forward"): lambda: (
                admin, "/api/v1/accounts/%s/forward" % q(SECOND), {"to": "second@remote.example"}),
            ("DELETE", "/api/v1/accounts/{address}/forward"): lambda: (
                admin, "/api/v1/accounts/%s/forward" % q(SECOND), None),
            ("POST", "/api/v1/me/totp"): lambda: (admin, "/api/v1/me/totp", None),
            ("PUT", "/api/v1/me/totp"): lambda: (lambda c, b: (c, "/api/v1/me/totp", b))(*enrolment()),
            ("DELETE", "/api/v1/me/totp"): disable,
            ("GET", "/api/v1/dashboard"): lambda: (admin, "/api/v1/dashboard", None),
            ("POST", "/api/v1/me/hold/request"): lambda: (held_user(), "/api/v1/me/hold/request", {"note": "not me"}),
            ("POST", "/api/v1/me/hold/release"): lambda: (held_user(), "/api/v1/me/hold/release",
                                                          {"current": "a bursting user's password",
                                                           "new": "a new bursting user's password"}),
            ("GET", "/api/v1/queue/{id}"): lambda: (admin, "/api/v1/queue/%d" % queued_id(), None),
            ("DELETE", "/api/v1/me/sessions/{id}"): lambda: (admin, "/api/v1/me/sessions/%d" % other_session(), None),
            ("GET", "/api/v1/domains"): lambda: (admin, "/api/v1/domains", None),
            ("POST", "/api/v1/domains"): lambda: (admin, "/api/v1/domains", {"name": unique("d") + ".example"}),
            ("DELETE", "/api/v1/domains/{domain}"): lambda: (admin, "/api/v1/domains/" + removable_domain(), None),
            ("GET", "/api/v1/domains/{domain}/dns"): lambda: (admin, "/api/v1/domains/localhost/dns", None),
            ("GET", "/api/v1/reports/spam"): lambda: (admin, "/api/v1/reports/spam?days=3", None),
            ("GET", "/api/v1/reports/dmarc"): lambda: (admin, "/api/v1/reports/dmarc", None),
            ("GET", "/api/v1/reports/security"): lambda: (admin, "/api/v1/reports/security", None),
            ("GET", "/api/v1/check"): lambda: (admin, "/api/v1/check", None),
            ("GET", "/api/v1/domains/{domain}/dns/check"): lambda: (admin, "/api/v1/domains/localhost/dns/check", None),
            ("GET", "/api/v1/accounts"): lambda: (admin, "/api/v1/accounts", None),
            ("POST", "/api/v1/accounts"): lambda: (admin, "/api/v1/accounts",
                                                   {"address": unique("new") + "@localhost",
                                                    "password": "a long enough password"}),
            ("GET", "/api/v1/accounts/{address}"): lambda: (admin, "/api/v1/accounts/" + q(SECOND), None),
            ("DELETE", "/api/v1/accounts/{address}"): lambda: (admin, "/api/v1/accounts/" + q(removable_account()),
                                                               None),
            ("PUT", "/api/v1/accounts/{address}/quota"): lambda: (admin, "/api/v1/accounts/%s/quota" % q(SECOND),
                                                                  {"bytes": 1 << 30}),
            ("GET", "/api/v1/aliases"): lambda: (admin, "/api/v1/aliases", None),
            ("POST", "/api/v1/aliases"): lambda: (admin, "/api/v1/aliases",
                                                  {"address": unique("alias") + "@localhost", "target": SECOND}),
            ("DELETE", "/api/v1/aliases/{address}"): lambda: (admin, "/api/v1/aliases/" + q(removable_alias()), None),
            ("GET", "/api/v1/queue"): lambda: (admin, "/api/v1/queue", None),
            ("POST", "/api/v1/queue/{id}/hold"): lambda: (admin, "/api/v1/queue/%d/hold" % queued_id(), None),
            ("POST", "/api/v1/queue/{id}/release"): lambda: (admin, "/api/v1/queue/%d/release" % queued_id(), None),
            ("POST", "/api/v1/queue/{id}/retry"): lambda: (admin, "/api/v1/queue/%d/retry" % queued_id(), None),
            ("POST", "/api/v1/queue/{id}/drop"): lambda: (admin, "/api/v1/queue/%d/drop" % queued_id(), None),
            ("POST", "/api/v1/queue/{id}/bounce"): lambda: (admin, "/api/v1/queue/%d/bounce" % queued_id(),
                                                            {"reason": "conformance"}),
            ("GET", "/api/v1/holds"): lambda: (admin, "/api/v1/holds", None),
            ("POST", "/api/v1/holds/{address}/release"): lambda: (admin, "/api/v1/holds/%s/release" % q(held()),
                                                                  None),
            ("POST", "/api/v1/holds/{address}/delete"): lambda: (admin, "/api/v1/holds/%s/delete" % q(held()), None),
            ("GET", "/api/v1/bans"): lambda: (admin, "/api/v1/bans", None),
            ("DELETE", "/api/v1/bans/{network}"): lambda: (admin, "/api/v1/bans/" + banned(), None),
            ("GET", "/api/v1/security/log"): lambda: (admin, "/api/v1/security/log?limit=20", None),
            ("GET", "/api/v1/tokens"): lambda: (admin, "/api/v1/tokens", None),
            ("POST", "/api/v1/tokens"): lambda: (admin, "/api/v1/tokens", {"name": unique("t"), "password": mk.PASSWORD}),
            ("DELETE", "/api/v1/tokens/{name}"): lambda: (admin, "/api/v1/tokens/" + with_token(), None),
        }

    def test_hold_is_listed_with_its_reason_and_released(self):
        self.ensure_second()
        sent = 0
        for i in range(6):
            try:
                self.srv.submit(["pal%d-%d@remote.example" % (i, time.time_ns() % 10**9)], "burst %d" % i, user=SECOND, password=SECOND_PW)
                sent += 1
            except smtplib.SMTPException:
                break
        holds = [h for h in self.admin.get("/api/v1/holds").json if h["address"] == SECOND]
        self.assertEqual(len(holds), 1, self.admin.get("/api/v1/holds"))
        self.assertIn("new recipients", holds[0]["reason"])
        a = self.admin.post("/api/v1/holds/%s/release" % q(SECOND))
        self.assertEqual(a.status, 200, a)
        self.assertIn("new recipients", a.json["was"])
        self.assertFalse(any(h["address"] == SECOND for h in self.admin.get("/api/v1/holds").json))
        self.assertTrue(any(r.get("event") == "web_action" and r.get("action") == "outbound_released"
                            and r.get("user") == SECOND for r in self.audit()))
        self.assertEqual(self.admin.post("/api/v1/holds/%s/release" % q(SECOND)).status, 409)

    def test_totp_enrolment_then_a_login_needs_the_code(self):
        address = "twofactor@localhost"
        self.assertEqual(self.admin.post("/api/v1/accounts", {"address": address, "password": "two-factor password"}).status, 201)
        c = Client(self.srv)
        self.assertEqual(c.login(address, "two-factor password").status, 200)
        e = c.post("/api/v1/me/totp")
        self.assertEqual(e.status, 200)
        self.assertTrue(e.json["uri"].startswith("otpauth://totp/"))
        self.assertTrue(e.json["qr_svg"].startswith("<svg"))
        secret = e.json["secret"]
        # A wrong code, or no password, turns nothing on.
        self.assertEqual(c.put("/api/v1/me/totp", {"secret": secret, "code": "000000" if totp_code(secret) != "000000"
                                                   else "111111", "password": "two-factor password"}).status, 400)
        self.assertEqual(c.put("/api/v1/me/totp", {"secret": secret, "code": totp_code(secret),
                                                   "password": "not it"}).status, 403)
        self.assertFalse(c.get("/api/v1/me").json["totp"])
        # The code that turns it on is then used: kept to try again below (a code read again
        # later may be the next 30-second step's, which is not used).
        enrolled = totp_code(secret)
        self.assertEqual(c.put("/api/v1/me/totp", {"secret": secret, "code": enrolled,
                                                   "password": "two-factor password"}).status, 204)
        self.assertTrue(c.get("/api/v1/me").json["totp"])
        # Logging in now asks for the code, and a used code is not taken again.
        d = Client(self.srv)
        a = d.login(address, "two-factor password")
        self.assertEqual((a.status, a.code), (401, "code_needed"))
        self.assertEqual(d.login(address, "two-factor password", code=enrolled).status, 401)  # used
        self.assertEqual(d.login(address, "two-factor password", code=totp_code(secret, 30)).status, 200)
        events = [e["event"] for e in d.get("/api/v1/me/events").json]
        self.assertIn("login", events)
        self.assertIn("web_action", events)

    def test_dashboard(self):
        with open(self.srv.dir + "/last-check.json", "w") as f:
            json.dump({"ok": False, "findings": [
                {"check": "records", "subject": "localhost MX", "outcome": "ok", "problem": "", "fix": ""},
                {"check": "fcrdns", "subject": "smtp 127.0.0.1:25", "outcome": "fail",
                 "problem": "no PTR record", "fix": "ask your provider for a PTR record"}]}, f)
        time.sleep(1.1)  # the dashboard's figures are kept a second (web/routes.hpp DashboardCache)
        d = self.admin.get("/api/v1/dashboard")
        self.assertEqual(d.status, 200, d)
        self.assertEqual(d.json["check"]["checks"], 2)
        self.assertEqual([f["problem"] for f in d.json["check"]["failed"]], ["no PTR record"])
        self.assertTrue(d.json["certificate"]["self_signed"])
        self.assertGreater(d.json["certificate"]["days_left"], 0)
        self.assertTrue(d.json["security_log"]["verified"])
        self.assertEqual(d.json["log_shipping"], [])
        self.assertGreaterEqual(d.json["accounts"], 1)

    def test_security_log_verifies(self):
        a = self.admin.get("/api/v1/security/log?limit=5")
        self.assertEqual(a.status, 200)
        self.assertTrue(a.json["verified"], a.json["problem"])
        self.assertLessEqual(len(a.json["recent"]), 5)
        self.assertGreater(a.json["records"], 0)


class BruteForceTest(unittest.TestCase):
    """Failed web logins go through the same throttle as IMAP and SMTP: delayed, then banned,
    and the ban holds for IMAP too (one network, one set of books)."""

    def test_failures_are_delayed_then_banned(self):
        srv = mk.Server(extra_config={"security.login_failures_before_ban": "4"})
        self.addCleanup(srv.cleanup)
        srv.start()
        c = Client(srv)
        statuses, slow = [], 0
        for i in range(6):
            t = time.monotonic()
            a = c.login(password="guess %d" % i)
            if time.monotonic() - t >= 0.4:
                slow += 1
            statuses.append(a.status)
            if a.status == 403:
                break
        self.assertEqual(statuses[:4], [401] * 4)
        self.assertEqual(statuses[-1], 403)
        self.assertEqual(Client(srv).login().code, "banned")  # the right password too
        self.assertGreaterEqual(slow, 1)  # the throttle's delay (a lower bound only)
        # Refused at connect: the TLS handshake or the greeting is cut.
        with self.assertRaises((imaplib.IMAP4.abort, OSError)):
            with imaplib.IMAP4_SSL("127.0.0.1", srv.imaps_port, ssl_context=mk.client_tls_context()) as m:
                m.login("me@localhost", mk.PASSWORD)
        events = open(srv.dir + "/security.log").read()
        self.assertIn('"service":"web"', events)
        self.assertIn('"event":"ban"', events)


if __name__ == "__main__":
    unittest.main()
