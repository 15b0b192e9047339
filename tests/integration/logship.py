"""Helpers for the log-shipping tests: a private CA and certificates (openssl), a
`mailkeep collector` process, and reading security log records."""
import hashlib
import json
import os
import subprocess
import time

import mkharness as mk


def make_ca(d, name="collector.example", ip="127.0.0.1"):
    """A CA and a server certificate for `name` and `ip`, signed by it; returns paths."""
    def run(*args):
        subprocess.run(["openssl", *args], check=True, capture_output=True)
    ca_key, ca_crt = os.path.join(d, "ca.key"), os.path.join(d, "ca.crt")
    key, csr, crt = os.path.join(d, "c.key"), os.path.join(d, "c.csr"), os.path.join(d, "c.crt")
    ext = os.path.join(d, "ext.cnf")
    run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
        "-subj", "/CN=Test log CA", "-keyout", ca_key, "-out", ca_crt)
    run("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=" + name,
        "-keyout", key, "-out", csr)
    with open(ext, "w") as f:
        f.write("subjectAltName=DNS:%s,IP:%s\n" % (name, ip))
    run("x509", "-req", "-in", csr, "-CA", ca_crt, "-CAkey", ca_key, "-CAcreateserial", "-days", "2",
        "-extfile", ext, "-out", crt)
    return {"ca": ca_crt, "cert": crt, "key": key}


def make_client_cert(d, certs, name="mail.example"):
    """A client certificate for `name`, signed by the CA make_ca made in d."""
    def run(*args):
        subprocess.run(["openssl", *args], check=True, capture_output=True)
    key, csr, crt = (os.path.join(d, "client." + e) for e in ("key", "csr", "crt"))
    ext = os.path.join(d, "client-ext.cnf")
    run("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=" + name,
        "-keyout", key, "-out", csr)
    with open(ext, "w") as f:
        f.write("extendedKeyUsage=clientAuth\nsubjectAltName=DNS:%s\n" % name)
    run("x509", "-req", "-in", csr, "-CA", os.path.join(d, "ca.crt"), "-CAkey", os.path.join(d, "ca.key"),
        "-CAcreateserial", "-days", "2", "-extfile", ext, "-out", crt)
    return {"cert": crt, "key": key}


def remote_config(port, certs, **extra):
    """The config keys of a server shipping to 127.0.0.1:port (the collector's certificate from
    make_ca), with room for failed logins; extra: more keys."""
    config = {
        "log.remote.collectors": '["127.0.0.1:%d"]' % port,
        "log.remote.ca_file": '"%s"' % certs["ca"],
        "log.remote.server_name": '"collector.example"',
        "security.login_failures_before_ban": "50",
    }
    config.update(extra)
    return config


def shipping_server(port, certs, **extra):
    """A started mailkeep server shipping to 127.0.0.1:port (remote_config); returns it and its
    log key."""
    srv = mk.Server(extra_config=remote_config(port, certs, **extra)).start()
    key = srv.cli("log", "key")
    if key.returncode != 0:
        raise AssertionError("mailkeep log key: " + key.stderr)
    return srv, key.stdout.split('key = "')[1].split('"')[0]


def records(path):
    """The security log's lines, without their newline."""
    try:
        with open(path, "rb") as f:
            return [l.rstrip(b"\n") for l in f if l.strip()]
    except FileNotFoundError:
        return []


def chain_ok(lines):
    """Checks lines as a hash chain from record 1 (audit/log.hpp), independently of mailkeep."""
    prev = "0" * 64
    for i, line in enumerate(lines, 1):
        text = line.decode()
        rec = json.loads(text)
        if rec["seq"] != i or rec["prev"] != prev:
            return False
        hashed = text[:text.rindex('"hash":"')]
        if hashlib.sha256((prev + hashed).encode()).hexdigest() != rec["hash"]:
            return False
        prev = rec["hash"]
    return True


