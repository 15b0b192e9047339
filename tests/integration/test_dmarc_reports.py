"""DMARC aggregate reports we send (RFC 7489 §7.2), end to end on the loopback rig: mail
from a domain whose DMARC record asks for reports arrives at mailkeep's MX, and after the
report period the report goes out through the queue to the rua address's MX (aiosmtpd on
127.0.0.50:25), where it is unpacked and read with Python's own gzip and XML parsers. A rua
address in another organization that has not agreed to receive the reports gets nothing."""
import email
import gzip
import os
import smtplib
import time
import unittest
import xml.etree.ElementTree as ET

import mkharness as mk
import rig as rigmod


message = mk.test_message


class DmarcReportsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        rigmod.require_root()
        cls.rig = rigmod.Rig()
        z = cls.rig.dns.zones
        z.add("sender.example", "TXT", "v=spf1 ip4:127.0.0.1 -all")
        z.add("_dmarc.sender.example", "TXT",
              "v=DMARC1; p=reject; rua=mailto:dmarc@reports.example,mailto:steal@thief.example")
        # reports.example agrees to receive sender.example's reports; thief.example does not.
        z.add("sender.example._report._dmarc.reports.example", "TXT", "v=DMARC1")
        cls.reports = cls.rig.mx("reports.example", "127.0.0.50", tls=False)
        cls.thief = cls.rig.mx("thief.example", "127.0.0.51", tls=False)
        config = dict(cls.rig.config())
        config.update({"server.dev": "false", "dmarc.send_reports": "true", "dmarc.report_interval": '"4s"',
                       "outbound.retry_min": '"1s"', "outbound.connect_timeout": '"2s"'})
        cls.srv = mk.Server(extra_config=config).start()

    @classmethod
    def tearDownClass(cls):
        mk.stop_all(cls.srv, cls.rig)

    def deliver(self, mail_from, msg):
        with smtplib.SMTP("127.0.0.1", self.srv.smtp_port, local_hostname="mta.sender.example", timeout=30) as s:
            try:
                s.sendmail(mail_from, ["me@localhost"], msg)
            except smtplib.SMTPDataError as e:
                return e.smtp_code
        return 250

    def test_reports_reach_the_authorized_rua_only(self):
        self.assertEqual(self.deliver("bounce@sender.example", message("news@sender.example", "one")), 250)
        self.assertEqual(self.deliver("bounce@sender.example", message("news@sender.example", "two")), 250)
        self.assertEqual(self.deliver("x@elsewhere.example", message("ceo@sender.example", "forged")), 550)
        # Rows of all reports that arrive (the messages may straddle a period boundary).
        rows = {}
        # Reports go out every 4 s and may straddle two periods: the hang guard is 10x that.
        deadline = time.monotonic() + 10 * 2 * 4
        while time.monotonic() < deadline and sum(rows.values()) < 3:
            rows = {}
            for m in list(self.reports.messages):
                self.assertIn(m.mail_from, ("", "<>"))  # reports come from the null sender
                self.assertEqual(m.rcpt_tos, ["dmarc@reports.example"])
                msg = email.message_from_bytes(m.data)
                self.assertTrue(msg["Subject"].startswith("Report Domain: sender.example Submitter: localhost "))
                part = [p for p in msg.walk() if p.get_content_type() == "application/gzip"][0]
                self.assertRegex(part.get_filename(), r"^localhost!sender\.example!\d+!\d+\.xml\.gz$")
                root = ET.fromstring(gzip.decompress(part.get_payload(decode=True)))
                self.assertEqual(root.findtext("policy_published/domain"), "sender.example")
                self.assertEqual(root.findtext("policy_published/p"), "reject")
                self.assertEqual(root.findtext("report_metadata/org_name"), "localhost")
                for rec in root.iter("record"):
                    key = (rec.findtext("row/source_ip"), rec.findtext("row/policy_evaluated/disposition"),
                           rec.findtext("row/policy_evaluated/dkim"), rec.findtext("row/policy_evaluated/spf"),
                           rec.findtext("identifiers/header_from"), rec.findtext("auth_results/spf/domain"),
                           rec.findtext("auth_results/spf/result"))
                    rows[key] = rows.get(key, 0) + int(rec.findtext("row/count"))
            time.sleep(0.5)
        self.assertEqual(rows, {
            ("127.0.0.1", "none", "fail", "pass", "sender.example", "sender.example", "pass"): 2,
            ("127.0.0.1", "reject", "fail", "fail", "sender.example", "elsewhere.example", "none"): 1,
        })
        self.assertEqual(self.thief.messages, [])
        self.assertIn("dmarc.report_refused", self.srv.stderr())


if __name__ == "__main__":
    unittest.main()
