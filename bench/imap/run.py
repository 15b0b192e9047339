#!/usr/bin/python3
"""bench/imap: mailkeep against Dovecot serving the same messages, side by side, one run.

Both servers get the same N messages (the SpamAssassin public corpus, cycled) appended over
IMAP, both are reached over implicit TLS on loopback, and the same client (a small raw IMAP
client, so the client's own parsing does not dominate) times: connect+LOGIN+SELECT,
UID FETCH 1:* (FLAGS INTERNALDATE RFC822.SIZE ENVELOPE), FETCH 1:* BODYSTRUCTURE,
UID SEARCH TEXT, 1,000 full bodies; then the resident memory (PSS) per connection with
K connections in IDLE. Each timed operation runs three times; the median is reported, with the CPU time the server spent on it
(from /proc/PID/task/*/schedstat, so the client's own cost does not blur the comparison).
Last, each server is restarted on the same data (mailkeep: the process is stopped and
started again; Dovecot: `dovecot stop` and start), and the first
`FETCH 1:* (ENVELOPE BODYSTRUCTURE)` after the restart (on a new connection, after LOGIN and
SELECT) is timed beside the warm one (the median of three just before the restart): what a
client's first sync costs after an upgrade or a reboot of the server process. A first FETCH
happens once per restart, so this is done RESTARTS times and the medians are reported. The
operating system's page cache is not dropped: the files are still in memory, so this times
what the server itself keeps (or does not keep) across a restart, not the disk.
Prints every figure for both and the ratio (Dovecot time / mailkeep time: > 1 means
mailkeep is faster; for memory, Dovecot PSS / mailkeep PSS), then each server's own
ratio first-after-restart / warm.

mailkeep resolves through a loopback DNS server (NXDOMAIN for every name), as in the other
benchmarks: nothing `serve` does may wait on the internet. A server that sends nothing for
benchlib.STALL_SECONDS ends the run with a message saying so.

Usage: bench/imap/run.py MAILKEEP_BINARY [N] [K]   (N: default $BENCH_MESSAGES, else 10000)
"""
import os
import resource
import shutil
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "bench"))
from benchlib import (COMMAND_SECONDS, STALL_SECONDS, BenchError, Dns, can_connect, corpus_dir,  # noqa: E402
                      free_port, pss_kib, run, run_main, start, stop, wait_until)
PASSWORD = "bench password 1"
USER = "me@bench.example"


def tls_ctx():
    c = ssl.create_default_context()
    c.check_hostname = False
    c.verify_mode = ssl.CERT_NONE
    return c


class Client:
    """Minimal IMAP client: sends a command, reads to its tagged reply, literals included."""

    def __init__(self, port):
        self.port = port
        # The timeout applies to every read: a server that stops answering ends the benchmark.
        self.sock = tls_ctx().wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=STALL_SECONDS),
                                          server_hostname="localhost")
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()
        self.n = 0
        self.line()  # greeting

    def _fill(self):
        try:
            chunk = self.sock.recv(1 << 20)
        except TimeoutError:
            raise BenchError("the IMAP server on port %d sent nothing for %d s" % (self.port, STALL_SECONDS)) from None
        if not chunk:
            raise BenchError("the IMAP server on port %d closed the connection" % self.port)
        self.buf += chunk

    def line(self):
        while True:
            i = self.buf.find(b"\r\n")
            if i >= 0:
                out = bytes(self.buf[:i])
                del self.buf[:i + 2]
                return out
            self._fill()

    def take(self, n):
        while len(self.buf) < n:
            self._fill()
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    def cmd(self, text, literals=()):
        self.n += 1
        tag = b"t%d" % self.n
        parts = text.encode() if isinstance(text, str) else text
        self.sock.sendall(tag + b" " + parts + b"\r\n")
        total = 0
        while True:
            line = self.line()
            total += len(line)
            while line.endswith(b"}") and b"{" in line:
                n = int(line[line.rindex(b"{") + 1:-1].rstrip(b"+"))
                self.take(n)
                total += n
                line = self.line()
            if line.startswith(tag + b" "):
                if not line.startswith(tag + b" OK"):
                    raise BenchError("%s failed: %r" % (text if isinstance(text, str) else "cmd", line[:200]))
                return total

    def append_many(self, mailbox, msgs):
        # MULTIAPPEND with non-synchronizing literals (LITERAL+), supported by both.
        body = b"APPEND " + mailbox.encode()
        for m in msgs:
            body += b" {%d+}\r\n" % len(m) + m
        self.cmd(body)


