"""Log shipping with the real binaries: a mailkeep server ships its security log over syslog
on TLS (RFC 5425) to a `mailkeep collector` process; the collector's copy holds the same
records in the same order and verifies (offline too), the operational log goes along
(log.remote.operational), records and lines written while the collector was down arrive when
it is back, records other processes append (the CLI) are shipped, and a
collector that cannot be verified gets nothing. Bad input to the collector is refused with a
logged reason and no crash."""
import json
import os
import socket
import ssl
import tempfile
import unittest

import logship
import mkharness as mk


class LogShippingTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="mk-ship-")
        cls.certs = logship.make_ca(cls.tmp)
        cls.port = logship.free_port()
        cls.srv = mk.Server(extra_config=logship.remote_config(cls.port, cls.certs,
                                                                **{"log.remote.heartbeat": '"1s"',
                                                                   "log.remote.operational": '"info"'})).start()
        key = cls.srv.cli("log", "key")
        assert key.returncode == 0, key.stderr
        cls.key = key.stdout.split('key = "')[1].split('"')[0]
        cls.collector = logship.Collector(cls.tmp, cls.port, cls.certs, [("localhost", cls.key)]).start()
        cls.local = os.path.join(cls.srv.dir, "security.log")

    @classmethod
    def tearDownClass(cls):
        cls.collector.close(cls.srv)

    def fail_logins(self, n, source="127.0.0.2"):
        for i in range(n):
            self.assertIs(self.srv.smtp_auth("wrong-%d" % i, source=source), False)

    def test_1_records_arrive_in_order_and_verify(self):
        self.fail_logins(3)
        logship.wait_same(self.local, self.collector.chain(), "the collector's copy")
        lines = logship.records(self.collector.chain())
        self.assertGreaterEqual(len(lines), 3)
        self.assertTrue(logship.chain_ok(lines))
        r = self.collector.verify()
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("localhost: OK, %d records" % len(lines), r.stdout)
        # The connection was acknowledged (mailkeep's own collector), from record 1.
        self.assertRegex(self.srv.stderr(), r"event=log\.remote\.connected .*acknowledged=true")

    def auth_failures(self, lines, ip):
        return [l for l in lines if ".auth_failed " in l and "ip=%s " % ip in l + " "]

    def test_1b_operational_lines_arrive_in_order(self):
        self.fail_logins(3, source="127.0.0.4")
        # The server's own lines, as it wrote them to stderr, in the same order.
        local = self.auth_failures(self.srv.stderr().splitlines(), "127.0.0.4")
        self.assertEqual(len(local), 3, self.srv.stderr()[-3000:])
        mk.wait_for(lambda: self.auth_failures(self.collector.operational(), "127.0.0.4") == local,
                    "the operational lines at the collector")
        # Under the server's name only; not in the security chain, not as plain syslog.
        self.assertFalse(os.path.exists(os.path.join(self.collector.data, "syslog")))
        self.assertTrue(all(b"auth_failed" not in r for r in logship.records(self.collector.chain())))
        self.assertEqual(self.srv.metric("mailkeep_log_shipping_missed_lines_total",
                                         collector="127.0.0.1:%d" % self.port), 0)
        self.assertGreaterEqual(self.srv.metric("mailkeep_log_shipping_lines_total",
                                                collector="127.0.0.1:%d" % self.port), 3)

    def test_2_records_from_other_processes_are_shipped(self):
        before = len(logship.records(self.local))
        r = self.srv.cli("account", "release", "me@localhost")
        self.assertEqual(len(logship.records(self.local)), before + 1, r.stdout + r.stderr)
        logship.wait_same(self.local, self.collector.chain(), "a record the CLI appended")

    def test_3_collector_outage_loses_nothing(self):
        self.collector.stop()
        self.fail_logins(5, source="127.0.0.3")
        self.srv.cli("account", "release", "me@localhost")
        # The server keeps working and keeps the records while the collector is away.
        self.assertTrue(self.srv.smtp_auth(mk.PASSWORD))
        self.collector.start()
        logship.wait_same(self.local, self.collector.chain(), "records written while the collector was down")
        self.assertTrue(logship.chain_ok(logship.records(self.collector.chain())))
        self.assertEqual(self.collector.verify("localhost").returncode, 0)
        # The operational lines logged meanwhile waited in memory and came along, in order,
        # with the server's own account of the outage.
        local = self.auth_failures(self.srv.stderr().splitlines(), "127.0.0.3")
        self.assertEqual(len(local), 5)
        mk.wait_for(lambda: self.auth_failures(self.collector.operational(), "127.0.0.3") == local,
                    "operational lines logged while the collector was down")
        self.assertTrue(any("event=log.remote.disconnected" in l for l in self.collector.operational()))

    def test_4_an_unverified_collector_gets_nothing(self):
        # A collector whose certificate the server's CA did not sign: the handshake fails and
        # nothing is sent to it.
        d = tempfile.mkdtemp(prefix="mk-ship-rogue-")
        rogue_certs = logship.make_ca(d)
        port = logship.free_port()
        rogue = logship.Collector(d, port, rogue_certs, [("localhost", self.key)]).start()
        srv = mk.Server(extra_config={
            "log.remote.collectors": '["127.0.0.1:%d"]' % port,
            "log.remote.ca_file": '"%s"' % self.certs["ca"],
            "log.remote.server_name": '"collector.example"',
        }).start()
        try:
            self.assertIs(srv.smtp_auth("wrong", source="127.0.0.2"), False)
            mk.wait_for(lambda: "certificate verify failed" in srv.stderr(), "the refused handshake logged")
            self.assertEqual(logship.records(rogue.chain()), [])
        finally:
            rogue.close(srv)

    def tls(self):
        return logship.connect_tls(self.port, self.certs)

    def closed_with(self, s, reason):
        logship.closed(s)
        mk.wait_for(lambda: reason in self.collector.stderr(), "refusal logged: " + reason)

    def test_5_bad_input_is_refused(self):
        self.fail_logins(1, source="127.0.0.5")
        logship.wait_same(self.local, self.collector.chain(), "the collector's copy")
        count = len(logship.records(self.collector.chain()))
        # Not TLS at all.
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as s:
            s.sendall(b"GET / HTTP/1.0\r\n\r\n")
            s.settimeout(mk.HANG_GUARD)
            try:
                s.recv(100)
            except OSError:
                pass
        mk.wait_for(lambda: "TLS handshake" in self.collector.stderr(), "a plain connection refused")
        # A frame longer than the collector accepts.
        s = self.tls()
        s.sendall(b"99999999 <13>1 - - - - - -")
        self.closed_with(s, "more than the 65536 allowed")
        # A security record before any heartbeat named the server.
        line = logship.records(self.local)[-1].decode()
        msg = '<109>1 - localhost mailkeep 1 security [chain@32473 seq="1"] ' + line
        s = self.tls()
        s.sendall(("%d %s" % (len(msg.encode()), msg)).encode())
        self.closed_with(s, "a security record before a signed heartbeat named its server")
        # A heartbeat with a signature that does not verify (an impostor of the server).
        hb = ('<110>1 2026-12-05T00:00:00.000Z localhost mailkeep 1 heartbeat '
              '[beat@32473 seq="1" hash="%s" sig="%s"]' % ("0" * 64, "A" * 88))
        s = self.tls()
        s.sendall(("%d %s" % (len(hb), hb)).encode())
        self.closed_with(s, "whose signature does not verify")
        # A heartbeat from a server the collector does not know.
        s = self.tls()
        hb2 = hb.replace(" localhost ", " other.example ")
        s.sendall(("%d %s" % (len(hb2), hb2)).encode())
        self.closed_with(s, "a server not in [[collector.server]]: other.example")
        # Garbage frames: refused after a few.
        s = self.tls()
        s.sendall(b"".join(b"5 hello" for _ in range(20)))
        self.closed_with(s, "too many frames that are not syslog")
        # Nothing of that reached the stored chain, and the collector still works.
        self.assertEqual(len(logship.records(self.collector.chain())), count)
        self.assertIsNone(self.collector.proc.poll())
        self.fail_logins(1, source="127.0.0.4")
        logship.wait_same(self.local, self.collector.chain(), "shipping after the bad input")


