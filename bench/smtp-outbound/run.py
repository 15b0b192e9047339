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

Usage: bench/smtp-outbound/run.py MAILKEEP_BINARY [N]
"""
import os
import re
import shutil
import signal
import smtplib
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "bench"))
from benchlib import free_port, pss_kib  # noqa: E402
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
import rig as rigmod  # noqa: E402

PASSWORD = "bench password 1"
SINK_IP = "127.0.0.2"
CONCURRENCY = 20


class Sink:
    """smtp-sink with a running counter; count() is the number of messages received."""

    def __init__(self):
        self.proc = subprocess.Popen(["smtp-sink", "-c", "-u", "nobody", "%s:25" % SINK_IP, "1024"],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.n = 0
        threading.Thread(target=self._read, daemon=True).start()
        time.sleep(0.5)

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


def wait_for(sink, target, pids_fn, t0, timeout=900):
    peak = 0
    while sink.n < target:
        if time.perf_counter() - t0 > timeout:
            raise RuntimeError("drain timed out at %d of %d" % (sink.n, target))
        peak = max(peak, pss_kib(pids_fn()))
        if os.environ.get("MK_PROGRESS") and int((time.perf_counter() - t0) * 10) % 20 == 0:
            print("  %.1fs %d" % (time.perf_counter() - t0, sink.n), flush=True)
        time.sleep(0.1)
    return time.perf_counter() - t0, peak


def mailkeep_run(binary, work, n, dns_port):
    d = os.path.join(work, "mk")
    os.makedirs(d)
    base = 31000 + os.getpid() % 1000 * 10
    p = subprocess.Popen([binary, "dev", "--data-dir", d, "--port-base", str(base), "--password", PASSWORD],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    for line in p.stdout:
        if line.startswith("account "):
            break
    p.send_signal(signal.SIGTERM)
    p.wait()
    sub_port = free_port()

    def config(paused):
        with open(os.path.join(d, "serve.toml"), "w") as f:
            f.write('[server]\nhostname = "localhost"\ndata_dir = "."\ndev = false\n[log]\nlevel = "warn"\n'
                    '[smtp]\nlisten = ["127.0.0.1:%d"]\n[submission]\nlisten = ["127.0.0.1:%d"]\nlisten_tls = []\n'
                    '[imap]\nlisten = ["127.0.0.1:%d"]\nlisten_tls = []\n'
                    '[dns]\nupstream = ["127.0.0.1@%d"]\ndnssec = false\n'
                    '[outbound]\nconnections_per_domain = %d\npaused = %s\n'
                    % (free_port(), sub_port, free_port(), dns_port, CONCURRENCY, "true" if paused else "false"))
        return os.path.join(d, "serve.toml")

    def start(paused):
        proc = subprocess.Popen([binary, "serve", "--config", config(paused)], stdout=subprocess.PIPE,
                                stderr=open(os.path.join(d, "stderr.log"), "ab"), text=True)
        for line in proc.stdout:
            if line.startswith("listening imap"):
                break
        return proc

    proc = start(True)
    import ssl
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    print("queueing %d messages in mailkeep..." % n, flush=True)

    def submit(lo, hi):
        s = smtplib.SMTP("127.0.0.1", sub_port, timeout=60)
        s.starttls(context=ctx)
        s.login("me@localhost", PASSWORD)
        for i in range(lo, hi):
            s.sendmail("me@localhost", ["user@sink.example"], message(i))
        s.quit()
    threads = [threading.Thread(target=submit, args=(k * n // 4, (k + 1) * n // 4)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    proc.send_signal(signal.SIGTERM)
    proc.wait()
    sink = Sink()
    try:
        print("draining mailkeep's queue...", flush=True)
        t0 = time.perf_counter()  # from the start of the process: its start-up counts
        proc = start(False)
        secs, peak = wait_for(sink, n, lambda: [proc.pid], t0)
        with open("/proc/%d/stat" % proc.pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        print("mailkeep: %.1f s CPU during the drain" % cpu, flush=True)
        proc.send_signal(signal.SIGTERM)
        proc.wait()
    finally:
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
    subprocess.run(["postconf", "-c", pf, "-M#", "smtp/inet"], check=True)
    subprocess.run(["postconf", "-c", pf, "-Me", "127.0.0.1:%d/inet = 127.0.0.1:%d inet n - n - - smtpd" % (port, port)],
                   check=True)
    subprocess.run(["postconf", "-c", pf, "-F", "*/*/chroot = n"], check=True)
    subprocess.run(["postfix", "-c", pf, "set-permissions"], capture_output=True)
    subprocess.run(["postfix", "-c", pf, "start"], check=True, capture_output=True)
    time.sleep(1)
    print("queueing %d messages in Postfix..." % n, flush=True)
    subprocess.run(["smtp-source", "-d", "-s", "4", "-m", str(n), "-l", "4096", "-f", "me@bench.localhost",
                    "-t", "user@sink.example", "127.0.0.1:%d" % port], check=True)

    def queued():
        out = subprocess.run(["postqueue", "-c", pf, "-j"], capture_output=True, text=True).stdout
        return out.count("\n")
    deadline = time.time() + 300
    while queued() < n and time.time() < deadline:
        time.sleep(0.5)

    def pids():
        out = subprocess.run(["pgrep", "-f", pf], capture_output=True, text=True).stdout.split()
        out += subprocess.run(["pgrep", "-u", "postfix"], capture_output=True, text=True).stdout.split()
        return [int(x) for x in set(out)]
    sink = Sink()
    try:
        print("draining Postfix's queue...", flush=True)
        t0 = time.perf_counter()
        subprocess.run(["postconf", "-c", pf, "-e", "defer_transports ="], check=True)
        subprocess.run(["postfix", "-c", pf, "reload"], capture_output=True)
        subprocess.run(["postqueue", "-c", pf, "-f"], capture_output=True)
        secs, peak = wait_for(sink, n, pids, t0)
    finally:
        sink.stop()
        subprocess.run(["postfix", "-c", pf, "stop"], capture_output=True)
    return secs, peak


def main():
    if os.geteuid() != 0:
        sys.exit("bench/smtp-outbound needs root (smtp-sink listens on 127.0.0.2:25)")
    binary = os.path.abspath(sys.argv[1])
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 20000
    work = tempfile.mkdtemp(prefix="mk-bench-out-")
    os.chmod(work, 0o755)
    dns = rigmod.Dns()
    dns.zones.add("sink.example", "MX", ("mx.sink.example", 10))
    dns.zones.add("mx.sink.example", "A", SINK_IP)
    try:
        mk = mailkeep_run(binary, work, n, dns.port)
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
    main()