def load_corpus(n):
    d = corpus_dir()
    files = sorted(os.path.join(dp, f) for dp, _, fs in os.walk(d) for f in fs if f.endswith(".txt"))
    msgs = []
    for i in range(n):
        with open(files[i % len(files)], "rb") as f:
            raw = f.read()
        if raw.startswith(b"From "):
            raw = raw[raw.index(b"\n") + 1:]
        raw = raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        msgs.append(raw)
    return msgs


def tree_pids(root_pid):
    out = subprocess.run(["ps", "-e", "-o", "pid=,ppid="], capture_output=True, text=True).stdout
    children = {}
    for line in out.split("\n"):
        if line.strip():
            pid, ppid = map(int, line.split())
            children.setdefault(ppid, []).append(pid)
    pids, todo = [], [root_pid]
    while todo:
        p = todo.pop()
        pids.append(p)
        todo.extend(children.get(p, []))
    return pids


def setup_mailkeep(binary, work, port, dns):
    """Writes the configuration and creates the account; returns the configuration file."""
    d = os.path.join(work, "mk")
    os.makedirs(d)
    cfg = os.path.join(d, "mailkeep.toml")
    with open(cfg, "w") as f:
        f.write('[server]\nhostname = "bench.localhost"\ndata_dir = "."\n[log]\nlevel = "warn"\n'
                '[smtp]\nlisten = ["127.0.0.1:%d"]\n'
                # No submission listener: only what is measured binds, so nothing else on the
                # machine (another instance, another benchmark) is in the way.
                '[submission]\nlisten = []\nlisten_tls = []\n'
                '[imap]\nlisten = ["127.0.0.1:%d"]\n'
                'listen_tls = ["127.0.0.1:%d"]\nmax_connections = 5000\nmax_connections_per_ip = 5000\n'
                'max_sessions_per_account = 5000\n[http]\nlisten = []\nlisten_tls = []\n'
                % (free_port(), free_port(), port))
        f.write(dns.config())
    run([binary, "--config", cfg, "domain", "add", "bench.example"])
    run([binary, "--config", cfg, "account", "add", USER, "--password-stdin"], input=PASSWORD + "\n", text=True)
    return cfg


def serve_mailkeep(binary, cfg, log_name):
    """Starts `serve` on the configuration's data directory and returns the process."""
    return start([binary, "serve", "--config", cfg], os.path.join(os.path.dirname(cfg), log_name), "listening imaps")


def start_dovecot(work, port, cert, key, conns):
    d = os.path.join(work, "dovecot")
    for sub in ("run", "state", "home"):
        os.makedirs(os.path.join(d, sub))
    shutil.chown(os.path.join(d, "home"), "dovecot", "dovecot")
    # The same password hashing cost as mailkeep's accounts (argon2id, 64 MiB), so LOGIN
    # compares servers rather than hash settings.
    hashed = run(["doveadm", "pw", "-s", "ARGON2ID", "-p", PASSWORD], text=True).stdout.strip()
    with open(os.path.join(d, "users"), "w") as f:
        f.write("%s:%s\n" % (USER, hashed))
    conf = os.path.join(d, "dovecot.conf")
    limit = conns + 100
    with open(conf, "w") as f:
        f.write("""base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = required
ssl_cert = <{cert}
ssl_key = <{key}
auth_mechanisms = plain
passdb {{
  driver = passwd-file
  args = username_format=%u {d}/users
}}
userdb {{
  driver = static
  args = uid=dovecot gid=dovecot home={d}/home/%u
}}
mail_location = maildir:~/Maildir
first_valid_uid = 100
default_internal_user = dovecot
default_login_user = dovenull
default_process_limit = {limit}
default_client_limit = {climit}
mail_max_userip_connections = {limit}
service imap-login {{
  inet_listener imap {{
    port = 0
  }}
  inet_listener imaps {{
    port = {port}
    ssl = yes
  }}
  service_count = 0
  client_limit = {climit}
}}
service imap {{
  process_limit = {limit}
}}
service anvil {{
  client_limit = {climit}
}}
""".format(d=d, cert=cert, key=key, port=port, limit=limit, climit=limit * 3))
    return conf, run_dovecot(conf, port)


def run_dovecot(conf, port):
    """Starts Dovecot with conf and returns its master's pid once it listens on port."""
    d = os.path.dirname(conf)
    try:
        # Not captured: the daemon would inherit the pipes, and run() would wait for it to exit.
        run(["dovecot", "-c", conf], capture_output=False)
        wait_until("Dovecot to listen on 127.0.0.1:%d (see %s/dovecot.log)" % (port, d),
                   lambda: can_connect("127.0.0.1", port))
    except (BenchError, subprocess.TimeoutExpired):
        subprocess.run(["dovecot", "-c", conf, "stop"], capture_output=True, timeout=COMMAND_SECONDS)
        raise
    # Dovecot may listen before it has written its pid file (seen on a loaded machine).
    pidfile = os.path.join(d, "run", "master.pid")
    wait_until("Dovecot to write " + pidfile, lambda: os.path.exists(pidfile) and open(pidfile).read().strip())
    return int(open(pidfile).read())