class ClientCertificateTest(unittest.TestCase):
    """A collector with client_ca takes only senders whose certificate its CA signed: the
    server with one ships; a client without one is refused in the handshake, with the reason
    logged."""

    def test_client_certificates(self):
        tmp = tempfile.mkdtemp(prefix="mk-ship-ccert-")
        certs = logship.make_ca(tmp)
        client = logship.make_client_cert(tmp, certs)
        port = logship.free_port()
        srv, key = logship.shipping_server(port, certs, **{"log.remote.client_cert": '"%s"' % client["cert"],
                                                           "log.remote.client_key": '"%s"' % client["key"]})
        col = logship.Collector(tmp, port, certs, [("localhost", key)], 'client_ca = "%s"\n' % certs["ca"]).start()
        local = os.path.join(srv.dir, "security.log")
        try:
            self.assertIs(srv.smtp_auth("wrong", source="127.0.0.2"), False)
            logship.wait_same(local, col.chain(), "records from the server with a client certificate")
            ctx = ssl.create_default_context(cafile=certs["ca"])
            with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
                try:
                    with ctx.wrap_socket(raw, server_hostname="collector.example") as s:
                        s.settimeout(mk.HANG_GUARD)
                        # TLS 1.3: the refusal of the missing certificate arrives after the handshake.
                        self.assertEqual(s.recv(100), b"")
                except (ssl.SSLError, ConnectionResetError):
                    pass
            mk.wait_for(lambda: "peer did not return a certificate" in col.stderr(), "the refusal logged")
        finally:
            col.close(srv)


