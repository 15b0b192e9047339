"""mailkeep's MX verdict as shipped: a fresh install (`mailkeep quickstart`), the test
messages delivered to it through SMTP by a sending host on the Internet, the verdicts read
back over IMAP.

The instance is quickstart's config with only what the loopback needs changed: every
listener on a free port of 127.0.0.1, no ACME ([acme] directory = ""), and [dns] upstream
pointing at the benchmark's DNS server (dnssec = false: it does not sign). Its [spam]
settings, DNS lists included, are the defaults of the binary under test.

The sending host is RELAY_IP, added to `lo` for the run (a public-looking address: the MX
treats it as any host on the Internet), with forward-confirmed reverse DNS (RELAY_NAME A
RELAY_IP, and the PTR back). Every other name is NXDOMAIN, so the DNS lists list nothing
and the senders' domains publish no SPF, DKIM keys or DMARC.

Each message is sent with MAIL FROM its Return-Path or From address (corpus.py), in the
order of corpus.Message.order() (spam and ham interleaved, the same every run), to
RCPT TO user+N@DOMAIN, N its place in that order. The MX files a "+tag" sub-address in the
account (delivery/recipients.hpp: the folder named by the tag when it exists, else INBOX;
a Junk verdict files it in Junk), and its Received field says "for <user+N@DOMAIN>", which
is how each stored message is matched to its file. The filter does not see the address:
its inputs are the message and the recipient account (inbound/spam_filter.cpp), the same
account for every N, and the trace fields are added after the verdict. The verdict is the
X-Mailkeep-Spam field the MX adds ("junk; score=7.20; SIGNAL=weight ...", the action one of
no, yes (tagged), junk, reject); a refusal as spam at SMTP time (550 "Message refused as
spam (score N: ...)") is the action "reject".

A user who corrects the filter (mx_verdicts' `correct_every`): on a fresh install, after every
CORRECT_EVERY messages delivered the user looks at what arrived in INBOX and Junk over IMAP
(one session, kept open), reads the new mail in INBOX (UID STORE +FLAGS \\Seen, as opening it
does; Junk only by its list) and moves each mistake to where it belongs with UID MOVE: spam
found in INBOX into Junk, ham found in Junk into INBOX, what any mail program does when the
user drags a message. That is all the user does; the server learns from the moves as it does
from any client's (inbound/spam_filter.cpp). Each message's verdict is the one it arrived
with (its X-Mailkeep-Spam field and folder when the user first saw it), so the figures are
those of a filter judged online, each message before the user corrects it (the TREC spam
track's protocol, with the user's feedback a batch late). Delivery goes on once the server
has logged every move as taken up (it learns on a thread of its own), so the figures do not
depend on the machine's speed.

A heavy user on a large installation (mx_verdicts' `correspondents` and `hosted`): before the
server starts, the account is given that many correspondents, spread over a third as many
domains (contactN@orgM.example, each with a name), the record the MX keeps of everyone the
user ever wrote to and reads for every verdict (which domains the user knows, who goes by the
author's name);
and the server hosts that many more domains (hostedN.example), which every verdict compares
the message's domains with. Both are written into the store's SQLite file directly, standing
in for years of sent mail and an admin's work: sending that mail would take the benchmark
hours and trip the new-recipient limits it is meant to trip.
"""
import imaplib
import os
import re
import random
import smtplib
import sqlite3
import ssl
import subprocess
import sys
import time
import urllib.request

from benchlib import COMMAND_SECONDS, STALL_SECONDS, BenchError, free_port, run, start, stop, tail
from corpus import envelope_sender
from peers import Deadline, deadline_for, tree_cpu_seconds

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                                "tests", "integration"))
from mkharness import QUICKSTART_PORTS, edit_quickstart_config  # noqa: E402  (the tests' config editing)

