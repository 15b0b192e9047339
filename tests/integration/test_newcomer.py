"""A newcomer's first day, end to end, on loopback: `quickstart` for a new domain, a
DNSSEC-signed zone serving exactly the records it printed (plus the A and PTR records of the
server's address, which the hosting provider sets), Debian's pebble as the CA; `serve` gets
its certificate by itself, every listener presents it, `check` passes (and names what breaks
when a record is dropped or wrong), and a mail client that knows only an address and a
password finds its settings through autoconfig and through SRV, logs in with the certificate
validated against pebble's root, sends and receives.

The server listens on the standard ports of a public-looking address added to `lo`
(libunbound does not answer its reverse zone itself), so the records are used as printed."""
import imaplib
import os
import re
import shutil
import signal
import smtplib
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.parse
import xml.etree.ElementTree as ET

from dnslib import DNSRecord

import mkharness as mk
from pebble import ApiCa, Pebble
from signed_zones import SignedZones
from test_check import list_zones
from test_quickstart import Serve, ldns_records, zone_part

SERVER_IP = "11.0.0.77"
HOST = "mail.newcomer.example"
DOMAIN = "newcomer.example"
ADDRESS = "me@" + DOMAIN
PASSWORD = "newcomer first day pw 7"


def edit_config(text, dns, pebble, api_ca):
    """The generated config with its listeners on SERVER_IP (standard ports), the test's
    validating DNS and pebble as the CA; nothing else changed."""
    # The metrics stay on loopback (a free port: other tests' servers may use 9325).
    metrics = "127.0.0.1:%d" % (mk.free_port_base() + mk.METRICS_OFFSET)
    out = mk.edit_quickstart_config(
        text, lambda section, key: metrics if section == "metrics" else
        "%s:%d" % (SERVER_IP, mk.QUICKSTART_PORTS[(section, key)]),
        'directory = "%s"\nca_file = "%s"' % (pebble.directory, api_ca.cert))
    out += ["", "[dns]"] + ["%s = %s" % (k.split(".")[1], v) for k, v in dns.config().items()] + [""]
    return "\n".join(out)


def printed_records(zone_text, directory):
    """The printed zone fragment as zone-file lines with absolute names (ldns reads it)."""
    return ["%s 3600 IN %s %s" % (owner, rtype, rdata) for owner, rtype, rdata in ldns_records(zone_text, directory)]


class NewcomerTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        subprocess.run(["ip", "addr", "add", SERVER_IP + "/32", "dev", "lo"], capture_output=True)
        cls.addClassCleanup(subprocess.run, ["ip", "addr", "del", SERVER_IP + "/32", "dev", "lo"], capture_output=True)
        cls.dir = tempfile.mkdtemp(prefix="mk-newcomer-")
        cls.addClassCleanup(shutil.rmtree, cls.dir, True)
        cls.dns = SignedZones()
        cls.addClassCleanup(cls.dns.stop)
        cls.dns.publish([], {})  # up before pebble asks it
        cls.api_ca = ApiCa(cls.dir)
        os.makedirs(os.path.join(cls.dir, "pebble"))
        # pebble's validation authority reaches the server where the DNS says: port 80 for
        # HTTP-01 (quickstart's choice), 443 for TLS-ALPN-01.
        cls.pebble = Pebble(os.path.join(cls.dir, "pebble"), cls.api_ca, 80, 443, cls.dns.port)
        cls.addClassCleanup(cls.pebble.stop)

        cls.started = started = time.monotonic()
        cls.config = os.path.join(cls.dir, "mailkeep.toml")
        r = subprocess.run([mk.BIN, "quickstart", ADDRESS, "--hostname", HOST, "--config", cls.config, "--data-dir",
                            os.path.join(cls.dir, "data"), "--no-systemd", "--password-stdin"],
                           input=PASSWORD + "\n", capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stdout + r.stderr
        cls.printed = printed_records(zone_part(r.stdout), cls.dir)
        cls.publish()
        with open(cls.config) as f:
            text = f.read()
        with open(cls.config, "w") as f:
            f.write(edit_config(text, cls.dns, cls.pebble, cls.api_ca))
        cls.srv = Serve(cls.config, cls.dir)
        cls.addClassCleanup(cls.srv.stop)
        mk.wait_for(lambda: "event=tls.certificate_issued" in cls.srv.stderr() or
                    ("event=tls.acme_failed" in cls.srv.stderr() and cls.fail_issue()), "the certificate from pebble",
                    guard=mk.HANG_GUARD * 2)
        cls.issued_after = time.monotonic() - started
        cls.root = os.path.join(cls.dir, "pebble-root.pem")
        with open(cls.root, "w") as f:
            f.write(cls.pebble.management("/roots/0"))

    @classmethod
    def publish(cls, drop=(), replace=None):
        """What quickstart printed (less the (owner, type) in drop, with replace's values), the
        server's A record, and the unsigned zones: reverse DNS, empty block lists."""
        replace = replace or {}
        signed = ["%s. 60 IN A %s" % (HOST, SERVER_IP)]
        for line in cls.printed:
            owner, _, _, rtype, rdata = line.split(None, 4)
            key = (owner.rstrip("."), rtype)
            if key in drop:
                continue
            # Quickstart names every public-looking address on the machine's interfaces; other
            # tests running at the same time add theirs to lo. Only this test's is the server's.
            if rtype in ("A", "AAAA") and rdata.strip() != SERVER_IP and key[0] == HOST:
                continue
            signed.append("%s 3600 IN %s %s" % (owner, rtype, replace[key]) if key in replace else line)
        reverse = ".".join(reversed(SERVER_IP.split(".")[:3])) + ".in-addr.arpa"
        unsigned = {reverse: ["%s IN PTR %s." % (SERVER_IP.split(".")[3], HOST)]}
        unsigned.update(list_zones())
        cls.dns.publish(signed, unsigned)

    @classmethod
    def fail_issue(cls):
        raise AssertionError("ACME failed:\n%s\npebble:\n%s" % (cls.srv.stderr()[-4000:], cls.pebble.logs()))

    def context(self):
        return ssl.create_default_context(cafile=self.root)  # pebble's root only

    def tls_socket(self, port, name, starttls=None):
        raw = socket.create_connection((SERVER_IP, port), timeout=mk.HANG_GUARD)
        if starttls == "smtp":
            f = raw.makefile("rb")
            f.readline()
            raw.sendall(b"EHLO client.example\r\n")
            while not f.readline().startswith(b"250 "):
                pass
            raw.sendall(b"STARTTLS\r\n")
            self.assertTrue(f.readline().startswith(b"220"))
        elif starttls == "imap":
            f = raw.makefile("rb")
            f.readline()
            raw.sendall(b"a STARTTLS\r\n")
            self.assertTrue(f.readline().startswith(b"a OK"))
        return self.context().wrap_socket(raw, server_hostname=name)  # verified, name checked

    def test_the_certificate_covers_every_name_and_every_listener_presents_it(self):
        ordered = [l for l in self.srv.stderr().splitlines() if "event=tls.acme_ordering" in l]
        for name in (HOST, "mta-sts." + DOMAIN, "autoconfig." + DOMAIN, "autodiscover." + DOMAIN):
            try:
                s = self.tls_socket(443, name)
            except ssl.SSLCertVerificationError as e:
                self.fail("%s: %s; the server ordered: %s" % (name, e, ordered))
            s.close()
        for port, how in ((993, None), (465, None), (443, None), (25, "smtp"), (587, "smtp"), (143, "imap")):
            s = self.tls_socket(port, HOST, how)
            self.assertIn(s.version(), ("TLSv1.2", "TLSv1.3"))
            s.close()
        print("\nquickstart to a CA-issued certificate on every listener: %.1f s" % self.issued_after)

    def test_the_certificate_is_for_the_key_whose_tlsa_record_was_printed(self):
        digest = self.served_key_digest()
        self.assertIn("_25._tcp.%s. 3600 IN TLSA 3 1 1 %s" % (HOST, digest), self.printed)

    def https_get(self, name, path):
        s = self.tls_socket(443, name)
        s.sendall(("GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n" % (path, name)).encode())
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        s.close()
        head, _, body = data.partition(b"\r\n\r\n")
        self.assertTrue(head.startswith(b"HTTP/1.1 200 "), head)
        return body

    def srv_lookup(self, service):
        q = DNSRecord.question("%s.%s" % (service, DOMAIN), "SRV")  # NSD, as a provider serves it
        answer = DNSRecord.parse(q.send("127.0.0.1", self.dns.port, timeout=10))
        records = sorted((rr.rdata.priority, rr.rdata.weight, rr.rdata.port, str(rr.rdata.target).rstrip("."))
                         for rr in answer.rr)
        self.assertTrue(records, service)
        return records[0]

    def test_a_client_with_only_an_address_and_a_password(self):
        # Thunderbird's way: https://autoconfig.DOMAIN/mail/config-v1.1.xml?emailaddress=...
        body = self.https_get("autoconfig." + DOMAIN,
                              "/mail/config-v1.1.xml?emailaddress=" + urllib.parse.quote(ADDRESS))
        provider = ET.fromstring(body).find("emailProvider")
        imap = provider.find("incomingServer")
        smtp = provider.find("outgoingServer")
        self.assertEqual((imap.findtext("hostname"), imap.findtext("port"), imap.findtext("socketType")),
                         (HOST, "993", "SSL"))
        self.assertEqual((smtp.findtext("hostname"), smtp.findtext("port"), smtp.findtext("socketType")),
                         (HOST, "465", "SSL"))
        # RFC 6186's way: SRV records, implicit TLS first.
        self.assertEqual(self.srv_lookup("_imaps._tcp")[2:], (993, HOST))
        self.assertEqual(self.srv_lookup("_submissions._tcp")[2:], (465, HOST))
        # The MTA-STS policy a sender fetches names this server.
        self.assertIn(("mx: %s" % HOST).encode(), self.https_get("mta-sts." + DOMAIN, "/.well-known/mta-sts.txt"))

        # Send to itself over submission, read it over IMAP: both over verified TLS.
        test = self

        class Smtps(smtplib.SMTP_SSL):
            def _get_socket(self, host, port, timeout):
                return test.tls_socket(465, HOST)

        class Imaps(imaplib.IMAP4_SSL):
            def _create_socket(self, timeout):
                return test.tls_socket(993, HOST)

        with Smtps(HOST, 465, timeout=60) as s:
            s.login(ADDRESS, PASSWORD)
            s.sendmail(ADDRESS, [ADDRESS], mk.test_message(ADDRESS, "first day", to=ADDRESS))
        c = Imaps(HOST, 993)
        c.login(ADDRESS, PASSWORD)

        def arrived():
            c.select("INBOX")
            typ, data = c.search(None, "SUBJECT", '"first day"')
            return data[0].split()
        found = mk.wait_for(arrived, "the message in the INBOX")
        typ, data = c.fetch(found[-1], "(BODY.PEEK[HEADER.FIELDS (DKIM-SIGNATURE FROM)])")
        self.assertIn(b"DKIM-Signature:", data[0][1])
        c.logout()

    def served_key_digest(self, port=25, how="smtp"):
        s = self.tls_socket(port, HOST, how)
        der = s.getpeercert(binary_form=True)
        s.close()
        pub = subprocess.run(["openssl", "x509", "-inform", "DER", "-noout", "-pubkey"], input=der,
                             capture_output=True, check=True).stdout
        spki = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "DER"], input=pub, capture_output=True,
                              check=True).stdout
        return subprocess.run(["sha256sum"], input=spki, capture_output=True, check=True).stdout.decode().split()[0]

    def test_z_a_key_rollover_renews_under_load_without_dropping_a_connection(self):
        # Last (z): it changes the key. Clients keep working on the old certificate while the
        # server switches to the next key and gets its certificate.
        before = self.served_key_digest()
        status = subprocess.run([mk.BIN, "--config", self.config, "tls", "status"], capture_output=True, text=True)
        next_digest = re.search(r"next key: .*\n\s+_25\._tcp\.\S+ IN TLSA 3 1 1 ([0-9a-f]{64})", status.stdout).group(1)
        self.assertIn("_25._tcp.%s. 3600 IN TLSA 3 1 1 %s" % (HOST, next_digest), self.printed)  # printed, published
        test, stop, errors, done = self, threading.Event(), [], []

        class Imaps(imaplib.IMAP4_SSL):
            def _create_socket(self, timeout):
                return test.tls_socket(993, HOST)

        def busy_session():
            c = Imaps(HOST, 993)
            c.login(ADDRESS, PASSWORD)
            while not stop.is_set():
                try:
                    c.select("INBOX")
                    c.noop()
                except Exception as e:
                    errors.append("session: %r" % e)
                    return
            c.logout()

        def new_connections():
            while not stop.is_set():
                try:
                    s = self.tls_socket(465, HOST)
                    s.close()
                    done.append(1)
                except Exception as e:
                    errors.append("connect: %r" % e)
                    return
        threads = [threading.Thread(target=busy_session) for _ in range(3)] + [threading.Thread(target=new_connections)]
        for t in threads:
            t.start()
        try:
            issued_before = self.srv.stderr().count("event=tls.certificate_issued")
            r = subprocess.run([mk.BIN, "--config", self.config, "tls", "rollover"], capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            self.srv.proc.send_signal(signal.SIGHUP)  # systemctl reload
            mk.wait_for(lambda: self.srv.stderr().count("event=tls.certificate_issued") > issued_before,
                        "the certificate for the new key")
            mk.wait_for(lambda: self.served_key_digest() == next_digest, "the new key on port 25")
            for port, how in ((993, None), (465, None), (443, None), (587, "smtp")):
                self.assertEqual(self.served_key_digest(port, how), next_digest, port)
        finally:
            stop.set()
            for t in threads:
                t.join()
        self.assertNotEqual(before, next_digest)
        self.assertEqual(errors, [])
        self.assertGreater(len(done), 0)

    def check(self):
        """mailkeep check, trusting pebble's root as the queue runner would ([outbound] ca_file)."""
        with open(self.config) as f:
            text = f.read()
        path = os.path.join(self.dir, "check.toml")
        with open(path, "w") as f:
            f.write(text.replace("[outbound]\n", '[outbound]\nca_file = "%s"\n' % self.root, 1))
        return subprocess.run([mk.BIN, "--config", path, "check"], capture_output=True, text=True, timeout=600)

    def test_check_passes_and_names_what_breaks(self):
        r = self.check()
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertTrue(r.stdout.rstrip().endswith("checks passed"), r.stdout)
        print("\nquickstart to a passing check: %.1f s" % (time.monotonic() - self.started))
        dkim = [line.split()[0].rstrip(".") for line in self.printed if "._domainkey." in line.split()[0]][0]
        try:
            self.publish(drop=[(dkim, "TXT")])
            r = self.check()
            self.assertEqual(r.returncode, 1, r.stdout)
            self.assertRegex(r.stdout, r"FAIL %s TXT \(DKIM\): not published.* fix: publish: %s\. 3600 IN TXT "
                             % (re.escape(dkim), re.escape(dkim)))
            self.publish(replace={(DOMAIN, "TXT"): '"v=spf1 a -all"'})
            r = self.check()
            self.assertEqual(r.returncode, 1, r.stdout)
            self.assertIn('FAIL %s TXT (SPF): is "v=spf1 a -all", expected "v=spf1 mx -all"' % DOMAIN, r.stdout)
        finally:
            self.publish()


if __name__ == "__main__":
    unittest.main()
