"""DKIM signing of submitted mail, checked by independent verifiers: python3-dkim (dkimpy)
and OpenDKIM's own test mode, each given the public keys that `mailkeep domain dns` prints.
Also key rotation (domain dkim rotate/activate) and tampering."""
import os
import re
import smtplib
import subprocess
import tempfile
import unittest

import dkim

import mkharness as mk

ALICE = "alice@example.org"
ALICE_PW = "alice's password 1"


def dns_records(srv, domain):
    """{name: txt} for the DKIM records of `mailkeep domain dns`."""
    r = srv.cli("domain", "dns", domain)
    assert r.returncode == 0, r.stderr
    out = {}
    for m in re.finditer(r'(?m)^(\S+\._domainkey\.\S+)\.\t3600\tIN\tTXT\t(.*)$', r.stdout):
        out[m.group(1)] = "".join(re.findall(r'"([^"]*)"', m.group(2)))
    return out, r.stdout


def only_signature(msg, algo):
    """msg without the DKIM-Signature fields whose a= is not algo."""
    head, body = msg.split(b"\r\n\r\n", 1)
    fields = re.split(rb"\r\n(?![ \t])", head)
    kept = [f for f in fields if not f.startswith(b"DKIM-Signature:") or (b"a=" + algo + b";") in f]
    return b"\r\n".join(kept) + b"\r\n\r\n" + body


class DkimTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.srv = mk.Server(extra_config={}).start()
        r = cls.srv.cli("domain", "add", "example.org")
        assert r.returncode == 0 and "DKIM keys created" in r.stdout, r.stdout + r.stderr
        r = cls.srv.cli("account", "add", ALICE, "--password-stdin", stdin=ALICE_PW + "\n")
        assert r.returncode == 0, r.stderr

    @classmethod
    def tearDownClass(cls):
        code = cls.srv.stop()
        cls.srv.cleanup()
        assert code == 0

    def send(self, subject):
        body = ("From: Alice <%s>\r\nTo: me@localhost\r\nSubject: %s\r\n"
                "Content-Type: text/plain; charset=utf-8\r\n\r\n"
                "Trailing spaces   \r\nand\ttabs\t\r\n\r\n\r\n" % (ALICE, subject))
        with smtplib.SMTP("127.0.0.1", self.srv.submission_port, timeout=20) as s:
            s.starttls(context=mk.client_tls_context())
            s.login(ALICE, ALICE_PW)
            s.sendmail(ALICE, ["me@localhost"], body.encode())
        for _, msg in reversed(self.srv.messages()):
            if ("Subject: " + subject).encode() in msg:
                return msg
        self.fail("message not delivered")

    def dkimpy_results(self, msg, records):
        def dnsfunc(name, timeout=5):
            return records.get(name.decode().rstrip("."), "").encode() or None
        d = dkim.DKIM(msg)
        n = len(re.findall(rb"(?m)^DKIM-Signature:", msg))
        out = []
        for i in range(n):
            try:
                out.append(d.verify(idx=i, dnsfunc=dnsfunc))
            except dkim.ValidationError:
                out.append(False)
        return out

    def opendkim_verify(self, msg, records):
        with tempfile.TemporaryDirectory() as d:
            keys = os.path.join(d, "keys")
            with open(keys, "w") as f:
                for name, txt in records.items():
                    f.write("%s %s\n" % (name, txt))
            conf = os.path.join(d, "opendkim.conf")
            with open(conf, "w") as f:
                f.write("Mode v\nTestPublicKeys %s\nSyslog no\nMinimumKeyBits 1024\n" % keys)
            path = os.path.join(d, "msg.eml")
            with open(path, "wb") as f:
                f.write(msg)
            r = subprocess.run(["opendkim", "-x", conf, "-t", path], capture_output=True, text=True, timeout=60)
            return r.returncode, r.stdout + r.stderr

    def test_both_signatures_verify_with_dkimpy(self):
        msg = self.send("dkimpy check")
        records, _ = dns_records(self.srv, "example.org")
        self.assertIn(b"a=ed25519-sha256", msg)
        self.assertIn(b"a=rsa-sha256", msg)
        self.assertEqual(self.dkimpy_results(msg, records), [True, True])
        # Any change to the body or a signed header breaks both.
        tampered = msg.replace(b"and\ttabs", b"and tabz")
        self.assertEqual(self.dkimpy_results(tampered, records), [False, False])
        forged = msg.replace(b"Subject: dkimpy check", b"Subject: dkimpy chec")
        self.assertEqual(self.dkimpy_results(forged, records), [False, False])
        # An added second From: is caught by oversigning.
        split = msg.index(b"\r\n\r\n")
        added = msg[:split] + b"\r\nFrom: mallory@example.org" + msg[split:]
        self.assertEqual(self.dkimpy_results(added, records), [False, False])

    def test_both_signatures_verify_with_opendkim(self):
        msg = self.send("opendkim check")
        records, _ = dns_records(self.srv, "example.org")
        # opendkim -t reports the first signature: check each on its own (the other
        # DKIM-Signature field is not among the signed fields, so removing it is harmless).
        for algo, bits in ((b"ed25519-sha256", "0-bit"), (b"rsa-sha256", "2048-bit")):
            only = only_signature(msg, algo)
            code, out = self.opendkim_verify(only, records)
            self.assertEqual(code, 0, out)
            self.assertRegex(out, r"verification \(s=mk\d+\w+, d=example\.org, %s key\) succeeded" % bits)
            code, out = self.opendkim_verify(only.replace(b"Trailing spaces", b"Trailing space"), records)
            self.assertNotIn("succeeded", out)

    def test_rotation(self):
        before, _ = dns_records(self.srv, "example.org")
        r = self.srv.cli("domain", "dkim", "rotate", "example.org")
        self.assertEqual(r.returncode, 0, r.stderr)
        after, text = dns_records(self.srv, "example.org")
        self.assertEqual(len(after), 4)  # the active keys and the next ones, both published
        self.assertIn("publish now", text)
        # Not yet active: mail is still signed with the old selectors.
        msg = self.send("before activation")
        selectors = set(re.findall(rb"s=(mk\w+);", msg))
        self.assertEqual({s.decode() + "._domainkey.example.org" for s in selectors}, set(before))
        self.assertEqual(self.srv.cli("domain", "dkim", "rotate", "example.org").returncode, 2)
        r = self.srv.cli("domain", "dkim", "activate", "example.org")
        self.assertEqual(r.returncode, 0, r.stderr)
        msg = self.send("after activation")
        selectors = {s.decode() + "._domainkey.example.org" for s in re.findall(rb"s=(mk\w+);", msg)}
        self.assertEqual(selectors, set(after) - set(before))
        self.assertEqual(self.dkimpy_results(msg, after), [True, True])
        _, text = dns_records(self.srv, "example.org")
        self.assertIn("retired (keep until the next rotation)", text)

    def test_dns_records(self):
        _, text = dns_records(self.srv, "example.org")
        self.assertIn("example.org.\t3600\tIN\tMX\t10 localhost.", text)
        self.assertIn('"v=spf1 mx -all"', text)
        self.assertIn('_dmarc.example.org.\t3600\tIN\tTXT\t"v=DMARC1; p=quarantine; adkim=s; aspf=s"', text)
        self.assertIn("mailkeep alias add postmaster@example.org", text)
        # Once postmaster@ reaches someone, the record asks for aggregate reports there.
        r = self.srv.cli("alias", "add", "postmaster@example.org", ALICE)
        self.assertEqual(r.returncode, 0, r.stderr)
        _, text = dns_records(self.srv, "example.org")
        self.assertIn('"v=DMARC1; p=quarantine; adkim=s; aspf=s; rua=mailto:postmaster@example.org"', text)
        self.srv.cli("alias", "remove", "postmaster@example.org")
        # RSA keys are longer than one TXT string: split into 255-byte strings.
        self.assertRegex(text, r'k=rsa; p=[^"]+" "')
        r = self.srv.cli("domain", "dns", "nothere.example")
        self.assertEqual(r.returncode, 2)
        self.assertIn("mailkeep domain add nothere.example", r.stderr)


if __name__ == "__main__":
    unittest.main()
