"""Share a link (POST /api/v1/share) against the real binary: a loopback web site with Open
Graph tags and a real PNG, the mail read back over IMAP (imaplib) in the folder its tag
names, and the SSRF defences: 127.0.0.x, ::1, 169.254.169.254, numeric host forms, redirects
to internal addresses and a rebinding DNS answer are all refused, and the refused share
still delivers the link with the reason. The site's internal listeners (127.0.0.2, ::1) log
every request they get: none may arrive. The test DNS (dnslib) answers the site's names.

The server under test allows exactly the site's address (share.fetch_allow = 127.0.0.1/32);
a second server with the default configuration shows that the default refuses it too."""
import email.policy
import http.client
import imaplib
import json
import time
import unittest

import linksite
import mkharness as mk
import rig as rigmod
from dnslib import QTYPE
from webapi import Client

FETCH_DEADLINE = 5  # seconds: the share's whole budget (share/fetch.hpp)


def rebinding(zones, name, first, then):
    """Makes the test DNS answer name's A query with `first` once, then with `then`."""
    asked = {"n": 0}
    plain = zones.resolve

    def resolve(request, handler):
        if str(request.q.qname).rstrip(".").lower() == name and QTYPE[request.q.qtype] == "A":
            asked["n"] += 1
            zones.records[name] = [("A", first if asked["n"] == 1 else then)]
        return plain(request, handler)
    zones.records[name] = [("A", first)]
    zones.ttl[name] = 0
    zones.resolve = resolve


class ShareTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.site = linksite.Site()
        cls.dns = rigmod.Dns()
        cls.dns.zones.add("site.example", "A", "127.0.0.1")
        cls.dns.zones.add("inside.example", "A", "127.0.0.2")
        rebinding(cls.dns.zones, "rebind.example", "127.0.0.1", "127.0.0.2")
        dns = {"dns.upstream": '["127.0.0.1@%d"]' % cls.dns.port, "dns.dnssec": "false"}
        cls.srv = mk.Server(extra_config=dict(dns, **{"share.fetch_allow": '["127.0.0.1/32"]'})).start()
        cls.api = Client(cls.srv)
        assert cls.api.login().status == 200

    @classmethod
    def tearDownClass(cls):
        try:
            mk.stop_all(cls.srv, cls.dns)
        finally:
            cls.site.stop()

    def share(self, client, body, status=201):
        started = time.monotonic()
        a = client.post("/api/v1/share", body)
        took = time.monotonic() - started
        self.assertEqual(a.status, status, a)
        return a.json, took

    def fetch_mails(self, folder, address="me@localhost", password=mk.PASSWORD, missing_ok=False):
        return self.srv.imap_messages(folder, address, password, missing_ok)

    def mail_for(self, folder, link):
        mails = [m for m in self.fetch_mails(folder) if link in m.get_body(("plain",)).get_content()]
        self.assertEqual(len(mails), 1, "one mail with %s in %s" % (link, folder))
        return mails[0]

    def test_a_page_becomes_a_mail_with_its_image_in_the_tag_folder(self):
        link = "http://site.example:%d/article" % self.site.port
        out, took = self.share(self.api, {"url": link, "tag": "Recipes", "note": "for Sunday"})
        self.assertEqual((out["folder"], out["title"], out["preview"], out["image"]),
                         ("recipes", linksite.TITLE, True, True), out)
        self.assertEqual(out["failure"], "")
        self.assertLess(took, 10 * FETCH_DEADLINE)  # a hang guard; bench/web measures the latency
        m = self.mail_for("recipes", link)
        self.assertEqual(m["Subject"], linksite.TITLE)
        self.assertEqual(m["From"].addresses[0].addr_spec, "me@localhost")
        plain = m.get_body(("plain",)).get_content()
        for want in (linksite.TITLE, linksite.DESCRIPTION, "Loopback Recipes", "Your note: for Sunday", link):
            self.assertIn(want, plain)
        html = m.get_body(("html",)).get_content()
        images = [p for p in m.walk() if p.get_content_type() == "image/png"]
        self.assertEqual(len(images), 1)
        self.assertEqual(images[0].get_content(), linksite.IMAGE)
        self.assertEqual(images[0].get_content_disposition(), "inline")
        cid = images[0]["Content-ID"].strip("<>")
        self.assertIn('src="cid:%s"' % cid, html)
        self.assertIn('href="%s"' % link, html)

    def test_without_a_tag_it_goes_to_read_later_and_redirects_are_followed(self):
        link = "http://site.example:%d/redirect" % self.site.port
        out, _ = self.share(self.api, {"url": link})
        self.assertEqual((out["folder"], out["preview"]), ("Read later", True), out)
        self.assertEqual(self.mail_for("Read later", link)["Subject"], linksite.TITLE)
        # "later" is the same folder; a phone's share sheet may send the link inside text.
        out, _ = self.share(self.api, {"url": "", "tag": "later",
                                       "text": "Look at this: http://site.example:%d/no-image !" % self.site.port})
        self.assertEqual((out["folder"], out["preview"], out["image"], out["image_note"]), ("Read later", True, False, ""))
        # A link to a picture is its own preview.
        out, _ = self.share(self.api, {"url": self.site.url("/picture.png"), "title": "A red square"})
        self.assertEqual((out["title"], out["image"]), ("A red square", True), out)

    def test_internal_addresses_are_refused_and_the_link_still_arrives(self):
        port = self.site.port
        refused = {
            "http://127.0.0.2:%d/secret" % port: "loopback",
            "http://[::1]:%d/secret" % port: "loopback",
            "http://169.254.169.254/latest/meta-data/": "link-local",
            "http://2130706434:%d/secret" % port: "loopback",      # 127.0.0.2 as one number
            "http://0x7f.0.0.2:%d/secret" % port: "loopback",      # and in hex
            "http://0177.0.0.02:%d/secret" % port: "loopback",     # and in octal
            "http://inside.example:%d/secret" % port: "loopback",  # a name for it
            "http://site.example:%d/to-internal" % port: "loopback",  # a redirect to it
            "http://site.example:%d/to-v6" % port: "loopback",
            "http://site.example:%d/to-metadata" % port: "link-local",
            "http://10.0.0.1/": "private",
            "http://site.example:25/": "port 25",
        }
        for link, why in refused.items():
            out, _ = self.share(self.api, {"url": link, "tag": "refused"})
            self.assertFalse(out["preview"], link)
            self.assertTrue(out["failure"].startswith("refused: "), (link, out["failure"]))
            self.assertIn(why, out["failure"], link)
        self.assertEqual(len(self.fetch_mails("refused")), len(refused))  # each link still arrived
        mail = self.mail_for("refused", "http://169.254.169.254/latest/meta-data/")
        self.assertEqual(mail["X-Mailkeep-Share"], "link only")
        self.assertIn("No preview: refused", mail.get_body(("plain",)).get_content())
        self.assertEqual(self.site.internal_hits, [])

    def test_a_rebinding_answer_is_checked_again(self):
        # The page's name answers 127.0.0.1 (allowed) first; its image is on the same name,
        # which then answers 127.0.0.2. The image is refused, the page still shared.
        out, _ = self.share(self.api, {"url": "http://rebind.example:%d/rebind" % self.site.port, "tag": "rebind"})
        self.assertTrue(out["preview"], out)
        self.assertFalse(out["image"], out)
        self.assertEqual(out["image_note"], "refused: rebind.example resolves to a loopback address", out)
        self.assertEqual(self.site.internal_hits, [])

    def test_bounds_on_what_is_fetched(self):
        out, _ = self.share(self.api, {"url": self.site.url("/big-image-page"), "tag": "bounds"})
        self.assertEqual((out["preview"], out["image"], out["image_note"]), (True, False, "the image is larger than 1024 KiB"))
        out, _ = self.share(self.api, {"url": self.site.url("/svg-page"), "tag": "bounds"})
        self.assertEqual((out["image"], out["image_note"]), (False, "the image is not a PNG, JPEG, GIF or WebP picture"))
        out, _ = self.share(self.api, {"url": self.site.url("/huge"), "tag": "bounds"})
        self.assertEqual((out["preview"], out["title"]), (True, linksite.TITLE), out)
        # A page slower than the deadline: the link arrives without a preview, at the deadline.
        out, took = self.share(self.api, {"url": self.site.url("/slow"), "tag": "bounds"})
        self.assertFalse(out["preview"])
        self.assertIn("did not answer in time", out["failure"])
        self.assertGreaterEqual(took, FETCH_DEADLINE * 0.95)  # it waited for the page...
        self.assertLess(took, 10 * FETCH_DEADLINE)            # ...and no longer (a hang guard)

    def test_what_is_shown_back_is_text(self):
        out, _ = self.share(self.api, {"url": self.site.url("/xss"), "tag": "xss"})
        self.assertEqual(out["title"], linksite.XSS_TITLE)
        m = self.mail_for("xss", self.site.url("/xss"))
        self.assertEqual(m["Subject"], linksite.XSS_TITLE)
        html = m.get_body(("html",)).get_content()
        self.assertNotIn("<img src=x", html)
        self.assertIn("&lt;img src=x onerror=&quot;", html)

    def test_bad_requests(self):
        for body, why in (({"url": "javascript:alert(1)"}, "only http"), ({"url": "file:///etc/passwd"}, "only http"),
                          ({"url": self.site.url("/article"), "tag": "a/b"}, "a tag holds"),
                          ({"url": self.site.url("/article"), "tag": "INBOX"}, "inbox"),
                          ({"url": ""}, "url"), ({"text": "no link here"}, "url"),
                          ({"url": "http://user:pw@site.example/"}, "user name"),
                          ({"url": self.site.url("/article"), "note": "x" * 2001}, "note")):
            out, _ = self.share(self.api, body, status=400)
            self.assertIn(why, out["error"]["message"], body)
        # A session's change needs the page's CSRF token.
        a = self.api.post("/api/v1/share", {"url": self.site.url("/article")}, csrf=False)
        self.assertEqual(a.status, 403, a)
        self.assertEqual(Client(self.srv).post("/api/v1/share", {"url": self.site.url("/article")}).status, 401)

    def test_a_full_mailbox_and_too_many_shares_are_refused(self):
        user, pw = "quota-user@localhost", "a long enough password for quota"
        if self.api.get("/api/v1/accounts/" + user).status == 404:
            self.assertEqual(self.api.post("/api/v1/accounts", {"address": user, "password": pw}).status, 201)
        self.assertEqual(self.api.put("/api/v1/accounts/%s/quota" % user, {"bytes": 1000}).status, 200)
        c = Client(self.srv)
        self.assertEqual(c.login(user, pw).status, 200)
        out, _ = self.share(c, {"url": self.site.url("/article")}, status=507)
        self.assertEqual(out["error"]["code"], "over_quota")
        self.assertEqual(self.fetch_mails("Read later", user, pw, missing_ok=True), [])
        # Two slow shares at once take the account's places; a third waits its turn (429).
        import threading
        results = []
        slow = [threading.Thread(target=lambda: results.append(self.api.post("/api/v1/share", {"url": self.site.url("/slow"), "tag": "bounds"}).status))
                for _ in range(2)]
        for t in slow:
            t.start()
        mk.wait_for(lambda: self.site.hits.count("/slow") >= 2, "two slow fetches under way")
        busy = self.api.post("/api/v1/share", {"url": self.site.url("/article")})
        self.assertEqual((busy.status, busy.code), (429, "too_many"), busy)
        for t in slow:
            t.join(10 * FETCH_DEADLINE)
        self.assertEqual(results, [201, 201])
        self.share(self.api, {"url": self.site.url("/article"), "tag": "bounds"})  # the places are free again

    def test_share_tokens_share_and_do_nothing_else(self):
        # Another user, with a token of their own: their links go to their own mailbox.
        other, pw = "sharer@localhost", "correct horse battery staple 7"
        if self.api.get("/api/v1/accounts/" + other).status == 404:
            self.assertEqual(self.api.post("/api/v1/accounts", {"address": other, "password": pw}).status, 201)
        user = Client(self.srv)
        self.assertEqual(user.login(other, pw).status, 200)
        made = user.post("/api/v1/me/share-tokens", {"name": "laptop"})
        self.assertEqual(made.status, 201, made)
        token = made.json["token"]
        self.assertTrue(token.startswith("mks_"))
        self.assertEqual([t["name"] for t in user.get("/api/v1/me/share-tokens").json], ["laptop"])
        device = Client(self.srv, token=token)
        link = self.site.url("/article") + "?from=token"
        out, _ = self.share(device, {"url": link})
        self.assertEqual(out["folder"], "Read later")
        mails = [m for m in self.fetch_mails("Read later", other, pw) if link in m.get_body(("plain",)).get_content()]
        self.assertEqual(len(mails), 1)
        self.assertNotIn(link, json.dumps([m.get_body(("plain",)).get_content() for m in self.fetch_mails("Read later", missing_ok=True)]))
        # It reaches nothing else: not the account, not its app passwords, not an admin route.
        for method, path, body in (("GET", "/api/v1/me", None), ("POST", "/api/v1/me/app-passwords", {"name": "x"}),
                                   ("GET", "/api/v1/me/share-tokens", None), ("GET", "/api/v1/accounts", None),
                                   ("DELETE", "/api/v1/session", None)):
            self.assertEqual(device.request(method, path, body).status, 403, path)
        # An admin's token list does not show share tokens, nor can it revoke them.
        self.assertEqual(self.api.post("/api/v1/me/share-tokens", {"name": "phone"}).status, 201)
        self.assertNotIn("phone", [t["name"] for t in self.api.get("/api/v1/tokens").json])
        self.assertEqual(self.api.delete("/api/v1/tokens/phone").status, 404)
        self.assertEqual(self.api.delete("/api/v1/me/share-tokens/phone").status, 204)
        # Revoked: refused, and counted as a failed login.
        self.assertEqual(user.delete("/api/v1/me/share-tokens/laptop").status, 204)
        self.assertEqual(device.post("/api/v1/share", {"url": link}).status, 401)
        self.assertEqual(user.delete("/api/v1/me/share-tokens/laptop").status, 404)

    def send_mail(self, rcpts, subject, body, user="me@localhost", password=mk.PASSWORD):
        """A message over submission (587, STARTTLS, AUTH): smtplib, a real client."""
        import smtplib
        msg = "From: <%s>\r\nTo: %s\r\nSubject: %s\r\n\r\n%s" % (user, ", ".join(rcpts), subject, body)
        with smtplib.SMTP("127.0.0.1", self.srv.submission_port, timeout=60) as s:
            s.starttls(context=mk.client_tls_context())
            s.login(user, password)
            s.sendmail(user, rcpts, msg.encode())

    def test_a_link_mailed_to_ones_own_tag_address_gets_the_preview(self):
        link = self.site.url("/article") + "?by=mail"
        self.send_mail(["me+cooking@localhost"], "", link + "\r\n\r\n-- \r\nsent from my phone\r\n")
        m = self.mail_for("cooking", link)
        self.assertEqual(m["Subject"], linksite.TITLE)
        self.assertEqual(m["X-Mailkeep-Share"], "preview")
        self.assertEqual(len([p for p in m.walk() if p.get_content_type() == "image/png"]), 1)
        # "+later" is Read later; the subject, when given, is the title.
        self.send_mail(["me+later@localhost"], "Soup for Sunday", "<%s>\r\n" % (link + "&again"))
        self.assertEqual(self.mail_for("Read later", link + "&again")["Subject"], "Soup for Sunday")
        # Not a lone link, or not only to oneself: delivered as it is, nothing fetched.
        hits = len(self.site.hits)
        self.send_mail(["me+cooking@localhost"], "a letter", "Have a look at %s, it is good.\r\n" % link)
        self.send_mail(["me+cooking@localhost", "friend@example.org"], "two", link + "\r\n")
        self.assertEqual(len(self.site.hits), hits)
        letters = [m for m in self.fetch_mails("cooking") if m["X-Mailkeep-Share"] is None]
        self.assertEqual(sorted(m["Subject"] for m in letters), ["a letter", "two"])
        # Each share by mail is in the security log, as from the pages, with its host only.
        with open(self.srv.dir + "/security.log") as f:
            records = [json.loads(line) for line in f if '"link_shared"' in line]
        by_mail = [r for r in records if r.get("via") == "smtp"]
        self.assertEqual(len(by_mail), 2, records)
        self.assertEqual(by_mail[0]["host"], "127.0.0.1")
        self.assertNotIn("by=mail", json.dumps(by_mail))

    def test_a_link_mail_with_more_than_the_link_is_delivered_as_it_is(self):
        from email.mime.application import MIMEApplication
        from email.mime.multipart import MIMEMultipart
        from email.mime.text import MIMEText
        import smtplib
        link = self.site.url("/article") + "?with=attachment"
        m = MIMEMultipart()
        m["From"], m["To"], m["Subject"] = "me@localhost", "me+papers@localhost", "with a paper"
        m.attach(MIMEText(link + "\n"))
        m.attach(MIMEApplication(b"%PDF-1.4 tiny", "pdf", Name="paper.pdf"))
        hits = len(self.site.hits)
        with smtplib.SMTP("127.0.0.1", self.srv.submission_port, timeout=60) as s:
            s.starttls(context=mk.client_tls_context())
            s.login("me@localhost", mk.PASSWORD)
            s.sendmail("me@localhost", ["me+papers@localhost"], m.as_bytes(policy=email.policy.SMTP))
        self.assertEqual(len(self.site.hits), hits)  # nothing fetched
        stored = [b for _, b in self.srv.messages(mailbox="INBOX") if b"with a paper" in b]
        stored += [b for _, b in self.srv.messages(mailbox="papers") if b"with a paper" in b]
        self.assertEqual(len(stored), 1)
        self.assertIn(b"paper.pdf", stored[0])  # the attachment is there

    def test_a_tag_files_into_its_folder_in_any_case(self):
        im = imaplib.IMAP4_SSL("127.0.0.1", self.srv.imaps_port, ssl_context=mk.client_tls_context(), timeout=60)
        im.login("me@localhost", mk.PASSWORD)
        im.create("Travel")
        im.logout()
        out, _ = self.share(self.api, {"url": self.site.url("/article") + "?case", "tag": "travel"})
        self.assertEqual(out["folder"], "Travel")
        self.mail_for("Travel", self.site.url("/article") + "?case")

    def test_a_link_mailed_by_someone_else_is_not_fetched(self):
        # A stranger's mail to me+later@ over the MX is a mail: the server fetches nothing.
        import smtplib
        hits = len(self.site.hits)
        msg = mk.test_message("stranger@example.org", "a link for you", to="me+later@localhost",
                              body=self.site.url("/article") + "?stranger\r\n")
        with smtplib.SMTP("127.0.0.1", self.srv.smtp_port, timeout=60) as s:
            s.sendmail("stranger@example.org", ["me+later@localhost"], msg)
        self.assertEqual(len(self.site.hits), hits)

    def test_the_share_page_and_the_manifest_are_served(self):
        a = self.api.get("/assets/manifest.webmanifest")
        self.assertEqual(a.status, 200)
        self.assertTrue(a.header("Content-Type")[0].startswith("application/manifest+json"))
        m = a.json
        self.assertEqual(m["share_target"]["action"], "/share")
        self.assertEqual(m["share_target"]["method"], "GET")
        self.assertEqual(m["share_target"]["params"], {"title": "title", "text": "text", "url": "url"})
        c = http.client.HTTPSConnection("127.0.0.1", self.srv.https_port, context=mk.client_tls_context(), timeout=30)
        c.request("GET", "/share?url=x", headers={"Host": "localhost"})
        page = c.getresponse()
        self.assertEqual(page.status, 200)
        self.assertIn(b'src="/assets/share.js"', page.read())
        self.assertIn("script-src 'self'", page.getheader("Content-Security-Policy"))
        c.close()


class DefaultShareTest(unittest.TestCase):
    """A server with the default configuration: even the test site's address is refused."""

    @classmethod
    def setUpClass(cls):
        cls.site = linksite.Site(host_v6=False)
        cls.srv = mk.Server(extra_config={}).start()
        cls.api = Client(cls.srv)
        assert cls.api.login().status == 200

    @classmethod
    def tearDownClass(cls):
        try:
            mk.stop_all(cls.srv)
        finally:
            cls.site.stop()

    def test_loopback_is_refused_by_default(self):
        for link in (self.site.url("/article"), "http://2130706433:%d/article" % self.site.port,
                     "http://[::ffff:127.0.0.1]:%d/article" % self.site.port):
            a = self.api.post("/api/v1/share", {"url": link})
            self.assertEqual(a.status, 201, a)
            self.assertEqual(a.json["failure"], "refused: 127.0.0.1 is a loopback address")
        self.assertEqual(self.site.hits, [])
        self.assertEqual(self.site.internal_hits, [])


if __name__ == "__main__":
    unittest.main()
