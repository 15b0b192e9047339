"""Containment of a compromised account with a real client (smtplib): beyond its sending
limits an account's submission is refused with 451 4.7.1 and stays refused, the user and
the admin are mailed, the security log records it, and `mailkeep account release` lets it
send again. Mail to local recipients never counts."""
import os
import smtplib
import sqlite3
import time
import unittest

import mkharness as mk


class ContainmentTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = mk.Server(extra_config={"security.max_messages_per_hour": "5",
                                          "security.max_new_recipients_per_hour": "8",
                                          "security.admin_address": '"me@localhost"'}).start()

    @classmethod
    def tearDownClass(cls):
        mk.stop_all(cls.srv)

    def send(self, rcpts, n):
        msg = mk.test_message("me@localhost", "run %d" % n, to=", ".join(rcpts),
                              body="Click http://phish.example/%d\r\n" % n)
        with smtplib.SMTP_SSL("127.0.0.1", self.srv.submissions_port, context=mk.client_tls_context(), timeout=30) as s:
            s.login("me@localhost", mk.PASSWORD)
            try:
                s.sendmail("me@localhost", rcpts, msg)
                return 250, ""
            except smtplib.SMTPSenderRefused as e:
                return e.smtp_code, e.smtp_error.decode()
            except smtplib.SMTPDataError as e:
                return e.smtp_code, e.smtp_error.decode()

    def test_spam_run_is_held(self):
        # Local mail is not limited.
        for i in range(8):
            self.assertEqual(self.send(["me@localhost"], 100 + i)[0], 250)
        sent = 0
        outcome = None
        for i in range(50):
            outcome = self.send(["victim%d@remote.example" % i], i)
            if outcome[0] != 250:
                break
            sent += 1
        self.assertEqual(sent, 5)  # the limit, and not one more
        self.assertEqual(outcome[0], 451)
        self.assertIn("4.7.1 Sending from me@localhost is suspended pending review (more than 5 messages in an hour)",
                      outcome[1])
        # It stays refused, at MAIL FROM now, for any recipient.
        code, text = self.send(["me@localhost"], 999)
        self.assertEqual(code, 451)
        self.assertIn("4.7.1", text)
        self.assertIn("outbound held: more than 5 messages", self.srv.cli("account", "list").stdout)
        mk.wait_for(lambda: len(self.alerts()) >= 2, "the hold alerts are missing")
        self.assertEqual(len(self.alerts()), 2)  # the user's and the admin's (the same mailbox here)
        r = self.srv.cli("audit", "verify")
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(self.srv.dir + "/security.log") as f:
            self.assertIn('"event":"outbound_hold"', f.read())
        # On /metrics: the held account, the refused submissions, the hold in the security log.
        self.assertEqual(self.srv.metric("mailkeep_accounts_held"), 1)
        self.assertEqual(self.srv.metric("mailkeep_security_events_total", event="outbound_hold"), 1)
        self.assertGreaterEqual(self.srv.metric("mailkeep_smtp_messages_total", service="submission",
                                                outcome="contained", reason="containment"), 1)
        r = self.srv.cli("account", "release", "me@localhost")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("may send again", r.stdout)
        self.assertEqual(self.srv.metric("mailkeep_accounts_held"), 0)
        self.assertEqual(self.srv.metric("mailkeep_security_events_total", event="outbound_released"), 1)
        self.assertEqual(self.send(["me@localhost"], 1000)[0], 250)
        self.assertEqual(self.send(["friend@remote.example"], 1001)[0], 250)  # full limits again
        # A restart after the release: the burst that was held does not count again (it did,
        # and held the account at its first message); what it sent since does.
        self.srv.stop()
        self.srv.start()
        for i in range(3):
            self.assertEqual(self.send(["after%d@remote.example" % i], 1100 + i)[0], 250)

    def alerts(self):
        return [m for _, m in self.srv.messages() if b"has been stopped" in m or b"Outbound mail held" in m]


class ContainmentQueueTest(unittest.TestCase):
    """With a real queue (outbound paused, so mail waits in it): the queued mail of a held
    account is held, not sent and not lost; release puts it back, drop-held discards it."""

    @classmethod
    def setUpClass(cls):
        cls.srv = mk.Server(extra_config={"server.dev": "false", "outbound.paused": "true",
                                          "security.max_new_recipients_per_hour": "3"}).start()

    @classmethod
    def tearDownClass(cls):
        mk.stop_all(cls.srv)

    def test_queued_mail_is_held_then_released(self):
        for i in range(3):
            self.srv.submit(["friend%d@remote.example" % i], "queued %d" % i)
        with self.assertRaises(smtplib.SMTPDataError) as e:
            self.srv.submit(["stranger@remote.example"], "one too many")
        self.assertEqual(e.exception.smtp_code, 451)
        listing = self.srv.cli("queue", "list").stdout
        self.assertEqual(listing.count("held "), 3, listing)
        self.assertNotIn("stranger@remote.example", listing)  # the refused message was not queued
        r = self.srv.cli("account", "release", "me@localhost")
        self.assertIn("3 held message(s) released", r.stdout)
        listing = self.srv.cli("queue", "list").stdout
        self.assertEqual(listing.count("queued "), 3, listing)
        self.assertNotIn("held ", listing)


