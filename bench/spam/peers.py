"""The spam benchmark's peers, each started privately by the benchmark and stopped by it:
bogofilter, SpamAssassin (spamd/spamc, rules only or with Bayes), rspamd 3.4 (as shipped, or
with Bayes in a private redis-server). Nothing reaches the network: SpamAssassin runs its
local tests only, rspamd resolves through the benchmark's loopback DNS (which lists nothing)
and its network modules are off.

Each returns a Scores: the test messages' scores in the order given, the threshold at which
the filter calls a message spam as shipped, messages per second with one client at a time,
and the CPU time of the filter's processes per message.
"""
import http.client
import json
import os
import pwd
import re
import resource
import shutil
import subprocess
import time

from benchlib import COMMAND_SECONDS, START_SECONDS, STALL_SECONDS, BenchError, free_port, run, stop, tail, \
    wait_until

# A deadline for a step over a set of messages, far above the slowest filter's cost
# (SpamAssassin, about 0.2 s of CPU per message), so only a hung step reaches it.
SECONDS_PER_MESSAGE = 1
RUNS = 3  # bogofilter's speed: the best of this many runs
# rspamd compiles its regular expressions at start (about 20 s on 2 cores, more on a busy
# machine): it answers within this, or it failed.
RSPAMD_START_SECONDS = 4 * START_SECONDS
# rspamd's "add_header" action, the first that marks a message as spam (actions.conf).
RSPAMD_THRESHOLD = 6.0
SPAMASSASSIN_THRESHOLD = 5.0  # required_score
BOGOFILTER_CUTOFF = 0.99      # spam_cutoff: "S" at or above it ("Unsure" counts as not spam)


class Scores:
    def __init__(self, spam, ham, threshold, rate, cpu_ms=None, spam_flagged=None, ham_flagged=None, notes=()):
        self.spam, self.ham, self.threshold, self.rate, self.cpu_ms = spam, ham, threshold, rate, cpu_ms
        self.spam_flagged, self.ham_flagged, self.notes = spam_flagged, ham_flagged, list(notes)


def deadline_for(count):
    """Seconds a step over `count` messages may take."""
    return COMMAND_SECONDS + SECONDS_PER_MESSAGE * count


class Deadline:
    def __init__(self, what, seconds):
        self.what, self.seconds, self.end = what, seconds, time.monotonic() + seconds

    def check(self, done=None):
        if time.monotonic() > self.end:
            raise BenchError("%s took over %d s%s" % (self.what, self.seconds,
                                                      "" if done is None else " (%s done)" % done))


def tree_cpu_seconds(root):
    """User + system CPU seconds of a process and its descendants (with their reaped children)."""
    stats, children = {}, {}
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % p) as f:
                s = f.read()
        except OSError:
            continue
        fields = s[s.rindex(")") + 2:].split()  # after "pid (comm) ": state, ppid, ...
        stats[int(p)] = sum(int(x) for x in fields[11:15])  # utime stime cutime cstime
        children.setdefault(int(fields[1]), []).append(int(p))
    total, todo = 0, [root]
    while todo:
        p = todo.pop()
        total += stats.get(p, 0)
        todo += children.get(p, [])
    return total / os.sysconf("SC_CLK_TCK")


def children_cpu_seconds():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def paths(messages):
    return [m.path for m in messages]


# ---- bogofilter ----

