"""Fault drills for log shipping: a mailkeep server ships to a `mailkeep collector`, which
alerts by webhook (a loopback HTTP receiver) and by mail (an SMTP sink as its relay). Each
drill breaks something the way an attacker or an outage would and asserts the alert within
60 s: one record edited in place, the log cut, deleted, an old copy put back, the server
killed with SIGKILL, the collector's port firewalled (nft) while records are written (none
lost once it is open again), a heartbeat from the past (replayed) and one from a jumped clock.
The server and collector run with their default heartbeat (15 s) and silence (45 s) settings."""
import base64
import email
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller
import nacl.signing

import logship
import mkharness as mk

ALERT_GUARD = 60  # the bound for every alert; also the hang guard of each wait


class Hook(BaseHTTPRequestHandler):
    received = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        Hook.received.append((time.monotonic(), json.loads(body)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


class Sink:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((time.monotonic(), email.message_from_bytes(envelope.content)))
        return "250 OK"


class LogDrillsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="mk-drills-")
        cls.certs = logship.make_ca(cls.tmp)
        cls.port = logship.free_port()
        cls.hook = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
        threading.Thread(target=cls.hook.serve_forever, daemon=True).start()
        cls.sink = Sink()
        cls.smtp = Controller(cls.sink, hostname="127.0.0.1", port=logship.free_port())
        cls.smtp.start()
        cls.srv = mk.Server(extra_config={
            "log.remote.collectors": '["127.0.0.1:%d"]' % cls.port,
            "log.remote.ca_file": '"%s"' % cls.certs["ca"],
            "log.remote.server_name": '"collector.example"',
            "security.login_failures_before_ban": "50",
        }).start()
        key = cls.srv.cli("log", "key")
        assert key.returncode == 0, key.stderr
        cls.key = key.stdout.split('key = "')[1].split('"')[0]
        extra = ('alert_webhook = "http://127.0.0.1:%d/alerts"\nalert_mail_to = "admin@example.org"\n'
                 'alert_relay = "127.0.0.1:%d"\nhostname = "collector.example"\n'
                 % (cls.hook.server_address[1], cls.smtp.port))
        cls.collector = logship.Collector(cls.tmp, cls.port, cls.certs, [("localhost", cls.key)], extra).start()
        cls.local = os.path.join(cls.srv.dir, "security.log")
        cls.latency = {}

    @classmethod
    def tearDownClass(cls):
        subprocess.run(["nft", "delete", "table", "inet", "mkdrill%d" % os.getpid()], capture_output=True)
        cls.collector.close(cls.srv)
        cls.smtp.stop()
        cls.hook.shutdown()
        if cls.latency:
            print("alert latency (s): " + ", ".join("%s %.1f" % kv for kv in sorted(cls.latency.items())))
        if not os.environ.get("MK_KEEP"):
            shutil.rmtree(cls.tmp, ignore_errors=True)

    def records(self, n=2, source="127.0.0.2"):
        for i in range(n):
            self.assertIs(self.srv.smtp_auth("wrong-%d" % i, source=source), False)

    def shipped(self):
        logship.wait_same(self.local, self.collector.chain(), "the collector's copy")

    def expect_alert(self, kind, since, drill, mail=False):
        """Waits for a webhook alert of `kind` raised after `since` (monotonic) and returns it."""
        def found():
            for t, a in Hook.received:
                if t >= since and a["alert"] == kind and a["server"] == "localhost":
                    return t, a
            return None
        try:
            t, a = mk.wait_for(found, "a %s alert (%s)" % (kind, drill), ALERT_GUARD)
        except AssertionError:
            raise AssertionError("no %s alert for %s; alerts: %s\n%s" % (
                kind, drill, [a for _, a in Hook.received], self.collector.stderr()[-3000:]))
        self.latency[drill] = t - since
        self.assertEqual(a["collector"], "collector.example")
        if mail:
            m = mk.wait_for(lambda: [m for tm, m in self.sink.messages
                                     if tm >= since and ("localhost: " + kind) in m["Subject"]],
                            "the %s alert by mail" % kind, ALERT_GUARD)[0]
            self.assertEqual(m["To"], "<admin@example.org>")
            self.assertIn(kind, m.get_payload())
        with open(os.path.join(self.collector.data, "alerts.log")) as f:
            self.assertIn(kind, [json.loads(l)["alert"] for l in f])
        return a

    def test_1_an_edited_record(self):
        self.records(4)
        self.shipped()
        self.__class__.old_copy = os.path.join(self.tmp, "old-security.log")
        shutil.copy(self.local, self.old_copy)
        with open(self.local, "r+b") as f:
            lines = f.read().split(b"\n")
            lines[1] = lines[1].replace(b"127.0.0.2", b"127.0.0.9")
            f.seek(0)
            f.write(b"\n".join(lines))
        since = time.monotonic()
        a = self.expect_alert("damaged", since, "edit one record")
        self.assertIn("the record was changed", a["detail"])

    def test_2_a_cut_log(self):
        self.records(1)
        since = time.monotonic()
        size = os.path.getsize(self.local)
        os.truncate(self.local, size // 2)
        a = self.expect_alert("tampered", since, "truncate")
        self.assertIn("the security log was cut", a["detail"])

    def test_3_a_deleted_log(self):
        since = time.monotonic()
        os.remove(self.local)
        a = self.expect_alert("tampered", since, "delete")
        self.assertIn("the security log was deleted", a["detail"])
        self.assertTrue(os.path.exists(self.local))

    def test_4_an_old_copy_put_back(self):
        since = time.monotonic()
        shutil.copy(self.old_copy, self.local + ".tmp")
        os.rename(self.local + ".tmp", self.local)
        a = self.expect_alert("tampered", since, "restore an old copy")
        self.assertIn("the security log was replaced", a["detail"])

    def test_5_a_killed_server(self):
        since = time.monotonic()
        self.srv.kill9()
        self.expect_alert("silence", since, "kill -9", mail=True)
        self.srv.start()
        self.expect_alert("resumed", since, "restart after kill -9")

    def test_6_a_firewalled_collector(self):
        table = "mkdrill%d" % os.getpid()
        nft = lambda *a: subprocess.run(["nft", *a], check=True, capture_output=True)
        self.records(1, source="127.0.0.3")
        mk.wait_for(lambda: logship.records(self.collector.chain())[-1:] == logship.records(self.local)[-1:],
                    "the last record shipped")
        since = time.monotonic()
        nft("add", "table", "inet", table)
        nft("add", "chain", "inet", table, "out", "{ type filter hook output priority 0; }")
        nft("add", "rule", "inet", table, "out", "tcp", "dport", str(self.port), "drop")
        try:
            self.records(3, source="127.0.0.3")
            written = logship.records(self.local)[-3:]
            self.expect_alert("silence", since, "firewall the port")
        finally:
            nft("delete", "table", "inet", table)
        # Nothing written meanwhile is lost: it arrives, in order, once the port is open.
        mk.wait_for(lambda: logship.records(self.collector.chain())[-3:] == written,
                    "the records written behind the firewall", ALERT_GUARD * 3)

    def signed_heartbeat(self, ts, nonce):
        with open(os.path.join(self.srv.dir, "log-signing.key")) as f:
            seed = base64.b64decode(f.read().strip())[:32]
        head = open(self.local + ".head").read().split()
        text = "mailkeep heartbeat 2\nlocalhost\n%s\n%s\n%s\n%s\n" % (ts, head[0], head[1], nonce)
        sig = base64.b64encode(nacl.signing.SigningKey(seed).sign(text.encode()).signature).decode()
        msg = ('<110>1 %s localhost mailkeep 1 heartbeat [beat@32473 seq="%s" hash="%s" nonce="%s" sig="%s"]'
               % (ts, head[0], head[1], nonce, sig))
        return ("%d %s" % (len(msg), msg)).encode()

    def send_heartbeat(self, ts):
        """A heartbeat signed with the server's key for a connection of our own (the test holds
        the key, as the server does): it answers the collector's challenge."""
        import socket
        import ssl
        ctx = ssl.create_default_context(cafile=self.certs["ca"])
        with ctx.wrap_socket(socket.create_connection(("127.0.0.1", self.port), timeout=10),
                             server_hostname="collector.example") as s:
            challenge = s.recv(200).decode()
            self.assertIn("mailkeep-collector 1 challenge ", challenge)
            s.sendall(self.signed_heartbeat(ts, challenge.split()[-1]))
            self.assertIn("mailkeep-collector 1 ", s.recv(200).decode())

    def test_7_heartbeats_out_of_time(self):
        since = time.monotonic()
        # A heartbeat ten minutes ahead: one of the clocks jumped.
        future = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(time.time() + 600))
        self.send_heartbeat(future)
        a = self.expect_alert("clock", since, "clock jump")
        self.assertIn("from the collector's", a["detail"])
        # A heartbeat from before the last one: the clock went back.
        old = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(time.time() - 3600))
        since = time.monotonic()
        self.send_heartbeat(old)
        a = self.expect_alert("clock", since, "replayed heartbeat")
        self.assertIn("not after the last one", a["detail"])

    def test_8_a_replayed_heartbeat_is_refused(self):
        # A heartbeat the server really sent, recorded (rsyslog keeps them as text) and replayed
        # on another connection: its challenge is not this connection's, so it names nobody.
        import socket
        import ssl
        ts = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
        recorded = self.signed_heartbeat(ts, "0" * 32)
        ctx = ssl.create_default_context(cafile=self.certs["ca"])
        with ctx.wrap_socket(socket.create_connection(("127.0.0.1", self.port), timeout=10),
                             server_hostname="collector.example") as s:
            s.recv(200)
            s.sendall(recorded)
            s.settimeout(mk.HANG_GUARD)
            rest = b""
            try:
                while True:
                    chunk = s.recv(200)
                    if not chunk:
                        break
                    rest += chunk
            except (ConnectionResetError, ssl.SSLError):
                pass
            self.assertNotIn(b"mailkeep-collector 1 ", rest)
        mk.wait_for(lambda: "whose signature does not verify" in self.collector.stderr(), "the replay refused")


if __name__ == "__main__":
    unittest.main()
