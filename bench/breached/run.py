"""Breached-password list: mailkeep's index against the usual offline way of checking a
Have I Been Pwned list, a sorted text file searched with look(1).

One run, the same data for both:
- a list of N "SHA1:COUNT" lines in random order (SHA-1s of "pw<i>"), N = 10 million unless
  BREACHED_N says otherwise;
- preparing it: `mailkeep breached import` (unsorted text to index) against GNU sort with
  the same memory bound (unsorted text to the sorted file look needs); wall time and peak RSS;
- size on disk: the index against the sorted text;
- lookups: 20,000 passwords (half in the list), SHA-1 hashed and searched: one
  `mailkeep breached check` process reading them all, against one look(1) per password,
  which is how a shell checkpassword script does it; and the results must agree.

No server runs: every step is one command, killed when it exceeds a deadline sized to the
number of lines (SECONDS_PER_LINE), and the run then ends saying which step hung.

Usage: /usr/bin/python3 bench/breached/run.py path/to/mailkeep
"""
import hashlib
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from benchlib import COMMAND_SECONDS, BenchError, run_main  # noqa: E402

N = int(os.environ.get("BREACHED_N", "10000000"))
LOOKUPS = 20000
MEMORY = "64M"
# A deadline far above what preparing or looking up one line costs (microseconds), so only
# a hung step reaches it.
SECONDS_PER_LINE = 1e-4


def run_measured(args, lines, stdin=None, env=None):
    """(seconds, peak RSS MiB, stdout bytes) of one child process handling `lines` lines;
    stdin: bytes or None."""
    timeout = COMMAND_SECONDS + lines * SECONDS_PER_LINE
    with tempfile.TemporaryFile() as fin, tempfile.TemporaryFile() as fout:
        if stdin is not None:
            fin.write(stdin)
            fin.seek(0)
        started = time.monotonic()
        p = subprocess.Popen(args, stdin=fin, stdout=fout, stderr=subprocess.DEVNULL, env=env)
        # A timer rather than polling: wait4 gives the child's peak RSS, and the timing stays exact.
        killer = threading.Timer(timeout, p.kill)
        killer.start()
        _, status, usage = os.wait4(p.pid, 0)
        killer.cancel()
        seconds = time.monotonic() - started
        p.returncode = os.waitstatus_to_exitcode(status)
        if seconds >= timeout:
            raise BenchError("`%s` did not finish within %.0f s" % (" ".join(args), timeout))
        if p.returncode != 0:
            raise BenchError("`%s` failed (%d)" % (" ".join(args), p.returncode))
        fout.seek(0)
        return seconds, usage.ru_maxrss / 1024.0, fout.read()


def main():
    binary = os.path.abspath(sys.argv[1])
    work = tempfile.mkdtemp(prefix="mk-bench-breached-")
    try:
        # A data directory to import into; the commands create it. No server is needed.
        data = os.path.join(work, "mk")
        os.makedirs(data)
        config = os.path.join(data, "mailkeep.toml")
        with open(config, "w") as f:
            f.write('[server]\nhostname = "bench.localhost"\ndata_dir = "."\n')

        listing = os.path.join(work, "pwned.txt")
        t = time.monotonic()
        with open(listing, "w") as f:
            chunk = []
            for i in range(N):
                chunk.append("%s:%d\n" % (hashlib.sha1(b"pw%d" % i).hexdigest().upper(), i % 1000 + 1))
                if len(chunk) == 100000:
                    f.write("".join(chunk))
                    chunk = []
            f.write("".join(chunk))
        print("list: %d lines, %.0f MiB, written in %.1f s" % (N, os.path.getsize(listing) / 2**20, time.monotonic() - t))

        imp_s, imp_rss, _ = run_measured([binary, "--config", config, "breached", "import", listing], N)
        sorted_path = os.path.join(work, "sorted.txt")
        env = dict(os.environ, LC_ALL="C")
        sort_s, sort_rss, _ = run_measured(["sort", "-S", MEMORY, "--parallel=1", "-T", work, "-o", sorted_path,
                                            listing], N, env=env)
        index_path = os.path.join(data, "breached.idx")
        index_mib = os.path.getsize(index_path) / 2**20
        sorted_mib = os.path.getsize(sorted_path) / 2**20

        rng = random.Random(7)
        candidates = []
        for k in range(LOOKUPS):
            candidates.append("pw%d" % rng.randrange(N) if k % 2 == 0 else "not-there-%d" % rng.randrange(10**9))
        check_s, check_rss, out = run_measured([binary, "--config", config, "breached", "check"], LOOKUPS,
                                               stdin="".join(c + "\n" for c in candidates).encode())
        # Process start and opening the index, no lookups.
        start_s, start_rss, _ = run_measured([binary, "--config", config, "breached", "check"], 0, stdin=b"")
        mk_found = [line == b"breached" for line in out.splitlines()]
        look_found = []
        t = time.monotonic()
        for c in candidates:
            h = hashlib.sha1(c.encode()).hexdigest().upper()
            r = subprocess.run(["look", h + ":", sorted_path], stdout=subprocess.PIPE, env=env, timeout=COMMAND_SECONDS)
            look_found.append(r.returncode == 0 and r.stdout != b"")
        look_s = time.monotonic() - t
        if mk_found != look_found or sum(mk_found) != LOOKUPS // 2:
            raise BenchError("the results differ: mailkeep %d found, look %d" % (sum(mk_found), sum(look_found)))

        print()
        print("| step | mailkeep | sort + look | ratio |")
        print("|---|---|---|---|")
        print("| prepare %s lines (s) | %.1f | %.1f | %.2f |" % (format(N, ","), imp_s, sort_s, sort_s / imp_s))
        print("| prepare, peak RSS (MiB) | %.0f | %.0f | %.2f |" % (imp_rss, sort_rss, sort_rss / imp_rss))
        print("| on disk (MiB) | %.0f | %.0f | %.2f |" % (index_mib, sorted_mib, sorted_mib / index_mib))
        print("| %s lookups (s) | %.2f | %.1f | %.0f |" % (format(LOOKUPS, ","), check_s, look_s, look_s / check_s))
        print("| per lookup, process start included (us) | %.1f | %.0f | |"
              % (check_s / LOOKUPS * 1e6, look_s / LOOKUPS * 1e6))
        print("| per lookup, hashing included, start excluded (us) | %.2f | | |"
              % (max(check_s - start_s, 0) / LOOKUPS * 1e6))
        print("| lookup process peak RSS, without / with lookups (MiB) | %.0f / %.0f | | |" % (start_rss, check_rss))
        print("\nboth found %d of %d (the half that is in the list)" % (sum(mk_found), LOOKUPS))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    run_main(main)
