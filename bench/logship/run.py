"""bench/logship: the log collector and the log shipper, measured.

1. Ingest: one sender streams a chain of RECORDS security records (syslog over TLS, RFC 5425)
   to `mailkeep collector` and, the same frames, to Debian's rsyslog (imtcp + gtls, written
   to a file), side by side in one run. mailkeep checks each record against the chain and
   makes it durable (fdatasync) before acknowledging; rsyslog checks nothing and writes
   without syncing. Prints records/s for each, the ratio, and the collector's CPU per record
   (it runs on one core).
2. Alert latency: DRILL_SERVERS mailkeep servers ship to one collector with their default
   settings (heartbeat 15 s, silence 45 s); all are killed with SIGKILL at once (silence), then
   started again and one record of each log is edited (tampering). Prints the distribution of
   the time from the fault to the webhook alert, for each kind (target <= 60 s).
   Then, on the same servers, the other ways an attacker hides tracks, each timed the same way:
   a record edited, the log cut in half, deleted, and an old copy put back.
3. Shipping overhead: smtp-source sends MESSAGES messages to a mailkeep MX whose security log
   holds LOG_RECORDS records, with [log.remote] on and off, alternated ROUNDS times; prints the
   server's CPU per message for both and the difference (target < 3%).
4. Cut off under load: the collector's port is firewalled (nft) for CUT_SECONDS (10 minutes)
   while a login attack (failed AUTH on submission) and inbound mail (smtp-source) keep the
   server busy; then it is opened again. Prints the mail and record rates before and during
   the cut, the silence alert, how long the backlog took to drain, and checks that the
   collector's copy ends byte-identical to the server's log (0 records lost, in order).

Usage: /usr/bin/python3 bench/logship/run.py path/to/optimized/mailkeep
Everything listens on loopback; every wait has a deadline (bench/benchlib.py).
"""
import base64
import hashlib
import json
import os
import shutil
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import benchlib as bl  # noqa: E402
import nacl.signing  # noqa: E402

RECORDS = int(os.environ.get("BENCH_LOG_RECORDS", "200000"))
DRILL_SERVERS = int(os.environ.get("BENCH_DRILL_SERVERS", "20"))
MESSAGES = int(os.environ.get("BENCH_MESSAGES", "3000"))
LOG_RECORDS = int(os.environ.get("BENCH_LOG_PREFILL", "100000"))
ROUNDS = 3
ALERT_SECONDS = 120  # an alert that has not come by then will not
CUT_SECONDS = int(os.environ.get("BENCH_CUT_SECONDS", "600"))
# The alerts that say a log was tampered with, whichever comes first.
TAMPER_ALERTS = {"tampered", "damaged", "rewound", "diverged", "broken", "replayed", "restarted", "edited"}


def make_certs(d):
    def run(*args):
        bl.run(["openssl", *args])
    p = lambda n: os.path.join(d, n)
    run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
        "-subj", "/CN=bench log CA", "-keyout", p("ca.key"), "-out", p("ca.crt"))
    run("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=collector.bench",
        "-keyout", p("c.key"), "-out", p("c.csr"))
    with open(p("ext.cnf"), "w") as f:
        f.write("subjectAltName=DNS:collector.bench,IP:127.0.0.1\n")
    run("x509", "-req", "-in", p("c.csr"), "-CA", p("ca.crt"), "-CAkey", p("ca.key"), "-CAcreateserial",
        "-days", "2", "-extfile", p("ext.cnf"), "-out", p("c.crt"))
    return {"ca": p("ca.crt"), "cert": p("c.crt"), "key": p("c.key")}


def chain_lines(n, start_prev="0" * 64):
    """n security log records, hash-chained as audit/log.hpp writes them."""
    prev, out = start_prev, []
    for seq in range(1, n + 1):
        head = ('{"seq":%d,"ts":"2026-12-05T12:00:00.000Z","event":"login_failed","service":"smtp",'
                '"ip":"192.0.2.%d","user":"user%d@bench.example","prev":"%s",' % (seq, seq % 250, seq % 97, prev))
        h = hashlib.sha256((prev + head).encode()).hexdigest()
        out.append('%s"hash":"%s"}' % (head, h))
        prev = h
    return out, prev


