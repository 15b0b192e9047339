"""Crash test: under a bounded load, `kill -9` the server at random moments several times.
After each restart every message that received 250 must be stored exactly once and intact,
and no partially written message may be visible.

Bounded: ROUNDS rounds, each of CLIENTS threads sending until the server is killed, between
MIN_ACKS and MAX_ACKS acknowledged messages into the round (or at the hang guard).
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
MIN_ACKS, MAX_ACKS = 8, 40  # acknowledged messages in a round before the kill
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

        def client(cid, round_no, stop):
            nonlocal attempted
            crng = random.Random(SEED * 1000 + round_no * 100 + cid)
            seq = 0
            while not stop.is_set():
                try:
                    with smtplib.SMTP("127.0.0.1", srv.smtp_port, timeout=mk.HANG_GUARD) as s:
                        while not stop.is_set():
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
            # The kill comes at a random point of the load measured in acknowledged messages,
            # not in seconds, so a slow machine kills as deep into the load as a fast one.
            with acked_lock:
                kill_at = len(acked) + rng.randint(MIN_ACKS, MAX_ACKS)
            stop = threading.Event()
            threads = [threading.Thread(target=client, args=(c, round_no, stop)) for c in range(CLIENTS)]
            for t in threads:
                t.start()
            mk.wait_for(lambda: len(acked) >= kill_at, "the load did not get going", interval=0.005)
            time.sleep(rng.uniform(0, 0.05))  # into some transaction
            srv.kill9()
            stop.set()
            for t in threads:
                t.join(timeout=mk.HANG_GUARD)
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
        self.assertGreaterEqual(len(acked), ROUNDS * MIN_ACKS)
        self.assertEqual(duplicates, [])
        self.assertEqual(missing, [], "acknowledged but lost")
        # No message files beyond those the index refers to.
        blob_files = sum(len(files) for _, _, files in os.walk(os.path.join(srv.dir, "blobs")))
        self.assertEqual(blob_files, len(stored))


if __name__ == "__main__":
    unittest.main(verbosity=2)
