"""Helpers shared by the bench/ scripts: ports, memory, a loopback DNS server, and waits that
give up.

`make bench` must finish unattended: every wait here has a deadline, and when one passes it
raises BenchError saying what was waited for; run_main() prints that and exits 1. Everything
a benchmark starts listens on loopback only.

Run as a script, `benchlib.py dns [NAME TYPE VALUE]...` serves DNS for a shell benchmark:
it prints its port, then answers until it is terminated or its parent exits.
"""
import os
import signal
import socket
import subprocess
import sys
import time

from dnslib import AAAA, MX, PTR, QTYPE, RCODE, RR, SOA, TXT, A
from dnslib.server import BaseResolver, DNSLogger, DNSServer

START_SECONDS = 60     # a server a benchmark starts is ready within this, or it failed
STALL_SECONDS = 60     # a count (messages accepted, delivered, queued) that has not grown
                       # for this long means the benchmark cannot make progress
COMMAND_SECONDS = 120  # a control command (postfix start, a CLI call) has hung after this
CORPUS_SECONDS = 600   # scripts/fetch-corpus.sh downloads the corpus (npm) on its first run
PORT_ATTEMPTS = 20     # a port free for UDP may be taken for TCP by then: try another
POLL_SECONDS = 0.1
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class BenchError(Exception):
    """The benchmark cannot go on; the message says what it was waiting for."""


def run_main(main):
    """Runs main(); a BenchError, a command's timeout or a missing program ends the benchmark
    with a one-line message and exit status 1."""
    try:
        main()
    except (BenchError, subprocess.TimeoutExpired, FileNotFoundError) as e:
        sys.exit("%s: FAILED: %s" % (os.path.basename(os.path.dirname(os.path.abspath(sys.argv[0]))), e))


def free_port():
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pss_kib(pids):
    """Proportional set size (KiB) of the given processes together; gone ones count 0."""
    total = 0
    for p in pids:
        try:
            with open("/proc/%d/smaps_rollup" % p) as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def tail(path, lines=5):
    """The last lines of a log file, for an error message."""
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-lines:]).strip() or "(empty)"
    except OSError:
        return "(no %s)" % path


def run(args, timeout=COMMAND_SECONDS, **kwargs):
    """subprocess.run with a deadline; a failure is a BenchError with the command's stderr."""
    kwargs.setdefault("capture_output", True)
    try:
        return subprocess.run(args, check=True, timeout=timeout, **kwargs)
    except subprocess.CalledProcessError as e:
        err = e.stderr.decode(errors="replace") if isinstance(e.stderr, bytes) else (e.stderr or "")
        raise BenchError("`%s` exited %d: %s" % (" ".join(args), e.returncode, err.strip()[-500:])) from None


def corpus_dir():
    """The SpamAssassin public corpus, fetched once into a cache by scripts/fetch-corpus.sh."""
    out = run(["bash", os.path.join(ROOT, "scripts", "fetch-corpus.sh")], timeout=CORPUS_SECONDS, text=True)
    return out.stdout.strip().splitlines()[-1]


def wait_until(what, ready, timeout=START_SECONDS, alive=None):
    """Polls ready() until it is true. BenchError after timeout seconds, or as soon as alive()
    (the process that should get ready) is false."""
    deadline = time.monotonic() + timeout
    while not ready():
        if alive is not None and not alive():
            raise BenchError("%s: the process exited" % what)
        if time.monotonic() > deadline:
            raise BenchError("waited %d s for %s" % (timeout, what))
        time.sleep(POLL_SECONDS)


def wait_count(what, count, target, tick=None, interval=POLL_SECONDS, stall=STALL_SECONDS):
    """Polls count() until it reaches target, calling tick() at each poll. BenchError when
    the count has not grown for stall seconds."""
    last, since = -1, time.monotonic()
    while True:
        n = count()
        if n >= target:
            return
        if n != last:
            last, since = n, time.monotonic()
        elif time.monotonic() - since > stall:
            raise BenchError("%s: %d of %d, and no progress in %d s" % (what, n, target, stall))
        if tick:
            tick()
        time.sleep(interval)


def can_connect(host, port):
    try:
        socket.create_connection((host, port), timeout=1).close()
        return True
    except OSError:
        return False


