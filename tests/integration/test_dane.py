"""DANE for SMTP (RFC 7672) on a DNSSEC-signed test zone: NSD serves "example." signed by
ldns-signzone, and mailkeep's validator starts from the zone's own trust anchor. A TLSA
match delivers over TLS; a mismatch, a host without STARTTLS or a bogus (tampered) TLSA
answer keeps the mail queued, never sent in plain text; without TLSA delivery is
opportunistic as usual."""
import os
import subprocess
import unittest

import mkharness as mk
import rig as rigmod

USER = "me@localhost"


def spki_sha256(cert):
    pub = subprocess.run(["openssl", "x509", "-in", cert, "-noout", "-pubkey"], capture_output=True, check=True).stdout
    der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "DER"], input=pub, capture_output=True,
                         check=True).stdout
    return subprocess.run(["sha256sum"], input=der, capture_output=True, check=True).stdout.split()[0].decode()


class DaneTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        if os.geteuid() != 0:
            raise unittest.SkipTest("the rig binds port 25 on 127.0.0.x: run as root")
        cls.certdir = rigmod.tempfile.mkdtemp(prefix="mk-dane-")
        cls.addClassCleanup(rigmod.shutil.rmtree, cls.certdir, True)
        certs = {d: rigmod.self_signed(cls.certdir, "mx.%s.example" % d) for d in ("good", "bad", "bogus", "none")}
        other = rigmod.self_signed(cls.certdir, "unrelated.example")
        records = []
        for d, ip in (("good", "127.0.0.40"), ("bad", "127.0.0.41"), ("notls", "127.0.0.42"),
                      ("bogus", "127.0.0.44"), ("none", "127.0.0.43")):
            records += ["dane-%s IN MX 10 mx.dane-%s.example." % (d, d), "mx.dane-%s IN A %s" % (d, ip)]
        cls.good_digest = spki_sha256(certs["good"][0])
        records.append("_25._tcp.mx.dane-good IN TLSA 3 1 1 %s" % cls.good_digest)
        records.append("_25._tcp.mx.dane-bad IN TLSA 3 1 1 %s" % spki_sha256(other[0]))
        records.append("_25._tcp.mx.dane-notls IN TLSA 3 1 1 %s" % cls.good_digest)
        cls.bogus_digest = spki_sha256(certs["bogus"][0])
        records.append("_25._tcp.mx.dane-bogus IN TLSA 3 1 1 %s" % cls.bogus_digest)
        cls.dns = rigmod.SignedDns(records)
        cls.addClassCleanup(rigmod.shutil.rmtree, cls.dns.dir, True)
        # The bogus domain's TLSA is right but its signature no longer is.
        cls.dns.tamper("_25._tcp.mx.dane-bogus.example.", "TLSA", cls.bogus_digest[:8],
                       "00000000" if cls.bogus_digest[:8] != "00000000" else "11111111")
        cls.mxs = {}
        for d, ip, tls in (("good", "127.0.0.40", True), ("bad", "127.0.0.41", True), ("notls", "127.0.0.42", False),
                           ("bogus", "127.0.0.44", True), ("none", "127.0.0.43", True)):
            cls.mxs[d] = rigmod.Mx(ip, "mx.dane-%s.example" % d, cls.certdir, tls=tls, cert=certs.get(d))
        config = dict(cls.dns.config())
        config.update({"server.dev": "false", "outbound.retry_min": '"1s"', "log.level": '"debug"'})
        cls.srv = mk.Server(extra_config=config).start()

    @classmethod
    def tearDownClass(cls):
        mk.stop_all(cls.srv, *cls.mxs.values(), cls.dns)

    def submit(self, rcpt, subject):
        self.srv.submit([rcpt], subject)

    def waiting(self, rcpt, pattern):
        self.srv.wait_queued(rcpt, pattern)

    def test_tlsa_match_delivers_over_tls(self):
        self.submit("a@dane-good.example", "dane good")
        got = self.mxs["good"].handler.wait(1)
        self.assertTrue(got[0].tls)
        self.assertIn("event=outbound.dane svc=outbound host=mx.dane-good.example authenticated=true", self.srv.stderr())
        # Counted as DANE-authenticated on /metrics, and the lookups as validated answers.
        self.srv.wait_metric("mailkeep_outbound_deliveries_total", 1, result="delivered", tls="dane")
        self.assertGreater(self.srv.metric("mailkeep_dns_queries_total", result="ok"), 0)

    def test_tlsa_mismatch_waits(self):
        self.submit("b@dane-bad.example", "dane bad")
        self.waiting("b@dane-bad.example", r"DANE: the certificate of mx\.dane-bad\.example matches none of its TLSA records")
        self.assertEqual(self.mxs["bad"].handler.messages, [])

    def test_no_starttls_waits(self):
        self.submit("c@dane-notls.example", "dane notls")
        self.waiting("c@dane-notls.example", r"DANE: TLSA records are published but the host offers no STARTTLS")
        self.assertEqual(self.mxs["notls"].handler.messages, [])

    def test_bogus_tlsa_waits(self):
        self.submit("d@dane-bogus.example", "dane bogus")
        self.waiting("d@dane-bogus.example", r"DANE: the TLSA records of mx\.dane-bogus\.example failed DNSSEC validation")
        self.assertEqual(self.mxs["bogus"].handler.messages, [])
        self.assertGreaterEqual(self.srv.metric("mailkeep_dns_queries_total", result="bogus"), 1)
        self.assertGreaterEqual(self.srv.metric("mailkeep_outbound_deliveries_total", result="deferred", tls="none"), 1)

    def test_without_tlsa_opportunistic(self):
        self.submit("e@dane-none.example", "dane none")
        self.assertTrue(self.mxs["none"].handler.wait(1)[0].tls)
        self.srv.wait_metric("mailkeep_outbound_deliveries_total", 1, result="delivered", tls="tls")


if __name__ == "__main__":
    unittest.main()
