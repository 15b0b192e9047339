"""mbsync (isync), a real sync client, against mailkeep: a 1,000-message mailbox synced to
Maildir and back, with flag changes and deletions on both sides, several rounds, zero
errors and no duplicates on either side."""
import imaplib
import os
import re
import socket
import subprocess
import unittest

import mkharness as mk

COUNT = 1000


def mbsync(rc):
    r = subprocess.run(["mbsync", "-c", rc, "-a"], capture_output=True, text=True, timeout=300)
    return r


def maildir_messages(path):
    """{message-id: flags} for a Maildir folder."""
    out = {}
    for sub in ("cur", "new"):
        d = os.path.join(path, sub)
        for name in os.listdir(d) if os.path.isdir(d) else []:
            with open(os.path.join(d, name), "rb") as f:
                m = re.search(rb"(?im)^Message-ID: <([^>]+)>", f.read())
            flags = name.split(":2,")[1] if ":2," in name else ""
            key = m.group(1).decode()
            assert key not in out, "duplicate in Maildir: " + key
            out[key] = (flags, os.path.join(d, name))
    return out


class MbsyncTest(unittest.TestCase):
    def test_round_trips(self):
        srv = mk.Server().start()
        self.addCleanup(srv.cleanup)
        imap = imaplib.IMAP4_SSL("127.0.0.1", srv.imaps_port, ssl_context=mk.client_tls_context())
        imap.login("me@localhost", mk.PASSWORD)
        # imaplib writes a literal in pieces; without TCP_NODELAY each APPEND waits ~40 ms
        # for a delayed ACK (client-side Nagle), which only slows the test down.
        imap.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for i in range(COUNT):
            imap.append("INBOX", None, None,
                        b"Message-ID: <m%d@test>\r\nSubject: message %d\r\n\r\nbody %d\r\n" % (i, i, i))
        maildir = os.path.join(srv.dir, "maildir")
        os.makedirs(maildir)
        rc = os.path.join(srv.dir, "mbsyncrc")
        with open(rc, "w") as f:
            f.write("""IMAPAccount mk
Host 127.0.0.1
Port {port}
User me@localhost
Pass {pw}
SSLType IMAPS
CertificateFile {cert}

IMAPStore remote
Account mk

MaildirStore local
Path {md}/
Inbox {md}/INBOX
SubFolders Verbatim

Channel mk
Far :remote:
Near :local:
Patterns *
Create Both
Expunge Both
SyncState *
Sync All
""".format(port=srv.imaps_port, pw=mk.PASSWORD, md=maildir,
           cert=os.path.join(srv.dir, "tls", "selfsigned-cert.pem")))

        def server_state():
            imap.select("INBOX")
            typ, data = imap.fetch("1:*", "(FLAGS BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
            state = {}
            for item in data:
                if not isinstance(item, tuple):
                    continue
                mid = re.search(rb"<([^>]+)>", item[1]).group(1).decode()
                self.assertNotIn(mid, state, "duplicate on the server")
                state[mid] = item[0]
            imap.close()
            return state

        # Round 1: everything comes down.
        r = mbsync(rc)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        local = maildir_messages(os.path.join(maildir, "INBOX"))
        self.assertEqual(len(local), COUNT)

        # Round 2: local changes go up: 100 read, 50 deleted, 10 new.
        for i in range(100):
            flags, path = local["m%d@test" % i]
            base = os.path.basename(path).split(":2,")[0]
            os.rename(path, os.path.join(maildir, "INBOX", "cur", base + ":2,S"))
        for i in range(100, 150):
            os.unlink(local["m%d@test" % i][1])
        for i in range(10):
            with open(os.path.join(maildir, "INBOX", "new", "local%d.vm" % i), "wb") as f:
                f.write(b"Message-ID: <local%d@test>\r\nSubject: local %d\r\n\r\nx\r\n" % (i, i))
        r = mbsync(rc)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        server = server_state()
        self.assertEqual(len(server), COUNT - 50 + 10)
        self.assertEqual(sum(1 for f in server.values() if rb"\Seen" in f), 100)
        self.assertNotIn("m120@test", server)
        self.assertIn("local3@test", server)

        # Round 3: server changes come down: 20 flagged, 30 expunged.
        imap.select("INBOX")
        imap.store("1:20", "+FLAGS", r"(\Flagged)")
        imap.store("21:50", "+FLAGS", r"(\Deleted)")
        imap.expunge()
        imap.close()
        r = mbsync(rc)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        local = maildir_messages(os.path.join(maildir, "INBOX"))
        self.assertEqual(len(local), COUNT - 50 + 10 - 30)
        self.assertEqual(sum(1 for f, _ in local.values() if "F" in f), 20)
        self.assertEqual(set(local), set(server_state()))

        # Round 4: nothing changed, nothing happens.
        before = sorted(local)
        r = mbsync(rc)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(sorted(maildir_messages(os.path.join(maildir, "INBOX"))), before)
        self.assertEqual(len(server_state()), len(before))
        imap.logout()


if __name__ == "__main__":
    unittest.main(verbosity=2)
