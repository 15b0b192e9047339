"""MTA-STS (RFC 8461) on the loopback rig: policies served over HTTPS by a test CA's
certificate, MX hosts with valid, self-signed or no TLS. In enforce mode mail goes only
to a matching MX over TLS with a valid certificate, or waits in the queue; it never falls
back to plain text. Testing mode and unusable policies deliver as before."""
import email
import gzip
import json
import os
import time
import unittest

import mkharness as mk
import rig as rigmod

USER = "me@localhost"

POLICY = "version: STSv1\r\nmode: %s\r\nmx: %s\r\nmax_age: 86400\r\n"


class MtaStsTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        if os.geteuid() != 0:
            raise unittest.SkipTest("the rig binds ports 25 and 443 on 127.0.0.x: run as root")
        cls.rig = r = rigmod.Rig()
        cls.ca = ca = rigmod.TestCa(r.dir)
        z = r.dns.zones
        domains = ("good", "badcert", "notls", "mismatch", "testing", "nofile", "change", "rtls", "rtls-no")
        names = ["mta-sts.%s.example" % d for d in domains]
        cls.web = web = rigmod.PolicyServer("127.0.0.20", ca, names)
        r.mxs.append(web)
        for d in domains:
            z.add("mta-sts.%s.example" % d, "A", "127.0.0.20")
            z.add("_mta-sts.%s.example" % d, "TXT", "v=STSv1; id=1;")
        z.ttl["_mta-sts.change.example"] = 0  # changed during the test: not cached by the resolver
        cls.good = r.mx("good.example", "127.0.0.21", cert=ca.issue("mx.good.example"))
        web.policy("mta-sts.good.example", POLICY % ("enforce", "*.good.example"))
        cls.badcert = r.mx("badcert.example", "127.0.0.22")  # self-signed
        web.policy("mta-sts.badcert.example", POLICY % ("enforce", "mx.badcert.example"))
        cls.notls = r.mx("notls.example", "127.0.0.23", tls=False)
        web.policy("mta-sts.notls.example", POLICY % ("enforce", "mx.notls.example"))
        cls.mismatch = r.mx("mismatch.example", "127.0.0.24", cert=ca.issue("mx.mismatch.example"))
        web.policy("mta-sts.mismatch.example", POLICY % ("enforce", "mx.somewhere-else.example"))
        cls.testing = r.mx("testing.example", "127.0.0.25")  # self-signed, but only testing
        web.policy("mta-sts.testing.example", POLICY % ("testing", "mx.testing.example"))
        cls.nofile = r.mx("nofile.example", "127.0.0.26")  # TXT but the policy file is missing (404)
        cls.change = r.mx("change.example", "127.0.0.27")  # self-signed
        web.policy("mta-sts.change.example", POLICY % ("testing", "mx.change.example"))
        # REQUIRETLS (RFC 8689): MTA-STS-validated MX hosts with valid certificates, one of
        # which supports the extension.
        cls.rtls = r.mx("rtls.example", "127.0.0.28", cert=ca.issue("mx.rtls.example"), requiretls=True)
        web.policy("mta-sts.rtls.example", POLICY % ("enforce", "mx.rtls.example"))
        cls.rtls_no = r.mx("rtls-no.example", "127.0.0.29", cert=ca.issue("mx.rtls-no.example"))
        web.policy("mta-sts.rtls-no.example", POLICY % ("enforce", "mx.rtls-no.example"))
        # TLS-RPT: two policy domains ask for reports, sent to reports.example's MX.
        cls.reports = r.mx("reports.example", "127.0.0.30", tls=False)
        for d in ("good", "badcert"):
            z.add("_smtp._tls.%s.example" % d, "TXT", "v=TLSRPTv1; rua=mailto:tls@reports.example")
        config = dict(r.config())
        # A dozen new recipients within minutes from a new account: see test_outbound.py.
        config.update({"server.dev": "false", "outbound.retry_min": '"1s"', "outbound.ca_file": '"%s"' % ca.cert,
                       "outbound.tls_report_interval": '"3s"',
                       "log.level": '"debug"', "security.max_new_recipients_per_hour": "400"})
        cls.srv = mk.Server(extra_config=config).start()

    @classmethod
    def tearDownClass(cls):
        mk.stop_all(cls.srv, cls.rig)

    def submit(self, rcpt, subject, requiretls=False):
        self.srv.submit([rcpt], subject, mail_options=["REQUIRETLS"] if requiretls else [])

    def bounce(self, rcpt):
        return self.srv.wait_bounce(rcpt).decode(errors="replace")

    def test_tls_reports(self):
        self.submit("x@good.example", "tlsrpt good")
        self.submit("y@badcert.example", "tlsrpt badcert")
        # Reports go out every 3 s and may straddle two periods: the hang guard is 10x that.
        deadline = time.monotonic() + 10 * 2 * 3
        seen = {}
        while time.monotonic() < deadline and len(seen) < 2:
            for m in list(self.reports.messages):
                msg = email.message_from_bytes(m.data)
                if msg.get_content_type() != "multipart/report" or msg.get_param("report-type") != "tlsrpt":
                    continue
                self.assertIn(m.mail_from, ("", "<>"))  # reports come from the null sender
                part = [p for p in msg.walk() if p.get_content_type() == "application/tlsrpt+gzip"][0]
                report = json.loads(gzip.decompress(part.get_payload(decode=True)))
                for p in report["policies"]:
                    seen.setdefault(p["policy"]["policy-domain"], []).append(p)
            time.sleep(0.3)
        self.assertIn("good.example", seen)
        good = seen["good.example"][0]
        self.assertEqual(good["policy"]["policy-type"], "sts")
        self.assertIn("mode: enforce", good["policy"]["policy-string"])
        self.assertGreaterEqual(good["summary"]["total-successful-session-count"], 1)
        self.assertIn("badcert.example", seen)
        bad = [p for p in seen["badcert.example"] if p["summary"]["total-failure-session-count"] > 0][0]
        self.assertEqual(bad["failure-details"][0]["result-type"], "certificate-not-trusted")
        self.assertEqual(bad["failure-details"][0]["receiving-mx-hostname"], "mx.badcert.example")

    def test_requiretls_delivered_only_with_its_guarantees(self):
        self.submit("r@rtls.example", "requiretls ok", requiretls=True)
        got = self.rtls.wait(1)
        self.assertTrue(got[0].tls)
        self.assertTrue(got[0].requiretls, "REQUIRETLS was not passed on")
        # A next hop without the extension: bounced with 5.7.30, not sent.
        self.submit("s@rtls-no.example", "requiretls unsupported", requiretls=True)
        b = self.bounce("s@rtls-no.example")
        self.assertIn("Status: 5.7.30", b)
        self.assertIn("does not support REQUIRETLS", b)
        self.assertEqual(self.rtls_no.messages, [])
        # An MX nothing vouches for (no MTA-STS policy file, no DNSSEC): bounced.
        self.submit("t@nofile.example", "requiretls unvalidated", requiretls=True)
        b = self.bounce("t@nofile.example")
        self.assertIn("vouched for by neither DNSSEC nor MTA-STS", b)
        self.assertFalse(any(b"requiretls unvalidated" in m.data for m in self.nofile.messages))

    def waiting(self, rcpt, pattern):
        return self.srv.wait_queued(rcpt, pattern)

    def test_enforce_valid_certificate_delivers(self):
        self.submit("a@good.example", "sts good")
        got = self.good.wait(1)
        self.assertTrue(got[0].tls)
        self.srv.wait_metric("mailkeep_outbound_deliveries_total", 1, result="delivered", tls="mta-sts")

    def test_enforce_bad_certificate_waits(self):
        self.submit("b@badcert.example", "sts badcert")
        self.waiting("b@badcert.example", r"MTA-STS policy: certificate not valid for mx\.badcert\.example")
        self.assertEqual(self.badcert.messages, [])  # never sent, not even in plain text

    def test_enforce_without_starttls_waits(self):
        self.submit("c@notls.example", "sts notls")
        self.waiting("c@notls.example", r"MTA-STS policy requires TLS")
        self.assertEqual(self.notls.messages, [])

    def test_enforce_mx_mismatch_waits(self):
        self.submit("d@mismatch.example", "sts mismatch")
        self.waiting("d@mismatch.example", r"no MX host of mismatch\.example matches its MTA-STS policy")
        self.assertEqual(self.mismatch.messages, [])

    def test_testing_mode_delivers(self):
        self.submit("e@testing.example", "sts testing")
        self.assertTrue(self.testing.wait(1)[0].tls)
        self.assertIn("mta_sts_testing_failure", self.srv.stderr())

    def test_missing_policy_file_is_no_policy(self):
        self.submit("f@nofile.example", "sts nofile")
        self.nofile.wait(1)
        self.assertIn("mta_sts_fetch_failed", self.srv.stderr())

    def test_policy_change_is_picked_up(self):
        self.submit("g@change.example", "sts before")
        self.change.wait(1)
        # The domain switches to enforce (new id): the self-signed MX no longer qualifies.
        self.web.policy("mta-sts.change.example", POLICY % ("enforce", "mx.change.example"))
        self.rig.dns.zones.records["_mta-sts.change.example"] = [("TXT", "v=STSv1; id=2;")]
        self.submit("h@change.example", "sts after")
        self.waiting("h@change.example", r"MTA-STS policy: certificate not valid")
        self.assertEqual(len(self.change.messages), 1)


if __name__ == "__main__":
    unittest.main()
