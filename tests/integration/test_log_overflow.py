"""The spool bound drill: a server whose collector has been away while more records than
log.remote.spool_records (its minimum, 1,000) were written skips the oldest, ships the newest
in order, and records the overflow in its own log; the collector alerts the gap and the
overflow, stores the newest records as a new segment whose chain it goes on checking, and
`collector verify` checks every segment. Twice: for a collector that has nothing yet (one
added after the server's log grew), and for one that already holds a segment."""
import hashlib
import json
import os
import shutil
import tempfile
import time
import unittest

import logship
import mkharness as mk

BOUND = 1000


def append_records(path, n):
    """Appends n valid records (audit/log.cpp's format) to the log at path and its head file,
    as the server would have written them while its collector was away."""
    seq, prev = 0, "0" * 64
    try:
        with open(path + ".head") as f:
            s, h = f.read().split()
            seq, prev = int(s), h
    except FileNotFoundError:
        pass
    ts = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
    with open(path, "a") as f:
        for _ in range(n):
            seq += 1
            line = ('{"seq":%d,"ts":"%s","event":"login_failed","service":"imap","ip":"192.0.2.%d",'
                    '"user":"drill@localhost","prev":"%s",' % (seq, ts, seq % 250 + 1, prev))
            prev = hashlib.sha256((prev + line).encode()).hexdigest()
            f.write(line + '"hash":"%s"}\n' % prev)
    with open(path + ".head", "w") as f:
        f.write("%d %s\n" % (seq, prev))


class SpoolOverflowTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="mk-overflow-")
        cls.certs = logship.make_ca(cls.tmp)
        cls.port = logship.free_port()
        cls.srv = mk.Server(extra_config=logship.remote_config(cls.port, cls.certs, **{
            "log.remote.heartbeat": '"1s"', "log.remote.spool_records": str(BOUND)}))
        cls.srv._run_dev_once()
        key = cls.srv.cli("log", "key")
        assert key.returncode == 0, key.stderr
        cls.key = key.stdout.split('key = "')[1].split('"')[0]
        cls.collector = logship.Collector(cls.tmp, cls.port, cls.certs, [("localhost", cls.key)])
        cls.local = os.path.join(cls.srv.dir, "security.log")

    @classmethod
    def tearDownClass(cls):
        cls.collector.close(cls.srv)
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def alerts(self):
        try:
            with open(os.path.join(self.collector.data, "alerts.log")) as f:
                return [json.loads(l) for l in f]
        except FileNotFoundError:
            return []

    def overflow_records(self):
        return [json.loads(l) for l in logship.records(self.local) if b'"event":"log_shipping_overflow"' in l]

    def test_newest_records_are_kept_and_checked_in_a_new_segment(self):
        # 1. A log of 1,500 records, and a collector that has none of them.
        append_records(self.local, 1500)
        self.assertEqual(mk.run_cli("--config", self.srv.config, "audit", "verify").returncode, 0)
        self.srv.start()
        self.collector.start()
        mk.wait_for(lambda: self.overflow_records(), "the server did not record the overflow")
        over = self.overflow_records()[-1]
        self.assertEqual((over["skipped"], over["first"]), ("500", "1"))
        local = logship.records(self.local)
        self.assertEqual(len(local), 1501)  # the overflow record itself is the newest
        # The newest 1,001, in order, each linked to the one before, from record 501 on.
        mk.wait_for(lambda: logship.records(self.collector.chain()) == local[500:], "the newest records at the collector")
        kinds = lambda: {a["alert"] for a in self.alerts()}
        mk.wait_for(lambda: {"gap", "overflow"} <= kinds(), "the gap and overflow alerts: %s" % kinds())
        v = self.collector.verify("localhost")
        self.assertEqual(v.returncode, 0, v.stdout + v.stderr)
        self.assertIn("localhost: OK, 1001 records", v.stdout)
        # The chain goes on: a record written now links and is stored, not set aside.
        self.assertIs(self.srv.smtp_auth("wrong-after", source="127.0.0.4"), False)
        mk.wait_for(lambda: logship.records(self.collector.chain())[-1:] == logship.records(self.local)[-1:],
                    "a record written after the overflow")
        unlinked = os.path.join(self.collector.data, "servers", "localhost", "unlinked.log")
        self.assertEqual(os.path.getsize(unlinked) if os.path.exists(unlinked) else 0, 0)

        # 2. Away again while 1,200 more are written: the stored segment is kept as it was.
        self.collector.stop()
        stored = logship.records(self.collector.chain())
        self.assertEqual(self.srv.stop(), 0)
        append_records(self.local, 1200)
        self.srv.start()
        self.collector.start()
        mk.wait_for(lambda: len(self.overflow_records()) == 2, "the second overflow was not recorded")
        local = logship.records(self.local)
        mk.wait_for(lambda: logship.records(self.collector.chain()) == local[-(BOUND + 1):],
                    "the newest records after the second outage")
        seg = os.path.join(self.collector.data, "servers", "localhost",
                           "security.upto-%012d.log" % json.loads(stored[-1])["seq"])
        self.assertEqual(logship.records(seg), stored)
        v = self.collector.verify("localhost")
        self.assertEqual(v.returncode, 0, v.stdout + v.stderr)
        self.assertIn("localhost: OK, %d records in 2 segments" % (len(stored) + BOUND + 1), v.stdout)
        # Records cut off the start of a segment, or a whole segment removed, are found too:
        # segments.log says where each segment began.
        current = self.collector.chain()
        with open(current, "rb") as f:
            kept = f.read()
        with open(current, "wb") as f:
            f.write(b"".join(l + b"\n" for l in kept.split(b"\n")[3:] if l))
        v = self.collector.verify("localhost")
        self.assertNotEqual(v.returncode, 0)
        self.assertIn("no gap was recorded there", v.stdout)
        with open(current, "wb") as f:
            f.write(kept)
        os.rename(seg, seg + ".aside")
        v = self.collector.verify("localhost")
        self.assertNotEqual(v.returncode, 0, v.stdout)
        self.assertIn("BROKEN", v.stdout)
        os.rename(seg + ".aside", seg)
        self.assertEqual(self.collector.verify("localhost").returncode, 0)
        # An edit in an older segment is found by verify.
        with open(seg) as f:
            lines = f.read().split("\n")
        lines[3] = lines[3].replace("192.0.2.", "198.51.100.")
        with open(seg, "w") as f:
            f.write("\n".join(lines))
        v = self.collector.verify("localhost")
        self.assertNotEqual(v.returncode, 0)
        self.assertIn("BROKEN", v.stdout)


if __name__ == "__main__":
    unittest.main()
