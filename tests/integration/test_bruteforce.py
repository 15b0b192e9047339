"""Brute-force protection with real clients: a dictionary attack on SMTP submission from
127.0.0.2 gets slower answers, then a ban (421 at once, on submission and IMAP alike) that
survives a restart and is lifted with `mailkeep security bans lift`; the real user on
127.0.0.1 logs in throughout, and an allow-listed network is never banned."""
import os
import re
import socket
import time
import unittest

import mkharness as mk


class BruteForceTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = mk.Server(extra_config={"security.login_failures_before_ban": "5",
                                          "security.allow_networks": '["127.0.0.9"]'}).start()

    @classmethod
    def tearDownClass(cls):
        mk.stop_all(cls.srv)

    def smtp(self, source, password):
        return self.srv.smtp_auth(password, source=source)

    def new_signin_alerts(self):
        return [m for _, m in self.srv.messages() if b"Subject: New sign-in to your mail account" in m]

    def plain_greeting(self, source):
        with socket.create_connection(("127.0.0.1", self.srv.submission_port), timeout=10,
                                      source_address=(source, 0)) as s:
            return s.recv(512).decode()

    def imap_greeting(self, source):
        with socket.create_connection(("127.0.0.1", self.srv.imap_port), timeout=10, source_address=(source, 0)) as s:
            return s.recv(512).decode()

    def test_attack_is_slowed_then_banned(self):
        self.assertTrue(self.smtp("127.0.0.1", mk.PASSWORD))
        for i in range(4):
            started = time.monotonic()
            self.assertIs(self.smtp("127.0.0.2", "guess-%d-wrong" % i), False)
        # The 4th answer waited 0.5 s: a lower bound (load only lengthens it), and the server's
        # own record of the delay it imposed on each of the four.
        self.assertGreaterEqual(time.monotonic() - started, 0.45)
        delays = re.findall(r"event=submissions?\.auth_failed .* ip=127\.0\.0\.2 .*delay_ms=(\d+)", self.srv.stderr())
        self.assertEqual(delays, ["0", "0", "0", "500"])
        # The 5th failure bans the network: the reply to it is followed by 421 and a close.
        self.assertIs(self.smtp("127.0.0.2", "guess-5-wrong"), False)
        self.assertTrue(self.plain_greeting("127.0.0.2").startswith("421 4.7.0 "))
        self.assertTrue(self.imap_greeting("127.0.0.2").startswith("* BYE Too many failed logins"))
        # Even the right password does not get in from there now...
        self.assertNotEqual(self.smtp("127.0.0.2", mk.PASSWORD), True)
        # ...while the user elsewhere is not affected, nor an allow-listed network.
        self.assertTrue(self.smtp("127.0.0.1", mk.PASSWORD))
        for i in range(8):
            self.assertIs(self.smtp("127.0.0.9", "wrong-%d" % i), False)
        self.assertTrue(self.plain_greeting("127.0.0.9").startswith("220 "))
        r = self.srv.cli("security", "bans", "list")
        self.assertRegex(r.stdout, r"(?m)^127\.0\.0\.2 +until \S+ \S+ +\(ban #1: 5 failed logins in 900 s\)$")
        self.assertNotIn("127.0.0.9", r.stdout)
        # Bans survive a restart.
        self.assertEqual(self.srv.stop(), 0)
        self.srv.start()
        self.assertTrue(self.plain_greeting("127.0.0.2").startswith("421 4.7.0 "))
        r = self.srv.cli("security", "bans", "lift", "127.0.0.2")
        self.assertEqual(r.returncode, 0, r.stderr)
        # The server re-reads bans every 5 s.
        mk.wait_for(lambda: self.plain_greeting("127.0.0.2").startswith("220 "), "ban not lifted", 10 * 5, 0.5)
        self.assertTrue(self.smtp("127.0.0.2", mk.PASSWORD))
        self.assertEqual(self.srv.cli("security", "bans", "lift", "127.0.0.2").returncode, 2)
        # A first login from that network: the user is told by mail (once).
        self.assertTrue(self.smtp("127.0.0.2", mk.PASSWORD))
        mk.wait_for(self.new_signin_alerts, "no new sign-in alert")
        alerts = self.new_signin_alerts()
        self.assertEqual(len(alerts), 1)
        self.assertIn(b"from 127.0.0.2 (submission", alerts[0])
        self.assertIn("auth_failed", self.srv.stderr())
        self.assertNotIn("guess-1-wrong", self.srv.stderr())  # passwords are never logged
        # The security log has it all, hash-chained; an edited record is found.
        r = self.srv.cli("audit", "verify")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"security\.log: \d+ records, chain intact")
        path = os.path.join(self.srv.dir, "security.log")
        with open(path) as f:
            text = f.read()
        for event in ('"event":"login_failed"', '"event":"ban"', '"event":"connection_refused_banned"',
                      '"event":"ban_lifted"', '"event":"login"'):
            self.assertIn(event, text)
        self.assertNotIn("guess-", text)
        with open(path, "w") as f:
            f.write(text.replace('"ip":"127.0.0.2"', '"ip":"127.0.0.3"', 1))
        r = self.srv.cli("audit", "verify")
        self.assertEqual(r.returncode, 1)
        self.assertIn("the record was changed", r.stderr)
        with open(path, "w") as f:
            f.write(text)