def bogofilter(work, sets, test):
    """bogofilter trained on the training set, at its default cutoffs."""
    db = os.path.join(work, "bogo")
    os.makedirs(db)
    for key, flag in (("train_spam", "-s"), ("train_ham", "-n")):
        run(["bogofilter", "-d", db, flag, "-B"] + paths(sets[key]), timeout=deadline_for(len(sets[key])))
    spam, ham = [m for m in test if m.spam], [m for m in test if not m.spam]
    best, cpu = 0, None
    for _ in range(RUNS):  # the best of RUNS runs: each takes a fraction of a second
        scores = {}
        seconds, cpu0 = 0.0, children_cpu_seconds()
        for name, group in (("spam", spam), ("ham", ham)):
            t = time.monotonic()
            # The exit status is the last message's verdict (0 spam, 1 ham, 2 unsure); 3 is an error.
            r = subprocess.run(["bogofilter", "-d", db, "-T", "-B"] + paths(group), capture_output=True,
                               text=True, timeout=deadline_for(len(group)))
            if r.returncode not in (0, 1, 2):
                raise BenchError("bogofilter -T exited %d: %s" % (r.returncode, r.stderr.strip()[-500:]))
            out = r.stdout
            seconds += time.monotonic() - t
            scores[name] = [float(l.split()[2]) for l in out.splitlines() if l.strip()]
            if len(scores[name]) != len(group):
                raise BenchError("bogofilter printed %d scores for %d messages" % (len(scores[name]), len(group)))
        rate = len(test) / seconds
        if rate > best:
            best, cpu = rate, 1000.0 * (children_cpu_seconds() - cpu0) / len(test)
    return Scores(scores["spam"], scores["ham"], BOGOFILTER_CUTOFF - 1e-9, best, cpu)


# ---- SpamAssassin ----

def spamassassin(work, sets, test, bayes):
    """spamd with the rules Debian ships, local tests only; with bayes, trained on the
    training set (sa-learn), else `use_bayes 0`."""
    home = os.path.join(work, "sa-bayes" if bayes else "sa-rules")
    site = os.path.join(home, "site")
    os.makedirs(site)
    for f in os.listdir("/usr/share/spamassassin"):
        if f.endswith(".cf") or f.endswith(".pre"):
            shutil.copy(os.path.join("/usr/share/spamassassin", f), site)
    for f in os.listdir("/etc/spamassassin"):
        if f.endswith(".pre"):
            shutil.copy(os.path.join("/etc/spamassassin", f), site)
    with open(os.path.join(site, "zz_bench.cf"), "w") as f:
        f.write("use_auto_whitelist 0\nskip_rbl_checks 1\nuse_razor2 0\nuse_pyzor 0\nuse_dcc 0\ndns_available no\n")
        if bayes:
            f.write("use_bayes 1\nbayes_auto_learn 0\nbayes_path %s/bayes\nbayes_file_mode 0600\n"
                    "bayes_min_ham_num 1\nbayes_min_spam_num 1\n" % home)
        else:
            f.write("use_bayes 0\n")
    common = ["--siteconfigpath", site, "-L"]
    if bayes:
        for key, flag in (("train_spam", "--spam"), ("train_ham", "--ham")):
            d = os.path.dirname(sets[key][0].path) if sets[key] else None
            if d:
                run(["sa-learn"] + common + ["--dbpath", home, flag, d], timeout=deadline_for(len(sets[key])))
    user = "nobody" if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name
    if os.geteuid() == 0:  # spamd will not run as root: its files must be readable by nobody
        run(["chown", "-R", "nobody", home])
    port = free_port()
    log = os.path.join(home, "spamd.log")
    spamd = subprocess.Popen(["spamd", "--siteconfigpath", site, "-L", "-i", "127.0.0.1", "-p", str(port),
                              "-m", "2", "-u", user, "--helper-home-dir", home, "-x", "-s", "stderr"],
                             stderr=open(log, "w"), stdout=subprocess.DEVNULL)
    try:
        try:
            wait_until("spamd to answer on 127.0.0.1:%d" % port,
                       lambda: subprocess.run(["spamc", "-p", str(port), "-K"], capture_output=True,
                                              timeout=STALL_SECONDS).returncode == 0,
                       alive=lambda: spamd.poll() is None)
        except BenchError as e:
            raise BenchError("%s; its log ends: %s" % (e, tail(log))) from None
        scores = []
        limit = Deadline("SpamAssassin on %d messages" % len(test), deadline_for(len(test)))
        cpu0, t = tree_cpu_seconds(spamd.pid), time.monotonic()
        for i, m in enumerate(test):
            limit.check(i)
            with open(m.path, "rb") as f:
                r = subprocess.run(["spamc", "-p", str(port), "-c"], stdin=f, capture_output=True, text=True,
                                   timeout=STALL_SECONDS)
            # spamc -c: exit 0 ham, 1 spam; anything else is an error (and a "0/0" score).
            if r.returncode not in (0, 1):
                raise BenchError("spamc failed (%d) on %s: %s" % (r.returncode, m.key, r.stderr.strip()))
            scores.append(float(r.stdout.split("/")[0]))
        seconds = time.monotonic() - t
        cpu = 1000.0 * (tree_cpu_seconds(spamd.pid) - cpu0) / len(test)
    finally:
        stop(spamd)
    return by_label(test, scores, SPAMASSASSIN_THRESHOLD - 1e-9, len(test) / seconds, cpu)


