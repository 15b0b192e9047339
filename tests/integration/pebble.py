"""Debian's pebble (an ACME CA for tests) on loopback, with the test CA of its own HTTPS
certificate: shared by the tests that get certificates from it."""
import json
import os
import random
import ssl
import subprocess
import urllib.request

import mkharness as mk


def free_ports(n):
    """n distinct TCP ports free on 127.0.0.1, below the ephemeral range, claimed for this process
    (mkharness.claim_ports: no server another test starts meanwhile takes them)."""
    for _ in range(200):
        ports = random.sample(range(10000, 31000), n)
        if mk.claim_ports(ports):
            return ports
    raise RuntimeError("no free ports")


def openssl(*args, **kw):
    return subprocess.run(["openssl", *args], check=True, capture_output=True, text=True, timeout=60, **kw)


class ApiCa:
    """The CA of pebble's own HTTPS certificate (localhost and 127.0.0.1)."""

    def __init__(self, d):
        self.cert, key = os.path.join(d, "api-ca.crt"), os.path.join(d, "api-ca.key")
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key,
                "-out", self.cert, "-days", "2", "-subj", "/CN=mailkeep ACME test API CA",
                "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign")
        self.leaf, self.leaf_key = os.path.join(d, "api.crt"), os.path.join(d, "api.key")
        ext = os.path.join(d, "api.ext")
        with open(ext, "w") as f:
            f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n"
                    "extendedKeyUsage=serverAuth\n")
        csr = os.path.join(d, "api.csr")
        openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", self.leaf_key,
                "-out", csr, "-subj", "/CN=localhost")
        openssl("x509", "-req", "-in", csr, "-CA", self.cert, "-CAkey", key, "-CAcreateserial", "-out", self.leaf,
                "-days", "2", "-extfile", ext)

    def context(self):
        return ssl.create_default_context(cafile=self.cert)


class Pebble:
    def __init__(self, d, api_ca, http_port, tls_port, dns_port):
        self.dir = d
        self.api_ca = api_ca
        self.port, self.mgmt = free_ports(2)
        config = os.path.join(d, "pebble.json")
        with open(config, "w") as f:
            json.dump({"pebble": {
                "listenAddress": "127.0.0.1:%d" % self.port,
                "managementListenAddress": "127.0.0.1:%d" % self.mgmt,
                "certificate": api_ca.leaf, "privateKey": api_ca.leaf_key,
                "httpPort": http_port, "tlsPort": tls_port,
                "ocspResponderURL": "", "externalAccountBindingRequired": False}}, f)
        self.log_path = os.path.join(d, "pebble.log")
        self.log = open(self.log_path, "w")
        env = dict(os.environ, PEBBLE_VA_NOSLEEP="1")
        self.proc = subprocess.Popen(["pebble", "-config", config, "-dnsserver", "127.0.0.1:%d" % dns_port],
                                     stdout=self.log, stderr=subprocess.STDOUT, env=env, cwd=d)
        self.directory = "https://127.0.0.1:%d/dir" % self.port
        mk.wait_for(self._up, "pebble answering on %s" % self.directory)

    def _up(self):
        if self.proc.poll() is not None:
            raise AssertionError("pebble exited: " + self.logs())
        try:
            with urllib.request.urlopen(self.directory, context=self.api_ca.context(), timeout=5) as r:
                return "newOrder" in json.loads(r.read())
        except OSError:
            return False

    def management(self, path):
        url = "https://127.0.0.1:%d%s" % (self.mgmt, path)
        with urllib.request.urlopen(url, context=self.api_ca.context(), timeout=30) as r:
            return r.read().decode()

    def logs(self):
        with open(self.log_path) as f:
            return f.read()[-4000:]

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.log.close()


def pem_blocks(text):
    out, cur = [], []
    for line in text.splitlines():
        cur.append(line)
        if line.startswith("-----END "):
            out.append("\n".join(cur) + "\n")
            cur = []
    return out
