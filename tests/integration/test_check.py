"""mailkeep check (the self-diagnosis) against a whole deployment on loopback, correct first,
then with one thing broken at a time; each broken thing must be named with its fix, and the
exit code must be 1.

The deployment: mailkeep serving mail.check.example on every real port of 11.0.17.1 (an
address added to lo, public-looking so that libunbound asks the test DNS for its reverse
name instead of answering it itself), with a certificate chain from a test CA (root, an
intermediate, the leaf) that check trusts through [outbound] ca_file, the CA file senders'
trust comes from in mailkeep. The DNS is NSD: the zone example. (check.example and the
host) DNSSEC-signed, with exactly the records `mailkeep domain dns` prints plus the host's
A, TLSA and the MTA-STS names; unsigned zones for the reverse DNS and the block lists.

A leaf served without its intermediate "on one port": mailkeep presents one chain on every
listener, so a single port can only serve another chain when another program answers there
(a proxy, an old daemon). That is what the test does: a small TLS server with the leaf alone,
named as [imap] listen_tls in the configuration check reads. A certificate that expires in
10 days is mailkeep's own: the server is restarted with it. An open relay cannot be made of
mailkeep, so check is pointed (through [smtp] listen) at aiosmtpd, which accepts any RCPT."""
import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import unittest

import mkharness as mk
import rig as rigmod
from signed_zones import SignedZones

IP = "11.0.17.1"
HOST = "mail.check.example"
DOMAIN = "check.example"
LISTS = ("zen.spamhaus.org", "bl.spamcop.net", "b.barracudacentral.org", "psbl.surriel.com")
# The spam filter's default lists besides those ([spam] dnswl, uribl).
FILTER_LISTS = ("list.dnswl.org", "dbl.spamhaus.org")
LISTENERS = {"smtp.listen": 25, "submission.listen": 587, "submission.listen_tls": 465, "imap.listen": 143,
             "imap.listen_tls": 993, "http.listen": 80, "http.listen_tls": 443}
DASH = "\u2014"


def list_zones(lists=None):
    """The lists' zones as a test publishes them: each holds its RFC 5782 test entry (127.0.0.2,
    or "test" for a domain list), as the real ones do; `lists` replaces a zone's records."""
    entries = {"dbl.spamhaus.org": ["test IN A 127.0.1.2"]}
    return {zone: list((lists or {}).get(zone, entries.get(zone, ["2.0.0.127 IN A 127.0.0.2"])))
            for zone in LISTS + FILTER_LISTS}


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


