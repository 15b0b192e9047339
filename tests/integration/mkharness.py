"""Test harness: starts the real mailkeep binary on loopback ports and reads what it stored.

Integration tests import this. The binary comes from $MAILKEEP_BIN (set by CTest). A server
is started either with `mailkeep dev` (the default instance of PRODUCT.md) or with
`mailkeep serve` and a generated config when a test needs other limits. Every server is
stopped at the end of its test, and its stderr is checked for sanitizer reports.
"""
import os
import random
import re
import shutil
import signal
import socket
import sqlite3
import ssl
import subprocess
import tempfile
import time
import unittest

BIN = os.environ.get("MAILKEEP_BIN") or os.path.join(
    os.path.dirname(__file__), "..", "..", "build", "test", "mailkeep")
PASSWORD = "integration-test-pw"
SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")


# The listeners `mailkeep quickstart` writes, with their standard ports.
QUICKSTART_PORTS = {("smtp", "listen"): 25, ("submission", "listen"): 587, ("submission", "listen_tls"): 465,
                    ("imap", "listen"): 143, ("imap", "listen_tls"): 993, ("http", "listen"): 80,
                    ("http", "listen_tls"): 443, ("metrics", "listen"): 9325}
# The metrics listener: dev's offset from its port base (app/dev.cpp).
METRICS_OFFSET = 9
PORT_OFFSETS = tuple(sorted(QUICKSTART_PORTS.values())) + (METRICS_OFFSET,)

# Time in these tests. CI runs them under ASan on a busy 2-core machine, so a wall-clock
# figure says nothing about the server. A delay the server imposes is checked as a lower bound
# only (load can only make it longer), or from the server's own log line. Every upper bound is
# a hang guard: it ends a test whose server never does what it must, and it is at least ten
# times what the operation takes on an idle machine. Speed is measured in bench/, not here.
HANG_GUARD = 60  # seconds; for an operation that takes a few seconds at most on an idle machine


def read_log(path):
    """A process's log file as text ("" before it exists)."""
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except FileNotFoundError:
        return ""


def assert_no_sanitizer_report(text, who):
    for m in SANITIZER_MARKERS:
        if m in text:
            raise AssertionError("sanitizer report in %s stderr:\n%s" % (who, text[-5000:]))


def wait_for(condition, what, guard=HANG_GUARD, interval=0.2):
    """Polls condition() until it returns something true and returns that; fails the test
    when the hang guard runs out first."""
    deadline = time.monotonic() + guard
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError("%s: not within the %d s hang guard" % (what, guard))
        time.sleep(interval)


# Ports a test process has claimed (port -> the descriptor of its lock file). A port that
# is free now is not free for long: a server is stopped and started again on the same ports
# (and `dev` creates an instance on them before `serve` binds them), and under ctest -j2
# another test could bind one in between. Every harness user that picks ports below the
# ephemeral range claims them here first, with a lock the kernel drops when its process
# ends, so two tests never pick the same port.
# The directory and its files are everyone's (sticky, like /tmp), so that tests run by
# different users on one machine share the claims.
PORT_LOCK_DIR = os.path.join(tempfile.gettempdir(), "mk-it-ports")
_claimed = {}
_lock_dir_ready = False


def _lock_file(port):
    """A descriptor of the port's lock file (created readable by all if it is new), or None
    when the name is something else another user left there (a link, a FIFO, an unreadable
    file): that port is then not ours to claim."""
    import errno
    import stat
    path = os.path.join(PORT_LOCK_DIR, str(port))
    # O_NONBLOCK: opening a FIFO planted under the name must not wait for a writer.
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK
    fd = None
    for _ in range(2):
        try:
            # Without O_CREAT first: fs.protected_regular refuses O_CREAT on another user's file
            # in a sticky directory even when it exists.
            fd = os.open(path, flags)
            break
        except FileNotFoundError:
            try:
                fd = os.open(path, flags | os.O_CREAT | os.O_EXCL, 0o444)
                break
            except FileExistsError:
                continue  # another process created it meanwhile: open theirs
        except OSError as e:
            if e.errno in (errno.ELOOP, errno.EACCES, errno.EPERM):
                return None
            raise
    if fd is None:
        return None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        return None
    return fd