def frame(msg):
    b = msg.encode()
    return b"%d " % len(b) + b


def heartbeat(sk, host, seq, h, nonce):
    ts = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
    text = "mailkeep heartbeat 2\n%s\n%s\n%d\n%s\n%s\n" % (host, ts, seq, h, nonce)
    sig = base64.b64encode(sk.sign(text.encode()).signature).decode()
    return frame('<110>1 %s %s mailkeep 1 heartbeat [beat@32473 seq="%d" hash="%s" nonce="%s" sig="%s"]'
                 % (ts, host, seq, h, nonce, sig))


def record_frames(lines, host):
    out = []
    for line in lines:
        r = json.loads(line)
        out.append(frame('<109>1 %s %s mailkeep 1 security [chain@32473 seq="%d" prev="%s" hash="%s"] %s'
                         % (r["ts"], host, r["seq"], r["prev"], r["hash"], line)))
    return b"".join(out)


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def collector_config(d, port, certs, servers, hook_port=None):
    path = os.path.join(d, "collector.toml")
    with open(path, "w") as f:
        f.write('[collector]\nlisten = ["127.0.0.1:%d"]\ndata_dir = "%s"\ntls_cert = "%s"\ntls_key = "%s"\n'
                'hostname = "collector.bench"\n' % (port, os.path.join(d, "data"), certs["cert"], certs["key"]))
        if hook_port:
            f.write('alert_webhook = "http://127.0.0.1:%d/"\n' % hook_port)
        for name, key in servers:
            f.write('[[collector.server]]\nname = "%s"\nkey = "%s"\n' % (name, key))
    return path


def start_collector(mailkeep, config, log):
    return bl.start([mailkeep, "collector", "--config", config], log, "listening")


def tls_socket(port, certs):
    ctx = ssl.create_default_context(cafile=certs["ca"])
    return ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=bl.STALL_SECONDS),
                           server_hostname="collector.bench")