class Certs:
    """A root CA, an intermediate, and one leaf key for the host and its MTA-STS name."""

    def __init__(self, d):
        self.dir = d
        ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
        openssl("req", "-x509", *ec, "-keyout", "root.key", "-out", "root.crt", "-days", "3650",
                "-subj", "/CN=mailkeep check test root", "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=d)
        self.root = os.path.join(d, "root.crt")
        with open(os.path.join(d, "ca.ext"), "w") as f:
            f.write("basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n")
        openssl("req", *ec, "-keyout", "int.key", "-out", "int.csr", "-subj", "/CN=mailkeep check test intermediate",
                cwd=d)
        openssl("x509", "-req", "-in", "int.csr", "-CA", "root.crt", "-CAkey", "root.key", "-CAcreateserial",
                "-out", "int.crt", "-days", "3650", "-extfile", "ca.ext", cwd=d)
        with open(os.path.join(d, "leaf.ext"), "w") as f:
            f.write("subjectAltName=DNS:%s,DNS:mta-sts.%s\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n"
                    % (HOST, DOMAIN))
        openssl("req", *ec, "-keyout", "leaf.key", "-out", "leaf.csr", "-subj", "/CN=" + HOST, cwd=d)
        self.key = os.path.join(d, "leaf.key")

    def leaf(self, days):
        """The leaf certificate valid for `days` days (same key), and its full chain file."""
        crt = os.path.join(self.dir, "leaf%d.crt" % days)
        openssl("x509", "-req", "-in", "leaf.csr", "-CA", "int.crt", "-CAkey", "int.key", "-CAcreateserial",
                "-out", crt, "-days", str(days), "-extfile", "leaf.ext", cwd=self.dir)
        full = os.path.join(self.dir, "fullchain%d.pem" % days)
        with open(full, "w") as f, open(crt) as a, open(os.path.join(self.dir, "int.crt")) as b:
            f.write(a.read() + b.read())
        return crt, full

    def spki_sha256(self):
        pub = subprocess.run(["openssl", "pkey", "-in", self.key, "-pubout", "-outform", "DER"], capture_output=True,
                             check=True).stdout
        return subprocess.run(["sha256sum"], input=pub, capture_output=True, check=True).stdout.split()[0].decode()


def fnv1a64(data):
    h = 14695981039346656037
    for b in data:
        h = ((h ^ b) * 1099511628211) & 0xFFFFFFFFFFFFFFFF
    return "%016x" % h


class TlsListener:
    """Accepts TLS connections on ip:port with the given chain file, then closes them."""

    def __init__(self, ip, port, chain, key):
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(chain, key)
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((ip, port))
        self.sock.listen(8)
        self.ctx = ctx
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            try:
                c.settimeout(10)
                self.ctx.wrap_socket(c, server_side=True).close()
            except (OSError, ssl.SSLError):
                c.close()

    def stop(self):
        self.sock.close()


class CheckTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        rigmod.require_root()
        subprocess.run(["ip", "addr", "add", IP + "/32", "dev", "lo"], capture_output=True)
        cls.addClassCleanup(subprocess.run, ["ip", "addr", "del", IP + "/32", "dev", "lo"], capture_output=True)
        cls.tmp = tempfile.mkdtemp(prefix="mk-check-")
        cls.addClassCleanup(shutil.rmtree, cls.tmp, True)
        cls.certs = Certs(cls.tmp)
        _, cls.fullchain = cls.certs.leaf(90)
        cls.zones = SignedZones()
        cls.addClassCleanup(cls.zones.stop)
        config = dict(cls.zones.config())
        config.update({"server.hostname": '"%s"' % HOST, "server.dev": "false", "outbound.paused": "true",
                       "outbound.ca_file": '"%s"' % cls.certs.root,
                       "tls.cert": '"%s"' % cls.fullchain, "tls.key": '"%s"' % cls.certs.key})
        config.update({k: '["%s:%d"]' % (IP, port) for k, port in LISTENERS.items()})
        cls.srv = mk.Server(extra_config=config)
        cls.zones.publish([], {})  # the server's resolver needs its upstream before it starts
        cls.srv.start()
        cls.addClassCleanup(cls.stop_server)
        for args in (("domain", "add", DOMAIN), ("account", "remove", "me@localhost"), ("domain", "remove", "localhost")):
            r = cls.srv.cli(*args)
            assert r.returncode == 0, (args, r.stderr)
        r = cls.srv.cli("domain", "dns", DOMAIN)
        assert r.returncode == 0, r.stderr
        # Published byte for byte as printed: the zone-file lines (not the web-form rows that
        # follow them), comments left out.
        zone = r.stdout[:r.stdout.index("; The same records as rows for a DNS provider's web form")]
        cls.domain_records = [l for l in zone.splitlines() if l.strip() and not l.startswith(";")]
        cls.dkim_owners = [l.split()[0].rstrip(".") for l in cls.domain_records if "._domainkey." in l.split()[0]]
        assert len(cls.dkim_owners) == 2, cls.domain_records
        cls.sts_id = fnv1a64(cls.fetch_policy())

    @classmethod
    def stop_server(cls):
        code = cls.srv.stop()
        cls.srv.cleanup()
        assert code == 0, "mailkeep exited with %s" % code

    @classmethod
    def fetch_policy(cls):
        """The MTA-STS policy the server serves (bytes), as a sender fetches it."""
        ctx = ssl.create_default_context(cafile=cls.certs.root)
        with socket.create_connection((IP, 443), timeout=mk.HANG_GUARD) as s:
            with ctx.wrap_socket(s, server_hostname="mta-sts." + DOMAIN) as t:
                t.sendall(b"GET /.well-known/mta-sts.txt HTTP/1.1\r\nHost: mta-sts.%s\r\nConnection: close\r\n\r\n"
                          % DOMAIN.encode())
                data = b""
                while True:
                    chunk = t.recv(65536)
                    if not chunk:
                        break
                    data += chunk
        head, body = data.split(b"\r\n\r\n", 1)
        assert head.startswith(b"HTTP/1.1 200"), head
        return body

    # --- the DNS as published ---
    def publish(self, drop=(), replace=None, extra=(), tlsa=None, ptr=True, lists=None):
        """The correct zones, less the records whose owner and type are in drop, with replace
        {(owner, type): value} swapped in and extra lines added."""
        replace = replace or {}
        # What domain dns printed, and what it could not know here (the server's address on
        # lo, the key of a certificate of our own) as the admin would add it.
        signed = list(self.domain_records)
        printed = {(l.split()[0].rstrip("."), l.split()[l.split().index("IN") + 1]) for l in signed}
        for line in ["%s. IN A %s" % (HOST, IP), "mta-sts.%s. IN CNAME %s." % (DOMAIN, HOST),
                     "_25._tcp.%s. IN TLSA 3 1 1 %s" % (HOST, self.certs.spki_sha256()),
                     '_mta-sts.%s. 3600 IN TXT "v=STSv1; id=%s"' % (DOMAIN, self.sts_id)]:
            if (line.split()[0].rstrip("."), line.split()[line.split().index("IN") + 1]) not in printed:
                signed.append(line)
        if tlsa:
            replace = dict(replace)
            replace[("_25._tcp." + HOST, "TLSA")] = "3 1 1 " + tlsa
        out = []
        for line in signed:
            parts = line.split()
            owner, rtype = parts[0].rstrip("."), parts[parts.index("IN") + 1]
            if (owner, rtype) in drop:
                continue
            if (owner, rtype) in replace:
                line = "%s. IN %s %s" % (owner, rtype, replace[(owner, rtype)])
            out.append(line)
        unsigned = {"17.0.11.in-addr.arpa": ["1 IN PTR %s." % HOST] if ptr else []}
        unsigned.update(list_zones(lists))
        self.zones.publish(out + list(extra), unsigned)

    def setUp(self):
        self.publish()

    # --- running check ---
    def config_with(self, **changes):
        """A config file for check: the server's, with keys changed ({"imap.listen_tls": ...})."""
        saved = dict(self.srv.extra_config)
        self.srv.extra_config.update({k.replace("__", "."): v for k, v in changes.items()})
        text = self.srv._serve_config()
        self.srv.extra_config = saved
        path = os.path.join(self.srv.dir, "check-%d.toml" % abs(hash(text)))
        with open(path, "w") as f:
            f.write(text)
        return path

    def check(self, *args, config=None):
        r = subprocess.run([mk.BIN, "--config", config or self.srv.config, "check", *args], capture_output=True,
                           text=True, timeout=10 * mk.HANG_GUARD)
        for m in mk.SANITIZER_MARKERS:
            self.assertNotIn(m, r.stderr)
        return r

    def problems(self, out):
        return [l for l in out.splitlines() if l.startswith("FAIL ") or l.startswith("?    ")]

    def assert_only(self, r, expected):
        """Exit 1, and the lines that are not passes are exactly `expected` (regexes, in order)."""
        got = self.problems(r.stdout)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertEqual(len(got), len(expected), "\n".join(got))
        for line, pattern in zip(got, expected):
            self.assertRegex(line, pattern)

    # --- the tests ---
    def test_correct_deployment_passes(self):
        r = self.check()
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        lines = r.stdout.splitlines()
        self.assertEqual(lines[-1], "mailkeep check: all %d checks passed" % (len(lines) - 1))
        for line in lines[:-1]:
            self.assertTrue(line.startswith("ok   "), line)
        for want in ["ok   DNSSEC validation by mailkeep's resolver",
                     "ok   %s MX" % DOMAIN,
                     "ok   %s TXT (SPF)" % DOMAIN,
                     "ok   %s TXT (DKIM)" % self.dkim_owners[0],
                     "ok   %s TXT (DKIM)" % self.dkim_owners[1],
                     "ok   _dmarc.%s TXT (DMARC)" % DOMAIN,
                     "ok   _mta-sts.%s TXT (MTA-STS)" % DOMAIN,
                     "ok   %s A/AAAA (%s)" % (HOST, IP),
                     "ok   reverse DNS of %s: %s" % (IP, HOST),
                     "ok   %s is not listed on %s" % (IP, ", ".join(LISTS)),
                     "ok   the spam filter's lists answer: zen.spamhaus.org, list.dnswl.org, dbl.spamhaus.org",
                     "ok   %s MTA-STS policy (mode enforce, mx %s)" % (DOMAIN, HOST),
                     "ok   smtp %s:25: open relay test (relaying refused)" % IP,
                     "ok   submission %s:587: AUTH before TLS refused" % IP]:
            self.assertIn(want, lines)
        for svc, port in (("smtp", 25), ("submission", 587), ("submissions", 465), ("imap", 143), ("imaps", 993),
                          ("https", 443)):
            self.assertIn("ok   %s %s:%d: certificate (valid for %s, 90 days left)" % (svc, IP, port, HOST), lines)
        # The TLSA record asked for is published and is the served key's (one line: the
        # records check says it; the TLS check does not repeat it).
        self.assertIn("ok   _25._tcp.%s TLSA (DANE)" % HOST, lines)
        # The same, for scripts.
        j = self.check("--json")
        self.assertEqual(j.returncode, 0)
        doc = json.loads(j.stdout)
        self.assertTrue(doc["ok"])
        self.assertEqual({f["outcome"] for f in doc["findings"]}, {"ok"})
        self.assertEqual(len(doc["findings"]), len(lines) - 1)

    def test_dkim_record_dropped(self):
        owner = self.dkim_owners[0]
        value = [l.split("TXT", 1)[1].strip() for l in self.domain_records if l.startswith(owner + ".")][0]
        self.publish(drop=[(owner, "TXT")])
        r = self.check()
        self.assert_only(r, [re.escape("FAIL %s TXT (DKIM): not published (%s does not exist) %s fix: publish: %s. "
                                       "3600 IN TXT %s" % (owner, owner, DASH, owner, value))])

    def test_wrong_spf(self):
        self.publish(replace={(DOMAIN, "TXT"): '"v=spf1 a ~all"'})
        r = self.check(DOMAIN)
        self.assert_only(r, [re.escape('FAIL %s TXT (SPF): is "v=spf1 a ~all", expected "v=spf1 mx -all" %s fix: '
                                       'replace it with: %s. 3600 IN TXT "v=spf1 mx -all"' % (DOMAIN, DASH, DOMAIN))])

    def test_tlsa_mismatch(self):
        stale = "ab" * 32
        self.publish(tlsa=stale)
        r = self.check()
        # Once: the record asked for (the served key's) is missing; the TLS check, which would
        # say the same about the served certificate, leaves it to the records check.
        self.assert_only(r, [re.escape("FAIL _25._tcp.%s TLSA (DANE): not published (found only 3 1 1 %s) %s fix: "
                                       "publish: _25._tcp.%s. 3600 IN TLSA 3 1 1 %s"
                                       % (HOST, stale, DASH, HOST, self.certs.spki_sha256()))])

    def test_leaf_without_intermediate_on_one_port(self):
        crt, _ = self.certs.leaf(90)
        other = TlsListener(IP, 1993, crt, self.certs.key)
        self.addCleanup(other.stop)
        r = self.check(config=self.config_with(imap__listen_tls='["%s:1993"]' % IP))
        self.assert_only(r, [re.escape('FAIL imaps %s:1993: certificate: incomplete chain: only "%s" is served, '
                                       'without the intermediate certificate "mailkeep check test intermediate" that '
                                       'issued it (senders do not fetch it) %s fix: serve the full chain: point [tls] '
                                       'cert at the file with the certificate followed by its intermediates '
                                       '(fullchain.pem), not the certificate alone' % (IP, HOST, DASH))])

    def test_certificate_expiring_in_ten_days(self):
        _, soon = self.certs.leaf(10)
        self.restart_with(soon)
        try:
            r = self.check()
            self.assert_only(r, [r"^FAIL %s %s:%d: certificate: the certificate expires in 10 days \(.* UTC\); clients "
                                 r"and senders refuse it after that %s fix: renew it now" % (svc, re.escape(IP), port, DASH)
                                 for svc, port in (("smtp", 25), ("submission", 587), ("submissions", 465),
                                                   ("imap", 143), ("imaps", 993), ("https", 443))])
        finally:
            self.restart_with(self.fullchain)

    def restart_with(self, chain):
        self.assertEqual(self.srv.stop(), 0)
        self.srv.extra_config["tls.cert"] = '"%s"' % chain
        self.srv.start()

    def test_open_relay(self):
        relay = rigmod.Controller(rigmod.Handler(), hostname=IP, port=2525)
        relay.start()
        self.addCleanup(relay.stop)
        r = self.check(config=self.config_with(smtp__listen='["%s:2525"]' % IP))
        self.assertEqual(r.returncode, 1)
        self.assertIn("FAIL smtp %s:2525: open relay test: open relay: RCPT TO:<relay-test@relay-test.invalid> from "
                      "<mailkeep-check@relay-test.invalid> without authentication was accepted (\"250 2.1.5 OK\"), so anyone "
                      "can send mail anywhere through this server %s fix: stop whatever answers on this port and let "
                      "mailkeep listen there" % (IP, DASH), r.stdout)
        # aiosmtpd offers no STARTTLS either; nothing else is wrong.
        self.assert_only(r, [re.escape("FAIL smtp %s:2525: STARTTLS is not offered" % IP), "open relay"])

    def test_record_wrong_versus_resolver_not_validating(self):
        # The SPF record changed after signing: its signature no longer matches.
        self.zones.tamper("%s." % DOMAIN, "TXT", "v=spf1 mx -all", "v=spf1 mx ~all")
        r = self.check()
        self.assert_only(r, [re.escape("FAIL %s TXT (SPF): the answer fails DNSSEC validation (" % DOMAIN) +
                             r".*\): senders treat it as an attack and use none of it " + DASH +
                             " fix: re-sign the zone"])
        # The same zone through a resolver that does not validate: said once, and the record is
        # judged on its content alone.
        r = self.check(config=self.config_with(dns__dnssec="false"))
        self.assert_only(r, [re.escape("FAIL DNSSEC validation by mailkeep's resolver: turned off ([dns] dnssec = "
                                       "false)"),
                             re.escape('FAIL %s TXT (SPF): is "v=spf1 mx ~all", expected "v=spf1 mx -all"' % DOMAIN)])

    def test_reverse_dns_and_block_lists(self):
        self.publish(ptr=False, lists={"zen.spamhaus.org": ["1.17.0.11 IN A 127.255.255.254",
                                                            "2.0.0.127 IN A 127.0.0.2"],
                                       "bl.spamcop.net": ["1.17.0.11 IN A 127.0.0.2"]})
        r = self.check()
        self.assert_only(r, [
            re.escape("FAIL reverse DNS of %s: %s has no PTR record" % (IP, IP)),
            # Spamhaus refusing the resolver is not a listing.
            re.escape("?    %s on zen.spamhaus.org: could not check: the list refused to answer (127.255.255.254: "
                      "queries through public or forwarding resolvers are refused) %s fix: leave [dns] upstream "
                      "empty" % (IP, DASH)),
            re.escape("FAIL %s on bl.spamcop.net: listed (127.0.0.2): receivers that consult bl.spamcop.net refuse or "
                      "junk mail from it %s fix: find out why and request removal at "
                      "https://www.spamcop.net/bl.shtml?%s" % (IP, DASH, IP))])

    def test_spam_filter_lists_refusing_the_resolver(self):
        # Issue 18: the filter's lists are on by default; one that refuses this resolver gives
        # the filter nothing, silently, unless check says so. Their RFC 5782 test entries answer.
        self.publish(lists={"zen.spamhaus.org": ["2.0.0.127 IN A 127.255.255.254"],
                            "list.dnswl.org": ["2.0.0.127 IN A 127.0.0.255"],
                            "dbl.spamhaus.org": ["test IN A 127.0.1.2"]})
        r = self.check()
        self.assert_only(r, [
            re.escape("FAIL spam filter list zen.spamhaus.org: the list refused to answer (127.255.255.254: queries "
                      "through public or forwarding resolvers are refused): the spam filter gets no answer from it, "
                      "so it scores nothing %s fix: leave [dns] upstream empty" % DASH),
            re.escape("FAIL spam filter list list.dnswl.org: the list refused to answer (127.0.0.255: the query was "
                      "refused (over quota, or not a query this list answers)): the spam filter gets no answer from "
                      "it, so it scores nothing %s fix: leave [dns] upstream empty" % DASH)])
        self.assertIn("ok   the spam filter's lists answer: dbl.spamhaus.org", r.stdout.splitlines())

    def test_usage_errors(self):
        r = self.check("not-hosted.example")
        self.assertEqual(r.returncode, 2)
        self.assertIn("not-hosted.example is not hosted here; add it with: mailkeep domain add not-hosted.example",
                      r.stderr)


if __name__ == "__main__":
    unittest.main()
