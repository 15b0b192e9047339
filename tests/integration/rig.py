"""The loopback rig for outbound delivery tests: a DNS server for test zones and scripted
SMTP servers (aiosmtpd) listening on port 25 of other 127.0.0.x addresses, as the remote
MX hosts. Needs root (port 25) and Debian's python3-dnslib and python3-aiosmtpd."""
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import time

import mkharness as mk
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as AioSMTP
from dnslib import AAAA, CNAME, MX, PTR, QTYPE, RCODE, RR, TXT, A, DNSError
from dnslib.server import BaseResolver, DNSLogger, DNSServer


class Zones(BaseResolver):
    """Answers from a dict {name: [(type, rdata)]}; names not listed are NXDOMAIN."""

    def __init__(self):
        self.records = {}
        self.ttl = {}  # name -> TTL, for records a test changes (default 60 s)
        self.down = False  # True: answers nothing at all (an unreachable resolver)

    def add(self, name, rtype, value):
        self.records.setdefault(name.rstrip(".").lower(), []).append((rtype, value))

    def resolve(self, request, handler):
        if self.down:
            raise DNSError("down")  # dnslib sends no reply
        reply = request.reply()
        qname = str(request.q.qname).rstrip(".").lower()
        qtype = QTYPE[request.q.qtype]
        if qname not in self.records:
            reply.header.rcode = RCODE.NXDOMAIN
            return reply
        # A name with a CNAME answers it for every other type, followed by what its target
        # has of that type (RFC 1034 §3.6.2), as a real server does.
        owner = qname
        for _ in range(8):
            cname = [v for t, v in self.records.get(owner, []) if t == "CNAME"]
            if qtype == "CNAME" or not cname:
                break
            reply.add_answer(RR(owner + ".", QTYPE.CNAME, rdata=CNAME(cname[0]), ttl=self.ttl.get(owner, 60)))
            owner = cname[0].rstrip(".").lower()
        for rtype, value in self.records.get(owner, []):
            if rtype != qtype:
                continue
            if rtype == "MX":
                rdata = MX(value[0], value[1])
            elif rtype == "A":
                rdata = A(value)
            elif rtype == "AAAA":
                rdata = AAAA(value)
            elif rtype == "TXT":
                # Long values (RSA keys) as several character-strings of at most 255 bytes.
                data = value.encode() if isinstance(value, str) else value
                rdata = TXT([data[i:i + 255] for i in range(0, len(data), 255)] or [b""])
            elif rtype == "PTR":
                rdata = PTR(value)
            elif rtype == "CNAME":
                rdata = CNAME(value)
            else:
                # Any other type (TLSA, SRV, CAA, ...) as its zone-file presentation form.
                for rr in RR.fromZone("%s. %d IN %s %s" % (owner, self.ttl.get(owner, 60), rtype, value)):
                    reply.add_answer(rr)
                continue
            reply.add_answer(RR(owner + ".", QTYPE.reverse[rtype], rdata=rdata, ttl=self.ttl.get(owner, 60)))
        return reply


class Dns:
    @staticmethod
    def free_port():
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        return port

    def __init__(self):
        self.zones = Zones()
        quiet = DNSLogger("-request,-reply,-truncated,-data,-error", prefix=False)
        # A port free for UDP may be taken for TCP (tests run in parallel, and outgoing
        # connections use the same range): try another one then.
        for attempt in range(20):
            self.port = self.free_port()
            udp = None
            try:
                udp = DNSServer(self.zones, port=self.port, address="127.0.0.1", logger=quiet)
                self.tcp = DNSServer(self.zones, port=self.port, address="127.0.0.1", tcp=True, logger=quiet)
                self.udp = udp
                break
            except OSError:
                if udp is not None:
                    udp.server.server_close()
                if attempt == 19:
                    raise
        self.udp.start_thread()
        self.tcp.start_thread()

    def stop(self):
        self.udp.stop()
        self.tcp.stop()


def self_signed(directory, host):
    cert, key = os.path.join(directory, host + ".crt"), os.path.join(directory, host + ".key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=" + host,
                    "-addext", "subjectAltName=DNS:" + host], check=True, capture_output=True)
    return cert, key


