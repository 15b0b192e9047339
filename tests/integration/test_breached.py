"""The breached-password list with real clients: `mailkeep breached import` loads a list in
the Have I Been Pwned format; new passwords in it are refused, and once a running server
sees the list, a login with a password in it fails over SMTP submission (smtplib) and IMAP
(imaplib) until the password is changed, and the admin can see why."""
import hashlib
import os
import time
import unittest

import mkharness as mk


def sha1(pw):
    return hashlib.sha1(pw.encode()).hexdigest().upper()


class BreachedTest(mk.SharedServerTest):
    def smtp_login(self, password):
        return self.srv.smtp_auth(password)

    def imap_login(self, password):
        return self.srv.imap_auth(password)

    def test_breached_passwords(self):
        self.assertTrue(self.smtp_login(mk.PASSWORD))
        path = os.path.join(self.srv.dir, "pwned.txt")
        with open(path, "w") as f:  # unsorted, CRLF, counts, as downloaded
            f.write("%s:12\r\n%s:99\r\n%s:3\r\n" % (sha1("Tr0ub4dor&3 and more"), sha1(mk.PASSWORD), sha1("123456789012")))
        r = self.srv.cli("breached", "import", path)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("imported 3 breached password hashes", r.stdout)
        r = self.srv.cli("breached", "check", stdin="123456789012\r\nnot in any list 42\nTr0ub4dor&3 and more\n")
        self.assertEqual((r.returncode, r.stdout), (0, "breached\nnot found\nbreached\n"), r.stderr)
        # New passwords are checked at once.
        r = self.srv.cli("account", "add", "bob@localhost", "--password-stdin", stdin="123456789012\n")
        self.assertEqual(r.returncode, 2)
        self.assertIn("exposed in data breaches", r.stderr)
        # The running server notices the new list within its recheck interval (10 s).
        mk.wait_for(lambda: not self.smtp_login(mk.PASSWORD), "the breached password still works", 10 * 10, 0.5)
        self.assertFalse(self.smtp_login(mk.PASSWORD), "SMTP AUTH still accepts a breached password")
        self.assertFalse(self.imap_login(mk.PASSWORD), "IMAP LOGIN still accepts a breached password")
        self.assertIn("auth.breached_password", self.srv.stderr())
        self.assertIn("password breached: change it", self.srv.cli("account", "list").stdout)
        # The user is told once, however often the password is tried.
        self.assertFalse(self.smtp_login(mk.PASSWORD))
        alerts = [m for _, m in self.srv.messages() if b"Subject: Your mail password was found in a data breach" in m]
        self.assertEqual(len(alerts), 1)
        # A new password (not in the list) lets the user in again.
        new = "a fresh passphrase nobody leaked"
        r = self.srv.cli("account", "passwd", "me@localhost", "--password-stdin", stdin=new + "\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(self.smtp_login(new))
        self.assertTrue(self.imap_login(new))
        self.assertNotIn("password breached", self.srv.cli("account", "list").stdout)
        # A damaged list line is reported with its file and line.
        with open(path, "a") as f:
            f.write("zzzz:1\n")
        r = self.srv.cli("breached", "import", path)
        self.assertEqual(r.returncode, 2)
        self.assertIn("pwned.txt:4: expected a SHA-1", r.stderr)


if __name__ == "__main__":
    unittest.main()
