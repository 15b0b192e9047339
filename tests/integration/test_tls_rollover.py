"""`mailkeep tls status` and `tls rollover` on a quickstart instance: the rollover refuses
until the next key's TLSA record is published (read from a loopback DNS server), then the
next key becomes the one in use, a new next key is made, the old key is kept aside, and
status shows the new records; the security log records it."""
import os
import pwd
import shutil
import stat
import subprocess
import tempfile
import unittest

import mkharness as mk
import rig as rigmod

HOST = "mail.roll.example"


def cli(config, *args):
    return subprocess.run([mk.BIN, "--config", config, *args], capture_output=True, text=True, timeout=120)


def digest(path):
    der = subprocess.run(["openssl", "pkey", "-in", path, "-pubout", "-outform", "DER"], capture_output=True,
                         check=True).stdout
    return subprocess.run(["sha256sum"], input=der, capture_output=True, check=True).stdout.decode().split()[0]


class RolloverTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="mk-roll-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.dns = rigmod.Dns()
        self.addCleanup(self.dns.stop)
        self.config = os.path.join(self.dir, "mailkeep.toml")
        data = os.path.join(self.dir, "data")
        r = subprocess.run([mk.BIN, "quickstart", "me@roll.example", "--hostname", HOST, "--config", self.config,
                            "--data-dir", data, "--no-systemd", "--password-stdin"], input="a fine long password 42\n",
                           capture_output=True, text=True, timeout=300)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(self.config, "a") as f:
            f.write('\n[dns]\nupstream = ["127.0.0.1@%d"]\ndnssec = false\n' % self.dns.port)
        self.key = os.path.join(data, "tls", "key.pem")
        self.next = os.path.join(data, "tls", "next-key.pem")
        self.data = data

    def publish(self, *digests):
        self.dns.zones.records.pop("_25._tcp." + HOST, None)
        for d in digests:
            self.dns.zones.add("_25._tcp." + HOST, "TLSA", "3 1 1 " + d)

    def test_status_shows_both_keys_records(self):
        r = cli(self.config, "tls", "status")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("_25._tcp.%s. IN TLSA 3 1 1 %s" % (HOST, digest(self.key)), r.stdout)
        self.assertIn("_25._tcp.%s. IN TLSA 3 1 1 %s" % (HOST, digest(self.next)), r.stdout)

    def test_rollover_waits_for_the_next_keys_record(self):
        old, nxt = digest(self.key), digest(self.next)
        self.publish(old)  # only the key in use
        r = cli(self.config, "tls", "rollover")
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("the next key's record is not published yet", r.stderr)
        self.assertIn("_25._tcp.%s. IN TLSA 3 1 1 %s" % (HOST, nxt), r.stderr)
        self.assertEqual(digest(self.key), old)  # nothing moved

        self.publish(old, nxt)
        r = cli(self.config, "tls", "rollover")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(digest(self.key), nxt)
        new_next = digest(self.next)
        self.assertNotIn(new_next, (old, nxt))
        self.assertEqual(digest(os.path.join(self.data, "tls", "retired-key.pem")), old)
        self.assertIn("3 1 1 %s   (next)" % new_next, r.stdout)
        # The certificate for the new key until the CA's arrives: self-signed, for that key.
        cert = os.path.join(self.data, "tls", "cert.pem")
        pub = subprocess.run(["openssl", "x509", "-in", cert, "-noout", "-pubkey"], capture_output=True,
                             check=True).stdout
        der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "DER"], input=pub, capture_output=True,
                             check=True).stdout
        self.assertEqual(subprocess.run(["sha256sum"], input=der, capture_output=True).stdout.decode().split()[0], nxt)
        r = cli(self.config, "tls", "status")
        self.assertIn("IN TLSA 3 1 1 %s" % new_next, r.stdout)
        r = cli(self.config, "audit", "verify")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        with open(os.path.join(self.data, "security.log")) as f:
            self.assertIn("tls.key_rolled_over", f.read())

    def test_force_skips_the_dns_check(self):
        nxt = digest(self.next)
        r = cli(self.config, "tls", "rollover", "--force")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(digest(self.key), nxt)

    def test_a_rollover_run_as_root_leaves_files_the_server_can_read(self):
        """`sudo mailkeep tls rollover` on an install whose tls directory is the server user's:
        every file it creates or moves belongs to that user, keys still 0600."""
        if os.geteuid() != 0:
            self.skipTest("needs root")
        nobody = pwd.getpwnam("nobody")
        tls = os.path.join(self.data, "tls")
        for path in [tls] + [os.path.join(tls, n) for n in os.listdir(tls)]:
            os.chown(path, nobody.pw_uid, nobody.pw_gid)
        # The first makes cert.pem (none yet: the server never ran); the second moves it aside.
        for want in (["cert.pem", "key.pem", "next-key.pem", "retired-key.pem"],
                     ["cert.pem", "key.pem", "next-key.pem", "retired-cert.pem", "retired-key.pem"]):
            r = cli(self.config, "tls", "rollover", "--force")
            self.assertEqual(r.returncode, 0, r.stderr)
            names = sorted(os.listdir(tls))
            self.assertEqual(names, want)
            for name in names:
                st = os.lstat(os.path.join(tls, name))
                self.assertEqual((st.st_uid, st.st_gid), (nobody.pw_uid, nobody.pw_gid), name)
                if "key" in name:
                    self.assertEqual(stat.S_IMODE(st.st_mode), 0o600, name)

    def test_certificate_files_of_your_own_are_not_rolled(self):
        with open(self.config) as f:
            text = f.read()
        with open(self.config, "w") as f:
            f.write(text.replace("[tls]\n", '[tls]\ncert = "%s"\nkey = "%s"\n' % (self.key + ".crt", self.key), 1))
        r = cli(self.config, "tls", "rollover")
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        self.assertIn("tls.cert is set", r.stderr)


if __name__ == "__main__":
    unittest.main()
