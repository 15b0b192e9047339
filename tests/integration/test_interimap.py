"""interimap, a real QRESYNC sync client, against mailkeep: it needs LIST-EXTENDED and
LIST-STATUS (and refused mailkeep with "Non LIST-EXTENDED-capable IMAP server" before them).

interimap keeps two IMAP servers in step. The remote one is mailkeep, over TLS on its IMAPS
port with the dev certificate verified. The local one is Dovecot (Debian's dovecot-imapd),
run per sync as a tunnel (the imap binary in pre-authenticated mode) on a temporary Maildir,
as the dovecot user: Dovecot serves no mail to root and refuses a socket on standard output
as root ("must not be started from inetd"). The tests read the Dovecot side through the same
binary with imaplib's IMAP4_stream.

Each run of interimap must exit 0. Between runs, changes on either side must reach the other:
new messages (also in a new folder below another), flags both ways, and deletions.
"""
import imaplib
import os
import re
import shutil
import subprocess
import tempfile
import unittest

import mkharness as mk

USER = "me@localhost"
DOVECOT_IMAP = "/usr/lib/dovecot/imap"


class Dovecot:
    """A private Dovecot mail store, spoken to through its imap binary on stdin/stdout."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="mk-dovecot-")
        os.chmod(self.dir, 0o755)  # the dovecot user reads its config here
        for d in ("mail", "home"):
            os.mkdir(os.path.join(self.dir, d))
            shutil.chown(os.path.join(self.dir, d), "dovecot", "dovecot")
        self.log = os.path.join(self.dir, "dovecot.log")
        open(self.log, "w").close()
        shutil.chown(self.log, "dovecot", "dovecot")
        self.conf = os.path.join(self.dir, "dovecot.conf")
        with open(self.conf, "w") as f:
            f.write("""first_valid_uid = 1
