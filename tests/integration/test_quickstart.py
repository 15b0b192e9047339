"""`mailkeep quickstart`: a working install in one command, checked by real peers. The printed
zone fragment parses with ldns-read-zone and nsd-checkzone and says what the web-form rows
say; its TLSA records are the OpenSSL command line's digests of the key files, and the server
presents the first one; the config passes `config check` and `serve` runs on it (listen lines
moved to free loopback ports); the account logs in over IMAP (imaplib) and mail to its role
aliases from the Internet (smtplib on port 25) lands in its INBOX; running it again changes
nothing and says so. The --systemd-dir unit passes `systemd-analyze verify`, and bad input
is refused with exit code 2 and the fix."""
import imaplib
import os
import re
import shutil
import signal
import smtplib
import socket
import sqlite3
import subprocess
import tempfile
import time
import unittest

import nacl.pwhash

import mkharness as mk
import rig as rigmod

ADDRESS = "you@example.org"
HOST = "mail.example.org"
PASSWORD = "quickstart integration pw 1"
ROWS_HEADING = "; The same records as rows for a DNS provider's web form"


def quickstart(*args, stdin=None):
    return subprocess.run([mk.BIN, "quickstart", *args], input=stdin, capture_output=True, text=True, timeout=300,
                          stdin=None if stdin is not None else subprocess.DEVNULL)


def zone_part(out):
    """The zone-file fragment quickstart printed."""
    return out[out.index("; DNS records for"):out.index(ROWS_HEADING)]


def without_host_addresses(zone):
    """The zone part's lines less what follows from this machine's public addresses (the A,
    AAAA and reverse DNS records, or the note asking for them) and blank lines: other tests
    add such addresses to lo while this one runs."""
    return [line for line in zone.splitlines()
            if line.strip() and "needs A (and AAAA) records" not in line
            and not line.startswith(("; this server's IPv", "; reverse DNS"))
            and not re.search(r"\tIN\t(A|AAAA|PTR)\t", line)]


def rows_part(out):
    """[(zone, name, full name, type, TTL, value)] of the web-form rows (not the reverse DNS)."""
    rows, zone = [], None
    for line in out[out.index(ROWS_HEADING):].splitlines():
        if line.startswith("Zone "):
            zone, header = line[5:], True
        elif line.startswith("Reverse DNS") or not line.strip():
            zone = None if line.startswith("Reverse DNS") else zone
        elif zone and line.startswith("  "):
            cols = re.split(r" {2,}", line.strip(), maxsplit=4)
            if header:
                header = False
                continue
            rows.append((zone, *cols))
        elif not line.startswith("  "):
            zone = None
    return rows


def txt_text(rdata):
    """The text of TXT RDATA as ldns prints it: its quoted strings, concatenated."""
    return "".join(re.sub(r'\\(.)', r"\1", s) for s in re.findall(r'"((?:[^"\\]|\\.)*)"', rdata))


def normalized(owner, rtype, rdata):
    owner = owner.lower().rstrip(".")
    if rtype == "TXT":
        return (owner, rtype, txt_text(rdata) if rdata.startswith('"') else rdata)
    return (owner, rtype, " ".join(rdata.lower().split()))


def ldns_records(zone_text, directory):
    """[(owner, type, rdata)] as ldns-read-zone (ldnsutils) reads the fragment."""
    path = os.path.join(directory, "fragment.zone")
    with open(path, "w") as f:
        f.write(zone_text)
    r = subprocess.run(["ldns-read-zone", path], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    out = []
    for line in r.stdout.splitlines():
        if not line.strip() or line.startswith(";"):
            continue
        owner, ttl, cls, rtype, rdata = line.split(None, 4)
        assert (ttl, cls) == ("3600", "IN"), line
        out.append((owner, rtype, rdata))
    return out


def openssl_spki_sha256(pem_file=None, cert_der=None):
    """The TLSA 3 1 1 digest by the OpenSSL command line, of a key file or a certificate."""
    if cert_der is not None:
        pub = subprocess.run(["openssl", "x509", "-inform", "DER", "-pubkey", "-noout"], input=cert_der,
                             capture_output=True, check=True).stdout
        der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "DER"], input=pub, capture_output=True,
                             check=True).stdout
    else:
        der = subprocess.run(["openssl", "pkey", "-in", pem_file, "-pubout", "-outform", "DER"], capture_output=True,
                             check=True).stdout
    return subprocess.run(["sha256sum"], input=der, capture_output=True, check=True).stdout.decode().split()[0]