def stop_dovecot(conf, pid):
    """Stops Dovecot and waits until its master process has exited."""
    subprocess.run(["dovecot", "-c", conf, "stop"], capture_output=True, timeout=COMMAND_SECONDS)
    wait_until("Dovecot (pid %d) to exit" % pid, lambda: not os.path.exists("/proc/%d" % pid))


def cpu_ns(pids):
    """CPU time (ns) used so far by every thread of the given processes."""
    total = 0
    for p in pids:
        try:
            for t in os.listdir("/proc/%d/task" % p):
                with open("/proc/%d/task/%s/schedstat" % (p, t)) as f:
                    total += int(f.read().split()[0])
        except OSError:
            pass
    return total


def timed(fn, runs=3, pids=None):
    """Median wall time (s) of fn, and the median server CPU time (s) per run if pids."""
    times, cpus = [], []
    for _ in range(runs):
        procs = pids() if pids else []
        c = cpu_ns(procs)
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
        cpus.append((cpu_ns(procs) - c) / 1e9)
    return statistics.median(times), statistics.median(cpus)


def measure(name, port, msgs, search_word, k, server_pids):
    print("loading %d messages into %s..." % (len(msgs), name), flush=True)
    c = Client(port)
    c.cmd('LOGIN "%s" "%s"' % (USER, PASSWORD))
    for i in range(0, len(msgs), 100):
        c.append_many("INBOX", msgs[i:i + 100])
    c.cmd("SELECT INBOX")
    r = {}

    def login_select():
        x = Client(port)
        x.cmd('LOGIN "%s" "%s"' % (USER, PASSWORD))
        x.cmd("SELECT INBOX")
        x.sock.close()
    # Dovecot serves each login in a new short-lived process whose CPU time cannot be read
    # afterwards, so this one is wall time only.
    r["connect+LOGIN+SELECT"] = timed(login_select, 5)[0]
    ops = [("UID FETCH 1:* (FLAGS INTERNALDATE RFC822.SIZE ENVELOPE)",
            "UID FETCH 1:* (FLAGS INTERNALDATE RFC822.SIZE ENVELOPE)"),
           ("FETCH 1:* BODYSTRUCTURE", "FETCH 1:* BODYSTRUCTURE"),
           ("UID SEARCH TEXT %s" % search_word, "UID SEARCH TEXT %s" % search_word),
           ("1,000 full bodies", "UID FETCH 1:1000 BODY.PEEK[]")]
    for label, command in ops:
        wall, cpu = timed(lambda: c.cmd(command), 3, server_pids)
        r[label] = wall
        r[label + ", server CPU"] = cpu
    c.sock.close()

    print("opening %d IDLE connections to %s..." % (k, name), flush=True)
    before = pss_kib(server_pids())
    idlers = []
    for _ in range(k):
        x = Client(port)
        x.cmd('LOGIN "%s" "%s"' % (USER, PASSWORD))
        x.cmd("SELECT INBOX")
        x.sock.sendall(b"i IDLE\r\n")
        x.line()
        idlers.append(x)
    time.sleep(2)
    after = pss_kib(server_pids())
    r["PSS per IDLE connection (KiB)"] = (after - before) / k
    for x in idlers:
        x.sock.close()
    return r


RESTART_FETCH = "FETCH 1:* (ENVELOPE BODYSTRUCTURE)"
# Restarts per server: a first FETCH happens once per restart, so its median needs several.
RESTARTS = 3


def measure_restart(name, port, restart, server_pids, rounds=RESTARTS):
    """Per round: the warm RESTART_FETCH (median of three), restart(), and the first
    RESTART_FETCH after it; the medians over the rounds, each as (wall s, server CPU s), and
    every first-after-restart wall time. server_pids is called after each restart too: the
    processes are new."""
    def session():
        x = Client(port)
        x.cmd('LOGIN "%s" "%s"' % (USER, PASSWORD))
        x.cmd("SELECT INBOX")
        return x
    warm, cold = [], []
    for i in range(rounds):
        c = session()
        warm.append(timed(lambda: c.cmd(RESTART_FETCH), 3, server_pids))
        c.sock.close()
        print("restarting %s (%d of %d)..." % (name, i + 1, rounds), flush=True)
        restart()
        c = session()
        cold.append(timed(lambda: c.cmd(RESTART_FETCH), 1, server_pids))
        c.sock.close()

    def median(samples):
        return tuple(statistics.median(x[k] for x in samples) for k in (0, 1))
    return {"warm": median(warm), "first after restart": median(cold), "each": [x[0] for x in cold]}