first_valid_gid = 1
mail_location = maildir:{d}/mail:LAYOUT=fs
mail_home = {d}/home
mail_uid = dovecot
mail_gid = dovecot
ssl = no
log_path = {d}/dovecot.log
namespace inbox {{
  inbox = yes
  separator = /
}}
""".format(d=self.dir))
        os.chmod(self.conf, 0o644)

    def command(self):
        """The tunnel: Dovecot's imap, pre-authenticated, as the dovecot user."""
        return ("env USER=dovecot HOME={home} setpriv --reuid=dovecot --regid=dovecot --clear-groups "
                "{imap} -c {conf}".format(home=os.path.join(self.dir, "home"), imap=DOVECOT_IMAP, conf=self.conf))

    def client(self):
        # Its log lines on stderr (a standalone imap logs there) go to the log file.
        return imaplib.IMAP4_stream(self.command() + " 2>>" + self.log)

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def subjects_and_flags(m, mailbox):
    """{subject: set of flags} of a mailbox, through an imaplib client."""
    typ, data = m.select('"%s"' % mailbox)
    if typ != "OK":
        return None
    if int(data[0]) == 0:
        m.close()
        return {}
    typ, data = m.fetch("1:*", "(FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    out = {}
    for item in data:
        if not isinstance(item, tuple):
            continue
        flags = set(re.search(rb"FLAGS \(([^)]*)\)", item[0]).group(1).decode().split()) - {"\\Recent"}
        subject = re.search(rb"Subject: ([^\r\n]*)", item[1]).group(1).decode()
        out[subject] = flags
    m.close()
    return out


def message(subject):
    return ("From: Alice <alice@example.org>\r\nTo: me@localhost\r\nSubject: %s\r\n"
            "Date: Tue, 01 Dec 2026 08:00:00 +0000\r\nMessage-ID: <%s@test>\r\n\r\nHello.\r\n"
            % (subject, subject.replace(" ", "."))).encode()


class InterimapTest(unittest.TestCase):
    def setUp(self):
        self.srv = mk.Server().start()
        self.addCleanup(self.srv.cleanup)
        self.dovecot = Dovecot()
        self.addCleanup(self.dovecot.cleanup)
        self.work = tempfile.mkdtemp(prefix="mk-interimap-")
        self.addCleanup(shutil.rmtree, self.work, True)
        self.config = os.path.join(self.work, "config")
        with open(self.config, "w") as f:
            f.write("""database = {work}/interimap.db

[local]
type = tunnel
command = {tunnel}

[remote]
type = imaps
host = 127.0.0.1
port = {port}
username = {user}
password = {pw}
SSL_CAfile = {cert}
""".format(work=self.work, tunnel=self.dovecot.command(), port=self.srv.imaps_port, user=USER, pw=mk.PASSWORD,
           cert=os.path.join(self.srv.dir, "tls", "selfsigned-cert.pem")))

    def sync(self):
        env = dict(os.environ, HOME=self.work, XDG_DATA_HOME=self.work, XDG_CONFIG_HOME=self.work)
        r = subprocess.run(["interimap", "--config=" + self.config], capture_output=True, text=True,
                           timeout=mk.HANG_GUARD * 5, env=env)
        self.assertEqual(r.returncode, 0, "interimap failed:\n%s\n%s" % (r.stderr[-4000:], self.srv.stderr()[-2000:]))
        return r.stderr

    def mailkeep(self):
        m = imaplib.IMAP4_SSL("127.0.0.1", self.srv.imaps_port, ssl_context=mk.client_tls_context(), timeout=30)
        m.login(USER, mk.PASSWORD)
        return m

    def both(self, mailbox):
        """(mailkeep's, Dovecot's) {subject: flags} of a mailbox."""
        r = self.mailkeep()
        d = self.dovecot.client()
        try:
            return subjects_and_flags(r, mailbox), subjects_and_flags(d, mailbox)
        finally:
            r.logout()
            d.logout()

    def test_sync_both_ways(self):
        # Before the first sync: a message on each side, and a folder below another on mailkeep.
        r = self.mailkeep()
        self.assertEqual(r.append("INBOX", None, None, message("from mailkeep"))[0], "OK")
        self.assertEqual(r.create("Clubs/Chess")[0], "OK")
        self.assertEqual(r.append("Clubs/Chess", "(\\Flagged)", None, message("chess night"))[0], "OK")
        r.logout()
        d = self.dovecot.client()
        self.assertEqual(d.append("INBOX", "(\\Seen)", None, message("from dovecot"))[0], "OK")
        d.logout()

        self.sync()
        want = {"from mailkeep": set(), "from dovecot": {"\\Seen"}}
        self.assertEqual(self.both("INBOX"), (want, want))
        self.assertEqual(self.both("Clubs/Chess"), ({"chess night": {"\\Flagged"}},) * 2)
        # The special-use folders mailkeep starts with exist on the Dovecot side now.
        d = self.dovecot.client()
        typ, data = d.list('""', '"*"')
        d.logout()
        names = {re.search(rb'"/" "?([^"]*)"?$', l).group(1).decode() for l in data}
        self.assertLessEqual({"INBOX", "Sent", "Drafts", "Junk", "Trash", "Archive", "Clubs/Chess"}, names)

        # Flags change on each side, a message is deleted on one and added on the other.
        r = self.mailkeep()
        r.select("INBOX")
        typ, data = r.search(None, "SUBJECT", '"from dovecot"')
        r.store(data[0], "+FLAGS", "(\\Answered)")
        r.close()
        r.select("Clubs/Chess")
        r.store("1", "+FLAGS", "(\\Deleted)")
        r.expunge()
        r.logout()
        d = self.dovecot.client()
        d.select("INBOX")
        typ, data = d.search(None, "SUBJECT", '"from mailkeep"')
        d.store(data[0], "+FLAGS", "(\\Flagged)")
        d.close()
        self.assertEqual(d.append("INBOX", None, None, message("second from dovecot"))[0], "OK")
        d.logout()

        self.sync()
        want = {"from mailkeep": {"\\Flagged"}, "from dovecot": {"\\Seen", "\\Answered"}, "second from dovecot": set()}
        self.assertEqual(self.both("INBOX"), (want, want))
        self.assertEqual(self.both("Clubs/Chess"), ({}, {}))
        # The stored message is the one Dovecot had, byte for byte.
        stored = [m for _, m in self.srv.messages(mailbox="INBOX") if b"Subject: second from dovecot" in m]
        self.assertEqual(stored, [message("second from dovecot")])

        # Nothing changed: the next run only checks, and changes nothing.
        self.sync()
        self.assertEqual(self.both("INBOX"), (want, want))


if __name__ == "__main__":
    unittest.main(verbosity=2)
