"""A user whose outgoing mail containment held recovers from the account page's API, with the
real server and real peers: the hold is made by submitting over SMTP (smtplib), the admin is
told by mail (read over IMAP), reads the held message as text, and the user either asks for
the release or, where [web] self_release allows, releases it with a new password; their old
app password no longer logs in to IMAP, the new password does, and the held mail is queued
again."""
import email
import imaplib
import smtplib
import time
import unittest

import mkharness as mk
from webapi import Client

USER = "held@localhost"
USER_PW = "the held user's password"


def hold(srv, admin):
    if admin.get("/api/v1/accounts/held%40localhost").status == 404:
        assert admin.post("/api/v1/accounts", {"address": USER, "password": USER_PW}).status == 201
    for i in range(6):
        try:
            srv.submit(["r%d-%d@remote.example" % (i, time.time_ns() % 10**9)], "burst %d" % i, user=USER, password=USER_PW)
        except smtplib.SMTPException:
            break
    holds = [h for h in admin.get("/api/v1/holds").json if h["address"] == USER]
    assert holds, "the account was not held"
    return holds[0]


def admin_mail(srv, subject):
    with imaplib.IMAP4_SSL("127.0.0.1", srv.imaps_port, ssl_context=mk.client_tls_context()) as m:
        m.login("me@localhost", mk.PASSWORD)
        m.select("INBOX")
        _, data = m.search(None, "SUBJECT", '"%s"' % subject)
        ids = data[0].split()
        if not ids:
            return None
        _, msg = m.fetch(ids[-1], "(RFC822)")
        return email.message_from_bytes(msg[0][1])


class RecoveryTest(unittest.TestCase):
    def server(self, self_release):
        srv = mk.Server(extra_config={"server.dev": "false", "outbound.paused": "true",
                                      "security.max_new_recipients_per_hour": "3",
                                      "security.admin_address": '"me@localhost"',
                                      "web.self_release": "true" if self_release else "false"})
        self.addCleanup(srv.cleanup)
        srv.start()
        admin = Client(srv)
        self.assertEqual(admin.login().status, 200)
        return srv, admin

    def test_the_user_asks_and_the_admin_reads_and_releases(self):
        srv, admin = self.server(False)
        h = hold(srv, admin)
        user = Client(srv)
        self.assertEqual(user.login(USER, USER_PW).status, 200)
        me = user.get("/api/v1/me").json
        self.assertIn("new recipients", me["held"])
        self.assertFalse(me["self_release"])
        self.assertEqual(user.post("/api/v1/me/hold/release", {"current": USER_PW, "new": "x" * 20}).status, 403)
        self.assertEqual(user.post("/api/v1/me/hold/request", {"note": "I changed my password <b>really</b>"}).status, 204)
        mk.wait_for(lambda: admin_mail(srv, "Release requested: " + USER), "the admin was not mailed")
        body = admin_mail(srv, "Release requested: " + USER).get_payload(decode=True).decode()
        self.assertIn("I changed my password <b>really</b>", body)
        # The admin reads the held mail as text, then releases it.
        queued = [m for m in admin.get("/api/v1/queue").json if m["sender_account"] == h["account_id"]]
        self.assertGreaterEqual(len(queued), 1)
        full = admin.get("/api/v1/queue/%d" % queued[0]["id"]).json
        self.assertIn("Hello from mailkeep.", full["text"])
        self.assertIn("burst", [f["value"] for f in full["header"] if f["name"] == "Subject"][0])
        self.assertEqual(admin.post("/api/v1/holds/held%40localhost/release").status, 200)
        self.assertEqual(user.get("/api/v1/me").json["held"], "")

    def test_self_release_with_a_new_password(self):
        srv, admin = self.server(True)
        hold(srv, admin)
        user = Client(srv)
        self.assertEqual(user.login(USER, USER_PW).status, 200)
        app = user.post("/api/v1/me/app-passwords", {"name": "phone", "scopes": "imap", "password": USER_PW}).json["password"]
        other = Client(srv)
        self.assertEqual(other.login(USER, USER_PW).status, 200)
        self.assertTrue(user.get("/api/v1/me").json["self_release"])
        a = user.post("/api/v1/me/hold/release", {"current": USER_PW, "new": USER_PW})
        self.assertEqual((a.status, a.code), (400, "weak_password"))
        a = user.post("/api/v1/me/hold/release", {"current": USER_PW, "new": "a fresh and long passphrase"})
        self.assertEqual(a.status, 200, a)
        self.assertGreaterEqual(a.json["messages"], 1)
        self.assertEqual(a.json["app_passwords_revoked"], 1)
        self.assertEqual(user.get("/api/v1/me").json["held"], "")
        self.assertEqual(other.get("/api/v1/me").status, 401)  # the other session ended
        with imaplib.IMAP4_SSL("127.0.0.1", srv.imaps_port, ssl_context=mk.client_tls_context()) as m:
            with self.assertRaises(imaplib.IMAP4.error):
                m.login(USER, app)
        with imaplib.IMAP4_SSL("127.0.0.1", srv.imaps_port, ssl_context=mk.client_tls_context()) as m:
            self.assertEqual(m.login(USER, "a fresh and long passphrase")[0], "OK")
        listing = srv.cli("queue", "list").stdout
        self.assertNotIn("held ", listing)
        mk.wait_for(lambda: admin_mail(srv, "Hold released by its user: " + USER), "the admin was not told")
        r = srv.cli("audit", "verify")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("outbound_self_released", open(srv.dir + "/security.log").read())


if __name__ == "__main__":
    unittest.main()