def by_label(test, scores, threshold, rate, cpu, notes=()):
    return Scores([s for m, s in zip(test, scores) if m.spam], [s for m, s in zip(test, scores) if not m.spam],
                  threshold, rate, cpu, notes=notes)


# ---- rspamd ----

class Redis:
    """A private redis-server on loopback, nothing saved to disk."""

    def __init__(self, work):
        self.dir = os.path.join(work, "redis")
        os.makedirs(self.dir)
        self.port = free_port()
        self.log = os.path.join(self.dir, "redis.log")
        self.proc = subprocess.Popen(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                                      "--save", "", "--appendonly", "no", "--dir", self.dir,
                                      "--logfile", self.log], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_until("redis-server to answer on 127.0.0.1:%d" % self.port, self.ping,
                       alive=lambda: self.proc.poll() is None)
        except BenchError as e:
            self.stop()
            raise BenchError("%s; its log ends: %s" % (e, tail(self.log))) from None

    def ping(self):
        import socket
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self):
        stop(self.proc)


class Rspamd:
    """rspamd as Debian ships it, run unprivileged with its own LOCAL_CONFDIR: only what a
    private instance needs (its sockets, the loopback DNS, its logs) and the modules that ask
    the network or need redis turned off; with redis, the Bayes classifier (no autolearn)."""

    DISABLED = ("fuzzy_check", "greylist", "ratelimit", "neural", "replies")

    def __init__(self, work, name, dns_port, redis_port=None, log_level="error"):
        self.dir = os.path.join(work, name)
        conf = os.path.join(self.dir, "conf", "local.d")
        os.makedirs(conf)
        for d in ("run", "db", "log"):
            os.makedirs(os.path.join(self.dir, d))
        self.port, self.controller = free_port(), free_port()
        files = {
            "options.inc": 'dns {\n  nameserver = ["127.0.0.1:%d"];\n}\n' % dns_port,
            "worker-normal.inc": 'bind_socket = "127.0.0.1:%d";\n' % self.port,
            "worker-controller.inc": 'bind_socket = "127.0.0.1:%d";\n' % self.controller,
            "worker-proxy.inc": "enabled = false;\n",
            "logging.inc": 'level = "%s";\n' % log_level,
        }
        for module in self.DISABLED:
            files[module + ".conf"] = "enabled = false;\n"
        if redis_port:
            files["redis.conf"] = 'servers = "127.0.0.1:%d";\n' % redis_port
            files["classifier-bayes.conf"] = "autolearn = false;\n"
        for f, text in files.items():
            with open(os.path.join(conf, f), "w") as out:
                out.write(text)
        args = ["rspamd", "-f", "--var", "LOCAL_CONFDIR=" + os.path.join(self.dir, "conf")]
        for var, d in (("RUNDIR", "run"), ("DBDIR", "db"), ("LOGDIR", "log")):
            args += ["--var", "%s=%s" % (var, os.path.join(self.dir, d))]
        if os.geteuid() == 0:
            args += ["-u", "_rspamd", "-g", "_rspamd"]
            run(["chown", "-R", "_rspamd:_rspamd", self.dir])
        self.log = os.path.join(self.dir, "log", "rspamd.log")
        self.stderr = os.path.join(self.dir, "stderr")
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=open(self.stderr, "w"))
        try:
            wait_until("rspamd (%s) to answer /ping on 127.0.0.1:%d" % (name, self.port), self.ping,
                       timeout=RSPAMD_START_SECONDS, alive=lambda: self.proc.poll() is None)
        except BenchError as e:
            self.stop()
            raise BenchError("%s; its log ends: %s %s" % (e, tail(self.log), tail(self.stderr))) from None

    def request(self, port, method, path, body=None, headers=None):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=STALL_SECONDS)
        try:
            c.request(method, path, body=body, headers=headers or {})
            r = c.getresponse()
            return r.status, r.read()
        finally:
            c.close()

    def ping(self):
        try:
            return self.request(self.port, "GET", "/ping")[1].strip() == b"pong"
        except OSError:
            return False

    def check(self, data, meta):
        status, body = self.request(self.port, "POST", "/checkv2", data, meta)
        if status != 200:
            raise BenchError("rspamd /checkv2 answered %d: %s" % (status, body[:200]))
        return json.loads(body)["score"]

    def learn(self, data, spam):
        """None if learnt, else why rspamd declined."""
        path = "/learnspam" if spam else "/learnham"
        status, body = self.request(self.controller, "POST", path, data)
        if status == 200:
            return None
        if status == 204:  # its log says why; a 204 has no body
            return ("204: its shipped learn condition (lua_bayes_learn) skips a message its Bayes already "
                    "puts in that class with high probability")
        if status in (208, 400, 404):
            try:
                why = json.loads(body).get("error", "")
            except ValueError:
                why = body.decode(errors="replace")
            return "%d %s" % (status, re.sub(r"[0-9.]+%?", "N", re.sub(r"<[^>]*>", "<id>", why))[:80])
        raise BenchError("rspamd %s answered %d: %s" % (path, status, body[:200]))

    def stop(self):
        stop(self.proc)