def _lock_dir():
    """Makes PORT_LOCK_DIR, or mends the mode of one this user made before (as the harness
    once did, 0755); one another user made that this user cannot write is named in the error.
    Once per process."""
    global _lock_dir_ready
    if _lock_dir_ready:
        return
    os.makedirs(PORT_LOCK_DIR, exist_ok=True)
    st = os.stat(PORT_LOCK_DIR)
    if st.st_mode & 0o7777 != 0o1777 and st.st_uid == os.geteuid():
        os.chmod(PORT_LOCK_DIR, 0o1777)
    if not os.access(PORT_LOCK_DIR, os.W_OK | os.X_OK):
        time.sleep(0.2)  # its maker may be between making it and opening its mode
    if not os.access(PORT_LOCK_DIR, os.W_OK | os.X_OK):
        raise RuntimeError("%s is not writable by this user: remove it (its owner or root can) and run again"
                           % PORT_LOCK_DIR)
    _lock_dir_ready = True


def claim_ports(ports):
    """Whether every port in `ports` was claimed for this process (all or none): not claimed
    by another test process, and free on 127.0.0.1 now."""
    import errno
    import fcntl
    _lock_dir()
    taken = []
    try:
        for port in ports:
            if port in _claimed:
                return False
            fd = _lock_file(port)
            if fd is None:
                return False
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                return False
            taken.append((port, fd))
            with socket.socket() as probe:
                try:
                    probe.bind(("127.0.0.1", port))
                except OSError as e:
                    if e.errno in (errno.EADDRINUSE, errno.EACCES):
                        return False
                    raise
        _claimed.update(taken)
        taken = []
        return True
    finally:
        for _, fd in taken:
            os.close(fd)


def claim_free_port(low, high):
    """One port in [low, high) claimed for this process (claim_ports)."""
    for _ in range(500):
        port = random.randrange(low, high)
        if claim_ports([port]):
            return port
    raise RuntimeError("no free port in %d-%d" % (low, high))


def release_ports(ports):
    """Gives back ports claim_ports() took (the lock file stays, unlocked, for the next)."""
    for port in ports:
        fd = _claimed.pop(port, None)
        if fd is not None:
            os.close(fd)


def free_port_base():
    """A base N such that every port the server uses (N+25, +80, +143, +443, +465, +587, +993) is free
    on 127.0.0.1 and claimed for this process (claim_ports); below the kernel's ephemeral range,
    so outgoing connections cannot take them meanwhile."""
    for _ in range(500):
        # The highest offset (quickstart's metrics port, 9325) still below 32768.
        base = random.randrange(10000, 32768 - max(PORT_OFFSETS), 10)
        if claim_ports([base + off for off in PORT_OFFSETS]):
            return base
    raise RuntimeError("no free port")


def edit_quickstart_config(text, address_for, acme_directory):
    """quickstart's config with each listener of QUICKSTART_PORTS on address_for(section, key)
    ("ip:port") and the [acme] section's directory line replaced by `acme_directory` (lines);
    nothing else changed. Used by the tests and by bench/spam."""
    out, section = [], None
    for line in text.splitlines():
        m = re.match(r"\[(\w+)\]$", line)
        if m:
            section = m.group(1)
        k = re.match(r"(listen|listen_tls) = ", line)
        if k and (section, k.group(1)) in QUICKSTART_PORTS:
            line = '%s = ["%s"]' % (k.group(1), address_for(section, k.group(1)))
        if section == "acme" and line.startswith("directory = "):
            line = acme_directory
        out.append(line)
    return out


_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$')


def scrape_metrics(port, token=None):
    """(Content-Type, text) of GET /metrics on 127.0.0.1:port."""
    import urllib.request
    req = urllib.request.Request("http://127.0.0.1:%d/metrics" % port)
    if token:
        req.add_header("Authorization", "Bearer " + token)
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.headers.get("Content-Type"), r.read().decode()


