"""App passwords with real clients (smtplib, imaplib): one per client, limited to its
services, listed with their last use, revocable; an account that requires them no longer
accepts its own password over IMAP or SMTP."""
import re
import unittest

import mkharness as mk


class AppPasswordTest(mk.SharedServerTest):
    def smtp(self, password):
        return self.srv.smtp_auth(password)

    def imap(self, password):
        return self.srv.imap_auth(password)

    def add(self, name, *scope):
        r = self.srv.cli("account", "app-password", "add", "me@localhost", name, *scope)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("shown only now", r.stdout)
        return re.search(r": (\S+)\n", r.stdout).group(1)

    def test_own_addresses_keep_rfc_5321_lengths(self):
        # Mail from others may carry local parts over 64 octets (lists' VERP return paths);
        # an account of ours may not: other servers would refuse it (issue 18's review).
        long_local = "a" * 65
        r = self.srv.cli("account", "add", long_local + "@localhost", "--password-stdin", stdin="x" * 20 + "\n")
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        self.assertIn("the part before @ is 65 octets; other servers refuse more than 64", r.stderr)

    def test_app_passwords(self):
        phone = self.add("phone", "--scope", "submission")
        laptop = self.add("laptop")
        self.assertTrue(self.smtp(phone))
        self.assertFalse(self.imap(phone), "a submission-only app password opened IMAP")
        self.assertTrue(self.imap(laptop))
        listing = self.srv.cli("account", "app-password", "list", "me@localhost").stdout
        self.assertRegex(listing, r"(?m)^phone +submission +created \S+ \S+  last used \S+ \S+ from 127\.0\.0\.1$")
        self.assertRegex(listing, r"(?m)^laptop +imap,submission ")
        self.assertNotIn(phone, listing)  # shown once, stored only as a hash
        # Required: the account password stops working for IMAP and SMTP.
        self.assertTrue(self.smtp(mk.PASSWORD))
        self.assertEqual(self.srv.cli("account", "require-app-passwords", "me@localhost", "on").returncode, 0)
        self.assertFalse(self.smtp(mk.PASSWORD))
        self.assertFalse(self.imap(mk.PASSWORD))
        self.assertTrue(self.smtp(phone))
        self.assertTrue(self.imap(laptop))
        # Revoked: gone at once.
        r = self.srv.cli("account", "app-password", "revoke", "me@localhost", "phone")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertFalse(self.smtp(phone))
        self.assertEqual(self.srv.cli("account", "app-password", "revoke", "me@localhost", "phone").returncode, 2)
        self.assertEqual(self.srv.cli("account", "require-app-passwords", "me@localhost", "off").returncode, 0)
        self.assertTrue(self.imap(mk.PASSWORD))
        # Mistakes are named.
        r = self.srv.cli("account", "app-password", "add", "me@localhost", "x", "--scope", "pop3")
        self.assertEqual(r.returncode, 2)
        self.assertIn('unknown scope "pop3"', r.stderr)
        r = self.srv.cli("account", "app-password", "add", "me@localhost", "laptop")
        self.assertEqual(r.returncode, 2)
        self.assertIn("exists already", r.stderr)


if __name__ == "__main__":
    unittest.main()