class Collector:
    def __init__(self, d, port, certs, servers, extra=""):
        self.dir, self.port = d, port
        self.data = os.path.join(d, "collector-data")
        self.config = os.path.join(d, "collector.toml")
        self.stderr_path = os.path.join(d, "collector.err")
        with open(self.config, "w") as f:
            f.write('[collector]\nlisten = ["127.0.0.1:%d"]\ndata_dir = "%s"\ntls_cert = "%s"\ntls_key = "%s"\n%s'
                    % (port, self.data, certs["cert"], certs["key"], extra))
            for name, key in servers:
                f.write('[[collector.server]]\nname = "%s"\nkey = "%s"\n' % (name, key))
        self.proc = None

    def start(self):
        self._err = open(self.stderr_path, "ab")
        self.proc = subprocess.Popen([mk.BIN, "collector", "--config", self.config], stdout=subprocess.PIPE,
                                     stderr=self._err, text=True)
        line = self.proc.stdout.readline()
        if not line.startswith("listening syslog-tls"):
            raise RuntimeError("collector did not start: %r\n%s" % (line, self.stderr()))
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)
        if self.proc:
            self.proc.stdout.close()
            self._err.close()
        code = self.proc.returncode if self.proc else None
        self.proc = None
        return code

    def stderr(self):
        return mk.read_log(self.stderr_path)

    def close(self, *servers):
        """The end of a test: stops the collector (checked for sanitizer reports) and the servers."""
        self.stop()
        self.assert_clean()
        if servers:
            mk.stop_all(*servers)

    def assert_clean(self):
        mk.assert_no_sanitizer_report(self.stderr(), "collector")

    def chain(self, server="localhost"):
        return os.path.join(self.data, "servers", server, "security.log")

    def operational(self, server="localhost", stamped=False):
        """The server's operational log lines as the collector stored them; without the time
        the collector received each one unless stamped."""
        try:
            with open(os.path.join(self.data, "servers", server, "operational.log"), "rb") as f:
                # A last line still being written is not read yet.
                lines = [l.rstrip(b"\n").decode() for l in f if l.endswith(b"\n") and l.strip()]
        except FileNotFoundError:
            return []
        return lines if stamped else [l.split(" ", 1)[1] for l in lines]

    def verify(self, *server):
        return subprocess.run([mk.BIN, "collector", "--config", self.config, "verify", *server],
                              capture_output=True, text=True, timeout=60)


def new_key():
    """An Ed25519 log key as a test's own server: (signing key, "ed25519:..." for the collector)."""
    import base64
    import nacl.signing
    sk = nacl.signing.SigningKey.generate()
    return sk, "ed25519:" + base64.b64encode(bytes(sk.verify_key)).decode()


def connect_tls(port, certs):
    """A TLS connection to the collector on 127.0.0.1:port (its certificate from make_ca)."""
    import ssl
    import socket
    ctx = ssl.create_default_context(cafile=certs["ca"])
    return ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=10),
                           server_hostname="collector.example")


def signed_in(port, certs, name, sk):
    """A TLS connection to the collector on which a heartbeat signed by sk named the server
    `name` (seq 0); returns the socket once the collector said hello."""
    import base64
    s = connect_tls(port, certs)
    nonce = s.recv(200).decode().split()[-1]
    ts = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
    text = "mailkeep heartbeat 2\n%s\n%s\n0\n%s\n%s\n" % (name, ts, "0" * 64, nonce)
    sig = base64.b64encode(sk.sign(text.encode()).signature).decode()
    send_frame(s, '<110>1 %s %s mailkeep 1 heartbeat [beat@32473 seq="0" hash="%s" nonce="%s" sig="%s"]'
               % (ts, name, "0" * 64, nonce, sig))
    hello = s.recv(200).decode()
    if "mailkeep-collector 1 " not in hello:
        raise AssertionError("no hello from the collector: %r" % hello)
    return s


def send_frame(s, msg):
    """One RFC 5425 frame (octet counting)."""
    data = msg.encode() if isinstance(msg, str) else msg
    s.sendall(b"%d %s" % (len(data), data))


def closed(s):
    """Reads until the collector closes the connection."""
    import ssl
    s.settimeout(mk.HANG_GUARD)
    try:
        while s.recv(4096):
            pass
    except (ConnectionResetError, ssl.SSLError):
        pass
    s.close()


def wait_same(local_path, remote_path, what, guard=mk.HANG_GUARD):
    """Waits until the remote copy holds exactly the local log's records, in order."""
    def same():
        local = records(local_path)
        return local and records(remote_path) == local
    try:
        mk.wait_for(same, what, guard)
    except AssertionError:
        raise AssertionError("%s: local %d records, remote %d" % (what, len(records(local_path)),
                                                                    len(records(remote_path))))


def free_port():
    """A free port below the ephemeral range (32768: an outgoing connection cannot take it while
    the collector is stopped and started again), claimed for this process (mkharness.claim_ports:
    a server another test starts meanwhile cannot take it either)."""
    return mk.claim_free_port(10000, 32768)
