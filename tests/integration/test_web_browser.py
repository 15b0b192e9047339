"""The web pages in a real browser (headless chromium through Selenium) against the real
binary: the admin logs in, adds a domain and sees its DNS records, adds an account, releases a
held account and lifts a ban; a user creates an app password and logs in to IMAP with it, and
cannot reach /admin/. Text from outside (a user name an attacker typed into the login form)
shows as text, never as markup. The pages run under their strict Content-Security-Policy with
no console errors. Screenshots of each page go to docs/screenshots/ for the README."""
import http.client
import imaplib
import os
import smtplib
import sqlite3
import subprocess
import tempfile
import time
import unittest

from selenium.webdriver.common.keys import Keys

import mkharness as mk
import rig as rigmod
from browser import Browser
from webapi import Client, totp_code

ALICE = "alice@localhost"
ALICE_PW = "alice's long and unguessable password"
CAROL = "carol@localhost"
CAROL_PW = "carol's long and unguessable password"
XSS = "<img src=x onerror=\"document.title='pwned'\">@x.example"


class WebPagesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # The test DNS (dnslib) answers the domains page's live check.
        cls.dns = rigmod.Dns()
        cls.srv = mk.Server(extra_config={"server.dev": "false", "outbound.paused": "true",
                                          "security.max_new_recipients_per_hour": "3",
                                          "dns.upstream": '["127.0.0.1@%d"]' % cls.dns.port,
                                          "dns.dnssec": "false"}).start()
        cls.base = "https://127.0.0.1:%d" % cls.srv.https_port
        cls.api = Client(cls.srv)
        assert cls.api.login().status == 200

    @classmethod
    def tearDownClass(cls):
        mk.stop_all(cls.srv, cls.dns)

    def browser(self, **kw):
        b = Browser(**kw)
        self.addCleanup(b.quit)
        return b

    def login(self, b, page, address, password):
        b.get(self.base + page)
        b.type("#login-address", address)
        b.type("#login-password", password)
        b.find("#login-password").send_keys(Keys.ENTER)  # the keyboard submits the form
        b.wait_text("#who", address)

    def ensure_alice(self):
        if self.api.get("/api/v1/accounts/alice@localhost").status == 404:
            self.assertEqual(self.api.post("/api/v1/accounts", {"address": ALICE, "password": ALICE_PW}).status, 201)

    def test_pages_are_served_under_a_strict_policy(self):
        for path in ("/admin/", "/account/", "/assets/admin.js", "/assets/app.css"):
            c = http.client.HTTPSConnection("127.0.0.1", self.srv.https_port, context=mk.client_tls_context(), timeout=30)
            c.request("GET", path, headers={"Host": "localhost"})
            r = c.getresponse()
            r.read()
            c.close()
            self.assertEqual(r.status, 200, path)
            csp = r.getheader("Content-Security-Policy")
            self.assertIn("script-src 'self'", csp)
            self.assertNotIn("unsafe-inline", csp)
            self.assertNotIn("unsafe-eval", csp)
            self.assertIn("frame-ancestors 'none'", csp)
            self.assertEqual(r.getheader("X-Content-Type-Options"), "nosniff")
        # Only the pages themselves are HTML; nothing else is served from the assets.
        c = http.client.HTTPSConnection("127.0.0.1", self.srv.https_port, context=mk.client_tls_context(), timeout=30)
        c.request("GET", "/assets/admin.html", headers={"Host": "localhost"})
        self.assertEqual(c.getresponse().status, 404)

    def test_admin_pages(self):
        # An attacker's text reaches the security log as a user name.
        self.assertEqual(Client(self.srv).login(XSS, "guess").status, 401)
        b = self.browser()
        self.login(b, "/admin/", "me@localhost", mk.PASSWORD)
        b.wait(".cards .stat")
        b.wait_text("main", "Recent security events")
        b.screenshot("admin-dashboard")

        b.get(self.base + "/admin/#domains")
        b.type("#domain-name", "shop.example")
        b.click("#domain-add")
        b.wait_text("#records", "DNS records for shop.example")
        records = b.find("#records").text
        for rtype in ("MX", "TXT"):
            self.assertIn(rtype, records)
        self.assertIn("v=DKIM1", records)
        b.screenshot("admin-domains")
        # The live check: the MX is published at the test DNS, the rest is not yet.
        self.dns.zones.add("shop.example", "MX", ("localhost.", 10))
        b.click("#dns-check-run")
        b.wait_text("#dns-check", "shop.example MX")
        check = b.find("#dns-check").text
        self.assertRegex(check, r"ok\s+shop\.example MX")
        self.assertRegex(check, r"wrong\s+_dmarc\.shop\.example TXT \(DMARC\)")
        self.assertIn("not published", check)

        b.get(self.base + "/admin/#accounts")
        b.type("#account-address", "bob@localhost")
        b.type("#account-password", "bob's long enough password")
        b.click("#account-add")
        b.wait_text("main table", "bob@localhost")
        b.screenshot("admin-accounts")
        # The search asks the server for the matching page.
        b.type("#account-search", "bob@")
        b.find("#account-search").send_keys(Keys.ENTER)
        b.wait_gone("main tbody", "me@localhost")
        self.assertIn("bob@localhost", b.find("main tbody").text)

        # A held account: alice sends to more new recipients than her budget allows.
        self.ensure_alice()
        for i in range(5):
            try:
                self.srv.submit(["pal%d-%d@remote.example" % (i, time.time_ns() % 10**9)], "burst %d" % i,
                                user=ALICE, password=ALICE_PW)
            except smtplib.SMTPException:
                break
        b.get(self.base + "/admin/#holds")
        b.wait_text("main table", ALICE)
        self.assertIn("new recipients", b.find("main table").text)
        # The held mail, read as text before deciding.
        b.row_button(ALICE, "Read").click()
        b.wait_text("#held-mail", "Hello from mailkeep.")
        held = b.find("#held-mail").text
        self.assertIn("Subject", held)
        self.assertIn("burst 0", held)
        self.assertNotIn("[object", held)
        b.screenshot("admin-holds")
        b.row_button(ALICE, "Release").click()
        b.wait_text("#notice", "may send again")
        self.assertNotIn(ALICE, b.find("main").text)
        self.assertNotIn("outbound held", self.srv.cli("account", "list").stdout)

        # A ban, lifted from the page.
        db = sqlite3.connect(self.srv.dir + "/index.sqlite", timeout=30)
        db.execute("INSERT OR REPLACE INTO bans(key, until, count, reason, created) VALUES(?, ?, 1, ?, ?)",
                   ("203.0.113.9", int(time.time()) + 3600, "10 failed logins", int(time.time())))
        db.commit()
        db.close()
        b.get(self.base + "/admin/#security")
        b.wait_text("#log-status", "verifies")
        b.wait_text("main", "203.0.113.9")
        # The attacker's text is there, as text: no image element, no script ran.
        self.assertIn(XSS.split("@")[0], b.find("main").text)
        self.assertEqual(b.find_all("main img"), [])
        self.assertNotEqual(b.driver.title, "pwned")
        b.screenshot("admin-security")
        b.row_button("203.0.113.9", "Lift").click()
        b.wait_text("#notice", "is lifted")
        self.assertNotIn("203.0.113.9", b.find("main table").text if b.find_all("main table") else "")
        self.assertEqual(self.srv.cli("security", "bans", "list").stdout.strip(), "no networks are banned")
        self.assertEqual(b.console_errors(), [])

        # Reports: the day's counts as the stats keeper stores them (a fixture: a month of mail
        # is not sent here), read back by the page.
        day = int(time.time()) // 86400
        db = sqlite3.connect(self.srv.dir + "/index.sqlite", timeout=30)
        db.executemany("INSERT OR REPLACE INTO daily_counts(day, name, labels, value) VALUES(?, ?, ?, ?)", [
            (day, "mailkeep_smtp_received_total", '{dmarc="pass",tls="yes"}', 13),
            (day, "mailkeep_smtp_messages_total", '{outcome="accepted",reason="none",service="smtp"}', 10),
            (day, "mailkeep_smtp_messages_total", '{outcome="junked",reason="spam",service="smtp"}', 3),
            (day, "mailkeep_filter_trained_total", '{as="ham"}', 1)])
        db.commit()
        db.close()
        b.get(self.base + "/admin/#reports")
        b.wait_text("#spam-totals", "13")
        self.assertIn("spam", b.find("main table").text)
        self.assertIn("Taken out of Junk\n1", b.find("#spam-totals").text)
        b.screenshot("admin-reports")
        self.assertEqual(b.console_errors(), [])

        phone = self.browser(width=390, height=844)
        self.login(phone, "/admin/", "me@localhost", mk.PASSWORD)
        phone.wait(".cards .stat")
        phone.screenshot("admin-dashboard-phone")

    def test_user_pages(self):
        self.assertEqual(self.api.post("/api/v1/accounts", {"address": CAROL, "password": CAROL_PW}).status, 201)
        b = self.browser()
        self.login(b, "/account/", CAROL, CAROL_PW)
        b.wait_text("#me-address", CAROL)
        b.screenshot("account-overview")

        b.get(self.base + "/account/#apps")
        b.type("#app-name", "phone")
        b.click("#app-add")
        password = b.wait("#app-password").text
        self.assertEqual(len(password), 20)
        b.screenshot("account-app-passwords")
        with imaplib.IMAP4_SSL("127.0.0.1", self.srv.imaps_port, ssl_context=mk.client_tls_context()) as m:
            self.assertEqual(m.login(CAROL, password)[0], "OK")
        b.get(self.base + "/account/#apps")
        b.wait_text("main table", "phone")
        b.row_button("phone", "Revoke").click()
        b.wait_text("#notice", "revoked")
        with imaplib.IMAP4_SSL("127.0.0.1", self.srv.imaps_port, ssl_context=mk.client_tls_context()) as m:
            with self.assertRaises(imaplib.IMAP4.error):
                m.login(CAROL, password)

        b.get(self.base + "/account/#password")
        b.type("#pw-current", CAROL_PW)
        b.type("#pw-new", "correct horse battery staple jump")
        self.assertIn(b.find("#pw-verdict").text, ("fair", "strong"))
        b.type("#pw-again", "correct horse battery staple jump")
        b.screenshot("account-password")
        b.click("#pw-save")
        b.wait_text("#notice", "Password changed")
        with imaplib.IMAP4_SSL("127.0.0.1", self.srv.imaps_port, ssl_context=mk.client_tls_context()) as m:
            self.assertEqual(m.login(CAROL, "correct horse battery staple jump")[0], "OK")

        b.get(self.base + "/account/#sessions")
        b.wait_text("main table", "this one")
        b.screenshot("account-sessions")

        # Two-factor login: the QR code the page shows is read by zbarimg (a decoder we did not
        # write), the app's code turns it on, and the next login asks for a code.
        new_pw = "correct horse battery staple jump"
        b.get(self.base + "/account/#totp")
        b.click("#totp-start")
        qr = b.wait("#totp-qr")
        b.screenshot("account-totp")
        png = os.path.join(tempfile.mkdtemp(prefix="mk-qr-"), "qr.png")
        qr.screenshot(png)
        uri = subprocess.run(["zbarimg", "--quiet", "--raw", png], capture_output=True, text=True, timeout=60).stdout.strip()
        secret = b.find("#totp-secret").text
        self.assertTrue(uri.startswith("otpauth://totp/"), uri)
        self.assertIn("secret=" + secret, uri)
        b.type("#totp-code", totp_code(secret))
        b.type("#totp-password", new_pw)
        b.click("#totp-on")
        b.wait_text("#notice", "Two-factor login is on")
        other = self.browser()
        other.get(self.base + "/account/")
        other.type("#login-address", CAROL)
        other.type("#login-password", new_pw)
        other.click("#login-submit")
        other.wait("#login-code")
        other.type("#login-code", totp_code(secret, 30))
        other.click("#login-submit")
        other.wait_text("#who", CAROL)

        # Not an admin: /admin/ says so and shows nothing of the server.
        b.get(self.base + "/admin/")
        b.wait_text("main", "Not an administrator")
        self.assertEqual(b.find_all("nav a[data-view]"), [])
        self.assertEqual(b.console_errors(), [])


if __name__ == "__main__":
    unittest.main()
