#!/usr/bin/python3
"""bench/smtp-outbound: draining a queue of N 4 KiB messages to smtp-sink, mailkeep against
Postfix, side by side in one run.

Both queue the same number of messages while delivery is paused (mailkeep: outbound.paused;
Postfix: defer_transports = smtp), then delivery is switched on and timed until smtp-sink,
listening on 127.0.0.2:25, has received every message. mailkeep finds the sink through its
DNS (a local test DNS server: MX sink.example -> 127.0.0.2); Postfix relays to
[127.0.0.2]:25 directly. Both deliver with up to 20 connections to the destination
(Postfix's default_destination_concurrency_limit) and reuse connections. Peak PSS of each
server's processes is sampled during the drain. mailkeep's messages were DKIM-signed at
submission (RSA and Ed25519), so they are about 1.1 KiB larger than Postfix's.

The bench account sends N messages within minutes, so it gets the sending limits of a
legitimate bulk sender, sized to N ([security] in mailkeep.toml); with the defaults,
containment would rightly hold it after 100. Every wait gives up when its count has not grown
for benchlib.STALL_SECONDS, saying what it waited for.

Usage: bench/smtp-outbound/run.py MAILKEEP_BINARY [N]   (N: default $BENCH_MESSAGES, else 20000)
"""
import os
import re
import shutil
import smtplib
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "bench"))
from benchlib import (COMMAND_SECONDS, STALL_SECONDS, BenchError, Dns, can_connect, free_port, pss_kib,  # noqa: E402
                      run, run_main, start, stop, tail, wait_count, wait_until)

PASSWORD = "bench password 1"
SINK_IP = "127.0.0.2"
CONCURRENCY = 20
SUBMIT_SESSIONS = 4  # submission connections queueing mailkeep's messages, in parallel


