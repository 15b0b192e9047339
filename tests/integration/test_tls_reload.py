"""A certificate replaced on disk (as certbot renews it) reaches every listener without a
restart: new TLS connections on IMAPS, submissions, SMTP STARTTLS and HTTPS present the new
one; connections opened before, and busy meanwhile, go on undisturbed."""
import imaplib
import os
import smtplib
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import unittest

import mkharness as mk


def make_cert(directory, name, cn):
    key, cert = os.path.join(directory, name + "-key.pem"), os.path.join(directory, name + "-cert.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", key, "-out", cert, "-days", "30", "-subj", "/CN=" + cn, "-addext",
                    "subjectAltName=DNS:" + cn], check=True, capture_output=True)
    return cert, key


def served_cn(port, starttls=None):
    """The CN of the certificate a new connection to port is given."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    raw = socket.create_connection(("127.0.0.1", port), timeout=mk.HANG_GUARD)
    if starttls == "smtp":
        f = raw.makefile("rb")
        f.readline()
        raw.sendall(b"EHLO test.example\r\n")
        while not f.readline().startswith(b"250 "):
            pass
        raw.sendall(b"STARTTLS\r\n")
        f.readline()
    s = ctx.wrap_socket(raw, server_hostname="localhost")
    der = s.getpeercert(binary_form=True)
    s.close()
    text = subprocess.run(["openssl", "x509", "-inform", "DER", "-noout", "-subject"], input=der,
                          capture_output=True, check=True).stdout.decode()
    return text.strip().split("CN = ")[-1].split("CN=")[-1]


class ReloadTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="mk-reload-")
        cls.addClassCleanup(subprocess.run, ["rm", "-rf", cls.dir])
        cls.cert, cls.key = os.path.join(cls.dir, "cert.pem"), os.path.join(cls.dir, "key.pem")
        c, k = make_cert(cls.dir, "old", "old.example")
        os.rename(c, cls.cert)
        os.rename(k, cls.key)
        cls.srv = mk.Server(extra_config={"tls.cert": '"%s"' % cls.cert, "tls.key": '"%s"' % cls.key}).start()

    @classmethod
    def tearDownClass(cls):
        mk.stop_all(cls.srv)

    def ports(self):
        return [(self.srv.imaps_port, None), (self.srv.submissions_port, None), (self.srv.https_port, None),
                (self.srv.smtp_port, "smtp")]

    def test_a_replaced_certificate_reaches_every_listener_and_open_connections_go_on(self):
        for port, how in self.ports():
            self.assertEqual(served_cn(port, how), "old.example")
        # A client logged in before the renewal keeps working through it.
        ctx = mk.client_tls_context()
        imap = imaplib.IMAP4_SSL("127.0.0.1", self.srv.imaps_port, ssl_context=ctx)
        imap.login("me@localhost", mk.PASSWORD)
        stop = threading.Event()
        errors = []

        def busy():
            while not stop.is_set():
                try:
                    typ, _ = imap.noop()
                    if typ != "OK":
                        errors.append(typ)
                except Exception as e:  # a dropped connection
                    errors.append(repr(e))
                    return
                time.sleep(0.05)
        t = threading.Thread(target=busy)
        t.start()
        try:
            # certbot's way: new files renamed into place, certificate first.
            c, k = make_cert(self.dir, "new", "new.example")
            os.rename(c, self.cert)
            os.rename(k, self.key)
            mk.wait_for(lambda: served_cn(self.srv.imaps_port) == "new.example", "the new certificate on IMAPS")
            for port, how in self.ports():
                self.assertEqual(served_cn(port, how), "new.example", port)
        finally:
            stop.set()
            t.join()
        self.assertEqual(errors, [])
        self.assertEqual(imap.noop()[0], "OK")
        imap.logout()
        self.assertIn("event=tls.certificate_reloaded", self.srv.stderr())
        # Submission with the new certificate works end to end.
        with smtplib.SMTP_SSL("127.0.0.1", self.srv.submissions_port, context=ctx, timeout=30) as s:
            s.login("me@localhost", mk.PASSWORD)


if __name__ == "__main__":
    unittest.main()
