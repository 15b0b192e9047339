"""`mailkeep report security` after real traffic (smtplib over the MX with and without TLS,
failed IMAP and SMTP AUTH logins up to a ban, a spam run from a stolen account held by
containment and released by the admin), and the previous month's report mailed to the admin
once, when the server finds it owes one."""
import json
import os
import smtplib
import time
import unittest

import mkharness as mk
from webapi import Client


def this_month():
    return time.strftime("%Y-%m", time.gmtime())


def previous_month():
    t = time.gmtime()
    year, month = (t.tm_year, t.tm_mon - 1) if t.tm_mon > 1 else (t.tm_year - 1, 12)
    return "%04d-%02d" % (year, month)


class SecurityReportTest(unittest.TestCase):
    def test_the_months_report_counts_what_happened(self):
        srv = mk.Server(extra_config={"security.max_messages_per_hour": "5",
                                      "security.max_new_recipients_per_hour": "8",
                                      "security.admin_address": '"me@localhost"',
                                      "security.login_failures_before_ban": "5",
                                      "security.allow_networks": '["127.0.0.9"]'}).start()
        try:
            self.traffic(srv)
        finally:
            self.assertEqual(srv.stop(), 0)  # the last minute's counts are kept at shutdown
        try:
            r = mk.run_cli("--config", srv.config, "report", "security", "--month", this_month(), "--json")
            self.assertEqual(r.returncode, 0, r.stderr)
            rep = json.loads(r.stdout)
            self.assertEqual(rep["month"], this_month())
            logins = rep["logins"]
            self.assertEqual(logins["failed"], 5)
            self.assertEqual(logins["failed_by_service"], {"imap": 2, "submission": 3})
            self.assertEqual(logins["bans"], 1)
            self.assertEqual(logins["banned_networks"], 1)
            self.assertGreaterEqual(logins["ok"], 1)  # the containment run logged in
            holds = rep["compromised"]["holds"]
            self.assertEqual(len(holds), 1, holds)
            self.assertEqual(holds[0]["user"], "me@localhost")
            self.assertIn("more than 5 messages in an hour", holds[0]["reason"])
            self.assertEqual(holds[0]["left_before_hold"], 5)  # the limit, and not one more
            self.assertGreaterEqual(holds[0]["seconds_to_hold"], 0)
            self.assertLess(holds[0]["seconds_to_hold"], 600)
            self.assertEqual(rep["compromised"]["released"], 1)
            self.assertGreaterEqual(rep["compromised"]["submissions_refused"], 1)
            received = rep["received"]
            self.assertEqual(received["messages"], 2)
            self.assertEqual(received["tls"], 1)
            self.assertEqual(received["accepted"], 2)
            self.assertTrue(rep["security_log"]["verified"])
            text = mk.run_cli("--config", srv.config, "report", "security", "--month", this_month())
            self.assertEqual(text.returncode, 0, text.stderr)
            self.assertIn("Security report for localhost, %s (UTC)" % this_month(), text.stdout)
            self.assertIn("failed logins            5 (imap 2, submission 3)", text.stdout)
            self.assertIn("over TLS                 50.0%", text.stdout)
            self.assertIn("5 left before the hold", text.stdout)
            bad = mk.run_cli("--config", srv.config, "report", "security", "--month", "2026-13")
            self.assertEqual(bad.returncode, 2)
            self.assertIn("--month must be YYYY-MM", bad.stderr)
            mk.assert_no_sanitizer_report(r.stderr + text.stderr + bad.stderr, "mailkeep report security")
            self.the_api_reports_the_same(srv, rep)
        finally:
            srv.cleanup()

    def the_api_reports_the_same(self, srv, rep):
        """The admin's reports on the web API, from the same counts and log as the CLI."""
        # The traffic banned this machine's address: the admin lifts it to use the pages.
        lifted = mk.run_cli("--config", srv.config, "security", "bans", "lift", "127.0.0.1")
        self.assertEqual(lifted.returncode, 0, lifted.stderr)
        srv.start()
        try:
            api = Client(srv)
            self.assertEqual(api.login().status, 200)
            sec = api.get("/api/v1/reports/security?month=" + this_month())
            self.assertEqual(sec.status, 200, sec)
            for key in ("received", "compromised"):
                self.assertEqual(sec.json[key], rep[key], key)
            self.assertEqual(sec.json["logins"]["failed"], 5)
            spam = api.get("/api/v1/reports/spam?days=2")
            self.assertEqual(spam.status, 200, spam)
            self.assertEqual(len(spam.json["days"]), 2)
            self.assertEqual(spam.json["days"][-1]["day"], time.strftime("%Y-%m-%d", time.gmtime()))
            total = spam.json["total"]
            self.assertEqual((total["received"], total["accepted"]), (2, 2), total)
            self.assertEqual(api.get("/api/v1/reports/spam?days=0").status, 400)
            self.assertEqual(api.get("/api/v1/reports/security?month=2026-13").status, 400)
        finally:
            self.assertEqual(srv.stop(), 0)

    def traffic(self, srv):
        msg = mk.test_message("a@example.org", "report one")
        with smtplib.SMTP("127.0.0.1", srv.smtp_port, timeout=30) as c:
            c.starttls(context=mk.client_tls_context())
            c.sendmail("a@example.org", ["me@localhost"], msg)
        with smtplib.SMTP("127.0.0.1", srv.smtp_port, timeout=30) as c:
            c.sendmail("a@example.org", ["me@localhost"], mk.test_message("a@example.org", "report two"))
        # A spam run from the account, held at the limit; the admin releases it.
        for i in range(20):
            code = self.send(srv, ["victim%d@remote.example" % i], i)
            if code != 250:
                break
        self.assertEqual(code, 451)
        r = srv.cli("account", "release", "me@localhost")
        self.assertEqual(r.returncode, 0, r.stderr)
        # Password guessing up to a ban.
        self.assertFalse(srv.imap_auth("wrong-1"))
        self.assertFalse(srv.imap_auth("wrong-2"))
        for i in range(10):
            result = srv.smtp_auth("wrong-smtp-%d" % i)
            if result is not False:
                break
        self.assertIsInstance(result, tuple, "never banned")

    def send(self, srv, rcpts, n):
        msg = mk.test_message("me@localhost", "run %d" % n, to=", ".join(rcpts),
                              body="Click http://phish.example/%d\r\n" % n)
        with smtplib.SMTP_SSL("127.0.0.1", srv.submissions_port, context=mk.client_tls_context(), timeout=30) as s:
            s.login("me@localhost", mk.PASSWORD)
            try:
                s.sendmail("me@localhost", rcpts, msg)
                return 250
            except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as e:
                return e.smtp_code

    def test_the_previous_months_report_is_mailed_to_the_admin_once(self):
        srv = mk.Server(extra_config={"security.admin_address": '"me@localhost"'})
        srv.start()  # creates the instance (first start: nothing owed)
        self.assertEqual(srv.stop(), 0)
        state = os.path.join(srv.dir, "security-report.month")
        try:
            mk.wait_for(lambda: os.path.exists(state), "no report state written")
            with open(state) as f:
                self.assertEqual(f.read().strip(), previous_month())
            self.assertEqual(self.reports(srv), [])
            # As if the server last ran months ago: the previous month's report is owed.
            with open(state, "w") as f:
                f.write("2020-01\n")
            srv.start()
            got = mk.wait_for(lambda: self.reports(srv), "the monthly report was not mailed")
            self.assertEqual(len(got), 1)
            self.assertIn(("Subject: [admin] Security report for localhost, %s" % previous_month()).encode(), got[0])
            self.assertIn(b"Login attacks", got[0])
            self.assertIn(b"verifies                 yes", got[0])
            with open(state) as f:
                self.assertEqual(f.read().strip(), previous_month())
            # Sent once: a restart does not send it again.
            self.assertEqual(srv.stop(), 0)
            srv.start()
            time.sleep(3)
            self.assertEqual(len(self.reports(srv)), 1)
            self.assertEqual(srv.stop(), 0)
        finally:
            srv.stop()
            srv.cleanup()

    def reports(self, srv):
        return [m for _, m in srv.messages() if b"Subject: [admin] Security report for" in m]


if __name__ == "__main__":
    unittest.main()
