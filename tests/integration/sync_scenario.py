"""The sync-client round trips shared by test_mbsync.py and test_offlineimap.py: a
1,000-message INBOX synced to a Maildir and back, with local reads, deletions and new
messages, then server-side flags and expunges, then a round where nothing changed.
Every round must succeed, leave no duplicate on either side, and end with both sides equal."""
import imaplib
import os
import re
import socket

import mkharness as mk

COUNT = 1000


def maildir_messages(path):
    """{message-id: (flags, path)} for a Maildir folder; fails on a duplicate."""
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


def run_round_trips(test, srv, sync, inbox):
    """sync() runs the client once and returns (ok, output); inbox is the local INBOX path."""
    imap = imaplib.IMAP4_SSL("127.0.0.1", srv.imaps_port, ssl_context=mk.client_tls_context())
    imap.login("me@localhost", mk.PASSWORD)
    # imaplib writes a literal in pieces; without TCP_NODELAY each APPEND waits ~40 ms
    # for a delayed ACK (client-side Nagle), which only slows the test down.
    imap.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    for i in range(COUNT):
        imap.append("INBOX", None, None,
                    b"Message-ID: <m%d@test>\r\nSubject: message %d\r\n\r\nbody %d\r\n" % (i, i, i))

    def server_state():
        imap.select("INBOX")
        typ, data = imap.fetch("1:*", "(FLAGS BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
        state = {}
        for item in data:
            if not isinstance(item, tuple):
                continue
            mid = re.search(rb"<([^>]+)>", item[1]).group(1).decode()
            test.assertNotIn(mid, state, "duplicate on the server")
            state[mid] = item[0]
        imap.close()
        return state

    def sync_ok():
        ok, output = sync()
        test.assertTrue(ok, output[-4000:])

    # Round 1: everything comes down.
    sync_ok()
    local = maildir_messages(inbox)
    test.assertEqual(len(local), COUNT)

    # Round 2: local changes go up: 100 read, 50 deleted, 10 new.
    for i in range(100):
        flags, path = local["m%d@test" % i]
        base = os.path.basename(path).split(":2,")[0]
        os.rename(path, os.path.join(inbox, "cur", base + ":2,S"))
    for i in range(100, 150):
        os.unlink(local["m%d@test" % i][1])
    for i in range(10):
        with open(os.path.join(inbox, "new", "local%d.vm" % i), "wb") as f:
            f.write(b"Message-ID: <local%d@test>\r\nSubject: local %d\r\n\r\nx\r\n" % (i, i))
    sync_ok()
    server = server_state()
    test.assertEqual(len(server), COUNT - 50 + 10)
    test.assertEqual(sum(1 for f in server.values() if rb"\Seen" in f), 100)
    test.assertNotIn("m120@test", server)
    test.assertIn("local3@test", server)

    # Round 3: server changes come down: 20 flagged, 30 expunged.
    imap.select("INBOX")
    imap.store("1:20", "+FLAGS", r"(\Flagged)")
    imap.store("21:50", "+FLAGS", r"(\Deleted)")
    imap.expunge()
    imap.close()
    sync_ok()
    local = maildir_messages(inbox)
    test.assertEqual(len(local), COUNT - 50 + 10 - 30)
    test.assertEqual(sum(1 for f, _ in local.values() if "F" in f), 20)
    test.assertEqual(set(local), set(server_state()))

    # Round 4: nothing changed, nothing happens.
    before = sorted(local)
    sync_ok()
    test.assertEqual(sorted(maildir_messages(inbox)), before)
    test.assertEqual(len(server_state()), len(before))
    imap.logout()