def metric_samples(text):
    """{(name, frozenset of (label, value)): value} of a Prometheus text exposition."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = _SAMPLE.match(line)
        assert m, "not a sample line: %r" % line
        labels = frozenset(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2) or ""))
        out[(m.group(1), labels)] = float(m.group(3))
    return out


def metric_value(samples, name, **labels):
    """The sum of the samples of `name` whose labels include `labels`."""
    want = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and want <= ls)


def client_tls_context():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # dev uses a self-signed certificate
    return ctx


class Server:
    def __init__(self, extra_config=None, data_dir=None, keep=False):
        self.dir = data_dir or tempfile.mkdtemp(prefix="mk-it-")
        self.keep = keep
        self.base = free_port_base()
        self.smtp_port = self.base + 25
        self.submission_port = self.base + 587
        self.submissions_port = self.base + 465
        self.imap_port = self.base + 143
        self.imaps_port = self.base + 993
        self.http_port = self.base + 80
        self.https_port = self.base + 443
        self.metrics_port = self.base + METRICS_OFFSET
        self.proc = None
        self.extra_config = extra_config
        self.config = os.path.join(self.dir, "mailkeep.toml")
        self.stderr_path = os.path.join(self.dir, "stderr.log")

    def start(self, timeout=HANG_GUARD):
        if self.extra_config is None:
            args = [BIN, "dev", "--data-dir", self.dir, "--port-base", str(self.base),
                    "--password", PASSWORD]
        else:
            # First let dev create the instance (domain, account, certificate), then serve it
            # with a config that adds the test's settings.
            if not os.path.exists(os.path.join(self.dir, "index.sqlite")):
                self._run_dev_once()
            with open(self.config, "w") as f:
                f.write(self._serve_config())
            args = [BIN, "serve", "--config", self.config]
        self._stderr = open(self.stderr_path, "ab")
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self._stderr,
                                     text=True)
        deadline = time.monotonic() + timeout
        self.stdout_lines = []
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            self.stdout_lines.append(line.rstrip("\n"))
            # Listeners are bound before their lines are printed; dev ends with the account.
            done = "account " if self.extra_config is None else "listening imaps"
            if line.startswith(done):
                return self
        raise RuntimeError("mailkeep did not start: %s\n%s" % (self.stdout_lines, self.stderr()))

    def _run_dev_once(self):
        p = subprocess.Popen([BIN, "dev", "--data-dir", self.dir, "--port-base", str(self.base),
                              "--password", PASSWORD],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        for line in p.stdout:
            if line.startswith("account "):
                break
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=30)

    def _serve_config(self):
        sections = {"server": {"hostname": '"localhost"', "data_dir": '"."', "dev": "true",
                               "shutdown_grace": '"5s"'},
                    "log": {"level": '"debug"'},
                    "smtp": {"listen": '["127.0.0.1:%d"]' % self.smtp_port},
                    "submission": {"listen": '["127.0.0.1:%d"]' % self.submission_port,
                                   "listen_tls": '["127.0.0.1:%d"]' % self.submissions_port},
                    "imap": {"listen": '["127.0.0.1:%d"]' % self.imap_port,
                             "listen_tls": '["127.0.0.1:%d"]' % self.imaps_port},
                    "http": {"listen": '["127.0.0.1:%d"]' % self.http_port,
                             "listen_tls": '["127.0.0.1:%d"]' % self.https_port},
                    "metrics": {"listen": '["127.0.0.1:%d"]' % self.metrics_port},
                    "web": {"admins": '["me@localhost"]'}}
        for key, value in self.extra_config.items():
            sec, k = key.split(".", 1)
            sections.setdefault(sec, {})[k] = value
        out = []
        for sec, kv in sections.items():
            out.append("[%s]" % sec)
            out.extend("%s = %s" % (k, v) for k, v in kv.items())
        return "\n".join(out) + "\n"

    def stop(self, sig=signal.SIGTERM, timeout=30):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("mailkeep did not stop within %ss of %s" % (timeout, sig))
        code = self.proc.returncode if self.proc else None
        if self.proc:
            self.proc.stdout.close()
            self._stderr.close()
        self.proc = None
        return code

    def kill9(self):
        self.proc.kill()
        self.proc.wait()
        self.proc.stdout.close()
        self._stderr.close()
        self.proc = None

    def stderr(self):
        return read_log(self.stderr_path)

    def assert_clean(self):
        assert_no_sanitizer_report(self.stderr(), "mailkeep")

    def cleanup(self):
        if self.proc:
            self.stop()
        release_ports([self.base + off for off in PORT_OFFSETS])
        self.assert_clean()
        if not self.keep:
            shutil.rmtree(self.dir, ignore_errors=True)

    def cli(self, *args, stdin=None):
        return subprocess.run([BIN, "--config", self.config, *args], input=stdin,
                              capture_output=True, text=True, timeout=60)

    # --- submission and the outbound queue ---
    def submit(self, rcpts, subject, user="me@localhost", password=PASSWORD, mail_options=(), rcpt_options=()):
        """Sends a small message from user over submission (587, STARTTLS, AUTH)."""
        import smtplib
        msg = "From: Me <%s>\r\nTo: %s\r\nSubject: %s\r\n\r\nHello from mailkeep.\r\n" % (
            user, ", ".join(rcpts), subject)
        with smtplib.SMTP("127.0.0.1", self.submission_port, timeout=20) as s:
            s.starttls(context=client_tls_context())
            s.login(user, password)
            s.sendmail(user, list(rcpts), msg.encode(), mail_options=list(mail_options), rcpt_options=list(rcpt_options))

    def smtp_auth(self, password, user="me@localhost", source=None):
        """One AUTH PLAIN on 465 (smtplib's login() would try LOGIN after PLAIN failed): True,
        False, or ("disconnected", why) when the server refused or closed the connection."""
        import smtplib
        import ssl
        try:
            s = smtplib.SMTP_SSL("127.0.0.1", self.submissions_port, context=client_tls_context(), timeout=30,
                                 source_address=(source, 0) if source else None)
        except (smtplib.SMTPServerDisconnected, ConnectionResetError, ssl.SSLError) as e:
            return ("disconnected", str(e))
        try:
            s.ehlo()
            s.user, s.password = user, password
            s.auth("PLAIN", s.auth_plain)
            return True
        except smtplib.SMTPAuthenticationError:
            return False
        except smtplib.SMTPServerDisconnected as e:
            return ("disconnected", str(e))
        finally:
            s.close()

    def imap_auth(self, password, user="me@localhost"):
        """IMAP LOGIN on 993: True or False."""
        import imaplib
        with imaplib.IMAP4_SSL("127.0.0.1", self.imaps_port, ssl_context=client_tls_context()) as c:
            try:
                c.login(user, password)
                return True
            except imaplib.IMAP4.error:
                return False

    def imap_messages(self, folder, address="me@localhost", password=PASSWORD, missing_ok=False):
        """The messages of a folder read over IMAP (imaplib, 993), parsed (email.policy.default);
        [] for a folder that does not exist when missing_ok, else an AssertionError."""
        import email
        import email.policy
        import imaplib
        im = imaplib.IMAP4_SSL("127.0.0.1", self.imaps_port, ssl_context=client_tls_context(), timeout=60)
        try:
            im.login(address, password)
            typ, _ = im.select('"%s"' % folder, readonly=True)
            if typ != "OK":
                if missing_ok:
                    return []
                raise AssertionError("no folder %r for %s" % (folder, address))
            _, data = im.uid("SEARCH", None, "ALL")
            out = []
            for uid in data[0].split():
                _, msg = im.uid("FETCH", uid, "(RFC822)")
                out.append(email.message_from_bytes(msg[0][1], policy=email.policy.default))
            return out
        finally:
            im.logout()

    def metric(self, name, **labels):
        """The current value of a metric on this server's /metrics (summed over other labels)."""
        return metric_value(metric_samples(scrape_metrics(self.metrics_port)[1]), name, **labels)

    def wait_metric(self, name, at_least, **labels):
        """Waits until the metric reaches at_least (counters move after the work is done)."""
        return wait_for(lambda: self.metric(name, **labels) >= at_least,
                        "%s%s never reached %s" % (name, labels, at_least))

    def wait_queued(self, rcpt, pattern, timeout=HANG_GUARD):
        """Waits until rcpt is queued after a failed attempt whose error matches pattern;
        returns the error."""
        out = ""

        def waiting():
            nonlocal out
            out = self.cli("queue", "list").stdout
            m = re.search(r"queued\s+<%s>  attempts [1-9]\d*  next \S+ \S+  last error: (.*)" % re.escape(rcpt), out)
            return m.group(1) if m and re.search(pattern, m.group(1)) else None
        try:
            return wait_for(waiting, "%s not waiting with %r" % (rcpt, pattern), timeout)
        except AssertionError as e:
            raise AssertionError("%s:\n%s\n%s" % (e, out, self.stderr()[-3000:]))

    def wait_bounce(self, rcpt, timeout=HANG_GUARD):
        """The RFC 3464 report about rcpt delivered to a local mailbox (bytes)."""
        final = b"Final-Recipient: rfc822; " + rcpt.encode()
        return wait_for(lambda: next((m for _, m in self.messages() if b"multipart/report" in m and final in m), None),
                        "no bounce for %s" % rcpt, timeout)

    def dkim_records(self, domain="localhost"):
        """{name: TXT value} of the DKIM keys `mailkeep domain dns` prints for a domain."""
        r = self.cli("domain", "dns", domain)
        assert r.returncode == 0, r.stderr
        records = {}
        for m in re.finditer(r'(?m)^(\S+\._domainkey\.\S+)\.\t3600\tIN\tTXT\t(.*)$', r.stdout):
            records[m.group(1)] = "".join(re.findall(r'"([^"]*)"', m.group(2)))
        return records

    # --- reading the store directly (the tests check the stored bytes) ---
    def messages(self, address="me@localhost", mailbox="INBOX"):
        """[(uid, bytes)] of a mailbox, in UID order."""
        db = sqlite3.connect(os.path.join(self.dir, "index.sqlite"))
        try:
            rows = db.execute(
                "SELECT m.uid, m.blob FROM messages m JOIN mailboxes b ON m.mailbox_id = b.id "
                "JOIN accounts a ON b.account_id = a.id WHERE a.address = ? AND b.name = ? "
                "ORDER BY m.uid", (address, mailbox)).fetchall()
        finally:
            db.close()
        out = []
        for uid, blob in rows:
            with open(os.path.join(self.dir, "blobs", blob[:2], blob), "rb") as f:
                out.append((uid, f.read()))
        return out


def run_cli(*args, stdin=None):
    """mailkeep with these arguments and no instance (commands that need none)."""
    return subprocess.run([BIN, *args], input=stdin, capture_output=True, text=True, timeout=300)


def refuse_holds(srv):
    """Makes the stopped server's database refuse to store an outbound hold (a trigger), for
    the tests of holds enforced in memory; the caller starts the server again."""
    db = sqlite3.connect(os.path.join(srv.dir, "index.sqlite"))
    db.execute("CREATE TRIGGER no_holds BEFORE UPDATE OF outbound_hold ON accounts "
               "WHEN NEW.outbound_hold != '' BEGIN SELECT RAISE(ABORT, 'the disk said no'); END")
    db.commit()
    db.close()


def stop_all(srv, *others):
    """Stops mailkeep and removes its directory, then stops the test's other servers (rig
    MX hosts, DNS) even when mailkeep misbehaved, so no stray servers stay on port 25; fails
    unless mailkeep exited with 0."""
    code = None
    try:
        code = srv.stop()
        srv.cleanup()
    finally:
        for o in others:
            o.stop()
    assert code == 0, "mailkeep exited with %s" % code


def test_message(author, subject, to="me@localhost", body="Hello.\r\n"):
    """A small RFC 5322 message (CRLF) with the fields DKIM signers sign."""
    return ("From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: Tue, 01 Dec 2026 08:00:00 +0000\r\n"
            "Message-ID: <%s@test>\r\n\r\n%s" % (author, to, subject, re.sub(r"\W", ".", subject), body)).encode()


class SharedServerTest(unittest.TestCase):
    """Test classes sharing one `mailkeep dev` instance; it must stop cleanly (exit 0)."""

    @classmethod
    def setUpClass(cls):
        cls.srv = Server().start()

    @classmethod
    def tearDownClass(cls):
        code = cls.srv.stop()
        cls.srv.cleanup()
        assert code == 0, "mailkeep exited with %s" % code


class RawClient:
    """A byte-level SMTP client for what smtplib cannot send (bad line endings, BDAT,
    pipelining in one write, STARTTLS injection)."""

    def __init__(self, port, timeout=10):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = b""

    def send(self, data):
        self.sock.sendall(data)

    def reply(self):
        """Reads one (possibly multi-line) reply; returns (code, text) or (None, '') on EOF."""
        lines = []
        while True:
            while b"\r\n" not in self.buf:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return (None, b"\n".join(lines).decode(errors="replace"))
                self.buf += chunk
            line, self.buf = self.buf.split(b"\r\n", 1)
            lines.append(line)
            if len(line) < 4 or line[3:4] != b"-":
                return (int(line[:3]), b"\n".join(l[4:] for l in lines).decode(errors="replace"))

    def cmd(self, line):
        self.send(line.encode() + b"\r\n")
        return self.reply()

    def closed(self, wait=HANG_GUARD):
        """True if the server closed the connection (after any pending data); False if it
        is still open when the hang guard runs out."""
        self.sock.settimeout(wait)
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return True
                self.buf += chunk
        except (ConnectionResetError, BrokenPipeError):
            return True
        except socket.timeout:
            return False

    def transaction(self, sender="a@example.org", rcpt="me@localhost"):
        """Reads the greeting and sends EHLO, MAIL and RCPT; returns the RCPT reply code."""
        self.reply()
        self.cmd("EHLO c.example")
        self.cmd("MAIL FROM:<%s>" % sender)
        return self.cmd("RCPT TO:<%s>" % rcpt)[0]

    def starttls(self):
        ctx = client_tls_context()
        self.sock = ctx.wrap_socket(self.sock, server_hostname="localhost")

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def header(msg_bytes, name):
    m = re.search(rb"(?im)^" + re.escape(name.encode()) + rb":([^\r\n]*(?:\r\n[ \t][^\r\n]*)*)", msg_bytes)
    return " ".join(m.group(1).decode(errors="replace").split()) if m else None
