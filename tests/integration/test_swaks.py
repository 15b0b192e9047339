"""Delivery with swaks, a second independent SMTP client: plain, STARTTLS, pipelining,
8-bit, and swaks' own view of refusals."""
import subprocess
import unittest

import mkharness as mk


def swaks(port, *args):
    cmd = ["swaks", "--server", "127.0.0.1", "--port", str(port), "--from", "sender@example.org",
           "--helo", "swaks.example", "--timeout", "20", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60)


class SwaksTest(mk.SharedServerTest):

    def deliver(self, *args, subject):
        r = swaks(self.srv.smtp_port, "--to", "me@localhost", "--header", "Subject: " + subject,
                  *args)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertRegex(r.stdout, r"<[-~]  250 2\.0\.0 OK id=[0-9a-f]{16}")
        msg = self.srv.messages()[-1][1]
        self.assertIn(("Subject: " + subject).encode(), msg)
        return r, msg

    def test_plain(self):
        self.deliver(subject="swaks plain")

    def test_starttls(self):
        r, msg = self.deliver("--tls", subject="swaks tls")
        self.assertIn("TLS started", r.stdout)
        self.assertIn("with ESMTPS", mk.header(msg, "Received"))

    def test_implicit_tls_is_not_on_port_25(self):
        # Port 25 speaks STARTTLS, not implicit TLS: a TLS-on-connect client fails cleanly.
        r = swaks(self.srv.smtp_port, "--to", "me@localhost", "--tls-on-connect")
        self.assertNotEqual(r.returncode, 0)

    def test_pipelining(self):
        r, _ = self.deliver("--pipeline", subject="swaks pipeline")
        self.assertIn("PIPELINING", r.stdout)

    def test_8bit_body(self):
        body = "Grüße aus dem Test"
        # swaks sends 8-bit content without BODY=8BITMIME; real MTAs accept it, and so do we.
        _, msg = self.deliver("--body", body, subject="swaks 8bit")
        self.assertIn(body.encode(), msg)

    def test_unknown_user_and_relay(self):
        r = swaks(self.srv.smtp_port, "--to", "nobody@localhost")
        self.assertEqual(r.returncode, 24)  # swaks: RCPT refused
        self.assertIn("550 5.1.1", r.stdout)
        r = swaks(self.srv.smtp_port, "--to", "someone@gmail.com")
        self.assertEqual(r.returncode, 24)
        self.assertIn("554 5.7.1 Relay access denied", r.stdout)

    def test_quit_is_clean(self):
        r, _ = self.deliver(subject="swaks quit")
        self.assertIn("221 2.0.0", r.stdout)


if __name__ == "__main__":
    unittest.main(verbosity=2)