class UnstoredHoldTest(unittest.TestCase):
    """A hold the database refuses to store (here a trigger makes the write fail) still stops
    the account: every later submission is refused, the failure is logged and the admin told."""

    def test_a_hold_that_cannot_be_stored_is_enforced_in_memory(self):
        srv = mk.Server(extra_config={"security.max_messages_per_hour": "3",
                                      "security.admin_address": '"me@localhost"'})
        self.addCleanup(srv.cleanup)
        srv.start()
        srv.stop()
        mk.refuse_holds(srv)
        srv.start()
        codes = []
        for i in range(8):
            msg = mk.test_message("me@localhost", "run %d" % i, to="victim%d@remote.example" % i)
            with smtplib.SMTP_SSL("127.0.0.1", srv.submissions_port, context=mk.client_tls_context(), timeout=30) as s:
                s.login("me@localhost", mk.PASSWORD)
                try:
                    s.sendmail("me@localhost", ["victim%d@remote.example" % i], msg)
                    codes.append(250)
                except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as e:
                    codes.append(e.smtp_code)
        self.assertEqual(codes, [250] * 3 + [451] * 5)
        self.assertIn("guard.hold_not_stored", srv.stderr())
        self.assertIn("the disk said no", srv.stderr())
        self.assertNotIn("outbound held", srv.cli("account", "list").stdout)  # indeed not stored
        admin = mk.wait_for(lambda: [m for _, m in srv.messages() if b"THE HOLD COULD NOT BE STORED" in m],
                            "the admin was not told")
        self.assertEqual(len(admin), 1)


class NewNetworkTest(unittest.TestCase):
    """An established account (a month of sending, twenty correspondents who answered) may
    write to 40 new people an hour from home; right after a login from a network it never
    used, its history earns nothing there: a stolen password used from elsewhere gets 5 new
    recipients, not 40."""

    @classmethod
    def setUpClass(cls):
        cls.srv = mk.Server(extra_config={"log.level": '"info"'}).start()
        cls.srv.stop()
        # The history, as the store keeps it (the server is stopped).
        now = int(time.time())
        db = sqlite3.connect(os.path.join(cls.srv.dir, "index.sqlite"))
        (account,) = db.execute("SELECT id FROM accounts WHERE address = 'me@localhost'").fetchone()
        db.execute("UPDATE accounts SET created = ? WHERE id = ?", (now - 60 * 86400, account))
        db.execute("INSERT INTO login_history(address, network, service, first_seen, last_seen, count) "
                   "VALUES('me@localhost', '127.0.0.1', 'submission', ?, ?, 100)", (now - 60 * 86400, now - 86400))
        for day in range(1, 13):
            db.execute("INSERT INTO send_history(account_id, hour, messages, new_recipients) VALUES(?, ?, 5, 5)",
                       (account, (now - day * 86400) // 3600))
        for i in range(20):
            a = "pal%d@remote.example" % i
            db.execute("INSERT INTO correspondents(account_id, address, first_sent) VALUES(?, ?, ?)",
                       (account, a, now - 30 * 86400))
            db.execute("INSERT INTO writers(account_id, address, first_seen, last_seen, authenticated) "
                       "VALUES(?, ?, ?, ?, ?)", (account, a, now - 29 * 86400, now - 29 * 86400, now - 29 * 86400))
        db.commit()
        db.close()
        cls.srv.start()

    @classmethod
    def tearDownClass(cls):
        mk.stop_all(cls.srv)

    def send(self, source, rcpt, n):
        msg = mk.test_message("me@localhost", "new net %d" % n, to=rcpt)
        with smtplib.SMTP_SSL("127.0.0.1", self.srv.submissions_port, context=mk.client_tls_context(), timeout=30,
                              source_address=(source, 0)) as s:
            s.login("me@localhost", mk.PASSWORD)
            try:
                s.sendmail("me@localhost", [rcpt], msg)
                return 250, ""
            except (smtplib.SMTPDataError, smtplib.SMTPSenderRefused) as e:
                return e.smtp_code, e.smtp_error.decode()

    def test_tighter_after_new_network(self):
        # The owner, from home, writes to 8 new people: fine (its budget is the ceiling, 40).
        for i in range(8):
            self.assertEqual(self.send("127.0.0.1", "friend%d@remote.example" % i, i)[0], 250)
        # The same account from a network it never used: held after 5.
        results = [self.send("127.0.0.3", "target%d@remote.example" % i, 100 + i) for i in range(7)]
        codes = [r[0] for r in results]
        self.assertEqual(codes[:5], [250] * 5, results)
        self.assertEqual(codes[5], 451)
        self.assertIn("more than 5 new recipients in an hour right after a login from a new network", results[5][1])


if __name__ == "__main__":
    unittest.main()