class NewClientTest(mk.SharedServerTest):
    """The user is mailed when the account is used by a program it never used before: the
    IMAP ID name (sent before or after logging in) or the SMTP EHLO name."""

    def imap(self, client_id, before_login=True):
        import imaplib
        imaplib.Commands["ID"] = ("NONAUTH", "AUTH", "SELECTED")  # RFC 2971 allows it in any state
        with imaplib.IMAP4_SSL("127.0.0.1", self.srv.imaps_port, ssl_context=mk.client_tls_context()) as c:
            if before_login:
                c.xatom("ID", client_id)
            c.login("me@localhost", mk.PASSWORD)
            if not before_login:
                typ, _ = c.xatom("ID", client_id)
                self.assertEqual(typ, "OK")
            c.noop()

    def smtp(self, ehlo):
        import smtplib
        with smtplib.SMTP_SSL("127.0.0.1", self.srv.submissions_port, context=mk.client_tls_context(),
                              local_hostname=ehlo, timeout=30) as s:
            s.ehlo()
            s.user, s.password = "me@localhost", mk.PASSWORD
            s.auth("PLAIN", s.auth_plain)

    def alerts(self, n):
        signins = lambda: [m for _, m in self.srv.messages() if b"Subject: New sign-in to your mail account" in m]
        if n:
            mk.wait_for(lambda: len(signins()) >= n, "fewer than %d sign-in alerts" % n)
        time.sleep(0.5)  # and no more than that
        found = signins()
        self.assertEqual(len(found), n, [m[-400:] for m in found])
        return found

    def test_new_clients_are_reported(self):
        self.imap('("name" "Thunderbird" "version" "115.5")')  # the first program: nothing to compare with
        self.imap('("name" "Thunderbird" "version" "115.5")')
        self.alerts(0)
        self.imap('("name" "UnknownMailer")')
        self.assertIn(b"(imap, with UnknownMailer), a program this account had not used before", self.alerts(1)[0])
        self.imap('("name" "LateMailer" "version" "2")', before_login=False)
        self.assertIn(b"with LateMailer 2", self.alerts(2)[1])
        self.smtp("[127.0.0.1]")  # an address literal names nothing
        self.smtp("attacker-box")
        self.assertIn(b"(submission, with attacker-box)", self.alerts(3)[2])
        self.smtp("attacker-box")
        self.alerts(3)
        with open(self.srv.dir + "/security.log") as f:
            self.assertIn('"client":"attacker-box"', f.read())


if __name__ == "__main__":
    unittest.main()
