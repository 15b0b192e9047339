"""Inbound sender authentication on the MX port, against real signers and a DNS rig:
messages signed by python3-dkim (RSA, Ed25519, l=) and by OpenDKIM arrive through smtplib,
and the stored Authentication-Results, the folder and the SMTP replies are checked for each
case of a table (SPF, DKIM, DMARC pass/fail/quarantine/reject, forgeries of our own domain,
several From fields, forged Authentication-Results claiming our authserv-id)."""
import base64
import os
import re
import smtplib
import subprocess
import tempfile
import time
import unittest

import dkim
import nacl.signing

import mkharness as mk
from webapi import Client
import rig as rigmod

AUTHSERV = "localhost"  # the dev instance's host name


def message(sender, subject):
    return mk.test_message("Sender <%s>" % sender, subject, body="Hello from the other side.\r\n")


class InboundAuthTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dns = rigmod.Dns()
        z = cls.dns.zones
        # The client is 127.0.0.1 (whose PTR, "localhost", libunbound answers itself) and says
        # HELO mta.sender.example, which resolves to it.
        z.add("mta.sender.example", "A", "127.0.0.1")
        # sender.example: SPF allows us, DKIM keys of both signers, p=reject.
        z.add("sender.example", "TXT", "v=spf1 ip4:127.0.0.1 -all")
        z.add("_dmarc.sender.example", "TXT", "v=DMARC1; p=reject")
        cls.rsa_pem, rsa_pub = rigmod.rsa_key()
        z.add("py._domainkey.sender.example", "TXT", "v=DKIM1; k=rsa; p=" + rsa_pub)
        cls.ed = nacl.signing.SigningKey.generate()
        z.add("ed._domainkey.sender.example", "TXT",
              "v=DKIM1; k=ed25519; p=" + base64.b64encode(cls.ed.verify_key.encode()).decode())
        # OpenDKIM needs its key in a directory nobody else can write to (not under /tmp).
        base = os.path.expanduser("~/.cache/mailkeep")
        os.makedirs(base, exist_ok=True)
        cls.odk_dir = tempfile.mkdtemp(prefix="odk-", dir=base)
        subprocess.run(["opendkim-genkey", "-b", "2048", "-d", "sender.example", "-s", "odk", "-D", cls.odk_dir],
                       check=True)
        with open(os.path.join(cls.odk_dir, "odk.txt")) as f:
            pub = "".join(re.findall(r'"([^"]*)"', f.read()))
        z.add("odk._domainkey.sender.example", "TXT", pub)
        # Domains whose mail does not come from us.
        for d, policy in (("reject.example", "reject"), ("quarantine.example", "quarantine"),
                          ("none.example", "none")):
            z.add(d, "TXT", "v=spf1 ip4:192.0.2.1 -all")
            z.add("_dmarc." + d, "TXT", "v=DMARC1; p=%s" % policy)
        z.add("none.example", "TXT", "unrelated")
        z.add("py._domainkey.none.example", "TXT", "v=DKIM1; k=rsa; p=" + rsa_pub)
        # Mailing lists that ARC-seal what they forward; only the first is trusted.
        for d in ("lists.example", "other-list.example"):
            z.add("arc._domainkey." + d, "TXT", "v=DKIM1; k=rsa; p=" + rsa_pub)
        cls.rsa_pub = rsa_pub
        config = {"dns.upstream": '["127.0.0.1@%d"]' % cls.dns.port, "dns.dnssec": "false",
                  "smtp.arc_trusted_sealers": '["lists.example"]'}
        cls.srv = mk.Server(extra_config=config).start()

    @classmethod
    def tearDownClass(cls):
        try:
            mk.stop_all(cls.srv, cls.dns)
        finally:
            subprocess.run(["rm", "-rf", cls.odk_dir])

    # --- signers ---
    def dkimpy(self, msg, domain="sender.example", selector="py", ed=False, length=False):
        if ed:
            key = base64.b64encode(bytes(self.ed))
            sig = dkim.sign(msg, b"ed", domain.encode(), key, signature_algorithm=b"ed25519-sha256", length=length)
        else:
            sig = dkim.sign(msg, selector.encode(), domain.encode(), self.rsa_pem, length=length)
        return sig + msg

    def opendkim(self, msg):
        conf = os.path.join(self.odk_dir, "sign.conf")
        with open(conf, "w") as f:
            f.write("Mode s\nDomain sender.example\nSelector odk\nKeyFile %s\nSyslog no\n"
                    "Canonicalization relaxed/simple\n" % os.path.join(self.odk_dir, "odk.private"))
        path = os.path.join(self.odk_dir, "msg.eml")
        with open(path, "wb") as f:
            f.write(msg)
        r = subprocess.run(["opendkim", "-x", conf, "-t", path], capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        field = r.stdout.split("\n", 1)[1].strip("\n").replace("\n", "\r\n")
        self.assertTrue(field.startswith("DKIM-Signature:"), r.stdout)
        return field.encode() + b"\r\n" + msg

    # --- the MX ---
    def deliver(self, mail_from, msg):
        """The SMTP outcome: None when accepted, else (code, text)."""
        with smtplib.SMTP("127.0.0.1", self.srv.smtp_port, local_hostname="mta.sender.example", timeout=30) as s:
            try:
                s.sendmail(mail_from, ["me@localhost"], msg)
            except smtplib.SMTPDataError as e:
                return e.smtp_code, e.smtp_error.decode()
        return None

    def stored(self, subject, mailbox="INBOX", timeout=mk.HANG_GUARD):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for _, m in self.srv.messages(mailbox=mailbox):
                if ("Subject: %s\r\n" % subject).encode() in m:
                    return m
            time.sleep(0.1)
        self.fail("%r not in %s" % (subject, mailbox))

    def results(self, stored):
        """The Authentication-Results field we added, unfolded."""
        fields = re.findall(rb"(?m)^Authentication-Results: ([^\r\n]*(?:\r\n[ \t][^\r\n]*)*)", stored)
        ours = [f for f in fields if f.startswith(AUTHSERV.encode() + b";")]
        self.assertEqual(len(ours), 1, stored[:2000])
        return re.sub(rb"\r\n[ \t]+", b" ", ours[0]).decode()

    # --- the table ---
    def test_accepted_cases(self):
        cases = [
            # subject, MAIL FROM, From:, signer, folder, expected results (regexes)
            ("dkimpy rsa", "bounce@sender.example", "news@sender.example", self.dkimpy, "INBOX",
             [r"spf=pass smtp.mailfrom=bounce@sender.example", r"dkim=pass \(2048-bit key\) header.d=sender.example "
              r"header.s=py header.a=rsa-sha256", r"dmarc=pass \(p=reject dis=none\) header.from=sender.example",
              r"iprev=pass policy.iprev=127.0.0.1 \(localhost\)"]),
            ("dkimpy ed25519", "", "news@sender.example", lambda m: self.dkimpy(m, ed=True), "INBOX",
             [r"spf=none .*smtp.helo=mta.sender.example", r"dkim=pass .*header.s=ed header.a=ed25519-sha256",
              r"dmarc=pass"]),
            ("opendkim", "other@elsewhere.example", "news@sender.example", self.opendkim, "INBOX",
             [r"spf=none", r"dkim=pass \(2048-bit key\) header.d=sender.example header.s=odk", r"dmarc=pass"]),
            ("quarantined", "x@quarantine.example", "x@quarantine.example", None, "Junk",
             [r"spf=fail", r"dkim=none", r"dmarc=fail \(p=quarantine dis=quarantine\) header.from=quarantine.example"]),
            ("policy none", "x@none.example", "x@none.example", None, "INBOX",
             [r"spf=fail", r"dmarc=fail \(p=none dis=none\)"]),
            ("length limited", "x@none.example", "x@none.example",
             lambda m: self.dkimpy(m, domain="none.example", length=True) + b"Appended: unsigned text\r\n", "INBOX",
             [r"dkim=policy \(body content after the signed length l=\) header.d=none.example", r"dmarc=fail"]),
        ]
        for subject, mail_from, author, signer, folder, expected in cases:
            with self.subTest(subject):
                msg = message(author, subject)
                if signer:
                    msg = signer(msg)
                self.assertIsNone(self.deliver(mail_from, msg))
                got = self.results(self.stored(subject, folder))
                for pattern in expected:
                    self.assertRegex(got, pattern)

    def test_rejected_cases(self):
        signed = self.dkimpy(message("news@sender.example", "tampered"))
        cases = [
            ("forged p=reject", "x@reject.example", message("ceo@reject.example", "forged"),
             550, "5.7.1 Rejected by the DMARC policy of reject.example"),
            ("altered after signing", "x@elsewhere.example", signed.replace(b"other side", b"OTHER side"),
             550, "5.7.1 Rejected by the DMARC policy of sender.example"),
            ("our own domain", "x@elsewhere.example", message("me@localhost", "hosted"),
             550, "5.7.1 localhost is hosted here"),
            ("two From fields", "bounce@sender.example",
             b"From: ceo@reject.example\r\n" + self.dkimpy(message("news@sender.example", "two from")),
             550, "5.7.1 Message must have exactly one From:"),
        ]
        for name, mail_from, msg, code, text in cases:
            with self.subTest(name):
                got = self.deliver(mail_from, msg)
                self.assertIsNotNone(got, "accepted")
                self.assertEqual(got[0], code)
                self.assertIn(text, got[1])
        for subject in ("forged", "tampered", "hosted", "two from"):
            for box in ("INBOX", "Junk"):
                self.assertFalse(any(b"Subject: %s\r\n" % subject.encode() in m for _, m in self.srv.messages(mailbox=box)))

    def test_forged_results_are_removed(self):
        forged = ("Authentication-Results: %s; dkim=pass header.d=bank.example; dmarc=pass\r\n"
                  "Authentication-Results: mx.other.example; spf=pass\r\n" % AUTHSERV).encode()
        msg = forged + self.dkimpy(message("news@sender.example", "forged results"))
        self.assertIsNone(self.deliver("bounce@sender.example", msg))
        stored = self.stored("forged results")
        self.assertNotIn(b"bank.example", stored)
        self.assertIn(b"Authentication-Results: mx.other.example; spf=pass", stored)
        self.assertRegex(self.results(stored), r"dkim=pass .*header.d=sender.example")
        # Ours sits below Return-Path and above the spam verdict and our Received field.
        head = stored.split(b"\r\n\r\n", 1)[0].decode()
        names = [l.split(":", 1)[0] for l in head.split("\r\n") if l and not l[0].isspace()]
        self.assertEqual(names[:4], ["Return-Path", "Authentication-Results", "X-Mailkeep-Spam", "Received"])

    def list_forward(self, msg, domain):
        """What a mailing list does: tags the subject (breaking the author's DKIM signature),
        records what it verified and ARC-seals the result (python3-dkim's arc_sign)."""
        msg = msg.replace(b"Subject: ", b"Subject: [list] ", 1)
        msg = ("Authentication-Results: %s; dkim=pass header.d=sender.example; dmarc=pass "
               "header.from=sender.example\r\n" % domain).encode() + msg
        fields = dkim.arc_sign(msg, b"arc", domain.encode(), self.rsa_pem, domain.encode())
        return b"".join(fields) + msg

    def test_arc_from_a_trusted_list_overrides_dmarc(self):
        original = self.dkimpy(message("news@sender.example", "via a list"))
        ok = self.list_forward(original, "lists.example")
        self.assertIsNone(self.deliver("bounce@lists.example", ok))
        got = self.results(self.stored("[list] via a list"))
        self.assertRegex(got, r"dkim=fail .*header.d=sender.example")
        self.assertRegex(got, r"dmarc=fail \(p=reject dis=reject\)")
        self.assertRegex(got, r"arc=pass \(i=1 d=lists.example\)")
        # The same from a list we do not trust is refused; a broken seal from the trusted one too.
        untrusted = self.list_forward(message("news@sender.example", "via another list"), "other-list.example")
        self.assertEqual(self.deliver("bounce@other-list.example", untrusted)[0], 550)
        tampered = self.list_forward(self.dkimpy(message("news@sender.example", "tampered list")), "lists.example")
        tampered = tampered.replace(b"other side", b"0ther side")
        got = self.deliver("bounce@lists.example", tampered)
        self.assertEqual(got[0], 550)
        self.assertIn("DMARC policy of sender.example", got[1])

    def test_our_arc_seal_verifies_with_dkimpy(self):
        tool = os.path.join(os.path.dirname(mk.BIN), "mk-test-arc-seal")
        key = os.path.join(self.odk_dir, "arc.pem")
        with open(key, "wb") as f:
            f.write(self.rsa_pem)
        msg = message("news@sender.example", "sealed by us")
        r = subprocess.run([tool, key, "seal.example", "arc", "mx.seal.example", "dmarc=pass header.from=sender.example"],
                           input=msg, capture_output=True, check=True)
        sealed = r.stdout
        self.assertTrue(sealed.startswith(b"ARC-Seal: i=1; a=rsa-sha256;"), sealed[:200])
        records = {"arc._domainkey.seal.example": "v=DKIM1; k=rsa; p=" + self.rsa_pub}
        dnsfunc = lambda name, timeout=5: records.get(name.decode().rstrip("."), "").encode()
        cv, _, why = dkim.arc_verify(sealed, dnsfunc=dnsfunc)
        self.assertEqual(cv, dkim.CV_Pass, why)
        cv, _, _ = dkim.arc_verify(sealed.replace(b"other side", b"other sidE"), dnsfunc=dnsfunc)
        self.assertEqual(cv, dkim.CV_Fail)

    def report_mail(self, domain, report_id, reporter, rows, kind):
        """An aggregate report as big receivers send them: gzip (Microsoft) or zip (Google)."""
        records = "".join(
            "<record><row><source_ip>%s</source_ip><count>%d</count><policy_evaluated><disposition>%s</disposition>"
            "<dkim>%s</dkim><spf>%s</spf></policy_evaluated></row><identifiers><header_from>%s</header_from>"
            "</identifiers><auth_results><spf><domain>%s</domain><result>%s</result></spf></auth_results></record>"
            % (ip, n, disp, dk, sp, domain, domain, sp) for ip, n, disp, dk, sp in rows)
        xml = ("<?xml version=\"1.0\" encoding=\"UTF-8\" ?><feedback><report_metadata><org_name>%s</org_name>"
               "<email>noreply@%s</email><report_id>%s</report_id><date_range><begin>1764460800</begin>"
               "<end>1764547199</end></date_range></report_metadata><policy_published><domain>%s</domain>"
               "<adkim>r</adkim><aspf>r</aspf><p>quarantine</p><sp>quarantine</sp><pct>100</pct></policy_published>"
               "%s</feedback>" % (reporter, reporter, report_id, domain, records)).encode()
        from email.mime.application import MIMEApplication
        from email.mime.multipart import MIMEMultipart
        from email.mime.text import MIMEText
        m = MIMEMultipart()
        m["From"] = "noreply-dmarc@%s" % reporter
        m["To"] = "me@localhost"
        m["Subject"] = "Report Domain: %s Submitter: %s Report-ID: <%s>" % (domain, reporter, report_id)
        m.attach(MIMEText("DMARC aggregate report"))
        name = "%s!%s!1764460800!1764547199" % (reporter, domain)
        if kind == "zip":
            import io
            import zipfile
            buf = io.BytesIO()
            with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
                z.writestr(name + ".xml", xml)
            part = MIMEApplication(buf.getvalue(), "zip", Name=name + ".zip")
        else:
            import gzip
            part = MIMEApplication(gzip.compress(xml), "gzip", Name=name + ".xml.gz")
        part["Content-Disposition"] = 'attachment; filename="%s"' % part.get_param("name")
        m.attach(part)
        import email.policy
        return m.as_bytes(policy=email.policy.SMTP.clone(max_line_length=None))

    def test_dmarc_reports_about_our_domains(self):
        reports = [
            ("localhost", "g-1", "google.example", [("127.0.0.1", 40, "none", "pass", "pass"),
                                                  ("203.0.113.9", 5, "quarantine", "fail", "fail")], "zip"),
            ("localhost", "m-1", "outlook.example", [("127.0.0.1", 10, "none", "pass", "fail")], "gzip"),
            ("sender.example", "x-1", "google.example", [("192.0.2.1", 99, "none", "pass", "pass")], "gzip"),
        ]
        for domain, rid, reporter, rows, kind in reports:
            msg = self.report_mail(domain, rid, reporter, rows, kind)
            self.assertIsNone(self.deliver("noreply-dmarc@%s" % reporter, msg))
            # Reports are mail too: delivered like any other message.
            self.stored("Report Domain: %s Submitter: %s Report-ID: <%s>" % (domain, reporter, rid))
        # The same report twice is counted once.
        self.assertIsNone(self.deliver("noreply-dmarc@google.example", self.report_mail(*reports[0][:4], "zip")))
        r = self.srv.cli("report", "dmarc")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("localhost: 2 reports, 55 messages, 50 passed DMARC, 5 failed", r.stdout)
        self.assertRegex(r.stdout, r"127\.0\.0\.1 +50 messages  pass 50  fail 0  \(none 50; reported by "
                                   r"google.example, outlook.example\)\n")
        self.assertRegex(r.stdout, r"203\.0\.113\.9 +5 messages  pass 0  fail 5  \(quarantine 5; reported by "
                                   r"google.example\)  <- not authenticated")
        self.assertNotIn("sender.example", r.stdout)  # not one of our domains
        # The admin's API says the same.
        api = Client(self.srv)
        self.assertEqual(api.login().status, 200)
        a = api.get("/api/v1/reports/dmarc?days=7")
        self.assertEqual(a.status, 200, a)
        (local,) = [d for d in a.json["domains"] if d["domain"] == "localhost"]
        self.assertEqual((local["reports"], local["messages"], local["pass"]), (2, 55, 50))
        forged = {s["address"]: s for s in local["sources"]}["203.0.113.9"]
        self.assertEqual((forged["pass"], forged["fail"], forged["dispositions"]), (0, 5, {"quarantine": 5}))
        self.assertNotIn("sender.example", [d["domain"] for d in a.json["domains"]])

    def test_check_message_cli(self):
        msg = self.dkimpy(message("news@sender.example", "cli check")).replace(b"\r\n", b"\n")
        path = os.path.join(self.srv.dir, "check.eml")
        with open(path, "wb") as f:
            f.write(msg)
        r = self.srv.cli("check-message", path, "--ip", "127.0.0.1", "--mail-from", "bounce@sender.example",
                         "--helo", "mta.sender.example")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"(?m)^SPF +pass +mailfrom sender.example for 127.0.0.1: \"ip4:127.0.0.1\"$")
        self.assertRegex(r.stdout, r"(?m)^DKIM +pass +d=sender.example s=py a=rsa-sha256 \(2048-bit key\)$")
        self.assertRegex(r.stdout, r"(?m)^DMARC +pass +policy reject \(record at _dmarc.sender.example\), "
                                   r"disposition none; aligned: spf yes, dkim yes \(sender.example\)$")
        self.assertIn("Authentication-Results: localhost;", r.stdout)
        self.assertIn("Spam filter (rules only: no model trained yet):", r.stdout)
        self.assertRegex(r.stdout, r"(?m)^  DKIM_ALIGNED +-1\.00  valid DKIM signature of the author domain sender.example$")
        self.assertRegex(r.stdout, r"(?m)^  total +-1\.00  -> delivered$")
        self.assertIn("X-Mailkeep-Spam: no; score=-1.00 DKIM_ALIGNED=-1.00", r.stdout)
        # It runs the MX's own chain: the decision of every stage together.
        self.assertRegex(r.stdout, r"(?m)^MX decision: accepted$")
        # A recipient's own verdict: with their thresholds, the same message goes to their Junk.
        r = self.srv.cli("account", "spam-thresholds", "me@localhost", "--", "-3", "-2", "10")
        self.assertEqual(r.returncode, 0, r.stderr)
        try:
            r = self.srv.cli("check-message", path, "--ip", "127.0.0.1", "--mail-from", "bounce@sender.example",
                             "--helo", "mta.sender.example", "--rcpt", "me@localhost")
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertRegex(r.stdout, r"(?m)^  total +-1\.00  -> delivered to Junk$")
            self.assertRegex(r.stdout, r"(?m)^MX decision: accepted, into Junk$")
        finally:
            r = self.srv.cli("account", "spam-thresholds", "me@localhost", "default")
            self.assertEqual(r.returncode, 0, r.stderr)
        r = self.srv.cli("check-message", path, "--rcpt", "nobody@localhost")
        self.assertEqual(r.returncode, 2)
        self.assertIn("--rcpt nobody@localhost: not a recipient this instance accepts mail for", r.stderr)
        # Without the client address only DKIM counts; an altered body fails it.
        with open(path, "wb") as f:
            f.write(msg.replace(b"other side", b"other sid"))
        r = self.srv.cli("check-message", path)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"(?m)^SPF +- +not checked")
        self.assertRegex(r.stdout, r"(?m)^DKIM +fail +d=sender.example .*: body hash did not verify$")
        self.assertRegex(r.stdout, r"(?m)^DMARC +fail +policy reject")
        # The MX refuses it before the filter runs, and says so.
        self.assertRegex(r.stdout, r"(?m)^MX decision: refused: 550 5\.7\.1 Rejected by the DMARC policy of "
                                   r"sender\.example$")
        self.assertNotIn("Spam filter", r.stdout)
        r = self.srv.cli("check-message", path + ".missing")
        self.assertEqual(r.returncode, 2)
        self.assertRegex(r.stderr, r"cannot read: .* \(the message file\)")

    def test_known_senders_need_authentication(self):
        # The user writes to two people (submission; dev mode captures the mail).
        self.srv.submit(["friend@sender.example", "friend@none.example"], "hello friends")
        # An authenticated reply from the first: KNOWN_SENDER.
        self.assertIsNone(self.deliver("friend@sender.example", message("friend@sender.example", "known reply")))
        m = self.stored("known reply")
        self.assertRegex(m.decode(errors="replace"), r"X-Mailkeep-Spam: no; score=-\d+\.\d\d KNOWN_SENDER=-3\.00")
        # The second's domain does not authorize 127.0.0.1: a forged known contact gets no bonus.
        self.assertIsNone(self.deliver("friend@none.example", message("friend@none.example", "forged reply")))
        m = self.stored("forged reply")
        self.assertNotIn(b"KNOWN_SENDER", m)
        self.assertIn(b"SPF_FAIL=1.00 DMARC_FAIL=1.00", m)


if __name__ == "__main__":
    unittest.main()
