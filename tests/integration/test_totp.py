"""TOTP (RFC 6238) with an independent generator: `mailkeep account totp enable` gives a
secret that oathtool turns into codes mailkeep accepts, once each."""
import re
import subprocess
import unittest

import mkharness as mk


class TotpTest(mk.SharedServerTest):
    def test_codes_from_oathtool(self):
        r = self.srv.cli("account", "totp", "enable", "me@localhost")
        self.assertEqual(r.returncode, 0, r.stderr)
        secret = re.search(r"secret: ([A-Z2-7]+)", r.stdout).group(1)
        self.assertIn("otpauth://totp/mailkeep%20localhost:me@localhost?secret=" + secret, r.stdout)
        code = subprocess.run(["oathtool", "--totp", "-b", secret], capture_output=True, text=True,
                              check=True).stdout.strip()
        r = self.srv.cli("account", "totp", "check", "me@localhost", code)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("code accepted", r.stdout)
        r = self.srv.cli("account", "totp", "check", "me@localhost", code)  # a replay
        self.assertEqual(r.returncode, 1)
        self.assertIn("already used", r.stderr)
        wrong = "%06d" % ((int(code) + 1) % 1000000)
        self.assertEqual(self.srv.cli("account", "totp", "check", "me@localhost", wrong).returncode, 1)
        self.assertEqual(self.srv.cli("account", "totp", "disable", "me@localhost").returncode, 0)
        self.assertEqual(self.srv.cli("account", "totp", "check", "me@localhost", code).returncode, 2)


if __name__ == "__main__":
    unittest.main()
