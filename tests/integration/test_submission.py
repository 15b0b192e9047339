"""Submission (587 STARTTLS, 465 implicit TLS) driven by Python's smtplib and by swaks:
AUTH only over TLS, PLAIN and LOGIN, sender ownership, local delivery, and the outbound
queue (`mailkeep queue ...`) in a non-dev instance. Credentials must never reach the log."""
import base64
import email.message
import os
import re
import smtplib
import subprocess
import unittest

import mkharness as mk

USER = "me@localhost"


def message(frm, to, subject, extra=None):
    m = email.message.EmailMessage()
    m["From"] = frm
    m["To"] = to
    m["Subject"] = subject
    for k, v in (extra or {}).items():
        m[k] = v
    m.set_content("Hello from the submission test.\n")
    return m


class SubmissionDevTest(unittest.TestCase):
    """`mailkeep serve` on the dev instance at debug log level, so the log can be checked."""

    @classmethod
    def setUpClass(cls):
        cls.srv = mk.Server(extra_config={"log.level": '"debug"'}).start()
        for args in (("account", "add", "bob@localhost", "--password-stdin"),):
            r = cls.srv.cli(*args, stdin="bob's password 123\n")
            assert r.returncode == 0, r.stderr
        r = cls.srv.cli("alias", "add", "team@localhost", USER)
        assert r.returncode == 0, r.stderr

    @classmethod
    def tearDownClass(cls):
        code = cls.srv.stop()
        err = cls.srv.stderr()
        cls.srv.cleanup()
        assert code == 0, "mailkeep exited with %s" % code
        # Secrets never appear in logs: neither the password nor any base64 form of it.
        for secret in (mk.PASSWORD, base64.b64encode(mk.PASSWORD.encode()).decode()[:12],
                       base64.b64encode(("\0%s\0%s" % (USER, mk.PASSWORD)).encode()).decode()):
            assert secret not in err, "credential in the log"

    def smtp(self):
        s = smtplib.SMTP("127.0.0.1", self.srv.submission_port, timeout=20)
        s.starttls(context=mk.client_tls_context())
        return s

    def test_starttls_login_and_local_delivery(self):
        with self.smtp() as s:
            s.login(USER, mk.PASSWORD)
            refused = s.send_message(message(USER, "bob@localhost", "to bob"))
            self.assertEqual(refused, {})
        msg = self.srv.messages("bob@localhost")[-1][1]
        self.assertIn(b"Subject: to bob", msg)
        self.assertIn("with ESMTPSA", mk.header(msg, "Received"))
        # The client sent neither Date nor Message-ID: the server added both.
        self.assertRegex(mk.header(msg, "Message-ID"), r"^<[0-9a-f]+\.[0-9a-f]+@localhost>$")
        self.assertIsNotNone(mk.header(msg, "Date"))
        self.assertIsNone(mk.header(msg, "Return-Path"))

    def test_implicit_tls_and_auth_login(self):
        with smtplib.SMTP_SSL("127.0.0.1", self.srv.submissions_port, timeout=20,
                              context=mk.client_tls_context()) as s:
            s.ehlo()
            self.assertIn("LOGIN", s.esmtp_features["auth"])
            s.user, s.password = USER, mk.PASSWORD
            code, _ = s.auth("LOGIN", s.auth_login, initial_response_ok=False)
            self.assertEqual(code, 235)
            s.send_message(message("team@localhost", "bob@localhost", "via 465 as alias"))
        self.assertIn(b"Subject: via 465 as alias", self.srv.messages("bob@localhost")[-1][1])

    def test_remote_recipients_are_captured_in_dev(self):
        with self.smtp() as s:
            s.login(USER, mk.PASSWORD)
            s.send_message(message(USER, "friend@example.com", "leaves the machine?"))
        captured = self.srv.messages(USER, "Captured")
        self.assertTrue(captured and b"Subject: leaves the machine?" in captured[-1][1])

    def test_no_auth_before_tls(self):
        with smtplib.SMTP("127.0.0.1", self.srv.submission_port, timeout=20) as s:
            s.ehlo()
            self.assertFalse(s.has_extn("auth"))
            self.assertEqual(s.docmd("AUTH PLAIN", base64.b64encode(b"\0x\0y").decode())[0], 538)
            self.assertEqual(s.docmd("MAIL FROM:<%s>" % USER)[0], 530)

    def test_bad_password_and_unknown_user_look_the_same(self):
        for user in (USER, "nobody@localhost"):
            with self.smtp() as s:
                with self.assertRaises(smtplib.SMTPAuthenticationError) as cm:
                    s.login(user, "wrong password")
                self.assertEqual(cm.exception.smtp_code, 535)
                self.assertEqual(cm.exception.smtp_error, b"5.7.8 Authentication credentials invalid")

    def test_mail_needs_auth(self):
        with self.smtp() as s:
            s.ehlo()
            self.assertEqual(s.docmd("MAIL FROM:<%s>" % USER)[0], 530)

    def test_sender_must_be_owned(self):
        with self.smtp() as s:
            s.login(USER, mk.PASSWORD)
            code, text = s.docmd("MAIL FROM:<bob@localhost>")
            self.assertEqual((code, text[:5]), (553, b"5.7.1"))
            s.rset()
            with self.assertRaises(smtplib.SMTPDataError) as cm:
                s.send_message(message("Bob <bob@localhost>", "bob@localhost", "forged"),
                               from_addr=USER, to_addrs=["bob@localhost"])
            self.assertEqual(cm.exception.smtp_code, 550)
            self.assertIn(b"5.7.1", cm.exception.smtp_error)

    def test_swaks_auth_plain_and_login(self):
        for mech, port, tls in (("PLAIN", self.srv.submission_port, "--tls"),
                                ("LOGIN", self.srv.submissions_port, "--tls-on-connect")):
            r = subprocess.run(["swaks", "--server", "127.0.0.1", "--port", str(port), tls,
                                "--auth", mech, "--auth-user", USER, "--auth-password", mk.PASSWORD,
                                "--from", USER, "--to", "bob@localhost", "--helo", "swaks.example",
                                "--header", "Subject: swaks " + mech, "--timeout", "20"],
                               capture_output=True, text=True, timeout=60)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            self.assertIn("235 2.7.0 Authentication successful", r.stdout)
            self.assertIn(("Subject: swaks " + mech).encode(), self.srv.messages("bob@localhost")[-1][1])


    def msmtp(self, port, starttls, auth, password, subject, user=USER):
        conf = os.path.join(self.srv.dir, "msmtprc-%s" % subject.replace(" ", "-"))
        with open(conf, "w") as f:
            f.write("account default\nhost 127.0.0.1\nport %d\ntls on\ntls_starttls %s\n"
                    "tls_certcheck off\nauth %s\nuser %s\npassword %s\nfrom %s\ntimeout 20\n"
                    % (port, "on" if starttls else "off", auth, user, password, user))
        os.chmod(conf, 0o600)
        msg = "From: %s\r\nTo: bob@localhost\r\nSubject: %s\r\n\r\nsent by msmtp\r\n" % (user, subject)
        return subprocess.run(["msmtp", "-C", conf, "bob@localhost"], input=msg, capture_output=True,
                              text=True, timeout=60)

    def test_msmtp_scram_sha_256(self):
        # msmtp authenticates through GNU SASL: an independent SCRAM-SHA-256 client.
        for port, starttls in ((self.srv.submission_port, True), (self.srv.submissions_port, False)):
            subject = "msmtp scram %d" % port
            r = self.msmtp(port, starttls, "scram-sha-256", mk.PASSWORD, subject)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            self.assertIn(("Subject: " + subject).encode(), self.srv.messages("bob@localhost")[-1][1])
        r = self.msmtp(self.srv.submission_port, True, "scram-sha-256", "not the password", "msmtp wrong")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("535", r.stdout + r.stderr)

    def test_scram_follows_password_changes(self):
        r = self.srv.cli("account", "add", "carol@localhost", "--password-stdin", stdin="carol's first pw\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.msmtp(self.srv.submissions_port, False, "scram-sha-256", "carol's first pw",
                                    "carol one", user="carol@localhost").returncode, 0)
        r = self.srv.cli("account", "passwd", "carol@localhost", "--password-stdin", stdin="carol's second pw\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotEqual(self.msmtp(self.srv.submissions_port, False, "scram-sha-256", "carol's first pw",
                                       "carol old", user="carol@localhost").returncode, 0)
        self.assertEqual(self.msmtp(self.srv.submissions_port, False, "scram-sha-256", "carol's second pw",
                                    "carol two", user="carol@localhost").returncode, 0)