DOMAIN = "bench.example"
HOST = "mail." + DOMAIN
USER = "user"
ADDRESS = USER + "@" + DOMAIN
PASSWORD = "the spam benchmark's password 18"
RELAY_IP = "11.0.18.1"
RELAY_NAME = "relay.sender.example"
# A sending host sends a few messages per connection; the MX's per-connection limits
# (errors, session time) are not what is measured.
MESSAGES_PER_CONNECTION = 10
TEMP_FAILURE_ATTEMPTS = 3  # a 4xx reply is retried after TEMP_FAILURE_PAUSE, this many times
TEMP_FAILURE_PAUSE = 1
# A correcting user looks at the new mail after this many messages (mx_verdicts' correct_every).
CORRECT_EVERY = 20
PORTS = tuple("%s.%s" % k for k in QUICKSTART_PORTS)
SPAM_REFUSAL = re.compile(r"refused as spam \(score (-?[0-9.]+)")


def publish_relay(dns):
    """The sending host's forward-confirmed reverse DNS in the loopback DNS."""
    dns.add(RELAY_NAME, "A", RELAY_IP)
    dns.add(".".join(reversed(RELAY_IP.split("."))) + ".in-addr.arpa", "PTR", RELAY_NAME)


def meta(message):
    """What an MTA tells a filter about the message's connection and envelope (rspamd's
    /checkv2 headers): the same as the MX sees."""
    h = {"IP": RELAY_IP, "Hostname": RELAY_NAME, "Helo": RELAY_NAME, "Rcpt": ADDRESS}
    sender = envelope_sender(message.data())
    if sender:
        h["From"] = sender
    return h


class Relay:
    """RELAY_IP on `lo` while the MX rows run."""

    def __init__(self):
        r = subprocess.run(["ip", "addr", "add", RELAY_IP + "/32", "dev", "lo"], capture_output=True, text=True,
                           timeout=COMMAND_SECONDS)
        self.added = r.returncode == 0
        if not self.added and "File exists" not in r.stderr:
            raise BenchError("cannot add the sending host's address %s to lo (root needed): %s"
                             % (RELAY_IP, r.stderr.strip()))

    def remove(self):
        if self.added:
            subprocess.run(["ip", "addr", "del", RELAY_IP + "/32", "dev", "lo"], capture_output=True,
                           timeout=COMMAND_SECONDS)
            self.added = False


def loopback_config(text, ports, dns_config):
    """quickstart's config with its listeners on 127.0.0.1 (ports: {"smtp.listen": N, ...}),
    no ACME and the loopback DNS; nothing else changed."""
    if re.search(r"(?m)^\[dns\]$", text):
        raise BenchError("quickstart's config has a [dns] section now: bench/spam/mx.py must edit it, not add one")
    out = edit_quickstart_config(text, lambda section, key: "127.0.0.1:%d" % ports["%s.%s" % (section, key)],
                                 'directory = ""')
    return "\n".join(out) + "\n\n" + dns_config