class Sink:
    """smtp-sink with a running counter; count() is the number of messages received."""

    def __init__(self):
        self.proc = subprocess.Popen(["smtp-sink", "-c", "-u", "nobody", "%s:25" % SINK_IP, "1024"],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.n = 0
        threading.Thread(target=self._read, daemon=True).start()
        try:
            wait_until("smtp-sink to listen on %s:25" % SINK_IP, lambda: can_connect(SINK_IP, 25),
                       alive=lambda: self.proc.poll() is None)
        except BenchError:
            self.stop()
            raise

    def _read(self):
        buf = b""
        while True:
            c = self.proc.stdout.read(1)
            if not c:
                return
            if c in b"\r\n":
                # The counters line: "<sessions> <quits> <messages>" (smtp-sink -c).
                nums = re.findall(rb"\d+", buf)
                if len(nums) >= 3:
                    self.n = int(nums[2])
                buf = b""
            else:
                buf += c

    def stop(self):
        self.proc.terminate()
        self.proc.wait()


def message(i):
    body = ("x" * 76 + "\r\n") * 52  # about 4 KiB with the header
    return ("From: Bench <me@localhost>\r\nTo: user@sink.example\r\nSubject: bench %d\r\n"
            "Message-ID: <bench-%d@localhost>\r\n\r\n%s" % (i, i, body)).encode()


def wait_for(what, sink, target, pids_fn, t0):
    peak = 0

    def tick():
        nonlocal peak
        peak = max(peak, pss_kib(pids_fn()))
        if os.environ.get("MK_PROGRESS") and int((time.perf_counter() - t0) * 10) % 20 == 0:
            print("  %.1fs %d" % (time.perf_counter() - t0, sink.n), flush=True)
    wait_count(what, lambda: sink.n, target, tick)
    return time.perf_counter() - t0, peak


def mailkeep_run(binary, work, n, dns):
    d = os.path.join(work, "mk")
    os.makedirs(d)
    base = 31000 + os.getpid() % 1000 * 10
    # dev creates the account and its DKIM keys; it is stopped once it has printed them.
    stop(start([binary, "dev", "--data-dir", d, "--port-base", str(base), "--password", PASSWORD],
               os.path.join(work, "dev"), "account "))
    sub_port = free_port()

    def config(paused):
        with open(os.path.join(d, "serve.toml"), "w") as f:
            f.write('[server]\nhostname = "localhost"\ndata_dir = "."\ndev = false\n[log]\nlevel = "warn"\n'
                    '[smtp]\nlisten = ["127.0.0.1:%d"]\n[submission]\nlisten = ["127.0.0.1:%d"]\nlisten_tls = []\n'
                    '[imap]\nlisten = ["127.0.0.1:%d"]\nlisten_tls = []\n[http]\nlisten = []\nlisten_tls = []\n'
                    '[outbound]\nconnections_per_domain = %d\npaused = %s\n'
                    '[security]\nmax_messages_per_hour = %d\nmax_recipients_per_day = %d\n'
                    'max_new_recipients_per_hour = %d\n'
                    # A heavy user's limits. The account has no history, and its budget starts at
                    # half the hourly messages and an eighth of the new recipients (guard/trust.hpp).
                    % (free_port(), sub_port, free_port(), CONCURRENCY, "true" if paused else "false", 2 * n, n, 8 * n))
            f.write(dns.config())
        return os.path.join(d, "serve.toml")

    def serve(paused):
        return start([binary, "serve", "--config", config(paused)], os.path.join(d, "serve"), "listening imap")

    proc = serve(True)
    import ssl
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    print("queueing %d messages in mailkeep..." % n, flush=True)

    errors = []

    def submit(lo, hi):
        # The socket timeout bounds every wait for a reply: a stalled server ends the thread.
        i = lo
        try:
            s = smtplib.SMTP("127.0.0.1", sub_port, timeout=STALL_SECONDS)
            s.starttls(context=ctx)
            s.login("me@localhost", PASSWORD)
            for i in range(lo, hi):
                s.sendmail("me@localhost", ["user@sink.example"], message(i))
            s.quit()
        except (OSError, smtplib.SMTPException) as e:
            errors.append("message %d: %s" % (i, e))
    threads = [threading.Thread(target=submit, args=(k * n // SUBMIT_SESSIONS, (k + 1) * n // SUBMIT_SESSIONS))
               for k in range(SUBMIT_SESSIONS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stop(proc)
    if errors:
        raise BenchError("submitting to mailkeep failed in %d of %d sessions, first at %s; its log ends: %s"
                         % (len(errors), SUBMIT_SESSIONS, errors[0], tail(os.path.join(d, "serve.err"))))
    sink = Sink()
    try:
        print("draining mailkeep's queue...", flush=True)
        t0 = time.perf_counter()  # from the start of the process: its start-up counts
        proc = serve(False)
        try:
            secs, peak = wait_for("smtp-sink receiving mailkeep's queue", sink, n, lambda: [proc.pid], t0)
        except BenchError as e:
            raise BenchError("%s; mailkeep's log ends: %s" % (e, tail(os.path.join(d, "serve.err")))) from None
        with open("/proc/%d/stat" % proc.pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        print("mailkeep: %.1f s CPU during the drain" % cpu, flush=True)
    finally:
        stop(proc)
        sink.stop()
    return secs, peak


def postfix_run(work, n):
    pf = os.path.join(work, "postfix")
    os.makedirs(pf)
    shutil.copy("/etc/postfix/master.cf", pf)
    if os.path.exists("/etc/postfix/dynamicmaps.cf"):
        shutil.copy("/etc/postfix/dynamicmaps.cf", pf)
    port = free_port()
    for sub in ("queue", "data"):
        os.makedirs(os.path.join(work, "pf" + sub))
    with open(os.path.join(pf, "main.cf"), "w") as f:
        f.write("\n".join([
            "compatibility_level = 3.6",
            "queue_directory = %s/pfqueue" % work, "data_directory = %s/pfdata" % work,
            "mail_owner = postfix", "setgid_group = postdrop", "myhostname = bench.localhost",
            "mydestination =", "inet_interfaces = 127.0.0.1", "inet_protocols = ipv4",
            "mynetworks = 127.0.0.0/8", "relayhost = [%s]:25" % SINK_IP,
            "maillog_file = %s/pfmaillog" % work, "maillog_file_prefixes = %s" % work,
            "smtp_dns_support_level = disabled", "smtpd_peername_lookup = no",
            "defer_transports = smtp", "default_destination_concurrency_limit = %d" % CONCURRENCY,
            "smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination", ""]))
    run(["postconf", "-c", pf, "-M#", "smtp/inet"])
    run(["postconf", "-c", pf, "-Me", "127.0.0.1:%d/inet = 127.0.0.1:%d inet n - n - - smtpd" % (port, port)])
    run(["postconf", "-c", pf, "-F", "*/*/chroot = n"])
    subprocess.run(["postfix", "-c", pf, "set-permissions"], capture_output=True, timeout=COMMAND_SECONDS)
    run(["postfix", "-c", pf, "start"])
    try:
        return postfix_queue_and_drain(pf, port, n)
    finally:
        subprocess.run(["postfix", "-c", pf, "stop"], capture_output=True, timeout=COMMAND_SECONDS)


def postfix_queue_and_drain(pf, port, n):
    wait_until("Postfix to listen on 127.0.0.1:%d" % port, lambda: can_connect("127.0.0.1", port))
    print("queueing %d messages in Postfix..." % n, flush=True)
    source = subprocess.Popen(["smtp-source", "-d", "-s", "4", "-m", str(n), "-l", "4096", "-f", "me@bench.localhost",
                               "-t", "user@sink.example", "127.0.0.1:%d" % port])

    def queued():
        out = subprocess.run(["postqueue", "-c", pf, "-j"], capture_output=True, text=True,
                             timeout=COMMAND_SECONDS).stdout
        return out.count("\n")

    def source_ok():
        if source.poll() not in (None, 0):
            raise BenchError("smtp-source failed against Postfix (its error is above)")
    try:
        wait_count("Postfix queueing the messages", queued, n, source_ok, interval=0.5)
        source.wait(timeout=COMMAND_SECONDS)
        source_ok()
    finally:
        source.kill()

    def pids():
        out = subprocess.run(["pgrep", "-f", pf], capture_output=True, text=True).stdout.split()
        out += subprocess.run(["pgrep", "-u", "postfix"], capture_output=True, text=True).stdout.split()
        return [int(x) for x in set(out)]
    sink = Sink()
    try:
        print("draining Postfix's queue...", flush=True)
        t0 = time.perf_counter()
        run(["postconf", "-c", pf, "-e", "defer_transports ="])
        run(["postfix", "-c", pf, "reload"])
        run(["postqueue", "-c", pf, "-f"])
        secs, peak = wait_for("smtp-sink receiving Postfix's queue", sink, n, pids, t0)
    finally:
        sink.stop()
    return secs, peak


def main():
    if os.geteuid() != 0:
        sys.exit("bench/smtp-outbound needs root (smtp-sink listens on 127.0.0.2:25)")
    binary = os.path.abspath(sys.argv[1])
    n = int(sys.argv[2] if len(sys.argv) > 2 else os.environ.get("BENCH_MESSAGES", 20000))
    work = tempfile.mkdtemp(prefix="mk-bench-out-")
    os.chmod(work, 0o755)
    dns = Dns()
    dns.add("sink.example", "MX", "10 mx.sink.example")
    dns.add("mx.sink.example", "A", SINK_IP)
    try:
        mk = mailkeep_run(binary, work, n, dns)
        pf = postfix_run(work, n) if not os.environ.get("MK_ONLY") else (1, 0)
    finally:
        dns.stop()
        if not os.environ.get("KEEP"):
            shutil.rmtree(work, ignore_errors=True)
    print()
    print("smtp-outbound: %d messages of 4 KiB to smtp-sink, %d connections, %s, %d cores"
          % (n, CONCURRENCY, time.strftime("%Y-%m-%d"), os.cpu_count()))
    print("%-10s %10s %10s %12s" % ("server", "seconds", "msg/s", "peak PSS MiB"))
    for name, (secs, peak) in (("mailkeep", mk), ("postfix", pf)):
        print("%-10s %10.1f %10.0f %12.1f" % (name, secs, n / secs, peak / 1024))
    print("throughput mailkeep / Postfix: %.2f" % (pf[0] / mk[0]))


if __name__ == "__main__":
    run_main(main)