class OutboundQueueTest(unittest.TestCase):
    """A production-mode instance (dev = false): remote recipients wait in the durable queue."""

    def test_queue_commands(self):
        srv = mk.Server(extra_config={"server.dev": "false"}).start()
        try:
            with smtplib.SMTP("127.0.0.1", srv.submission_port, timeout=20) as s:
                s.starttls(context=mk.client_tls_context())
                s.login(USER, mk.PASSWORD)
                s.send_message(message(USER, "friend@example.com, me@localhost", "queued"),
                               rcpt_options=["NOTIFY=FAILURE,DELAY"])
            # The local recipient got it now; the remote one waits in the queue.
            self.assertIn(b"Subject: queued", srv.messages()[-1][1])
            out = srv.cli("queue", "list")
            self.assertEqual(out.returncode, 0, out.stderr)
            self.assertRegex(out.stdout, r"(?m)^1  \S+ \S+  \d+ bytes  from <me@localhost>$")
            self.assertRegex(out.stdout, r"(?m)^    queued    <friend@example\.com>  attempts 0  next ")
            self.assertNotIn("<me@localhost>  attempts", out.stdout)
            show = srv.cli("queue", "show", "1")
            self.assertIn("Subject: queued", show.stdout)
            self.assertEqual(srv.cli("queue", "hold", "1").stdout, "message 1: 1 recipient held\n")
            self.assertIn("held      <friend@example.com>", srv.cli("queue", "list").stdout)
            self.assertEqual(srv.cli("queue", "release", "1").stdout, "message 1: 1 recipient released\n")
            self.assertEqual(srv.cli("queue", "retry", "1").stdout, "message 1: 1 recipient due now\n")
            missing = srv.cli("queue", "drop", "99")
            self.assertEqual(missing.returncode, 2)
            self.assertIn("no queued message 99", missing.stderr)
            # Survives a crash.
            srv.kill9()
            srv.start()
            self.assertIn("<friend@example.com>", srv.cli("queue", "list").stdout)
            self.assertEqual(srv.cli("queue", "drop", "1").stdout, "message 1: 1 recipient dropped\n")
            self.assertIn("0 messages queued", srv.cli("queue", "list").stdout)
            # Returned to its sender by hand: a bounce with the admin's reason, in the sender's
            # mailbox (the running server's store, written by the CLI), and gone from the queue.
            srv.submit(["friend@example.com"], "to be returned")
            listed = srv.cli("queue", "list").stdout
            self.assertIn("1 message queued", listed)
            qid = re.search(r"(?m)^(\d+)  ", listed).group(1)
            out = srv.cli("queue", "bounce", qid, "--reason", "the address is <wrong>, ask Bob\r\nStatus: 2.0.0")
            self.assertEqual(out.returncode, 0, out.stderr)
            self.assertEqual(out.stdout, "message %s returned to its sender: a bounce names 1 recipient\n" % qid)
            self.assertIn("0 messages queued", srv.cli("queue", "list").stdout)
            bounce = [m for _, m in srv.messages() if b"multipart/report" in m and b"friend@example.com" in m]
            self.assertEqual(len(bounce), 1)
            self.assertIn(b"Status: 5.0.0", bounce[0])
            # One line: a reason cannot add fields to the report.
            self.assertIn(b"the address is <wrong>, ask Bob  Status: 2.0.0", bounce[0])
            self.assertNotIn(b"\nStatus: 2.0.0", bounce[0])
            self.assertIn(b"Subject: to be returned", bounce[0])
            missing = srv.cli("queue", "bounce", qid)
            self.assertEqual(missing.returncode, 2)
            self.assertIn("no queued message " + qid, missing.stderr)
            with open(os.path.join(srv.dir, "security.log")) as f:
                self.assertIn('"event":"queue_bounced"', f.read())
            self.assertEqual(srv.stop(), 0)
        finally:
            srv.cleanup()


if __name__ == "__main__":
    unittest.main()