def move_listeners(config_text, base, dns_port):
    """The config with every listener on 127.0.0.1:base+N, the test's DNS server, and no CA
    to ask for certificates (the test has no Internet; test_acme covers ACME)."""
    out = mk.edit_quickstart_config(
        config_text, lambda section, key: "127.0.0.1:%d" % (base + mk.QUICKSTART_PORTS[(section, key)]),
        'directory = ""')
    out += ["", "[dns]", 'upstream = ["127.0.0.1@%d"]' % dns_port, "dnssec = false", ""]
    return "\n".join(out)


class Serve:
    """`mailkeep serve` on the quickstart config."""

    def __init__(self, config, directory):
        self.stderr_path = os.path.join(directory, "serve.stderr")
        self._stderr = open(self.stderr_path, "ab")
        self.proc = subprocess.Popen([mk.BIN, "serve", "--config", config], stdout=subprocess.PIPE,
                                     stderr=self._stderr, text=True)
        lines = []
        deadline = time.monotonic() + mk.HANG_GUARD
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if line.startswith("listening imaps"):
                return
        raise AssertionError("serve did not start: %s\n%s" % (lines, self.stderr()))

    def stderr(self):
        with open(self.stderr_path, errors="replace") as f:
            return f.read()

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout=60)
        self.proc.stdout.close()
        self._stderr.close()
        for marker in mk.SANITIZER_MARKERS:
            assert marker not in self.stderr(), self.stderr()[-5000:]
        return code


class QuickstartTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="mk-qs-")
        cls.config = os.path.join(cls.dir, "etc", "mailkeep", "mailkeep.toml")
        cls.data = os.path.join(cls.dir, "var", "lib", "mailkeep")
        cls.args = [ADDRESS, "--hostname", HOST, "--config", cls.config, "--data-dir", cls.data, "--no-systemd"]
        cls.first = quickstart(*cls.args, "--password-stdin", stdin=PASSWORD + "\n")
        assert cls.first.returncode == 0, cls.first.stdout + cls.first.stderr
        # The Internet, as far as this test needs it: a sender domain, and what we were told to publish.
        cls.dns = rigmod.Dns()
        z = cls.dns.zones
        z.add("mta.sender.example", "A", "127.0.0.1")
        z.add("sender.example", "TXT", "v=spf1 ip4:127.0.0.1 -all")
        for owner, rtype, rdata in ldns_records(zone_part(cls.first.stdout), cls.dir):
            if rtype == "TXT":
                z.add(owner, "TXT", txt_text(rdata))
            elif rtype == "MX":
                pref, host = rdata.split()
                z.add(owner, "MX", (host, int(pref)))
            elif rtype == "CNAME":
                z.add(owner, "CNAME", rdata)
        z.add(HOST, "A", "127.0.0.1")
        with open(cls.config) as f:
            cls.generated = f.read()
        cls.base = mk.free_port_base()
        with open(cls.config, "w") as f:
            f.write(move_listeners(cls.generated, cls.base, cls.dns.port))
        cls.srv = None

    @classmethod
    def tearDownClass(cls):
        try:
            if cls.srv:
                code = cls.srv.stop()
                assert code == 0, "serve exited with %s" % code
        finally:
            cls.dns.stop()
            shutil.rmtree(cls.dir, ignore_errors=True)

    def serve(self):
        if QuickstartTest.srv is None:
            QuickstartTest.srv = Serve(self.config, self.dir)
        return QuickstartTest.srv

    def imap_login(self, password=PASSWORD):
        c = imaplib.IMAP4_SSL("127.0.0.1", self.base + 993, ssl_context=mk.client_tls_context())
        try:
            c.login(ADDRESS, password)
        except imaplib.IMAP4.error:
            c.shutdown()
            raise
        return c

    def test_reports_every_step(self):
        out = self.first.stdout
        for line in ("config     %s: written" % self.config,
                     "domain     example.org: added, with DKIM keys (Ed25519 and RSA)",
                     "TLS keys   %s/tls/key.pem and next-key.pem: created" % self.data,
                     "account    you@example.org: created with the password given",
                     "alias      postmaster@example.org -> you@example.org: added",
                     "alias      abuse@example.org -> you@example.org: added",
                     "alias      dmarc-reports@example.org -> you@example.org: added",
                     "alias      tls-reports@example.org -> you@example.org: added",
                     "systemd    skipped (--no-systemd)"):
            self.assertIn("\n  " + line, out)
        self.assertIn("mailkeep serve --config %s" % self.config, out)
        self.assertEqual(self.first.stderr, "")

    def test_the_config_is_commented_and_checks(self):
        self.assertTrue(self.generated.startswith("# mailkeep.toml, written by `mailkeep quickstart`"))
        self.assertIn('hostname = "%s"' % HOST, self.generated)
        self.assertIn('data_dir = "%s"' % self.data, self.generated)
        self.assertIn('admin_address = "%s"' % ADDRESS, self.generated)
        self.assertEqual(os.stat(self.config).st_mode & 0o777, 0o640)
        self.assertEqual(os.stat(self.data).st_mode & 0o777, 0o700)
        r = subprocess.run([mk.BIN, "--config", self.config, "config", "check"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, "%s: OK\n" % self.config)

    def test_zone_fragment_parses_and_equals_the_rows(self):
        zone = zone_part(self.first.stdout)
        records = ldns_records(zone, self.dir)
        self.assertGreaterEqual(len(records), 20)
        ours = {normalized(*r) for r in records}
        rows = rows_part(self.first.stdout)
        from_rows = set()
        for zone_name, name, full, rtype, ttl, value in rows:
            self.assertEqual(ttl, "3600")
            self.assertEqual(full, zone_name if name == "@" else name + "." + zone_name)
            from_rows.add(normalized(full, rtype, value))
        self.assertEqual(from_rows, ours)
        self.assertEqual(len(rows), len(records))
        # Every kind of record the issue asks for is there.
        kinds = {(o.split(".", 1)[0] if o.startswith("_") else "", t) for o, t, _ in ours}
        for kind in [("", "MX"), ("", "TXT"), ("_dmarc", "TXT"), ("_mta-sts", "TXT"), ("_smtp", "TXT"),
                     ("_submissions", "SRV"), ("_submission", "SRV"), ("_imaps", "SRV"), ("_imap", "SRV"),
                     ("_pop3s", "SRV"), ("_pop3", "SRV"), ("_autodiscover", "SRV"), ("", "CNAME"), ("", "CAA"),
                     ("_25", "TLSA")]:
            self.assertIn(kind, kinds)
        self.assertIn(("example.org", "MX", "10 mail.example.org."), ours)
        self.assertIn(("_dmarc.example.org", "TXT",
                       "v=DMARC1; p=quarantine; adkim=s; aspf=s; rua=mailto:dmarc-reports@example.org"), ours)
        self.assertIn(("_smtp._tls.example.org", "TXT", "v=TLSRPTv1; rua=mailto:tls-reports@example.org"), ours)
        # NSD's checker accepts it as the content of the example.org zone.
        path = os.path.join(self.dir, "example.org.zone")
        with open(path, "w") as f:
            f.write("$ORIGIN example.org.\n@ 3600 IN SOA ns.example.org. hostmaster.example.org. 1 3600 600 86400 300\n"
                    "@ 3600 IN NS ns.example.org.\n" + zone)
        r = subprocess.run(["nsd-checkzone", "example.org", path], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_dkim_records_are_the_stored_keys(self):
        db = sqlite3.connect(os.path.join(self.data, "index.sqlite"))
        try:
            keys = db.execute("SELECT selector, algorithm, public_key FROM dkim_keys WHERE domain = 'example.org'").fetchall()
        finally:
            db.close()
        self.assertEqual(sorted(a for _, a, _ in keys), ["ed25519-sha256", "rsa-sha256"])
        ours = {normalized(*r) for r in ldns_records(zone_part(self.first.stdout), self.dir)}
        for selector, algorithm, public in keys:
            k = "ed25519" if algorithm == "ed25519-sha256" else "rsa"
            self.assertIn(("%s._domainkey.example.org" % selector, "TXT", "v=DKIM1; k=%s; p=%s" % (k, public)), ours)

    def test_tlsa_records_are_the_key_files_digests_and_the_server_presents_the_first(self):
        tlsa = [rdata for owner, rtype, rdata in ldns_records(zone_part(self.first.stdout), self.dir)
                if rtype == "TLSA"]
        key, nxt = (os.path.join(self.data, "tls", f) for f in ("key.pem", "next-key.pem"))
        for f in (key, nxt):
            self.assertEqual(os.stat(f).st_mode & 0o777, 0o600)
        self.assertEqual(tlsa, ["3 1 1 " + openssl_spki_sha256(key), "3 1 1 " + openssl_spki_sha256(nxt)])
        self.serve()
        with socket.create_connection(("127.0.0.1", self.base + 993)) as raw:
            with mk.client_tls_context().wrap_socket(raw, server_hostname=HOST) as s:
                der = s.getpeercert(binary_form=True)
        self.assertEqual(openssl_spki_sha256(cert_der=der), openssl_spki_sha256(key))

    def test_account_logs_in_and_aliases_deliver(self):
        self.serve()
        c = self.imap_login()
        c.logout()
        for alias in ("postmaster@example.org", "abuse@example.org", "dmarc-reports@example.org"):
            subject = "to %s" % alias
            msg = mk.test_message("Someone <someone@sender.example>", subject, to=alias)
            with smtplib.SMTP("127.0.0.1", self.base + 25, local_hostname="mta.sender.example", timeout=60) as s:
                s.sendmail("someone@sender.example", [alias], msg)

            def arrived():
                c = self.imap_login()
                try:
                    c.select("INBOX", readonly=True)
                    typ, data = c.search(None, "SUBJECT", '"%s"' % subject)
                    return data[0].split()
                finally:
                    c.logout()
            mk.wait_for(arrived, "mail to %s in %s's INBOX" % (alias, ADDRESS))

    def test_running_it_again_changes_nothing(self):
        self.serve()  # an admin may run it on a live server

        def snapshot():
            files = {}
            for path in (self.config, os.path.join(self.data, "tls", "key.pem"),
                         os.path.join(self.data, "tls", "next-key.pem")):
                with open(path, "rb") as f:
                    files[path] = f.read()
            db = sqlite3.connect(os.path.join(self.data, "index.sqlite"))
            try:
                files["dkim"] = db.execute("SELECT * FROM dkim_keys ORDER BY selector").fetchall()
                files["aliases"] = db.execute("SELECT * FROM aliases ORDER BY address").fetchall()
                files["password"] = db.execute("SELECT password_hash FROM accounts WHERE address = ?",
                                               (ADDRESS,)).fetchall()
            finally:
                db.close()
            return files
        before = snapshot()
        # A password on stdin is not used: the account exists and keeps its password.
        again = quickstart(*self.args, "--password-stdin", stdin="another password entirely\n")
        self.assertEqual(again.returncode, 0, again.stdout + again.stderr)
        self.assertEqual(snapshot(), before)
        out = again.stdout
        for line in ("config     %s: already there, kept" % self.config,
                     "domain     example.org: already there, with its DKIM keys, kept",
                     "TLS keys   %s/tls/key.pem and next-key.pem: already there, kept" % self.data,
                     "account    you@example.org: already there; its password is unchanged",
                     "alias      postmaster@example.org: already there, kept",
                     "alias      tls-reports@example.org: already there, kept"):
            self.assertIn("\n  " + line, out)
        self.assertNotRegex(out, r"(?m)^  \S+ +.*: (written|created|added)")
        self.assertEqual(without_host_addresses(zone_part(out)),
                         without_host_addresses(zone_part(self.first.stdout)))
        c = self.imap_login()
        c.logout()
        with self.assertRaises(imaplib.IMAP4.error):
            self.imap_login("another password entirely")

    def test_a_generated_password_is_shown_once_and_works(self):
        d = tempfile.mkdtemp(prefix="mk-qs-gen-", dir=self.dir)
        conf = os.path.join(d, "mailkeep.toml")
        r = quickstart("me@gen.example", "--hostname", "mx.gen.example", "--config", conf, "--data-dir",
                       os.path.join(d, "data"), "--no-systemd")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        m = re.search(r"(?m)^  account    me@gen\.example: created; its password, shown only now: (\S+)$", r.stdout)
        self.assertTrue(m, r.stdout)
        db = sqlite3.connect(os.path.join(d, "data", "index.sqlite"))
        try:
            (stored,), = db.execute("SELECT password_hash FROM accounts WHERE address = 'me@gen.example'").fetchall()
        finally:
            db.close()
        self.assertTrue(nacl.pwhash.verify(stored.encode(), m.group(1).encode()))
        again = quickstart("me@gen.example", "--config", conf, "--no-systemd")
        self.assertEqual(again.returncode, 0, again.stderr)
        self.assertNotIn(m.group(1), again.stdout)

    def test_the_systemd_unit_passes_systemd_analyze(self):
        if not shutil.which("systemd-analyze"):
            self.skipTest("systemd-analyze is not installed (Debian package systemd)")
        d = tempfile.mkdtemp(prefix="mk-qs-unit-", dir=self.dir)
        units = os.path.join(d, "units")
        os.mkdir(units)
        args = ["me@unit.example", "--hostname", "mail.unit.example", "--config", os.path.join(d, "mailkeep.toml"),
                "--data-dir", os.path.join(d, "data"), "--systemd-dir", units]
        r = quickstart(*args, "--password-stdin", stdin=PASSWORD + "\n")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        unit = os.path.join(units, "mailkeep.service")
        self.assertIn("  systemd    %s: written" % unit, r.stdout)
        with open(unit) as f:
            text = f.read()
        self.assertIn("\nExecStart=%s serve --config %s\n" % (os.path.realpath(mk.BIN), os.path.join(d, "mailkeep.toml")),
                      text)
        self.assertIn("\nReadWritePaths=%s\n" % os.path.join(d, "data"), text)
        v = subprocess.run(["systemd-analyze", "verify", unit], capture_output=True, text=True, cwd=units)
        self.assertEqual(v.returncode, 0, v.stdout + v.stderr)
        self.assertNotIn("mailkeep.service", v.stdout + v.stderr)  # no warning about it either
        sec = subprocess.run(["systemd-analyze", "security", "--offline=yes", unit], capture_output=True, text=True,
                             cwd=units)
        m = re.search(r"Overall exposure level for mailkeep\.service: ([\d.]+) (\w+)", sec.stdout + sec.stderr)
        self.assertTrue(m, sec.stdout + sec.stderr)
        self.assertLessEqual(float(m.group(1)), 2.0, sec.stdout)  # systemd calls up to 2.0 "OK"
        # Run again: the unit is kept.
        again = quickstart(*args, stdin="")
        self.assertIn("  systemd    %s: already there, kept" % unit, again.stdout)

    def test_bad_input_is_refused_with_the_fix(self):
        d = tempfile.mkdtemp(prefix="mk-qs-bad-", dir=self.dir)
        conf = os.path.join(d, "mailkeep.toml")
        foreign = os.path.join(d, "etc")  # an existing directory with someone's files in it
        os.mkdir(foreign)
        with open(os.path.join(foreign, "passwd"), "w") as f:
            f.write("root:x:0:0::/root:/bin/sh\n")
        cases = [
            (["you.example.org"], "is not an email address", "such as you@example.org"),
            (["you@exa_mple.org"], "is not an email address", "such as you@example.org"),
            (["you@example"], "is not a domain on the Internet", "you@example.org"),
            (["you@localhost"], "is not a domain on the Internet", "you@example.org"),
            (["you@example.org", "--hostname", "mailhost"], "--hostname \"mailhost\" is not a fully qualified host name",
             "--hostname mail.example.org"),
            (["you@example.org", "--hostname", "mail.example.org", "--config", "/proc/mk-nowhere/mailkeep.toml",
              "--data-dir", os.path.join(d, "data")], "/proc/mk-nowhere", "--config FILE"),
            (["you@example.org", "--hostname", "mail.example.org", "--data-dir", "/proc/mk-nowhere"],
             "/proc/mk-nowhere", "--data-dir DIR"),
            # The data directory becomes the mailkeep user's: never / or a directory of the admin's.
            (["you@example.org", "--hostname", "mail.example.org", "--data-dir", "/"],
             "/ is the root directory: the data directory becomes the mailkeep user's",
             "Choose an empty or new directory with --data-dir DIR, such as /var/lib/mailkeep"),
            (["you@example.org", "--hostname", "mail.example.org", "--data-dir", foreign],
             "%s is not empty and does not belong to the mailkeep user: quickstart would give everything in it "
             "to that user" % foreign, "Choose an empty or new directory with --data-dir DIR"),
        ]
        for args, what, fix in cases:
            full = list(args)
            if "--config" not in full:
                full += ["--config", conf]
            r = quickstart(*full, "--no-systemd")
            self.assertEqual(r.returncode, 2, (args, r.stdout, r.stderr))
            self.assertIn(what, r.stderr, args)
            self.assertIn(fix, r.stderr, args)
            self.assertFalse(os.path.exists(conf), args)  # nothing written for bad input
        self.assertEqual(os.listdir(foreign), ["passwd"])
        empty = os.path.join(d, "empty")  # an empty directory is fine
        os.mkdir(empty)
        r = quickstart("you@example.org", "--hostname", "mail.example.org", "--config", conf, "--data-dir", empty,
                       "--no-systemd", "--password-stdin", stdin=PASSWORD + "\n")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)


if __name__ == "__main__":
    unittest.main()