def start(args, log, ready):
    """Starts a server with stdout in LOG.out and stderr in LOG.err, and returns it once a
    line of its stdout starts with `ready` (mailkeep prints "listening ..." lines)."""
    proc = subprocess.Popen(args, stdout=open(log + ".out", "w"), stderr=open(log + ".err", "w"))

    def printed():
        with open(log + ".out") as f:
            return any(line.startswith(ready) for line in f)
    try:
        wait_until("`%s` to print %r" % (" ".join(args), ready), printed, alive=lambda: proc.poll() is None)
    except BenchError as e:
        stop(proc)
        raise BenchError("%s; its stderr ends: %s" % (e, tail(log + ".err"))) from None
    return proc


def stop(proc, timeout=START_SECONDS):
    """SIGTERM, then SIGKILL if it has not exited within timeout seconds."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class Dns(BaseResolver):
    """A DNS server on 127.0.0.1 (UDP and TCP) for mailkeep's `[dns] upstream`. It answers the
    records given to add() and NXDOMAIN for every other name, at once: the MX makes the lookups
    it makes in production (SPF, DKIM, DMARC, reverse DNS, DNS lists) without waiting for the
    internet, which the benchmarks must not reach."""

    def __init__(self):
        self.records = {}
        quiet = DNSLogger(logf=lambda _: None)
        for _ in range(PORT_ATTEMPTS):
            self.port = free_port()
            self.servers = []
            try:
                for tcp in (False, True):
                    self.servers.append(DNSServer(self, port=self.port, address="127.0.0.1", tcp=tcp,
                                                  logger=quiet))
                break
            except OSError:
                for s in self.servers:
                    s.server.server_close()
        else:
            raise BenchError("no port free for UDP and TCP for the loopback DNS server")
        for s in self.servers:
            s.start_thread()

    def add(self, name, rtype, value):
        """A record: A, AAAA, PTR, TXT (any length), MX ("PREFERENCE HOST")."""
        self.records.setdefault(name.rstrip(".").lower(), []).append((rtype, value))

    def config(self):
        """mailkeep's [dns] section for this server."""
        # It does not sign its answers: with validation on, every answer would be bogus.
        return '[dns]\nupstream = ["127.0.0.1@%d"]\ndnssec = false\n' % self.port

    def stop(self):
        for s in self.servers:
            s.stop()
            s.server.server_close()

    def resolve(self, request, handler):
        reply = request.reply()
        records = self.records.get(str(request.q.qname).rstrip(".").lower())
        if records is None:
            reply.header.rcode = RCODE.NXDOMAIN
            self._negative(reply)
            return reply
        for rtype, value in records:
            if QTYPE.reverse.get(rtype) != request.q.qtype:
                continue
            if rtype == "MX":
                pref, host = value.split()
                rdata = MX(host, int(pref))
            elif rtype == "TXT":
                data = value.encode()  # character-strings hold at most 255 bytes each
                rdata = TXT([data[i:i + 255] for i in range(0, len(data), 255)] or [b""])
            else:
                rdata = {"A": A, "AAAA": AAAA, "PTR": PTR}[rtype](value)
            reply.add_answer(RR(request.q.qname, request.q.qtype, rdata=rdata, ttl=60))
        if not reply.rr:
            self._negative(reply)
        return reply

    @staticmethod
    def _negative(reply):
        """A negative answer (NXDOMAIN, or no record of the type) carries an SOA in its
        authority section (RFC 2308 §3). rspamd 3.4's resolver does not take one without it:
        it asks again until its timeouts run out, 8 s a message."""
        reply.add_auth(RR(".", QTYPE.SOA, rdata=SOA("ns.bench.invalid", "hostmaster.bench.invalid",
                                                     (1, 3600, 600, 86400, 60)), ttl=60))


def _serve_dns(args):
    if len(args) % 3:
        sys.exit("usage: benchlib.py dns [NAME TYPE VALUE]...")
    dns = Dns()
    for i in range(0, len(args), 3):
        dns.add(*args[i:i + 3])
    print(dns.port, flush=True)
    # The shell's trap stops it; should the shell itself be killed, it must not outlive it.
    parent = os.getppid()
    while os.getppid() == parent:
        time.sleep(1)


if __name__ == "__main__":
    if sys.argv[1:2] != ["dns"]:
        sys.exit("usage: benchlib.py dns [NAME TYPE VALUE]...")
    _serve_dns(sys.argv[2:])