def main():
    binary = os.path.abspath(sys.argv[1])
    n = int(sys.argv[2] if len(sys.argv) > 2 else os.environ.get("BENCH_MESSAGES", 10000))
    k = int(sys.argv[3]) if len(sys.argv) > 3 else 1000
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    msgs = load_corpus(n)
    work = tempfile.mkdtemp(prefix="mk-bench-imap-")
    os.chmod(work, 0o755)
    mk_port, dv_port = free_port(), free_port()
    dns = Dns()
    # The running processes; the restarts replace them.
    live = {"mk": None, "dv": None}
    dv_conf = None
    try:
        mk_cfg = setup_mailkeep(binary, work, mk_port, dns)
        live["mk"] = serve_mailkeep(binary, mk_cfg, "serve")
        mk_dir = os.path.dirname(mk_cfg)
        cert, key = os.path.join(mk_dir, "tls", "selfsigned-cert.pem"), os.path.join(mk_dir, "tls", "selfsigned-key.pem")
        dv_conf, live["dv"] = start_dovecot(work, dv_port, cert, key, k)
        word = "money"
        mk_pids, dv_pids = (lambda: [live["mk"].pid]), (lambda: tree_pids(live["dv"]))
        mk = measure("mailkeep", mk_port, msgs, word, k, mk_pids)
        dv = measure("dovecot", dv_port, msgs, word, k, dv_pids)

        def restart_mailkeep():
            stop(live["mk"])
            live["mk"] = None
            live["mk"] = serve_mailkeep(binary, mk_cfg, "serve-restarted")

        def restart_dovecot():
            stop_dovecot(dv_conf, live["dv"])
            live["dv"] = None
            live["dv"] = run_dovecot(dv_conf, dv_port)
        mk_restart = measure_restart("mailkeep", mk_port, restart_mailkeep, mk_pids)
        dv_restart = measure_restart("dovecot", dv_port, restart_dovecot, dv_pids)
    finally:
        if live["mk"]:
            stop(live["mk"])
        if dv_conf and live["dv"]:
            subprocess.run(["dovecot", "-c", dv_conf, "stop"], capture_output=True, timeout=COMMAND_SECONDS)
            time.sleep(1)
        dns.stop()
        if not os.environ.get("KEEP"): shutil.rmtree(work, ignore_errors=True)
    size = sum(len(m) for m in msgs)
    print()
    print("imap: %d messages (%.1f MB), %d IDLE connections, %s, %d cores"
          % (n, size / 1e6, k, time.strftime("%Y-%m-%d"), os.cpu_count()))
    print("%-72s %12s %12s %8s" % ("operation", "mailkeep", "dovecot", "ratio"))
    for key_ in mk:
        a, b = mk[key_], dv[key_]
        unit = "" if "PSS" in key_ else " ms"
        fa = "%.1f%s" % (a if "PSS" in key_ else a * 1000, unit)
        fb = "%.1f%s" % (b if "PSS" in key_ else b * 1000, unit)
        print("%-72s %12s %12s %8.2f" % (key_, fa, fb, b / a if a else float("inf")))
    for when in ("warm", "first after restart"):
        for i, what in enumerate(("", ", server CPU")):
            a, b = mk_restart[when][i], dv_restart[when][i]
            print("%-72s %12s %12s %8.2f" % ("%s, %s%s" % (RESTART_FETCH, when, what), "%.1f ms" % (a * 1000),
                                              "%.1f ms" % (b * 1000), b / a if a else float("inf")))
    print()
    print("first %s after a restart / warm, medians of %d restarts (1.0: a restart costs nothing):"
          % (RESTART_FETCH, RESTARTS))
    for name, r in (("mailkeep", mk_restart), ("dovecot", dv_restart)):
        (cw, cc), (ww, wc) = r["first after restart"], r["warm"]
        print("  %-9s %.2f (wall %.1f / %.1f ms), server CPU %.2f (%.1f / %.1f ms); each first: %s ms"
              % (name, cw / ww if ww else float("inf"), cw * 1000, ww * 1000, cc / wc if wc else float("inf"),
                 cc * 1000, wc * 1000, ", ".join("%.1f" % (x * 1000) for x in r["each"])))


if __name__ == "__main__":
    run_main(main)