def rspamd(work, sets, test, dns_port, meta, bayes):
    """rspamd 3.4 as shipped (no network, no Bayes), or with Bayes in redis trained on the
    training set through the controller. meta(message) gives the MTA's metadata headers."""
    started = []
    try:
        redis_port = None
        if bayes:
            started.append(Redis(work))
            redis_port = started[-1].port
        r = Rspamd(work, "rspamd-bayes" if bayes else "rspamd", dns_port, redis_port)
        started.append(r)
        notes = []
        if bayes:
            # As an admin does it (`rspamc learn_spam DIR`, then `rspamc learn_ham DIR`). The learn
            # condition makes the order matter: interleaved in Message.order() (measured
            # 2026-12-05) gave FP 4.1%, FN 11.0%, 1-ROCA 2.95% against 6.4%, 4.4%, 2.29% this way.
            train = sets["train_spam"] + sets["train_ham"]
            limit = Deadline("rspamd learning %d messages" % len(train), deadline_for(len(train)))
            declined = {}
            for i, m in enumerate(train):
                limit.check(i)
                why = r.learn(m.data(), m.spam)
                if why:
                    declined[why] = declined.get(why, 0) + 1
            for why, count in sorted(declined.items()):
                notes.append("rspamd-bayes: the controller declined to learn %d of %d training messages: %s"
                             % (count, len(train), why))
        # A first message: the workers load what the start-up compiled before the clock runs.
        r.check(test[0].data(), meta(test[0]))
        scores = []
        limit = Deadline("rspamd on %d messages" % len(test), deadline_for(len(test)))
        cpu0, t = tree_cpu_seconds(r.proc.pid), time.monotonic()
        for i, m in enumerate(test):
            limit.check(i)
            scores.append(r.check(m.data(), meta(m)))
        seconds = time.monotonic() - t
        cpu = 1000.0 * (tree_cpu_seconds(r.proc.pid) - cpu0) / len(test)
        return by_label(test, scores, RSPAMD_THRESHOLD - 1e-9, len(test) / seconds, cpu, notes)
    finally:
        for s in reversed(started):
            s.stop()