class Instance:
    """A fresh mailkeep install in DIR (quickstart), served on loopback."""

    def __init__(self, binary, work, name, dns):
        self.binary, self.name = binary, name
        self.dir = os.path.join(work, name)
        os.makedirs(self.dir)
        self.config = os.path.join(self.dir, "mailkeep.toml")
        run([binary, "quickstart", ADDRESS, "--hostname", HOST, "--config", self.config, "--data-dir",
             os.path.join(self.dir, "data"), "--no-systemd", "--password-stdin"], input=PASSWORD + "\n", text=True)
        self.ports = {p: free_port() for p in PORTS}
        with open(self.config) as f:
            text = f.read()
        with open(self.config, "w") as f:
            f.write(loopback_config(text, self.ports, dns.config()))
        self.proc = None

    def admin(self, *args, timeout=COMMAND_SECONDS):
        return run([self.binary, "--config", self.config] + list(args), timeout=timeout, text=True).stdout

    def thresholds(self):
        """The account's tag, Junk and reject scores, as the CLI prints them."""
        out = self.admin("account", "spam-thresholds", ADDRESS)
        m = re.search(r"tag at (\S+), Junk at (\S+), reject at (\S+)", out)
        if not m:
            raise BenchError("cannot read the spam thresholds from: %s" % out.strip())
        return tuple(float(x) for x in m.groups())

    def seed_history(self, count, hosted):
        """Gives the account `count` correspondents at count/3 domains, and the server `hosted`
        more domains (the server not running)."""
        db = os.path.join(self.dir, "data", "index.sqlite")
        try:
            c = sqlite3.connect(db, timeout=STALL_SECONDS)
            row = c.execute("SELECT id FROM accounts WHERE address = ?", (ADDRESS,)).fetchone()
            if not row:
                raise BenchError("%s: no account %s in %s" % (self.name, ADDRESS, db))
            rng = random.Random(18)
            domains = max(1, count // 3)
            # Each with the name their authenticated mail showed (kept lower-case), as the MX
            # learns it: the contacts-by-name lookup then has a whole index to search.
            c.executemany("INSERT OR IGNORE INTO correspondents(account_id, address, first_sent, name) "
                          "VALUES(?, ?, ?, ?)",
                          [(row[0], "contact%d@org%d.example" % (i, rng.randrange(domains)), 1600000000 + i,
                            "contact number%d" % i) for i in range(count)])
            c.executemany("INSERT OR IGNORE INTO domains(name, created) VALUES(?, 1600000000)",
                          [("hosted%d.example" % i,) for i in range(hosted)])
            c.commit()
            c.close()
        except sqlite3.Error as e:
            raise BenchError("%s: cannot add correspondents to %s: %s" % (self.name, db, e)) from None

    def serve(self):
        log = os.path.join(self.dir, "serve")
        self.proc = start([self.binary, "serve", "--config", self.config], log, "listening")
        self.log = log + ".err"

    def stop(self):
        if self.proc:
            stop(self.proc)
            self.proc = None

    # ---- SMTP in ----

    def connect(self):
        try:
            c = smtplib.SMTP("127.0.0.1", self.ports["smtp.listen"], local_hostname=RELAY_NAME,
                             timeout=STALL_SECONDS, source_address=(RELAY_IP, 0))
            c.ehlo()
            return c
        except (OSError, smtplib.SMTPException) as e:
            raise BenchError("%s: cannot open an SMTP session from %s: %s; the server's log ends: %s"
                             % (self.name, RELAY_IP, e, tail(self.log))) from None

    def send(self, conn, sender, rcpt, data):
        """None if the MX took the message, else its refusal (code, text); raises
        SMTPServerDisconnected/OSError when the session broke."""
        opts = ["BODY=8BITMIME"] if conn.has_extn("8bitmime") and any(b > 127 for b in data) else []
        try:
            conn.sendmail(sender, [rcpt], data, mail_options=opts)
            return None
        except smtplib.SMTPRecipientsRefused as e:
            code, text = e.recipients[rcpt]
        except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as e:
            code, text = e.smtp_code, e.smtp_error
        return code, text.decode(errors="replace") if isinstance(text, bytes) else str(text)

    def deliver(self, messages, after=None):
        """Delivers messages in order (RCPT user+N, N from 1). Returns {N: (code, text)} of
        the refused ones, the delivery's wall-clock seconds and the server's CPU seconds.
        after(N): called once message N has its answer (its time counted in the delivery's)."""
        refused = {}
        conn, in_conn = None, 0
        limit = Deadline("%s: delivering %d messages" % (self.name, len(messages)), deadline_for(len(messages)))
        cpu0, t0 = tree_cpu_seconds(self.proc.pid), time.monotonic()
        for n, m in enumerate(messages, 1):
            limit.check(n - 1)
            data = re.sub(rb"\r?\n", b"\r\n", m.data())
            sender, rcpt = envelope_sender(m.data()), "%s+%d@%s" % (USER, n, DOMAIN)
            for attempt in range(1, TEMP_FAILURE_ATTEMPTS + 2):
                if conn is None:
                    conn, in_conn = self.connect(), 0
                try:
                    r = self.send(conn, sender, rcpt, data)
                except (smtplib.SMTPServerDisconnected, OSError) as e:
                    conn = None
                    if attempt > TEMP_FAILURE_ATTEMPTS:
                        raise BenchError("%s: the SMTP session broke on %s: %s; the server's log ends: %s"
                                         % (self.name, m.key, e, tail(self.log))) from None
                    continue
                if r is not None and 400 <= r[0] < 500 and attempt <= TEMP_FAILURE_ATTEMPTS:
                    time.sleep(TEMP_FAILURE_PAUSE)
                    continue
                if r is not None:
                    refused[n] = r
                break
            if after:
                after(n)
            in_conn += 1
            if conn is not None and in_conn >= MESSAGES_PER_CONNECTION:
                try:
                    conn.quit()
                except (smtplib.SMTPException, OSError):
                    pass
                conn = None
        if conn is not None:
            try:
                conn.quit()
            except (smtplib.SMTPException, OSError):
                pass
        seconds = time.monotonic() - t0
        return refused, seconds, tree_cpu_seconds(self.proc.pid) - cpu0

    def verdict_cpu(self):
        """(seconds, verdicts) of the server's own measure of its spam verdicts' CPU time
        (the metric mailkeep_spam_verdict_cpu_seconds, docs/metrics.md: rules, classifier, the
        store's reads of what the recipient knows; sender authentication, DNS, SMTP and storing
        the message are not in it)."""
        url = "http://127.0.0.1:%d/metrics" % self.ports["metrics.listen"]
        try:
            with urllib.request.urlopen(url, timeout=STALL_SECONDS) as r:
                text = r.read().decode()
        except OSError as e:
            raise BenchError("%s: cannot read the metrics at %s: %s" % (self.name, url, e)) from None
        found = dict(re.findall(r"(?m)^mailkeep_spam_verdict_cpu_seconds_(sum|count) (\S+)$", text))
        if set(found) != {"sum", "count"}:
            raise BenchError("%s: the metrics have no mailkeep_spam_verdict_cpu_seconds" % self.name)
        return float(found["sum"]), int(float(found["count"]))

    # ---- IMAP out ----

    def imap_login(self):
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE  # quickstart's self-signed certificate
        imap = imaplib.IMAP4_SSL("127.0.0.1", self.ports["imap.listen_tls"], ssl_context=context,
                                 timeout=STALL_SECONDS)
        imap.login(ADDRESS, PASSWORD)
        return imap

    def fetch_verdicts(self, imap, folder, uids="1:*", readonly=True):
        """[(uid, N, action, score)] of the benchmark messages in `folder` among `uids`."""
        typ, _ = imap.select(folder, readonly=readonly)
        if typ != "OK":
            raise BenchError("%s: cannot select %s" % (self.name, folder))
        typ, data = imap.uid("FETCH", uids, "(UID BODY.PEEK[HEADER.FIELDS (X-MAILKEEP-SPAM RECEIVED)])")
        if typ != "OK":
            raise BenchError("%s: UID FETCH in %s failed: %s" % (self.name, folder, data))
        out = []
        for item in data:
            if not isinstance(item, tuple):
                continue
            n, action, score = parse_fields(item[1])
            if n is None:
                continue  # not a benchmark message (none is expected)
            uid = re.search(rb"UID (\d+)", item[0])
            out.append((int(uid.group(1)) if uid else None, n, action, score))
        return out

    def stored_verdicts(self):
        """{N: (folder, action, score)} of the messages in INBOX and Junk, by their user+N."""
        out = {}
        try:
            imap = self.imap_login()
            for folder in ("INBOX", "Junk"):
                for _, n, action, score in self.fetch_verdicts(imap, folder):
                    if n in out:
                        raise BenchError("%s: message %d is stored twice" % (self.name, n))
                    out[n] = (folder, action, score)
            imap.logout()
        except (OSError, imaplib.IMAP4.error) as e:
            raise BenchError("%s: reading the verdicts over IMAP: %s" % (self.name, e)) from None
        return out


class CorrectingUser:
    """The user of mx_verdicts' correct_every: looks at the new mail in INBOX and Junk over one
    IMAP session and moves each mistake (is_spam(N) says what message N is). `seen` holds each
    message's verdict as it arrived, {N: (folder, action, score)}."""

    def __init__(self, inst, is_spam):
        self.inst, self.is_spam = inst, is_spam
        self.imap = inst.imap_login()
        self.seen = {}
        self.next_uid = {"INBOX": 1, "Junk": 1}
        self.moved = {"INBOX": 0, "Junk": 0}  # mistakes moved out of each folder
        self.moves = 0  # UID MOVE commands: the learner takes up each as one job

    def learnt(self):
        """Waits until the server's learner has taken up every move so far (its log has a
        filter.trained line for each, or filter.learnt_nothing for one that taught nothing
        new), so that the next messages meet what the user taught, whatever the machine's
        speed: the figures do not depend on how fast the learner thread ran. A move the
        learner dropped, or one it could not read or save, stops the row at once: its figures
        would not be the filter's. Each UID MOVE between INBOX and Junk of messages still
        there is one job (a move of nothing, or within one kind of folder, would be none)."""
        deadline = time.monotonic() + STALL_SECONDS
        while True:
            with open(self.inst.log, errors="replace") as f:
                text = f.read()
            for failed in ("event=filter.train_queue_full ", "event=filter.train_failed "):
                if failed in text:
                    raise BenchError("%s: the server's learner logged %s; its log ends: %s"
                                     % (self.inst.name, failed.split("=")[1].strip(), tail(self.inst.log)))
            # (A reply teaches too, evidence=replied; this user sends none.)
            done = sum(1 for line in text.splitlines()
                       if ("event=filter.trained " in line and "evidence=replied" not in line)
                       or "event=filter.learnt_nothing " in line)
            if done >= self.moves:
                return
            if time.monotonic() > deadline:
                raise BenchError("%s: the server's learner took up %d of the user's %d moves within %d s; its log "
                                 "ends: %s" % (self.inst.name, done, self.moves, STALL_SECONDS, tail(self.inst.log)))
            time.sleep(0.01)

    def look(self):
        try:
            for folder, other in (("INBOX", "Junk"), ("Junk", "INBOX")):
                found = self.inst.fetch_verdicts(self.imap, folder, "%d:*" % self.next_uid[folder], readonly=False)
                wrong, fresh = [], []
                for uid, n, action, score in found:
                    if uid is None or uid < self.next_uid[folder]:
                        continue  # "N:*" names the last message when none is newer
                    self.next_uid[folder] = max(self.next_uid[folder], uid + 1)
                    if n in self.seen:
                        continue  # a message the user moved here
                    self.seen[n] = (folder, action, score)
                    fresh.append(str(uid))
                    if self.is_spam(n) != (folder == "Junk"):
                        wrong.append(str(uid))
                if folder == "INBOX" and fresh:
                    # The user reads the new mail in INBOX (Junk's only by its list).
                    typ, data = self.imap.uid("STORE", ",".join(fresh), "+FLAGS.SILENT", "(\\Seen)")
                    if typ != "OK":
                        raise BenchError("%s: UID STORE \\Seen failed: %s" % (self.inst.name, data))
                if wrong:
                    typ, data = self.imap.uid("MOVE", ",".join(wrong), other)
                    if typ != "OK":
                        raise BenchError("%s: UID MOVE to %s failed: %s" % (self.inst.name, other, data))
                    self.moved[folder] += len(wrong)
                    self.moves += 1
            self.learnt()
        except (OSError, imaplib.IMAP4.error) as e:
            raise BenchError("%s: the correcting user's IMAP session: %s" % (self.inst.name, e)) from None

    def close(self):
        try:
            self.imap.logout()
        except (OSError, imaplib.IMAP4.error):
            pass


def parse_fields(head):
    """(N, action, score) from a stored message's X-Mailkeep-Spam and Received fields."""
    text = re.sub(r"\r?\n[ \t]+", " ", head.decode("utf-8", errors="replace"))
    n = re.search(r"<%s\+(\d+)@%s>" % (re.escape(USER), re.escape(DOMAIN)), text, re.I)
    verdict = re.search(r"^X-Mailkeep-Spam:\s*([a-z]+);\s*score=(-?[0-9.]+)", text, re.I | re.M)
    if not n:
        return None, None, None
    if not verdict:
        raise BenchError("message %s has no X-Mailkeep-Spam field: %s" % (n.group(1), text[:300]))
    return int(n.group(1)), verdict.group(1).lower(), float(verdict.group(2))


def mx_verdicts(binary, work, name, dns, test, train_dirs=None, correspondents=0, hosted=0, correct_every=0):
    """A fresh instance (trained with `mailkeep spam train` on train_dirs when given; its
    account given `correspondents` correspondents, the server `hosted` more domains), the
    test messages delivered in order; with correct_every, a CorrectingUser looks at the new
    mail after every that many messages, and the verdicts are those the messages arrived with.
    Returns (verdicts, rate, cpu_ms, thresholds, notes) with verdicts[i] = (flagged, action,
    score) for test[i]."""
    inst = Instance(binary, work, name, dns)
    notes = []
    try:
        if train_dirs:
            out = inst.admin("spam", "train", "--spam", train_dirs[0], "--ham", train_dirs[1],
                             timeout=deadline_for(sum(len(os.listdir(d)) for d in train_dirs)))
            notes.append("%s: `mailkeep spam train`: %s" % (name, out.strip()))
        if correspondents or hosted:
            inst.seed_history(correspondents, hosted)
            notes.append("%s: the account has %d correspondents at %d domains; the server hosts %d more domains"
                         % (name, correspondents, max(1, correspondents // 3), hosted))
        thresholds = inst.thresholds()
        inst.serve()
        user = None
        if correct_every:
            user = CorrectingUser(inst, lambda n: test[n - 1].spam)
            after = lambda n: user.look() if n % correct_every == 0 or n == len(test) else None
        try:
            refused, seconds, cpu = inst.deliver(test, after if user else None)
            if user:
                user.look()
                stored = user.seen
                notes.append("%s: the user looked at the new mail after every %d messages and moved %d spam out of "
                             "INBOX and %d ham out of Junk (UID MOVE); each verdict is the one the message arrived "
                             "with; delivery time and CPU include the user's IMAP session"
                             % (name, correct_every, user.moved["INBOX"], user.moved["Junk"]))
            verdict_seconds, verdict_count = inst.verdict_cpu()
            if not user:
                stored = inst.stored_verdicts()
        finally:
            if user:
                user.close()
    finally:
        inst.stop()
    verdicts, other, missing = [], {}, []
    for n, m in enumerate(test, 1):
        if n in refused:
            code, text = refused[n]
            s = SPAM_REFUSAL.search(text)
            if code == 550 and s:
                verdicts.append((True, "reject", float(s.group(1))))
                continue
            # Refused for another reason than spam: not delivered, so counted as junked, and
            # without a score (left out of the score-based figures); listed below the table.
            other.setdefault("%d %s" % (code, text[:120]), []).append(m.key)
            verdicts.append((True, "refused", None))
        elif n in stored:
            folder, action, score = stored[n]
            verdicts.append((folder == "Junk", action, score))
        else:
            missing.append(m.key)
            verdicts.append(None)
    if verdict_count:
        notes.append("%s: the spam verdict's CPU, as the server measures it (mailkeep_spam_verdict_cpu_seconds): "
                     "%.3f ms a message over %d verdicts; the whole server's, SMTP and storage included: %.2f ms"
                     % (name, 1000.0 * verdict_seconds / verdict_count, verdict_count, 1000.0 * cpu / len(test)))
    for reply, keys in sorted(other.items()):
        notes.append("%s: %d refused for another reason than spam (counted as junked, no score): \"%s\", e.g. %s"
                     % (name, len(keys), reply, ", ".join(keys[:3])))
    if missing:
        raise BenchError("%s: %d messages were accepted but are in neither INBOX nor Junk, e.g. %s"
                         % (name, len(missing), ", ".join(missing[:5])))
    return verdicts, len(test) / seconds, 1000.0 * cpu / len(test), thresholds, notes