class ReplayedChainTest(unittest.TestCase):
    """A chain replayed from another server: a sender that holds one configured server's key
    (other.example) sends the records of another (localhost). They are refused with the reason
    logged, and nothing reaches either server's stored chain."""

    def test_another_servers_chain_is_refused(self):
        tmp = tempfile.mkdtemp(prefix="mk-ship-replay-")
        certs = logship.make_ca(tmp)
        port = logship.free_port()
        srv, key = logship.shipping_server(port, certs)
        other, other_pub = logship.new_key()
        col = logship.Collector(tmp, port, certs, [("localhost", key), ("other.example", other_pub)]).start()
        local = os.path.join(srv.dir, "security.log")
        try:
            for i in range(2):
                self.assertIs(srv.smtp_auth("wrong-%d" % i, source="127.0.0.2"), False)
            logship.wait_same(local, col.chain(), "localhost's copy")
            stored = logship.records(col.chain())
            with logship.signed_in(port, certs, "other.example", other) as s:
                rec = json.loads(stored[0])
                logship.send_frame(s, '<109>1 %s localhost mailkeep 1 security [chain@32473 seq="%d" prev="%s" hash="%s"] %s'
                                   % (rec["ts"], rec["seq"], rec["prev"], rec["hash"], stored[0].decode()))
                logship.closed(s)
            mk.wait_for(lambda: "a security record in the name of another server" in col.stderr(), "the refusal logged")
            self.assertEqual(logship.records(col.chain()), stored)
            self.assertEqual(logship.records(col.chain("other.example")), [])
        finally:
            col.close(srv)


class CollectorRecoveryTest(unittest.TestCase):
    """A collector that died while writing (half a record at the end, a head file behind the
    records) starts again, cuts the half record off and goes on; the server resends it."""

    def test_restart_after_a_crash_while_writing(self):
        tmp = tempfile.mkdtemp(prefix="mk-ship-crash-")
        certs = logship.make_ca(tmp)
        port = logship.free_port()
        srv, key = logship.shipping_server(port, certs)
        col = logship.Collector(tmp, port, certs, [("localhost", key)]).start()
        local = os.path.join(srv.dir, "security.log")
        try:
            for i in range(3):
                self.assertIs(srv.smtp_auth("wrong-%d" % i, source="127.0.0.2"), False)
            logship.wait_same(local, col.chain(), "the collector's copy")
            col.stop()
            stored = logship.records(col.chain())
            # As if the collector died in the middle of writing the last record, before its
            # head file was renamed.
            with open(col.chain(), "wb") as f:
                f.write(b"\n".join(stored[:-1]) + b"\n" + stored[-1][:40])
            with open(col.chain() + ".head", "w") as f:
                f.write("%d %s\n" % (len(stored) - 2, "0" * 64))
            col.start()
            mk.wait_for(lambda: "collector.recovered" in col.stderr(), "the recovery logged")
            self.assertIs(srv.smtp_auth("wrong-again", source="127.0.0.2"), False)
            logship.wait_same(local, col.chain(), "the copy after the restart")
            self.assertEqual(col.verify().returncode, 0, col.verify().stdout)
        finally:
            col.close(srv)


if __name__ == "__main__":
    unittest.main()
