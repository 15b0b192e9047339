"""The web pages in a real browser (headless chromium through Selenium) against the real
binary: the admin logs in, adds a domain and sees its DNS records, adds an account, releases a
held account, lifts a ban and returns a queued message to its sender; a user creates an app
password and logs in to IMAP with it, forwards their mail and stops it, and cannot reach
/admin/. Text from outside (a user name an attacker typed into the login form, an address)
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
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

import mkharness as mk
import rig as rigmod
from browser import Browser
from webapi import Client, totp_code

ALICE = "alice@localhost"
ALICE_PW = "alice's long and unguessable password"
CAROL = "carol@localhost"
CAROL_PW = "carol's long and unguessable password"
XSS = "<img src=x onerror=\"document.title='pwned'\">@x.example"
DAVE = "dave@localhost"
DAVE_PW = "dave's long and unguessable password"


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
        # The account password is asked again: a stolen session alone makes no lasting password.
        b.type("#app-account-password", "not carol's password")
        b.click("#app-add")
        b.wait_text("#notice", "password is wrong")
        self.assertEqual(self.api.get("/api/v1/accounts/" + CAROL.replace("@", "%40")).status, 200)
        b.type("#app-account-password", CAROL_PW)
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

    def test_admin_returns_queued_mail_to_its_sender(self):
        # The queue is paused (setUpClass): the message waits in it.
        rcpt = "returned-%d@remote.example" % (time.time_ns() % 10**9)
        reason = "the page returned it: the address is wrong, ask Bob"
        self.srv.submit([rcpt], "to be returned by the page")
        (m,) = self.api.get("/api/v1/queue?q=" + rcpt).json
        b = self.browser()
        self.login(b, "/admin/", "me@localhost", mk.PASSWORD)
        b.get(self.base + "/admin/#queue")
        b.wait_text("main table", rcpt)

        # The reason is asked for in a prompt; cancelling it returns nothing.
        b.row_button(rcpt, "Return to sender").click()
        WebDriverWait(b.driver, mk.HANG_GUARD).until(EC.alert_is_present())
        prompt = b.driver.switch_to.alert
        self.assertIn("Return message %d to me@localhost" % m["id"], prompt.text)
        prompt.dismiss()
        WebDriverWait(b.driver, mk.HANG_GUARD).until(lambda d: b.row_button(rcpt, "Return to sender").is_enabled())
        self.assertEqual([x["id"] for x in self.api.get("/api/v1/queue?q=" + rcpt).json], [m["id"]])
        self.assertIn(rcpt, b.find("main table").text)

        b.row_button(rcpt, "Return to sender").click()
        WebDriverWait(b.driver, mk.HANG_GUARD).until(EC.alert_is_present())
        prompt = b.driver.switch_to.alert
        prompt.send_keys(reason)
        prompt.accept()
        b.wait_text("#notice", "returned to its sender")
        self.assertIn("Message %d returned to its sender (1 recipient(s)" % m["id"], b.find("#notice").text)
        b.wait_gone("main", rcpt)
        self.assertEqual(self.api.get("/api/v1/queue?q=" + rcpt).json, [])

        # The sender (hosted here) reads the bounce over IMAP: a DSN naming the recipient, with the reason.
        def bounce():
            for msg in self.srv.imap_messages("INBOX", "me@localhost", mk.PASSWORD):
                raw = msg.as_bytes()
                if msg.get_content_type() == "multipart/report" and rcpt.encode() in raw:
                    return raw
            return None
        raw = mk.wait_for(bounce, "no bounce for %s in me@localhost's INBOX" % rcpt)
        self.assertIn(b"Final-Recipient: rfc822; " + rcpt.encode(), raw)
        self.assertIn(b"Status: 5.0.0", raw)
        self.assertIn(reason.encode(), raw)
        self.assertIn(b"to be returned by the page", raw)
        self.assertEqual(b.console_errors(), [])

    def test_user_forwards_mail_and_stops(self):
        if self.api.get("/api/v1/accounts/" + DAVE).status == 404:
            self.assertEqual(self.api.post("/api/v1/accounts", {"address": DAVE, "password": DAVE_PW}).status, 201)
        user = Client(self.srv)
        self.assertEqual(user.login(DAVE, DAVE_PW).status, 200)
        self.addCleanup(user.delete, "/api/v1/me/forward")  # off for the other tests, whatever happens here
        self.assertEqual(user.delete("/api/v1/me/forward").status, 204)

        def stored():
            a = self.api.get("/api/v1/accounts/" + DAVE)
            self.assertEqual(a.status, 200, a)
            return a.json["forward_to"], a.json["forward_keep"]

        target = "someone@remote.example"
        b = self.browser()
        self.login(b, "/account/", DAVE, DAVE_PW)
        b.wait_text("#me-forward", "off")
        b.get(self.base + "/account/#forward")
        b.wait_text("#fwd-state", "not forwarded")
        self.assertEqual(b.find_all("#fwd-to") + b.find_all("#fwd-off") + b.find_all("#fwd-paused") +
                         b.find_all("#fwd-admin"), [])
        self.assertTrue(b.find("#fwd-keep").is_selected())  # a copy stays by default

        # Forward elsewhere, no copy kept.
        b.type("#fwd-address", target)
        b.find("#fwd-keep").click()
        self.assertFalse(b.find("#fwd-keep").is_selected())
        b.type("#fwd-password", DAVE_PW)
        b.click("#fwd-save")
        b.wait_text("#notice", "now goes to " + target)
        b.wait_text("#fwd-state", "forwarded to")
        self.assertEqual(b.find("#fwd-to").text, target)
        self.assertIn("no copy stays here", b.find("#fwd-state").text)
        self.assertFalse(b.find("#fwd-keep").is_selected())
        self.assertTrue(b.find("#fwd-off").is_displayed())
        self.assertEqual(b.find("#fwd-save").text, "Change")
        self.assertEqual(stored(), (target, False))
        self.assertEqual(user.get("/api/v1/me/forward").json,
                         {"to": target, "keep": False, "paused": False, "allowed": True})

        # The account's own address would loop: refused, nothing changes.
        b.type("#fwd-address", DAVE)
        b.type("#fwd-password", DAVE_PW)
        b.click("#fwd-save")
        b.wait_text("#notice", "own address")
        self.assertIn("error", b.find("#notice").get_attribute("class"))
        self.assertEqual(stored(), (target, False))
        self.assertEqual(b.find("#fwd-to").text, target)

        # A wrong password changes nothing either.
        b.type("#fwd-address", "other@remote.example")
        b.type("#fwd-password", "not dave's password at all")
        b.click("#fwd-save")
        b.wait_text("#notice", "password is wrong")
        self.assertIn("error", b.find("#notice").get_attribute("class"))
        self.assertEqual(stored(), (target, False))

        # Markup typed as the address: the server refuses it and the error shows it as text.
        markup = "<img src=x onerror=\"document.title='pwned'\">@x.example"
        b.type("#fwd-address", markup)
        b.type("#fwd-password", DAVE_PW)
        b.click("#fwd-save")
        b.wait_text("#notice", "is not a valid address")
        self.assertIn(markup, b.find("#notice").text)
        self.assertEqual(b.find_all("img"), [])
        self.assertNotEqual(b.driver.title, "pwned")
        self.assertEqual(stored(), (target, False))

        b.driver.refresh()  # the view again, without the last notice
        b.wait_text("#fwd-to", target)
        b.screenshot("account-forwarding")

        b.click("#fwd-off")
        b.wait_text("#fwd-state", "not forwarded")
        b.wait_text("#notice", "Forwarding is off")
        self.assertEqual(b.find_all("#fwd-to") + b.find_all("#fwd-off"), [])
        self.assertEqual(stored()[0], "")

        # A valid address can hold markup (a quoted local part): typed on the page it is taken,
        # and it shows as text, never as an element.
        quoted = '"<img src=x onerror=document.title=1>"@remote.example'
        b.type("#fwd-address", quoted)
        b.type("#fwd-password", DAVE_PW)
        b.click("#fwd-save")
        b.wait_text("#notice", "as well")
        self.assertEqual(stored(), (quoted, True))
        b.driver.refresh()
        b.wait_text("#fwd-state", "forwarded to")
        self.assertEqual(b.find("#fwd-to").text, quoted)
        self.assertEqual(b.find("#fwd-to").find_elements("css selector", "*"), [])
        self.assertIn("a copy stays here", b.find("#fwd-state").text)
        b.get(self.base + "/account/#overview")
        b.wait_text("#me-forward", "to " + quoted)
        self.assertEqual(b.find_all("img"), [])
        self.assertNotEqual(b.driver.title, "1")

        # Stopped from the page again: off for the other tests.
        b.get(self.base + "/account/#forward")
        b.click("#fwd-off")
        b.wait_text("#fwd-state", "not forwarded")
        self.assertEqual(stored(), ("", True))
        b.get(self.base + "/account/#overview")
        b.wait_text("#me-forward", "off")
        self.assertEqual(b.console_errors(), [])


if __name__ == "__main__":
    unittest.main()
