"""An account forwards its own mail, end to end on the loopback rig with the real binary.

The user turns forwarding on from the account page's API (with their password) and is mailed
about it (read over IMAP); mail the MX accepts for them then leaves for the other address with
an SRS envelope sender, our ARC seal (python3-dkim's arc_verify checks it) and the author's
DKIM signature intact, and a copy stays here when asked to. Mail judged spam (a DMARC
quarantine) is not forwarded: it is in the user's Junk. While containment holds the account
(a burst of submissions), forwarding pauses: its mail stays here, and it cannot be set again
until released. A forward to another account here delivers into that account. The CLI shows,
sets and clears it, and each change is in the security log."""
import os
import smtplib
import sqlite3
import time
import unittest

import dkim

import mkharness as mk
import rig as rigmod
from webapi import Client

USER = "fwduser@localhost"
USER_PW = "the forwarding user's password"
OTHER = "colleague@localhost"
OTHER_PW = "the colleague's own password"
FRIEND = "me@remote.example"


class AccountForwardingTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        rigmod.require_root()
        cls.rig = rigmod.Rig()
        cls.sender_key, cls.sender_record = cls.rig.signed_sender("sender.example")
        # A domain whose policy puts unauthenticated mail in Junk, and whose SPF names
        # another host: mail from it through the MX here is judged spam.
        z = cls.rig.dns.zones
        z.add("quarantine.example", "TXT", "v=spf1 ip4:192.0.2.1 -all")
        z.add("_dmarc.quarantine.example", "TXT", "v=DMARC1; p=quarantine")
        cls.friend = cls.rig.mx("remote.example", "127.0.0.56", tls=False)
        cls.origin = cls.rig.mx("sender.example", "127.0.0.57", tls=False)
        config = dict(cls.rig.config())
        config.update({"server.dev": "false", "outbound.retry_min": '"1s"', "outbound.connect_timeout": '"2s"',
                       "security.max_new_recipients_per_hour": "3"})
        cls.srv = mk.Server(extra_config=config).start()
        cls.admin = Client(cls.srv)
        assert cls.admin.login().status == 200
        for address, pw in ((USER, USER_PW), (OTHER, OTHER_PW)):
            r = cls.admin.post("/api/v1/accounts", {"address": address, "password": pw})
            assert r.status == 201, r.raw
        cls.user = Client(cls.srv)
        assert cls.user.login(USER, USER_PW).status == 200

    @classmethod
    def tearDownClass(cls):
        mk.stop_all(cls.srv, cls.rig)

    def forward(self, to, keep=True, password=USER_PW):
        return self.user.put("/api/v1/me/forward", {"to": to, "keep": keep, "password": password})

    def mx_send(self, author, subject, rcpt=USER, sign=True, helo="mta.sender.example", body="Forward me, please.\r\n"):
        msg = mk.test_message(author, subject, to=rcpt, body=body)
        if sign:
            msg = dkim.sign(msg, b"s", b"sender.example", self.sender_key) + msg
        with smtplib.SMTP("127.0.0.1", self.srv.smtp_port, local_hostname=helo, timeout=30) as s:
            s.sendmail(author, [rcpt], msg)

    def subjects(self, folder, address=USER, password=USER_PW):
        return [str(m["Subject"]) for m in self.srv.imap_messages(folder, address, password, missing_ok=True)]

    def friend_subjects(self):
        with self.friend.lock:
            return [m.data for m in self.friend.messages]

    def our_keys(self):
        records = self.srv.dkim_records("localhost")
        records["s._domainkey.sender.example"] = self.sender_record
        return rigmod.dkim_dns(records)

    def queue_empty(self):
        return mk.wait_for(lambda: self.admin.get("/api/v1/queue").json == [], "the queue did not drain")

    def test_1_forwarded_with_srs_an_arc_seal_and_a_copy_kept(self):
        self.assertEqual(self.forward(FRIEND, password="wrong").status, 403)
        self.assertEqual(self.forward(USER).status, 400)  # itself
        r = self.forward(FRIEND, keep=True)
        self.assertEqual(r.status, 200, r.raw)
        self.assertEqual(r.json["to"], FRIEND)
        self.assertTrue(r.json["keep"])
        # The user is told, in their own mailbox.
        mk.wait_for(lambda: any("now forwarded to " + FRIEND in s for s in self.subjects("INBOX")),
                    "the user was not told about the forwarding")
        # The change is theirs to see, and in the security log.
        events = self.user.get("/api/v1/me/events").json
        self.assertTrue(any(e.get("action") == "forward_set" and e.get("to") == FRIEND for e in events), events)

        self.mx_send("news@sender.example", "forward this one")
        got = self.friend.wait_for(b"Subject: forward this one")
        self.assertEqual(got.rcpt_tos, [FRIEND])
        self.assertRegex(got.mail_from, r"^SRS0=[^=]{4}=[A-Z2-7]{2}=sender\.example=news@localhost$")
        self.assertTrue(got.data.startswith(b"ARC-Seal: i=1; a=rsa-sha256;"), got.data[:300])
        cv, _, why = dkim.arc_verify(got.data, dnsfunc=self.our_keys())
        self.assertEqual(cv, dkim.CV_Pass, why)
        self.assertTrue(dkim.verify(got.data, dnsfunc=self.our_keys()), "the author's DKIM signature broke")
        mk.wait_for(lambda: "forward this one" in self.subjects("INBOX"), "no copy was kept")
        # A bounce from the far side goes back to the original sender.
        dsn = ("From: MAILER-DAEMON@remote.example\r\nTo: %s\r\nSubject: Undelivered: forward this one\r\n"
               "Date: Tue, 01 Dec 2026 08:01:00 +0000\r\nMessage-ID: <fb1@remote.example>\r\n\r\nno such user\r\n"
               % got.mail_from).encode()
        with smtplib.SMTP("127.0.0.1", self.srv.smtp_port, local_hostname="mx.remote.example", timeout=30) as s:
            s.sendmail("", [got.mail_from], dsn)
        back = self.origin.wait_for(b"Undelivered: forward this one")
        self.assertEqual(back.rcpt_tos, ["news@sender.example"])

    def test_2_spam_is_not_forwarded_but_stays_in_junk(self):
        self.assertEqual(self.forward(FRIEND, keep=False).status, 200)
        self.mx_send("boss@quarantine.example", "quarantined offer", sign=False, helo="mail.quarantine.example")
        mk.wait_for(lambda: "quarantined offer" in self.subjects("Junk"), "the spam is not in the user's Junk")
        # Mail after it is forwarded; once it arrived and the queue is empty, the spam never left.
        self.mx_send("news@sender.example", "after the spam")
        self.friend.wait_for(b"Subject: after the spam")
        self.queue_empty()
        self.assertFalse(any(b"quarantined offer" in d for d in self.friend_subjects()), "spam was forwarded")
        # keep=false: no copy of the forwarded one here.
        self.assertNotIn("after the spam", self.subjects("INBOX"))

    def test_3_a_forward_to_another_account_here(self):
        r = self.forward(OTHER, keep=False)
        self.assertEqual(r.status, 200, r.raw)
        self.mx_send("news@sender.example", "for the colleague")
        mk.wait_for(lambda: "for the colleague" in self.subjects("INBOX", OTHER, OTHER_PW),
                    "the other account did not get it")
        self.assertNotIn("for the colleague", self.subjects("INBOX"))
        self.assertFalse(any(b"for the colleague" in d for d in self.friend_subjects()))

    def test_4_the_cli_shows_sets_and_clears_it(self):
        r = self.srv.cli("account", "forward", USER, "elsewhere@remote.example", "--no-keep")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("now forwards its mail to elsewhere@remote.example", r.stdout)
        r = self.srv.cli("account", "forward", USER)
        self.assertIn("forwards its mail to elsewhere@remote.example (no copy stays here)", r.stdout)
        self.assertEqual(self.user.get("/api/v1/me/forward").json["to"], "elsewhere@remote.example")
        r = self.srv.cli("account", "forward", USER, USER)
        self.assertEqual(r.returncode, 2, r.stdout)
        self.assertIn("loop", r.stderr)
        r = self.srv.cli("account", "forward", USER, "--off")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("no longer forwards", r.stdout)
        self.assertEqual(self.user.get("/api/v1/me/forward").json["to"], "")
        with open(self.srv.dir + "/security.log") as f:
            log = f.read()
        self.assertIn('"event":"forward_changed"', log)

    def test_5_forwarding_pauses_while_the_account_is_held(self):
        self.assertEqual(self.forward(FRIEND, keep=False).status, 200)
        # A burst to new recipients: containment holds the account.
        for i in range(8):
            try:
                self.srv.submit(["burst%d-%d@remote.example" % (i, time.time_ns() % 10**9)], "burst %d" % i,
                                user=USER, password=USER_PW)
            except smtplib.SMTPException:
                break
        mk.wait_for(lambda: self.user.get("/api/v1/me").json["held"], "the account was not held")
        f = self.user.get("/api/v1/me/forward").json
        self.assertTrue(f["paused"])
        r = self.forward("other@remote.example")
        self.assertEqual(r.status, 409, r.raw)
        # Its mail stays here meanwhile, although no copy is to be kept.
        self.mx_send("news@sender.example", "while held")
        mk.wait_for(lambda: "while held" in self.subjects("INBOX"), "mail for a held account was not kept")
        self.queue_empty_of(b"while held")
        # The admin sees it beside the hold.
        holds = [h for h in self.admin.get("/api/v1/holds").json if h["address"] == USER]
        self.assertEqual(holds[0]["forward_to"], FRIEND)
        # Turning it off is allowed held or not.
        self.assertEqual(self.user.delete("/api/v1/me/forward").status, 204)
        self.assertEqual(self.user.get("/api/v1/me/forward").json["to"], "")
        # The admin releases the hold.
        self.assertEqual(self.forward(FRIEND, keep=True).status, 409)
        self.assertEqual(self.admin.post("/api/v1/holds/%s/release" % USER.replace("@", "%40")).status, 200)
        self.assertEqual(self.user.get("/api/v1/me").json["held"], "")

    def test_6_a_loop_is_refused(self):
        # Forwarded round and round (here, elsewhere, here again): each pass adds a Received
        # field; at 100 the MX refuses it (RFC 5321 6.3) instead of storing or forwarding it.
        self.assertEqual(self.forward(FRIEND, keep=False).status, 200)
        hops = "".join("Received: from relay%d.remote.example by mx.remote.example; Tue, 01 Dec 2026 08:00:%02d +0000\r\n"
                       % (i, i % 60) for i in range(100))
        msg = hops.encode() + mk.test_message("news@sender.example", "round and round", to=USER)
        with smtplib.SMTP("127.0.0.1", self.srv.smtp_port, local_hostname="mx.remote.example", timeout=30) as s:
            s.ehlo()
            s.mail("news@sender.example")
            s.rcpt(USER)
            code, reply = s.data(msg)
        self.assertEqual(code, 554, reply)
        self.assertIn(b"5.4.6", reply)
        self.queue_empty_of(b"round and round")
        self.assertEqual(self.user.delete("/api/v1/me/forward").status, 204)

    def test_7_a_colleagues_mail_to_a_forwarding_account_is_not_theirs_to_count(self):
        # The colleague writes to the user, who forwards: the forward target is not one of the
        # colleague's correspondents (containment's budget, the spam filter's known senders).
        self.assertEqual(self.forward(FRIEND, keep=True).status, 200)
        self.srv.submit([USER], "from the colleague", user=OTHER, password=OTHER_PW)
        self.friend.wait_for(b"Subject: from the colleague")
        db = sqlite3.connect(os.path.join(self.srv.dir, "index.sqlite"))
        try:
            known = [a for (a,) in db.execute("SELECT c.address FROM correspondents c JOIN accounts a "
                                              "ON c.account_id = a.id WHERE a.address = ?", (OTHER,))]
        finally:
            db.close()
        self.assertNotIn(FRIEND, known)
        self.assertEqual(self.user.delete("/api/v1/me/forward").status, 204)

    def queue_empty_of(self, needle):
        # Queued with the delivery in one commit: a forward would be in the queue or arrived.
        queued = self.admin.get("/api/v1/queue").json
        self.assertFalse([m for m in queued if any(r["rcpt"] == FRIEND for r in m["rcpts"])], queued)
        self.assertFalse(any(needle in d for d in self.friend_subjects()), "a held account's mail was forwarded")

if __name__ == "__main__":
    unittest.main()
