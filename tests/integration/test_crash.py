"""Crash test: under a bounded load, `kill -9` the server at random moments several times.
After each restart every message that received 250 must be stored exactly once and intact,
and no partially written message may be visible.

Bounded: ROUNDS rounds of at most ROUND_SECONDS of load from CLIENTS threads each.
"""
import hashlib
import os
import random
import re
import smtplib
import threading
import time
import unittest

import mkharness as mk

ROUNDS = 6
CLIENTS = 6
ROUND_SECONDS = 2.0
SEED = int(os.environ.get("MK_CRASH_SEED", str(int(time.time()))))


def make_message(token, rng):
    payload = os.urandom(rng.randrange(200, 30000)).hex().encode()
    lines = b"\r\n".join(payload[i:i + 76] for i in range(0, len(payload), 76))
    digest = hashlib.sha256(lines).hexdigest()
    return (b"Subject: %s\r\nX-Check: %s\r\n\r\n" % (token.encode(), digest.encode())) + lines + b"\r\n"


def verify_intact(raw):
    head, _, body = raw.partition(b"\r\n\r\n")
    m = re.search(rb"X-Check: ([0-9a-f]{64})", head)
    token = re.search(rb"Subject: (crash-\S+)", head)
    if not m or not token:
        return None, False
    return token.group(1).decode(), hashlib.sha256(body[:-2]).hexdigest() == m.group(1).decode()


class CrashTest(unittest.TestCase):
    def test_kill_9_loses_no_acknowledged_message(self):
        print("crash test seed", SEED)
        rng = random.Random(SEED)
        srv = mk.Server(keep=False)
        self.addCleanup(srv.cleanup)
        acked = set()
        acked_lock = threading.Lock()
        attempted = 0

        def client(cid, round_no, stop_at):
            nonlocal attempted
            crng = random.Random(SEED * 1000 + round_no * 100 + cid)
            seq = 0
            while time.time() < stop_at:
                try:
                    with smtplib.SMTP("127.0.0.1", srv.smtp_port, timeout=10) as s:
                        while time.time() < stop_at:
                            token = "crash-%d-%d-%d" % (round_no, cid, seq)
                            seq += 1
                            msg = make_message(token, crng)
                            attempted += 1
                            s.sendmail("load@example.org", ["me@localhost"], msg)
                            with acked_lock:
                                acked.add(token)  # only after the 250 to DATA
                except (OSError, smtplib.SMTPException):
                    time.sleep(0.05)  # server killed or restarting

        for round_no in range(ROUNDS):
            srv.start()
            kill_after = rng.uniform(0.3, ROUND_SECONDS)
            stop_at = time.time() + ROUND_SECONDS + 1
            threads = [threading.Thread(target=client, args=(c, round_no, stop_at))
                       for c in range(CLIENTS)]
            for t in threads:
                t.start()
            time.sleep(kill_after)
            srv.kill9()
            for t in threads:
                t.join(timeout=30)
            srv.assert_clean()

        srv.start()  # recovery: sweeps files of batches that never committed
        self.assertEqual(srv.stop(), 0)
        stored = srv.messages()
        seen = {}
        for uid, raw in stored:
            token, intact = verify_intact(raw)
            self.assertIsNotNone(token, "unparseable stored message uid %d" % uid)
            self.assertTrue(intact, "stored message %s is damaged" % token)
            seen[token] = seen.get(token, 0) + 1
        duplicates = [t for t, n in seen.items() if n > 1]
        missing = sorted(acked - set(seen))
        print("attempted %d, acknowledged %d, stored %d (stored without ack: %d)"
              % (attempted, len(acked), len(stored), len(set(seen) - acked)))
        self.assertGreater(len(acked), 50, "the load did not get going")
        self.assertEqual(duplicates, [])
        self.assertEqual(missing, [], "acknowledged but lost")
        # No message files beyond those the index refers to.
        blob_files = sum(len(files) for _, _, files in os.walk(os.path.join(srv.dir, "blobs")))
        self.assertEqual(blob_files, len(stored))


if __name__ == "__main__":
    unittest.main(verbosity=2)
