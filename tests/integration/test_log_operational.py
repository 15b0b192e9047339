"""The operational log shipped to `mailkeep collector` (log.remote.operational), and what the
collector lets a sender do with it.

- A server's lines are stored under its name only: a signed-in connection that sends a line in
  another server's name is refused, lines before a signed heartbeat are not stored (no
  accept_plain), control characters and line breaks are escaped, each line is stamped with
  the time the collector received it, and the file stops at max_log_size with one alert.
- A collector away longer than the server's in-memory queue holds (operational_queue): the
  oldest lines go, the server says how many (log.remote.lines_missed, shipped itself), the
  newest arrive in order, and the security chain misses nothing."""
import os
import re
import tempfile
import time
import unittest

import logship
import mkharness as mk

STAMP = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z "


class CollectorSideTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="mk-ops-col-")
        self.certs = logship.make_ca(self.tmp)
        self.port = logship.free_port()
        self.sk, pub = logship.new_key()
        self.sk2, pub2 = logship.new_key()
        self.col = logship.Collector(self.tmp, self.port, self.certs,
                                     [("one.example", pub), ("two.example", pub2)],
                                     'max_log_size = "4KiB"\n').start()

    def tearDown(self):
        self.col.close()

    def read_up_to_here(self, s):
        """Sends a frame that is not syslog and waits until the collector has logged it: what
        was sent before it on this connection has been handled."""
        before = self.col.stderr().count("event=collector.bad_frame")
        logship.send_frame(s, "not syslog")
        mk.wait_for(lambda: self.col.stderr().count("event=collector.bad_frame") > before,
                    "the collector reading this far")

    def line(self, host, text):
        ts = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
        return "<20>1 %s %s mailkeep 1 log - %s" % (ts, host, text)

    def test_lines_are_kept_per_server_escaped_stamped_and_capped(self):
        with logship.signed_in(self.port, self.certs, "one.example", self.sk) as s:
            logship.send_frame(s, self.line("one.example", "level=warn event=first"))
            logship.send_frame(s, self.line("one.example", "evil\x1b[2J\r\nts=x level=error event=forged\x7f"
                                                           " back\\x0aslash \u0085"))
            mk.wait_for(lambda: len(self.col.operational("one.example")) >= 2, "the lines stored")
            # Another server's name on this connection ends it; nothing is stored for two.example.
            logship.send_frame(s, self.line("two.example", "level=warn event=impostor"))
            logship.closed(s)
        mk.wait_for(lambda: "an operational log line in the name of another server" in self.col.stderr(),
                    "the refusal logged")
        stored = self.col.operational("one.example", stamped=True)
        self.assertEqual(len(stored), 2, stored)
        self.assertRegex(stored[0], "^" + STAMP + "level=warn event=first$")
        self.assertRegex(stored[1], "^" + STAMP + re.escape(r"evil\x1b[2J\x0d\x0ats=x level=error event=forged\x7f back\x5cx0aslash \xc2\x85") + "$")
        self.assertEqual(self.col.operational("two.example"), [])

        # Before a signed heartbeat (and without accept_plain): not stored anywhere.
        with logship.connect_tls(self.port, self.certs) as s:
            s.recv(200)  # the challenge
            logship.send_frame(s, self.line("two.example", "level=warn event=unsigned"))
            self.read_up_to_here(s)
        self.assertEqual(self.col.operational("two.example"), [])
        self.assertFalse(os.path.exists(os.path.join(self.col.data, "syslog")))

        # The cap: 4 KiB, then lines are dropped, logged and alerted once.
        with logship.signed_in(self.port, self.certs, "two.example", self.sk2) as s:
            for i in range(20):
                logship.send_frame(s, self.line("two.example", "level=warn event=filler n=%d %s" % (i, "x" * 400)))
            mk.wait_for(lambda: "event=collector.full" in self.col.stderr(), "the full file logged")
            # Once full, every later line is dropped, a short one too.
            logship.send_frame(s, self.line("two.example", "level=warn event=later"))
            self.read_up_to_here(s)
        path = os.path.join(self.col.data, "servers", "two.example", "operational.log")
        self.assertLessEqual(os.path.getsize(path), 4096)
        stored = self.col.operational("two.example")
        self.assertGreater(len(stored), 3)
        self.assertTrue(all("event=filler" in l for l in stored), stored)
        self.assertEqual(self.col.stderr().count("event=collector.full"), 1)
        with open(os.path.join(self.col.data, "alerts.log")) as f:
            alerts = f.read()
        self.assertRegex(alerts, r"two\.example.*full|full.*two\.example")
        # one.example is not capped by two.example's file.
        self.assertEqual(len(self.col.operational("one.example")), 2)


class QueueOverflowTest(unittest.TestCase):
    def test_a_long_absence_loses_the_oldest_lines_and_says_so(self):
        tmp = tempfile.mkdtemp(prefix="mk-ops-queue-")
        certs = logship.make_ca(tmp)
        port = logship.free_port()
        srv, key = logship.shipping_server(port, certs, **{"log.remote.operational": '"info"',
                                                           "log.remote.operational_queue": '"64KiB"',
                                                           "log.remote.heartbeat": '"1s"',
                                                           # failures at full speed, never banned
                                                           "security.allow_networks": '["127.0.0.0/8"]'})
        col = logship.Collector(tmp, port, certs, [("localhost", key)])
        local = os.path.join(srv.dir, "security.log")
        collector = "127.0.0.1:%d" % port
        try:
            # The collector is not there yet: about 300 info lines (over 64 KiB as queued).
            t0 = time.monotonic()
            for i in range(60):
                self.assertIs(srv.smtp_auth("wrong-%d" % i, source="127.0.0.2"), False)
            print("60 failed logins in %.1f s" % (time.monotonic() - t0))
            col.start()
            logship.wait_same(local, col.chain(), "the security records, all of them")
            failures = [l for l in srv.stderr().splitlines() if ".auth_failed " in l]
            self.assertEqual(len(failures), 60)

            def arrived():
                lines = col.operational()
                return any("event=log.remote.lines_missed" in l for l in lines) and \
                    failures[-1] in lines
            mk.wait_for(arrived, "the newest lines and the notice of the missed ones")
            lines = col.operational()
            got = [l for l in lines if ".auth_failed " in l]
            # The oldest went, the newest came, in order.
            self.assertLess(len(got), 60)
            self.assertGreater(len(got), 0)
            self.assertEqual(got, failures[-len(got):])
            notice = [l for l in lines if "event=log.remote.lines_missed" in l][0]
            missed = int(re.search(r" lines=(\d+)", notice).group(1))
            self.assertGreater(missed, 0)
            self.assertIn("level=error", notice)
            self.assertEqual(srv.metric("mailkeep_log_shipping_missed_lines_total", collector=collector), missed)
            # The security chain lost nothing (it is spooled in the log itself).
            self.assertTrue(logship.chain_ok(logship.records(col.chain())))
        finally:
            col.close(srv)


if __name__ == "__main__":
    unittest.main()
