"""mailkeep's ACME client (src/acme) against a real ACME CA: Debian's pebble, on loopback.

mk-test-acme-issue runs the client with the real HTTPS transport and answers HTTP-01 from a
listener of its own; pebble's validation authority finds it through a loopback DNS server
(dnslib) that says every test name is 127.0.0.1. Pebble serves its API with a certificate
from a test CA made here (the client trusts it through --ca-file, as acme.ca_file would), and
rejects 5% of good nonces on purpose, so badNonce retries happen for real now and then. The
issued chain is checked with `openssl verify` against pebble's own root, and its names and
key with openssl too. A second pebble whose validation goes to a port nobody listens on must
make the tool fail with the CA's words."""
import os
import shutil
import subprocess
import tempfile
import unittest

import mkharness as mk
from pebble import ApiCa, Pebble, free_ports, openssl, pem_blocks
from rig import Dns

TOOL = os.path.join(os.path.dirname(mk.BIN), "mk-test-acme-issue")
NAMES = ["mail.acme.example", "mta-sts.acme.example"]
TOOL_GUARD = 120  # seconds: the tool's own hang guard; an issuance takes a few seconds


class AcmePebbleTest(unittest.TestCase):
    def setUp(self):
        self.assertTrue(os.path.exists(TOOL), "build mk-test-acme-issue first: " + TOOL)
        self.dir = tempfile.mkdtemp(prefix="mk-acme-")
        self.dns = Dns()
        for n in NAMES:
            self.dns.zones.add(n, "A", "127.0.0.1")
        self.api_ca = ApiCa(self.dir)
        self.pebbles = []

    def tearDown(self):
        for p in self.pebbles:
            p.stop()
        self.dns.stop()
        for server in (self.dns.udp, self.dns.tcp):
            server.server.server_close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def pebble(self, http_port, tls_port=None):
        p = Pebble(self.dir if not self.pebbles else tempfile.mkdtemp(dir=self.dir), self.api_ca, http_port,
                   tls_port or free_ports(1)[0], self.dns.port)
        self.pebbles.append(p)
        return p

    def issue(self, pebble, http_port, tag, account_key=None, extra=()):
        chain, key = os.path.join(self.dir, tag + ".chain.pem"), os.path.join(self.dir, tag + ".key.pem")
        args = [TOOL, "--directory", pebble.directory, "--ca-file", self.api_ca.cert,
                "--http-port", str(http_port), "--chain-out", chain, "--key-out", key,
                "--contact", "mailto:postmaster@acme.example", "--timeout", str(TOOL_GUARD)]
        if account_key:
            args += ["--account-key", account_key]
        r = subprocess.run(args + list(extra) + NAMES, capture_output=True, text=True, timeout=TOOL_GUARD + 30)
        for marker in mk.SANITIZER_MARKERS:
            self.assertNotIn(marker, r.stderr)
        return r, chain, key

    def test_issues_a_chain_that_verifies_against_pebbles_root(self):
        http_port, = free_ports(1)
        pebble = self.pebble(http_port)
        account_key = os.path.join(self.dir, "account.pem")
        r, chain_path, key_path = self.issue(pebble, http_port, "first", account_key)
        self.assertEqual(r.returncode, 0, r.stderr[-3000:] + "\npebble:\n" + pebble.logs())
        # pebble's validation authority fetched the answers from the tool's listener.
        self.assertRegex(r.stderr, r"GET /\.well-known/acme-challenge/[A-Za-z0-9_-]{22,} -> 200")

        with open(chain_path) as f:
            served = pem_blocks(f.read())
        self.assertEqual(len(served), 2, "leaf + pebble's intermediate")  # PEBBLE_CHAIN_LENGTH default
        leaf, rest = os.path.join(self.dir, "leaf.pem"), os.path.join(self.dir, "rest.pem")
        with open(leaf, "w") as f:
            f.write(served[0])
        with open(rest, "w") as f:
            f.write("".join(served[1:]))
        root = os.path.join(self.dir, "root.pem")
        with open(root, "w") as f:
            f.write(pebble.management("/roots/0"))
        # The intermediate served is pebble's, and the chain verifies up to pebble's root.
        self.assertEqual(served[1].strip(), pebble.management("/intermediates/0").strip())
        v = subprocess.run(["openssl", "verify", "-CAfile", root, "-untrusted", rest, leaf],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(v.returncode, 0, v.stdout + v.stderr)
        self.assertEqual(v.stdout.strip(), leaf + ": OK")

        san = openssl("x509", "-in", leaf, "-noout", "-ext", "subjectAltName").stdout
        names = sorted(x.strip()[len("DNS:"):] for x in san.splitlines()[1].split(","))
        self.assertEqual(names, sorted(NAMES))
        cert_pub = openssl("x509", "-in", leaf, "-noout", "-pubkey").stdout
        key_pub = openssl("pkey", "-in", key_path, "-pubout").stdout
        self.assertEqual(cert_pub, key_pub)

        # Again with the same account key: newAccount finds the account (same URL), and the
        # CA may reuse the valid authorizations (pebble does half of the time).
        first_account = self._account(r.stderr)
        r2, chain2, _ = self.issue(pebble, http_port, "second", account_key)
        self.assertEqual(r2.returncode, 0, r2.stderr[-3000:] + "\npebble:\n" + pebble.logs())
        self.assertEqual(self._account(r2.stderr), first_account)
        with open(chain2) as f:
            self.assertNotEqual(pem_blocks(f.read())[0], served[0])

    def test_tls_alpn_01_with_the_challenge_certificate_mailkeep_builds(self):
        # pebble checks the certificate of RFC 8737 §3 (acme::tls_alpn01_certificate) that the
        # tool serves for ALPN "acme-tls/1"; HTTP-01 would reach nobody.
        http_port, tls_port, nobody = free_ports(3)
        pebble = self.pebble(nobody, tls_port)
        r, chain_path, key_path = self.issue(pebble, http_port, "alpn",
                                             extra=["--challenge", "tls-alpn-01", "--tls-port", str(tls_port)])
        self.assertEqual(r.returncode, 0, r.stderr[-3000:] + "\npebble:\n" + pebble.logs())
        for name in NAMES:
            self.assertIn("TLS-ALPN-01 hello for %s -> served" % name, r.stderr)
        self.assertNotIn("/.well-known/acme-challenge/", r.stderr)
        with open(chain_path) as f:
            leaf = pem_blocks(f.read())[0]
        san = openssl("x509", "-noout", "-ext", "subjectAltName", input=leaf).stdout
        self.assertEqual(sorted(x.strip()[len("DNS:"):] for x in san.splitlines()[1].split(",")), sorted(NAMES))

    def _account(self, stderr):
        for line in stderr.splitlines():
            if line.startswith("acme-issue: issued, account "):
                return line.split()[4].rstrip(",")
        self.fail("no account URL in:\n" + stderr[-2000:])

    def test_a_challenge_the_ca_cannot_reach_fails_with_the_cas_words(self):
        http_port, wrong_port = free_ports(2)
        pebble = self.pebble(wrong_port)  # nobody listens there
        r, chain_path, _ = self.issue(pebble, http_port, "unreachable")
        self.assertEqual(r.returncode, 1, r.stderr[-3000:])
        failed = [line for line in r.stderr.splitlines() if line.startswith("acme failed: ")]
        self.assertEqual(len(failed), 1, r.stderr[-3000:])
        self.assertRegex(failed[0], r"^acme failed: challenge_failed: (mail|mta-sts)\.acme\.example: http-01: ")
        self.assertIn("connection refused", failed[0].lower())
        self.assertIn(":%d" % wrong_port, failed[0])  # pebble names the URL it tried
        self.assertFalse(os.path.exists(chain_path))


if __name__ == "__main__":
    unittest.main()