class TestCa:
    """A private CA for the rig: mailkeep is told to trust it (outbound.ca_file)."""

    def __init__(self, directory):
        self.dir = directory
        self.cert = os.path.join(directory, "ca.crt")
        self.key = os.path.join(directory, "ca.key")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                        "-nodes", "-keyout", self.key, "-out", self.cert, "-days", "2",
                        "-subj", "/CN=mailkeep test CA", "-addext", "basicConstraints=critical,CA:TRUE",
                        "-addext", "keyUsage=critical,keyCertSign,cRLSign"], check=True, capture_output=True)
        self.n = 0

    def issue(self, *names):
        self.n += 1
        base = os.path.join(self.dir, "leaf%d" % self.n)
        ext = base + ".ext"
        with open(ext, "w") as f:
            f.write("subjectAltName=%s\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n"
                    % ",".join("DNS:" + n for n in names))
        subprocess.run(["openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                        "-keyout", base + ".key", "-out", base + ".csr", "-subj", "/CN=" + names[0]],
                       check=True, capture_output=True)
        subprocess.run(["openssl", "x509", "-req", "-in", base + ".csr", "-CA", self.cert, "-CAkey", self.key,
                        "-CAcreateserial", "-out", base + ".crt", "-days", "2", "-extfile", ext],
                       check=True, capture_output=True)
        return base + ".crt", base + ".key"


class PolicyServer:
    """HTTPS on ip:443 serving MTA-STS policies by Host: {host: (status, content_type, body)}."""

    def __init__(self, ip, ca, hosts):
        import http.server
        self.files = {}
        files = self.files

        class H(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                host = (self.headers.get("Host") or "").split(":")[0].lower()
                status, ctype, body = files.get((host, self.path), (404, "text/plain", "not found\n"))
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        cert, key = ca.issue(*hosts)
        self.httpd = http.server.ThreadingHTTPServer((ip, 443), H)
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(cert, key)
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def policy(self, host, text, status=200, ctype="text/plain"):
        self.files[(host, "/.well-known/mta-sts.txt")] = (status, ctype, text)

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class RequireTlsSMTP(AioSMTP):
    """aiosmtpd plus the REQUIRETLS extension (RFC 8689): announced over TLS, accepted on MAIL."""

    async def smtp_EHLO(self, hostname):
        self._ehlo_requiretls = True
        return await super().smtp_EHLO(hostname)

    async def push(self, status):
        # Announce REQUIRETLS as the last-but-one EHLO line, once TLS is up.
        if status.startswith("250 HELP") and self.session.ssl is not None and getattr(self, "_ehlo_requiretls", False):
            self._ehlo_requiretls = False
            await super().push("250-REQUIRETLS")
        return await super().push(status)

    async def smtp_MAIL(self, arg):
        self.envelope.requiretls = False
        if arg and arg.upper().rstrip().endswith(" REQUIRETLS"):
            arg = arg[:arg.upper().rstrip().rfind(" REQUIRETLS")]
            self.requiretls_seen = True
        else:
            self.requiretls_seen = False
        return await super().smtp_MAIL(arg)

    async def smtp_DATA(self, arg):
        self.envelope.requiretls = getattr(self, "requiretls_seen", False)
        return await super().smtp_DATA(arg)


class RequireTlsController(Controller):
    def factory(self):
        return RequireTlsSMTP(self.handler, **self.SMTP_kwargs)


class Received:
    def __init__(self, envelope, session):
        self.peer_ip = session.peer[0] if session.peer else ""
        self.helo = session.host_name
        self.mail_from = envelope.mail_from
        self.rcpt_tos = list(envelope.rcpt_tos)
        self.data = envelope.original_content or envelope.content
        self.tls = session.ssl is not None
        self.mail_options = list(envelope.mail_options)
        self.rcpt_options = list(envelope.rcpt_options)
        self.requiretls = getattr(envelope, "requiretls", False)


class Handler:
    """Records messages. rcpt_replies: {address: [reply, ...]} consumed in order, then 250."""

    def __init__(self):
        self.messages = []
        self.rcpt_replies = {}
        self.lock = threading.Lock()
        self.connections = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        with self.lock:
            queue = self.rcpt_replies.get(address.lower())
            if queue:
                return queue.pop(0)
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.messages.append(Received(envelope, session))
        return "250 2.0.0 Accepted"

    def wait_for(self, needle, timeout=mk.HANG_GUARD):
        """The first received message whose bytes contain needle."""
        def found():
            with self.lock:
                return next((m for m in self.messages if needle in m.data), None)
        return mk.wait_for(found, "no message containing %r arrived" % needle, timeout, 0.1)

    def wait(self, n, timeout=mk.HANG_GUARD):
        def arrived():
            with self.lock:
                return self.messages[:n] if len(self.messages) >= n else None
        return mk.wait_for(arrived, "expected %d messages, got %d" % (n, len(self.messages)), timeout, 0.1)


class Mx:
    """An aiosmtpd server on ip:25, with STARTTLS unless tls=False."""

    def __init__(self, ip, host, certdir, tls=True, cert=None, requiretls=False):
        self.handler = Handler()
        ctx = None
        if tls:
            cert, key = cert or self_signed(certdir, host)
            ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ctx.load_cert_chain(cert, key)
        cls = RequireTlsController if requiretls else Controller
        self.controller = cls(self.handler, hostname=ip, port=25, tls_context=ctx,
                                     require_starttls=False, server_hostname=host)
        self.controller.start()

    def stop(self):
        self.controller.stop()


class Silent:
    """Accepts TCP connections on ip:25 and never says anything (a hung MX)."""

    def __init__(self, ip):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((ip, 25))
        self.sock.listen(16)
        self.conns = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(c)

    def open_connections(self):
        """How many accepted connections the client has not closed yet."""
        import select
        n = 0
        for c in list(self.conns):
            try:
                if select.select([c], [], [], 0)[0] and c.recv(1, socket.MSG_PEEK) == b"":
                    continue  # the client gave up
            except OSError:
                continue
            n += 1
        return n

    def stop(self):
        self.sock.close()
        for c in self.conns:
            c.close()


def rsa_key():
    """A new RSA-2048 key from openssl: (PEM private key, base64 SubjectPublicKeyInfo)."""
    import base64
    pem = subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
                         capture_output=True, check=True).stdout
    der = subprocess.run(["openssl", "pkey", "-pubout", "-outform", "DER"], input=pem,
                         capture_output=True, check=True).stdout
    return pem, base64.b64encode(der).decode()


def dkim_dns(records):
    """A dnsfunc for python3-dkim's verifiers answering TXT lookups from {name: text}."""
    return lambda name, timeout=5: records.get(name.decode().rstrip("."), "").encode()


def require_root():
    """Skips the test class unless it can bind port 25 on 127.0.0.x."""
    import unittest
    if os.geteuid() != 0:
        raise unittest.SkipTest("the rig binds port 25 on 127.0.0.x: run as root")


class Rig:
    """DNS plus MX servers; mailkeep is pointed at the DNS with these config entries."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="mk-rig-")
        self.dns = Dns()
        self.mxs = []

    def config(self):
        return {"dns.upstream": '["127.0.0.1@%d"]' % self.dns.port, "dns.dnssec": "false"}

    def signed_sender(self, domain, selector="s", dmarc="v=DMARC1; p=reject"):
        """A sender domain whose mail from 127.0.0.1 passes SPF and that the test DKIM-signs:
        publishes its SPF, DMARC and DKIM records; returns (PEM private key, the DKIM record)."""
        key, pub = rsa_key()
        record = "v=DKIM1; k=rsa; p=" + pub
        self.dns.zones.add(domain, "TXT", "v=spf1 ip4:127.0.0.1 -all")
        self.dns.zones.add("_dmarc." + domain, "TXT", dmarc)
        self.dns.zones.add("%s._domainkey.%s" % (selector, domain), "TXT", record)
        return key, record

    def mx(self, domain, ip, host=None, tls=True, preference=10, cert=None, requiretls=False):
        host = host or "mx." + domain
        self.dns.zones.add(domain, "MX", (host, preference))
        self.dns.zones.add(host, "A", ip)
        m = Mx(ip, host, self.dir, tls=tls, cert=cert, requiretls=requiretls)
        self.mxs.append(m)
        return m.handler

    def postfix(self, domain, ip, users):
        """A real Postfix as the MX of domain."""
        host = "mx." + domain
        self.dns.zones.add(domain, "MX", (host, 10))
        self.dns.zones.add(host, "A", ip)
        p = Postfix(ip, domain, users, self.dir)
        self.mxs.append(p)
        return p

    def stop(self):
        for m in self.mxs:
            m.stop()
        self.dns.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class Postfix:
    """A private Postfix instance on ip:25 (STARTTLS offered) that delivers mail for
    `domain` into Maildirs under its work directory, like a real remote MX."""

    def __init__(self, ip, domain, users, certdir):
        self.work = tempfile.mkdtemp(prefix="mk-postfix-")
        os.chmod(self.work, 0o755)
        pf = os.path.join(self.work, "conf")
        self.vmail = os.path.join(self.work, "vmail")
        os.makedirs(pf)
        os.makedirs(self.vmail)
        subprocess.run(["chown", "nobody:nogroup", self.vmail], check=True)
        subprocess.run(["cp", "/etc/postfix/master.cf", pf], check=True)
        if os.path.exists("/etc/postfix/dynamicmaps.cf"):
            subprocess.run(["cp", "/etc/postfix/dynamicmaps.cf", pf], check=True)
        with open(os.path.join(pf, "vmailbox"), "w") as f:
            for u in users:
                f.write("%s@%s %s/%s/\n" % (u, domain, domain, u))
        cert, key = self_signed(certdir, "mx." + domain)
        uid = subprocess.run(["id", "-u", "nobody"], capture_output=True, text=True).stdout.strip()
        gid = subprocess.run(["getent", "group", "nogroup"], capture_output=True, text=True).stdout.split(":")[2]
        with open(os.path.join(pf, "main.cf"), "w") as f:
            f.write("\n".join([
                "compatibility_level = 3.6",
                "queue_directory = %s/queue" % self.work,
                "data_directory = %s/data" % self.work,
                "mail_owner = postfix",
                "setgid_group = postdrop",
                "myhostname = mx.%s" % domain,
                "mydestination =",
                # Postfix only accepts interface addresses here; the listener's own address
                # (another 127.0.0.x) is set on the master.cf service below.
                "inet_interfaces = 127.0.0.1",
                "inet_protocols = ipv4",
                "mynetworks =",
                "virtual_mailbox_domains = %s" % domain,
                "virtual_mailbox_maps = texthash:%s/vmailbox" % pf,
                "virtual_mailbox_base = %s" % self.vmail,
                "virtual_uid_maps = static:%s" % uid,
                "virtual_gid_maps = static:%s" % gid,
                "maillog_file = %s/maillog" % self.work,
                "maillog_file_prefixes = %s" % self.work,
                "smtp_dns_support_level = disabled",
                "smtpd_peername_lookup = no",
                "smtpd_tls_security_level = may",
                "smtpd_tls_cert_file = %s" % cert,
                "smtpd_tls_key_file = %s" % key,
                "smtpd_tls_received_header = yes",
                "smtpd_recipient_restrictions = reject_unauth_destination",
                ""]))
        subprocess.run(["postconf", "-c", pf, "-F", "*/*/chroot = n"], check=True)
        subprocess.run(["postconf", "-c", pf, "-M#", "smtp/inet"], check=True)
        subprocess.run(["postconf", "-c", pf, "-Me", "%s:25/inet = %s:25 inet n - n - - smtpd" % (ip, ip)], check=True)
        os.makedirs(os.path.join(self.work, "queue"))
        os.makedirs(os.path.join(self.work, "data"))
        subprocess.run(["postfix", "-c", pf, "set-permissions"], capture_output=True)
        r = subprocess.run(["postfix", "-c", pf, "start"], capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError("postfix did not start: %s %s" % (r.stderr, self.log()))
        self.conf = pf
        deadline = time.monotonic() + mk.HANG_GUARD
        while time.monotonic() < deadline:
            try:
                socket.create_connection((ip, 25), timeout=1).close()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("postfix is not listening on %s:25" % ip)

    def log(self):
        try:
            with open(os.path.join(self.work, "maillog")) as f:
                return f.read()
        except OSError:
            return ""

    def wait(self, domain, user, n=1, timeout=mk.HANG_GUARD):
        """The delivered messages (bytes) in user's Maildir/new, once there are n."""
        d = os.path.join(self.vmail, domain, user, "new")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if os.path.isdir(d):
                files = sorted(os.listdir(d))
                if len(files) >= n:
                    out = []
                    for name in files:
                        with open(os.path.join(d, name), "rb") as f:
                            out.append(f.read())
                    return out
            time.sleep(0.2)
        raise AssertionError("postfix did not deliver to %s@%s:\n%s" % (user, domain, self.log()[-3000:]))

    def stop(self):
        subprocess.run(["postfix", "-c", self.conf, "stop"], capture_output=True)
        subprocess.run(["rm", "-rf", self.work])


class SignedDns:
    """A DNSSEC-signed zone "example." served by NSD on 127.0.0.1:<port>, signed with
    ldns-signzone; trust_anchor is the file mailkeep's validator starts from. Records are
    zone-file lines ("name TTL IN TYPE data"); tamper() edits a signed record afterwards so
    its signature no longer matches (a bogus answer)."""

    def __init__(self, records):
        self.dir = tempfile.mkdtemp(prefix="mk-dnssec-")
        self.port = Dns.free_port()
        zone = os.path.join(self.dir, "example.zone")
        with open(zone, "w") as f:
            f.write("$ORIGIN example.\n$TTL 60\n")
            f.write("@ IN SOA ns.example. hostmaster.example. 1 3600 600 86400 60\n")
            f.write("@ IN NS ns.example.\nns IN A 127.0.0.1\n")
            for r in records:
                f.write(r + "\n")
        ksk = subprocess.run(["ldns-keygen", "-a", "ECDSAP256SHA256", "-k", "example."], cwd=self.dir,
                             capture_output=True, text=True, check=True).stdout.strip()
        zsk = subprocess.run(["ldns-keygen", "-a", "ECDSAP256SHA256", "example."], cwd=self.dir,
                             capture_output=True, text=True, check=True).stdout.strip()
        subprocess.run(["ldns-signzone", "-n", zone, zsk, ksk], cwd=self.dir, check=True, capture_output=True)
        self.signed = zone + ".signed"
        self.trust_anchor = os.path.join(self.dir, ksk + ".ds")
        self._start()

    def _start(self):
        conf = os.path.join(self.dir, "nsd.conf")
        with open(conf, "w") as f:
            f.write('server:\n  ip-address: 127.0.0.1@%d\n  username: ""\n  zonesdir: "%s"\n'
                    '  pidfile: "%s/nsd.pid"\n  database: ""\n  zonelistfile: "%s/zone.list"\n'
                    '  xfrdfile: "%s/xfrd.state"\n  logfile: "%s/nsd.log"\n  server-count: 1\n'
                    'remote-control:\n  control-enable: no\n'
                    'zone:\n  name: "example."\n  zonefile: "%s"\n'
                    % (self.port, self.dir, self.dir, self.dir, self.dir, self.dir, self.signed))
        # Its own process group: NSD forks server processes that must go with it.
        self.proc = subprocess.Popen(["nsd", "-d", "-c", conf], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     start_new_session=True)
        deadline = time.monotonic() + mk.HANG_GUARD
        while time.monotonic() < deadline:
            try:
                s = socket.create_connection(("127.0.0.1", self.port), timeout=0.5)
                s.close()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("nsd did not start")

    def tamper(self, owner, rtype, old, new):
        """Replaces old with new in the (signed) rdata of owner's rtype record and reloads."""
        with open(self.signed) as f:
            lines = f.readlines()
        out = []
        for line in lines:
            parts = line.split()
            if len(parts) > 3 and parts[0] == owner and parts[3] == rtype and old in line:
                line = line.replace(old, new)
            out.append(line)
        with open(self.signed, "w") as f:
            f.writelines(out)
        self.stop()
        self._start()

    def config(self):
        return {"dns.upstream": '["127.0.0.1@%d"]' % self.port, "dns.dnssec": "true",
                "dns.trust_anchor": '"%s"' % self.trust_anchor}

    def stop(self):
        import signal as _signal
        try:
            os.killpg(self.proc.pid, _signal.SIGTERM)
        except ProcessLookupError:
            pass
        self.proc.wait()