# ---------------------------------------------------------------- 1. ingest
def ingest(mailkeep, work, certs):
    sk = nacl.signing.SigningKey.generate()
    pub = "ed25519:" + base64.b64encode(bytes(sk.verify_key)).decode()
    lines, last = chain_lines(RECORDS)
    data = record_frames(lines, "sender.bench")
    d = os.path.join(work, "ingest")
    os.makedirs(d)
    port = bl.free_port()
    proc = start_collector(mailkeep, collector_config(d, port, certs, [("sender.bench", pub)]),
                           os.path.join(d, "collector.log"))
    try:
        s = tls_socket(port, certs)
        challenge = s.recv(200).decode()
        if "mailkeep-collector 1 challenge " not in challenge:
            raise bl.BenchError("the collector's challenge: %r" % challenge)
        s.sendall(heartbeat(sk, "sender.bench", 0, "0" * 64, challenge.split()[-1]))
        hello = s.recv(200)
        if b"mailkeep-collector 1 0 " not in hello:
            raise bl.BenchError("the collector's hello: %r" % hello)
        cpu0, t0 = cpu_seconds(proc.pid), time.monotonic()
        # Acknowledgements are small (a few bytes per batch): they wait in the socket buffers
        # while the frames go out, and are read afterwards (an SSL socket is not shared by two
        # threads).
        s.sendall(data)
        acked, buf = 0, b""

        def read_acks():
            nonlocal acked, buf
            buf += s.recv(65536)
            while True:
                sp = buf.find(b" ")
                if sp < 0:
                    break
                n = int(buf[:sp])
                if len(buf) < sp + 1 + n:
                    break
                text = buf[sp + 1:sp + 1 + n].decode()
                buf = buf[sp + 1 + n:]
                if text.startswith("ack "):
                    acked = int(text[4:])
            return acked
        bl.wait_count("records the collector acknowledged", read_acks, RECORDS, interval=0)
        t_mk, cpu_mk = time.monotonic() - t0, cpu_seconds(proc.pid) - cpu0
        s.close()
        if subprocess.run([mailkeep, "collector", "--config", os.path.join(d, "collector.toml"), "verify"],
                          capture_output=True).returncode != 0:
            raise bl.BenchError("the collector's stored chain does not verify")
    finally:
        bl.stop(proc)

    # rsyslog: the same frames, written to a file by omfile (no sync), counted by lines.
    rd = os.path.join(work, "rsyslog")
    os.makedirs(os.path.join(rd, "work"))
    rport = bl.free_port()
    out = os.path.join(rd, "out.log")
    with open(os.path.join(rd, "rsyslog.conf"), "w") as f:
        f.write('global(workDirectory="%s" maxMessageSize="64k" DefaultNetstreamDriver="gtls" '
                'DefaultNetstreamDriverCAFile="%s" DefaultNetstreamDriverCertFile="%s" '
                'DefaultNetstreamDriverKeyFile="%s")\n'
                'module(load="imtcp" StreamDriver.Name="gtls" StreamDriver.Mode="1" StreamDriver.AuthMode="anon")\n'
                'template(name="raw" type="string" string="%%rawmsg%%\\n")\n'
                'input(type="imtcp" address="127.0.0.1" port="%d" ruleset="r")\n'
                'ruleset(name="r") { action(type="omfile" file="%s" template="raw") }\n'
                % (os.path.join(rd, "work"), certs["ca"], certs["cert"], certs["key"], rport, out))
    rs = subprocess.Popen(["rsyslogd", "-n", "-f", os.path.join(rd, "rsyslog.conf"), "-i",
                           os.path.join(rd, "pid")], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        bl.wait_until("rsyslog to listen", lambda: bl.can_connect("127.0.0.1", rport), alive=lambda: rs.poll() is None)
        s = tls_socket(rport, certs)
        cpu0, t0 = cpu_seconds(rs.pid), time.monotonic()
        s.sendall(data)

        def lines_written():
            try:
                with open(out, "rb") as f:
                    return f.read().count(b"\n")
            except FileNotFoundError:
                return 0
        bl.wait_count("records rsyslog wrote", lines_written, RECORDS)
        t_rs, cpu_rs = time.monotonic() - t0, cpu_seconds(rs.pid) - cpu0
        s.close()
    finally:
        rs.terminate()
        rs.wait(timeout=bl.START_SECONDS)
    return {"mk_rate": RECORDS / t_mk, "mk_cpu_us": cpu_mk * 1e6 / RECORDS,
            "rs_rate": RECORDS / t_rs, "rs_cpu_us": cpu_rs * 1e6 / RECORDS}


# ---------------------------------------------------------------- 2. alert latency
class Hook(BaseHTTPRequestHandler):
    alerts = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        Hook.alerts.append((time.monotonic(), json.loads(body)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def server_config(d, name, cport, certs, smtp_port, dns_config=None, remote=True, metrics_port=None, extra="",
                  submission_port=None):
    """A server on loopback with the default settings but for its ports: several run at once,
    each with its own SMTP and metrics port; extra: more TOML, appended."""
    with open(os.path.join(d, "mailkeep.toml"), "w") as f:
        f.write('[server]\nhostname = "%s"\ndata_dir = "."\n[log]\nlevel = "warn"\n' % name)
        if remote:
            f.write('[log.remote]\ncollectors = ["127.0.0.1:%d"]\nca_file = "%s"\nserver_name = "collector.bench"\n'
                    % (cport, certs["ca"]))
        f.write('[smtp]\nlisten = ["127.0.0.1:%d"]\nmax_connections_per_ip = 200\n'
                '[submission]\nlisten = [%s]\nlisten_tls = []\n[imap]\nlisten = []\nlisten_tls = []\n'
                '[http]\nlisten = []\nlisten_tls = []\n[metrics]\nlisten = ["127.0.0.1:%d"]\n'
                % (smtp_port, '"127.0.0.1:%d"' % submission_port if submission_port else "",
                   metrics_port or bl.free_port()))
        if dns_config:
            f.write(dns_config)
        f.write(extra)
    return os.path.join(d, "mailkeep.toml")


def drills(mailkeep, work, certs):
    hook = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    cport = bl.free_port()
    servers = []
    for i in range(DRILL_SERVERS):
        name = "srv%02d.bench.example" % i
        d = os.path.join(work, "drill", name)
        os.makedirs(d)
        cfg = server_config(d, name, cport, certs, bl.free_port())
        key = bl.run([mailkeep, "--config", cfg, "log", "key"], text=True).stdout
        bl.run([mailkeep, "--config", cfg, "domain", "add", "bench.example"])
        bl.run([mailkeep, "--config", cfg, "account", "add", "u@bench.example", "--password-stdin"],
               input="a bench password\n", text=True)
        for _ in range(3):  # records to edit later
            bl.run([mailkeep, "--config", cfg, "account", "release", "u@bench.example"])
        servers.append({"name": name, "dir": d, "cfg": cfg, "key": key.split('key = "')[1].split('"')[0]})
    cd = os.path.join(work, "drill-collector")
    os.makedirs(cd)
    ccfg = collector_config(cd, cport, certs, [(s["name"], s["key"]) for s in servers], hook.server_address[1])
    col = start_collector(mailkeep, ccfg, os.path.join(cd, "collector.log"))

    def start_all():
        for s in servers:
            s["proc"] = bl.start([mailkeep, "serve", "--config", s["cfg"]], os.path.join(s["dir"], "stderr"),
                                 "listening")

    def all_shipped():
        n = 0
        for s in servers:
            local = os.path.join(s["dir"], "security.log")
            remote = os.path.join(cd, "data", "servers", s["name"], "security.log")
            if os.path.exists(remote) and open(remote, "rb").read() == open(local, "rb").read():
                n += 1
        return n

    first_kinds = {}  # phase -> {kind: servers whose first alert it was}

    def latencies(kinds, since, phase):
        """Seconds from `since` to each server's first alert of one of `kinds`."""
        got = {}
        def count():
            for t, a in Hook.alerts:
                if t >= since and a["alert"] in kinds and a["server"] not in got:
                    got[a["server"]] = t - since
                    first_kinds.setdefault(phase, {}).setdefault(a["alert"], 0)
                    first_kinds[phase][a["alert"]] += 1
            return len(got)
        bl.wait_count("%s alerts" % "/".join(sorted(kinds)), count, DRILL_SERVERS, stall=ALERT_SECONDS)
        return sorted(got.values())

    def quiet(seconds=25):
        """Waits until no alert has come for `seconds` (longer than the self-check's 20 s), so
        what the previous fault still causes is not taken for the next one's detection."""
        deadline = time.monotonic() + ALERT_SECONDS
        while True:
            last = max((t for t, _ in Hook.alerts), default=0)
            if time.monotonic() - last >= seconds:
                return
            if time.monotonic() > deadline:
                raise bl.BenchError("alerts kept coming for %d s" % ALERT_SECONDS)
            time.sleep(1)

    def log_of(s):
        return os.path.join(s["dir"], "security.log")

    def fault(name, kinds, act):
        """Waits for the servers to be quiet, does act(server) to each at once, and times the
        alerts."""
        quiet()
        since = time.monotonic()
        for s in servers:
            act(s)
        out[name] = latencies(kinds, since, name)

    def edit(s):
        with open(log_of(s), "r+b") as f:
            data = f.read()
            f.seek(0)
            f.write(data.replace(b'"user":"u@bench.example"', b'"user":"x@bench.example"', 1))

    def cut(s):
        with open(log_of(s), "r+b") as f:
            lines = f.read().splitlines(keepends=True)
            f.truncate(sum(len(l) for l in lines[:len(lines) // 2]))

    out = {}
    try:
        start_all()
        bl.wait_count("servers whose log reached the collector", all_shipped, DRILL_SERVERS)
        for s in servers:
            # Whole lines only: the server may be writing.
            with open(log_of(s), "rb") as f, open(log_of(s) + ".old", "wb") as o:
                data = f.read()
                o.write(data[:data.rfind(b"\n") + 1])
        # Heartbeats are 15 s apart: let their phases spread as they would in production.
        time.sleep(20)
        since = time.monotonic()
        for s in servers:
            s["proc"].send_signal(signal.SIGKILL)
            s["proc"].wait()
        out["silence"] = latencies({"silence"}, since, "silence")
        start_all()
        bl.wait_count("servers heard again", lambda: len({a["server"] for t, a in Hook.alerts
                                                           if a["alert"] == "resumed"}), DRILL_SERVERS)
        # Whatever the collector or the server itself reports first counts: a cut log is seen
        # by the server's self-check (tampered) or by the collector in the next heartbeat
        # (rewound), an old copy put back likewise.
        fault("edit", {"damaged"}, edit)
        fault("cut", TAMPER_ALERTS, cut)
        fault("delete", TAMPER_ALERTS, lambda s: os.remove(log_of(s)))
        fault("restore", TAMPER_ALERTS, lambda s: os.replace(log_of(s) + ".old", log_of(s)))
    finally:
        for s in servers:
            if s.get("proc"):
                bl.stop(s["proc"])
        bl.stop(col)
        hook.shutdown()
    return out, first_kinds


# ---------------------------------------------------------------- 3. shipping overhead
def overhead(mailkeep, work, certs):
    dns = bl.Dns()
    dns.add("example.org", "TXT", "v=spf1 ip4:127.0.0.1 -all")
    dns.add("_dmarc.example.org", "TXT", "v=DMARC1; p=none")
    d = os.path.join(work, "mx")
    os.makedirs(d)
    cport, sport = bl.free_port(), bl.free_port()
    cfg = server_config(d, "mx.bench.example", cport, certs, sport, dns.config())
    key = bl.run([mailkeep, "--config", cfg, "log", "key"], text=True).stdout
    bl.run([mailkeep, "--config", cfg, "domain", "add", "bench.example"])
    bl.run([mailkeep, "--config", cfg, "account", "add", "user@bench.example", "--password-stdin"],
           input="a bench password\n", text=True)
    # A log of a server that has been attacked for a while: the self-check reads all of it.
    lines, last = chain_lines(LOG_RECORDS)
    with open(os.path.join(d, "security.log"), "w") as f:
        f.write("\n".join(lines) + "\n")
    with open(os.path.join(d, "security.log.head"), "w") as f:
        f.write("%d %s\n" % (LOG_RECORDS, last))
    cd = os.path.join(work, "mx-collector")
    os.makedirs(cd)
    col = start_collector(mailkeep, collector_config(cd, cport, certs, [("mx.bench.example", key.split('key = "')[1].split('"')[0])]),
                          os.path.join(cd, "collector.log"))
    plain = open(cfg).read()
    without = plain.split("[log.remote]")[0] + "[smtp]" + plain.split("[smtp]", 1)[1]
    results = {True: [], False: []}
    try:
        for rnd in range(ROUNDS):
            for remote in (True, False):
                with open(cfg, "w") as f:
                    f.write(plain if remote else without)
                proc = bl.start([mailkeep, "serve", "--config", cfg], os.path.join(d, "stderr"),
                                "listening")
                try:
                    if remote:
                        remote_log = os.path.join(cd, "data", "servers", "mx.bench.example", "security.log")
                        bl.wait_count("the prefilled log shipped",
                                      lambda: os.path.getsize(remote_log) if os.path.exists(remote_log) else 0,
                                      os.path.getsize(os.path.join(d, "security.log")), stall=bl.STALL_SECONDS)
                    cpu0, t0 = cpu_seconds(proc.pid), time.monotonic()
                    bl.run(["smtp-source", "-d", "-s", "1", "-m", str(MESSAGES), "-l", "4096", "-f",
                            "sender@example.org", "-t", "user@bench.example", "127.0.0.1:%d" % sport],
                           timeout=bl.STALL_SECONDS * 10)
                    results[remote].append(((cpu_seconds(proc.pid) - cpu0) * 1000 / MESSAGES,
                                            MESSAGES / (time.monotonic() - t0)))
                finally:
                    bl.stop(proc)
    finally:
        bl.stop(col)
        dns.stop()
    return results


# ---------------------------------------------------------------- 4. cut off under load
def brute_force(port, stop, tally):
    """Failed SMTP AUTH logins on submission, one after the other, until stop is set: each one
    a login_failed record in the security log."""
    import smtplib
    ctx = ssl.create_default_context()
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    n = 0
    while not stop.is_set():
        try:
            with smtplib.SMTP("127.0.0.1", port, timeout=bl.STALL_SECONDS) as c:
                c.starttls(context=ctx)
                for _ in range(5):
                    n += 1
                    try:
                        c.login("guess%d@bench.example" % n, "wrong")
                    except smtplib.SMTPAuthenticationError:
                        tally["logins"] += 1
                    if stop.is_set():
                        break
        except (OSError, smtplib.SMTPException):
            tally["errors"] += 1
            time.sleep(0.1)


def mail_load(port, stop, tally):
    """smtp-source sessions of 100 messages to the MX, one after the other, until stop is set."""
    while not stop.is_set():
        r = subprocess.run(["smtp-source", "-d", "-s", "1", "-m", "100", "-l", "4096", "-f", "sender@example.org",
                            "-t", "user@bench.example", "127.0.0.1:%d" % port],
                           capture_output=True, timeout=bl.STALL_SECONDS * 10)
        if r.returncode == 0:
            tally["messages"] += 100
        else:
            tally["mail_errors"] += 1
            time.sleep(1)


class LineCount:
    """The number of lines in a file that only grows, read incrementally."""

    def __init__(self, path):
        self.path, self.offset, self.lines = path, 0, 0

    def __call__(self):
        try:
            with open(self.path, "rb") as f:
                f.seek(self.offset)
                data = f.read()
        except FileNotFoundError:
            return 0
        end = data.rfind(b"\n") + 1
        self.lines += data.count(b"\n", 0, end)
        self.offset += end
        return self.lines


NFT_TABLE_PREFIX = "mkbenchcut"


def remove_nft_tables():
    """Removes the tables this benchmark adds, a killed run's too."""
    out = subprocess.run(["nft", "list", "tables"], capture_output=True, text=True).stdout
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[2].startswith(NFT_TABLE_PREFIX):
            subprocess.run(["nft", "delete", "table", parts[1], parts[2]], capture_output=True)


def cut_under_load(mailkeep, work, certs):
    """The collector is firewalled off (nft drops the packets, so the open connection hangs
    rather than fails) for CUT_SECONDS while a login attack and inbound mail keep the server
    busy; then the firewall goes. Every record must arrive, in order."""
    hook = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    dns = bl.Dns()
    dns.add("example.org", "TXT", "v=spf1 ip4:127.0.0.1 -all")
    dns.add("_dmarc.example.org", "TXT", "v=DMARC1; p=none")
    d = os.path.join(work, "cut")
    os.makedirs(d)
    name = "cut.bench.example"
    cport, sport, subport = bl.free_port(), bl.free_port(), bl.free_port()
    # The attack comes from a network the admin allowed (never delayed or banned), so the
    # records keep coming at the rate the server can check passwords.
    cfg = server_config(d, name, cport, certs, sport, dns.config(), submission_port=subport,
                        extra='[security]\nallow_networks = ["127.0.0.0/8"]\n')
    key = bl.run([mailkeep, "--config", cfg, "log", "key"], text=True).stdout.split('key = "')[1].split('"')[0]
    bl.run([mailkeep, "--config", cfg, "domain", "add", "bench.example"])
    bl.run([mailkeep, "--config", cfg, "account", "add", "user@bench.example", "--password-stdin"],
           input="a bench password\n", text=True)
    bl.run([mailkeep, "--config", cfg, "account", "release", "user@bench.example"])  # a first record
    cd = os.path.join(work, "cut-collector")
    os.makedirs(cd)
    col = start_collector(mailkeep, collector_config(cd, cport, certs, [(name, key)], hook.server_address[1]),
                          os.path.join(cd, "collector.log"))
    local = os.path.join(d, "security.log")
    remote = os.path.join(cd, "data", "servers", name, "security.log")
    local_count, remote_count = LineCount(local), LineCount(remote)
    count = lambda path: local_count() if path == local else remote_count()
    table = NFT_TABLE_PREFIX + str(os.getpid())
    nft = lambda *a: bl.run(["nft", *a])
    stop, tally, threads = threading.Event(), {"logins": 0, "errors": 0, "messages": 0, "mail_errors": 0}, []
    proc = bl.start([mailkeep, "serve", "--config", cfg], os.path.join(d, "stderr"), "listening")
    out = {}
    try:
        bl.wait_count("the first records shipped", lambda: count(remote), count(local))
        threads = [threading.Thread(target=brute_force, args=(subport, stop, tally)) for _ in range(2)]
        threads.append(threading.Thread(target=mail_load, args=(sport, stop, tally)))
        for t in threads:
            t.start()
        # A minute of load with the collector there: the rates to compare with.
        t0, m0, r0 = time.monotonic(), tally["messages"], count(local)
        time.sleep(60)
        out["before"] = ((tally["messages"] - m0) / (time.monotonic() - t0), (count(local) - r0) / (time.monotonic() - t0))
        if tally["logins"] == 0 or tally["messages"] == 0:
            raise bl.BenchError("no load: %r" % tally)
        now = count(local)
        bl.wait_until("the collector caught up", lambda: count(remote) >= now, timeout=bl.STALL_SECONDS)
        nft("add", "table", "inet", table)
        nft("add", "chain", "inet", table, "out", "{ type filter hook output priority 0; }")
        nft("add", "rule", "inet", table, "out", "tcp", "dport", str(cport), "drop")
        cut_at, m0, r0, remote0 = time.monotonic(), tally["messages"], count(local), count(remote)
        silence = None
        while time.monotonic() - cut_at < CUT_SECONDS:
            time.sleep(1)
            if silence is None and any(t >= cut_at and a["alert"] == "silence" for t, a in Hook.alerts):
                silence = time.monotonic() - cut_at
        if proc.poll() is not None:
            raise bl.BenchError("the server died during the cut: " + bl.tail(os.path.join(d, "stderr.err")))
        during = time.monotonic() - cut_at
        out["during"] = ((tally["messages"] - m0) / during, (count(local) - r0) / during)
        out["cut_records"] = count(local) - r0
        if out["cut_records"] < CUT_SECONDS:
            raise bl.BenchError("only %d records in %d s: the attack did not run" % (out["cut_records"], CUT_SECONDS))
        out["arrived_during_cut"] = count(remote) - remote0
        out["silence"] = silence
        nft("delete", "table", "inet", table)
        reopened, backlog = time.monotonic(), count(local)
        # The load goes on: the backlog drains while new records keep coming.
        bl.wait_count("the backlog drained", lambda: count(remote), backlog, interval=0.5, stall=bl.STALL_SECONDS)
        out["drain_s"] = time.monotonic() - reopened
        out["backlog"] = backlog - remote0
        stop.set()
        for t in threads:
            t.join(timeout=bl.STALL_SECONDS * 10)
        bl.wait_count("the last records", lambda: count(remote), count(local), interval=0.5, stall=bl.STALL_SECONDS)
        with open(local, "rb") as f:
            mine = f.read()
        with open(remote, "rb") as f:
            theirs = f.read()
        out["same"] = mine == theirs
        out["records"] = mine.count(b"\n")
        out["lost"] = max(0, mine.count(b"\n") - theirs.count(b"\n"))
        v = subprocess.run([mailkeep, "collector", "--config", os.path.join(cd, "collector.toml"), "verify", name],
                           capture_output=True, text=True, timeout=bl.COMMAND_SECONDS)
        out["verify"] = v.stdout.strip() or v.stderr.strip()
        out["alerts"] = sorted({a["alert"] for t, a in Hook.alerts if t >= cut_at})
        out["logins"], out["errors"], out["mail_errors"] = tally["logins"], tally["errors"], tally["mail_errors"]
    finally:
        stop.set()
        try:
            remove_nft_tables()
            for t in threads:
                t.join(timeout=bl.STALL_SECONDS * 10)
        finally:
            bl.stop(proc)
            bl.stop(col)
            dns.stop()
            hook.shutdown()
    return out


def main():
    if len(sys.argv) != 2:
        raise bl.BenchError("usage: run.py path/to/optimized/mailkeep")
    mailkeep = os.path.abspath(sys.argv[1])
    # The cut-off phase firewalls a port with nft: checked now, not after half an hour.
    if os.geteuid() != 0 or not shutil.which("nft"):
        raise bl.BenchError("bench/logship needs root and nft (apt-get install nftables)")
    remove_nft_tables()
    work = tempfile.mkdtemp(prefix="mk-bench-logship-")
    try:
        certs = make_certs(work)
        ing = ingest(mailkeep, work, certs)
        ov = overhead(mailkeep, work, certs)
        dr, first_kinds = drills(mailkeep, work, certs)
        cut = cut_under_load(mailkeep, work, certs)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print()
    print("logship: %s, %d cores" % (time.strftime("%Y-%m-%d"), os.cpu_count()))
    print("ingest, %d records over one TLS connection:" % RECORDS)
    print("  mailkeep collector (chain checked, fdatasync, acknowledged) %8.0f records/s, %5.1f us CPU/record"
          % (ing["mk_rate"], ing["mk_cpu_us"]))
    print("  rsyslog 8.2302 (imtcp gtls -> omfile, no checks, no sync)    %8.0f records/s, %5.1f us CPU/record"
          % (ing["rs_rate"], ing["rs_cpu_us"]))
    print("  ratio mailkeep/rsyslog: %.2f" % (ing["mk_rate"] / ing["rs_rate"]))
    print("shipping overhead, smtp-source 1 session x %d messages, log of %d records, %d rounds:"
          % (MESSAGES, LOG_RECORDS, ROUNDS))
    for remote in (True, False):
        cpu = [c for c, _ in ov[remote]]
        rate = [r for _, r in ov[remote]]
        print("  [log.remote] %-3s CPU ms/msg %s (median %.3f), msg/s median %.0f"
              % ("on" if remote else "off", " ".join("%.3f" % c for c in cpu), statistics.median(cpu),
                 statistics.median(rate)))
    on, off = statistics.median(c for c, _ in ov[True]), statistics.median(c for c, _ in ov[False])
    print("  overhead: %+.1f%% CPU per message" % ((on - off) * 100 / off))
    print("alert latency over %d servers (s), default settings:" % DRILL_SERVERS)
    for kind, vals in dr.items():
        print("  %-8s min %.1f  median %.1f  p90 %.1f  max %.1f  (first alert: %s)" % (
            kind, vals[0], statistics.median(vals), vals[int(0.9 * (len(vals) - 1))], vals[-1],
            ", ".join("%s %d" % kv for kv in sorted(first_kinds.get(kind, {}).items()))))
    print("collector firewalled off for %d s under load (login attack + inbound mail):" % CUT_SECONDS)
    print("  before the cut: %.0f msg/s, %.1f records/s; during it: %.0f msg/s, %.1f records/s"
          % (cut["before"] + cut["during"]))
    print("  silence alert after %s s; alerts: %s" % ("%.1f" % cut["silence"] if cut["silence"] else "NONE",
                                                     ", ".join(cut["alerts"])))
    print("  %d records written during the cut (%d arrived meanwhile); backlog of %d drained in %.1f s"
          % (cut["cut_records"], cut["arrived_during_cut"], cut["backlog"], cut["drain_s"]))
    print("  in the end: %d records, %d lost, collector's copy byte-identical: %s; verify: %s"
          % (cut["records"], cut["lost"], "yes" if cut["same"] else "NO", cut["verify"]))
    print("  (%d failed logins, %d login connection errors, %d failed smtp-source runs)"
          % (cut["logins"], cut["errors"], cut["mail_errors"]))
    if cut["lost"] or not cut["same"]:
        raise bl.BenchError("records were lost or reordered across the cut")


if __name__ == "__main__":
    bl.run_main(main)
