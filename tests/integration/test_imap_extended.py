"""LIST-EXTENDED (RFC 5258), LIST-STATUS (RFC 5819) and AUTHENTICATE SCRAM-SHA-256 (RFC 7677)
on the real binary, with Python's imaplib. imaplib keeps untagged responses by kind, which
loses their order, so the client here also records every line it reads: LIST-STATUS is about
a STATUS line coming after its LIST line. imaplib has no SCRAM: the client side here is
written from RFC 5802 §3, and checks the server's signature."""
import base64
import hashlib
import hmac
import imaplib
import json
import os
import re
import socket
import unittest

import mkharness as mk

USER = "me@localhost"


class Recording(imaplib.IMAP4_SSL):
    """imaplib over TLS that also keeps the lines it reads, in order."""

    def __init__(self, *args, **kwargs):
        self.lines = []
        super().__init__(*args, **kwargs)

    def _get_line(self):
        line = super()._get_line()
        self.lines.append(line.decode(errors="replace"))
        return line

    def run(self, name, *args):
        """The command's untagged lines in order, after an OK."""
        self.lines = []
        typ, data = self._simple_command(name, *args)
        if typ != "OK":
            raise imaplib.IMAP4.error("%s: %s %s" % (name, typ, data))
        for kind in ("LIST", "STATUS", "EXISTS", "RECENT", "FETCH"):
            self.untagged_responses.pop(kind, None)
        return [l for l in self.lines if l.startswith("* ")]


class Scram:
    """The client side of SCRAM-SHA-256 as imaplib's authenticate() drives it: called with
    each challenge, it returns the response (None cancels)."""

    def __init__(self, user, password, cancel_at=None):
        self.user, self.password, self.cancel_at = user, password, cancel_at
        self.nonce = base64.b64encode(os.urandom(18)).decode()
        self.step = 0
        self.verified = False

    def first(self):
        self.bare = "n=%s,r=%s" % (self.user, self.nonce)
        return ("n,," + self.bare).encode()

    def __call__(self, challenge):
        self.step += 1
        if self.step == self.cancel_at:
            return None
        if self.step == 1:
            return self.first()
        if self.step == 2:
            return self.final(challenge)
        # The server's signature: a client must check it before it trusts the login.
        self.verified = challenge.decode() == self.expected
        return b"" if self.verified else None

    def final(self, server_first):
        sf = server_first.decode()
        attrs = dict(part.split("=", 1) for part in sf.split(","))
        assert attrs["r"].startswith(self.nonce), sf
        salted = hashlib.pbkdf2_hmac("sha256", self.password.encode(), base64.b64decode(attrs["s"]), int(attrs["i"]))
        client_key = hmac.digest(salted, b"Client Key", "sha256")
        stored_key = hashlib.sha256(client_key).digest()
        without_proof = "c=biws,r=" + attrs["r"]
        auth_message = ",".join((self.bare, sf, without_proof)).encode()
        signature = hmac.digest(stored_key, auth_message, "sha256")
        proof = bytes(a ^ b for a, b in zip(client_key, signature))
        server_key = hmac.digest(salted, b"Server Key", "sha256")
        self.expected = "v=" + base64.b64encode(hmac.digest(server_key, auth_message, "sha256")).decode()
        return (without_proof + ",p=" + base64.b64encode(proof).decode()).encode()


class ImapExtendedTest(mk.SharedServerTest):

    def connect(self):
        m = Recording("127.0.0.1", self.srv.imaps_port, ssl_context=mk.client_tls_context(), timeout=30)
        self.addCleanup(self._logout, m)
        return m

    def login(self):
        m = self.connect()
        m.login(USER, mk.PASSWORD)
        return m

    @staticmethod
    def _logout(m):
        try:
            m.logout()
        except (imaplib.IMAP4.error, OSError):
            pass

    def logins(self, event):
        """How many records of IMAP logins (event "login" or "login_failed") of USER the
        security log holds."""
        with open(os.path.join(self.srv.dir, "security.log")) as f:
            records = [json.loads(l) for l in f]
        return sum(1 for r in records if r["event"] == event and r.get("service") == "imap" and r.get("user") == USER)

    # --- CAPABILITY ---

    def test_capabilities(self):
        # Before TLS: the LIST extensions, no mechanism (PRODUCT.md: no AUTH before TLS).
        m = imaplib.IMAP4("127.0.0.1", self.srv.imap_port, timeout=30)
        self.addCleanup(self._logout, m)
        for cap in ("LIST-EXTENDED", "LIST-STATUS", "LOGINDISABLED"):
            self.assertIn(cap, m.capabilities)
        self.assertFalse([c for c in m.capabilities if c.startswith("AUTH=")], m.capabilities)
        with self.assertRaises(imaplib.IMAP4.error) as cm:
            m.authenticate("SCRAM-SHA-256", Scram(USER, mk.PASSWORD))
        self.assertIn("PRIVACYREQUIRED", str(cm.exception))
        m.starttls(ssl_context=mk.client_tls_context())
        for cap in ("LIST-EXTENDED", "LIST-STATUS", "AUTH=SCRAM-SHA-256", "AUTH=PLAIN"):
            self.assertIn(cap, m.capabilities)
        # Logged in: still the LIST extensions, no more mechanisms.
        typ, _ = m.login(USER, mk.PASSWORD)
        self.assertEqual(typ, "OK")
        typ, data = m.capability()
        caps = data[0].decode().split()
        self.assertIn("LIST-EXTENDED", caps)
        self.assertIn("LIST-STATUS", caps)
        self.assertFalse([c for c in caps if c.startswith("AUTH=")], caps)

    # --- LIST-EXTENDED and LIST-STATUS ---

    def test_list_extended(self):
        m = self.login()
        for name in ("Clubs/Chess", "Clubs/Choir", "Lists/debian"):
            self.assertEqual(m.create(name)[0], "OK")
        m.unsubscribe("Clubs")
        m.unsubscribe("Clubs/Choir")
        m.unsubscribe("Lists/debian")
        self.assertEqual(m.delete("Lists")[0], "OK")  # Lists/debian stays
        self.assertEqual(m.run("LIST", "(SUBSCRIBED RECURSIVEMATCH)", '""', '("C%" "INBOX" "Sent")', "RETURN", "(CHILDREN)"),
                         ['* LIST (\\HasChildren) "/" "Clubs" ("CHILDINFO" ("SUBSCRIBED"))',
                          '* LIST (\\HasNoChildren \\Subscribed) "/" "INBOX"',
                          '* LIST (\\HasNoChildren \\Subscribed \\Sent) "/" "Sent"'])
        self.assertEqual(m.run("LIST", '""', '("INBOX" "Clubs/%" "Lists*")', "RETURN", "(SUBSCRIBED)"),
                         ['* LIST (\\Subscribed) "/" "Clubs/Chess"',
                          '* LIST () "/" "Clubs/Choir"',
                          '* LIST (\\Subscribed) "/" "INBOX"',
                          '* LIST () "/" "Lists/debian"'])
        # A level that does not exist: listed by a trailing "%" only.
        self.assertEqual(m.run("LIST", '""', '"L%"'), ['* LIST (\\NonExistent \\Noselect \\HasChildren) "/" "Lists"'])
        self.assertEqual(m.run("LIST", "(SPECIAL-USE)", '""', '"*"'),
                         ['* LIST (\\Archive) "/" "Archive"', '* LIST (\\Drafts) "/" "Drafts"',
                          '* LIST (\\Junk) "/" "Junk"', '* LIST (\\Sent) "/" "Sent"', '* LIST (\\Trash) "/" "Trash"'])
        # The basic LIST and LSUB answer as they did.
        self.assertIn(b'(\\HasChildren) "/" "Clubs"', m.list('""', '"Clubs"')[1][0])
        self.assertEqual(m.lsub('""', '"Clubs*"')[1], [b'(\\HasNoChildren) "/" "Clubs/Chess"'])
        # Malformed: a BAD that says why.
        for args, why in (((("(RECURSIVEMATCH)", '""', '"*"')), "RECURSIVEMATCH needs SUBSCRIBED or SPECIAL-USE"),
                          ((('""', '"*"', "RETURN", "(STATUS", "(BOGUS))")), "Unknown STATUS item BOGUS"),
                          ((("(FOO)", '""', '"*"')), "Unknown LIST selection option FOO")):
            with self.assertRaises(imaplib.IMAP4.error) as cm:
                m.run("LIST", *args)
            self.assertIn(why, str(cm.exception))

    def test_list_status(self):
        m = self.login()
        m.create("Reports/2026")
        for subject, flags in (("one", "(\\Seen)"), ("two", None), ("three", None)):
            msg = ("From: a@example.org\r\nSubject: %s\r\n\r\nbody\r\n" % subject).encode()
            self.assertEqual(m.append("Reports/2026", flags, None, msg)[0], "OK")
        m.delete("Reports")
        lines = m.run("LIST", '""', '"Reports%"', "RETURN", "(STATUS", "(MESSAGES", "UNSEEN", "UIDNEXT))")
        self.assertEqual(lines, ['* LIST (\\NonExistent \\HasChildren) "/" "Reports"'])
        lines = m.run("LIST", '""', '"Reports/*"', "RETURN", "(STATUS", "(MESSAGES", "UNSEEN", "UIDNEXT))")
        self.assertEqual(lines, ['* LIST () "/" "Reports/2026"',
                                 '* STATUS "Reports/2026" (MESSAGES 3 UNSEEN 2 UIDNEXT 4)'])
        # Every selectable mailbox, each LIST line followed by its STATUS line: what interimap asks.
        lines = m.run("LIST", '""', "*", "RETURN", "(SUBSCRIBED", "STATUS", "(UIDVALIDITY", "UIDNEXT", "HIGHESTMODSEQ))")
        names = [re.search(r'"([^"]*)"$', l).group(1) for l in lines if l.startswith("* LIST")]
        self.assertIn("Reports/2026", names)
        for i, name in enumerate(names):
            self.assertRegex(lines[2 * i + 1],
                             r'^\* STATUS "%s" \(UIDVALIDITY \d+ UIDNEXT \d+ HIGHESTMODSEQ \d+\)$' % re.escape(name))
        self.assertEqual(len(lines), 2 * len(names))

    def test_list_status_of_the_selected_mailbox(self):
        a = self.login()
        a.create("Busy")
        a.select("Busy")
        b = self.login()
        b.append("Busy", None, None, b"Subject: meanwhile\r\n\r\nx\r\n")
        # The new message is announced before the STATUS that counts it.
        lines = a.run("LIST", '""', "Busy", "RETURN", "(STATUS", "(MESSAGES", "UIDNEXT))")
        self.assertEqual(lines, ["* 1 EXISTS", "* 1 RECENT", '* LIST () "/" "Busy"',
                                 '* STATUS "Busy" (MESSAGES 1 UIDNEXT 2)'])
        self.assertEqual(a.run("STATUS", "Busy", "(MESSAGES)"), ['* STATUS "Busy" (MESSAGES 1)'])

    # --- AUTHENTICATE SCRAM-SHA-256 ---

    def test_scram_login(self):
        m = self.connect()
        scram = Scram(USER, mk.PASSWORD)
        before = self.logins("login")
        typ, _ = m.authenticate("SCRAM-SHA-256", scram)
        self.assertEqual(typ, "OK")
        self.assertTrue(scram.verified, "the server's signature was not checked")
        self.assertEqual(m.state, "AUTH")
        self.assertEqual(m.select("INBOX")[0], "OK")
        # The login gate recorded it, before the OK went out.
        self.assertEqual(self.logins("login"), before + 1)

    def test_scram_failures(self):
        m = self.connect()
        before = self.logins("login_failed")
        with self.assertRaises(imaplib.IMAP4.error) as cm:
            m.authenticate("SCRAM-SHA-256", Scram(USER, "not the password"))
        self.assertIn("AUTHENTICATIONFAILED", str(cm.exception))
        self.assertEqual(self.logins("login_failed"), before + 1)
        # "*" cancels (RFC 9051 §6.2.2); the connection takes a login after it.
        with self.assertRaises(imaplib.IMAP4.error) as cm:
            m.authenticate("SCRAM-SHA-256", Scram(USER, mk.PASSWORD, cancel_at=2))
        self.assertIn("Authentication cancelled", str(cm.exception))
        self.assertEqual(m.login(USER, mk.PASSWORD)[0], "OK")

    def test_scram_refused_when_app_passwords_are_required(self):
        r = self.srv.cli("account", "app-password", "add", "me@localhost", "sync")
        self.assertEqual(r.returncode, 0, r.stderr)
        app = re.search(r": (\S+)\n", r.stdout).group(1)
        self.assertEqual(self.srv.cli("account", "require-app-passwords", USER, "on").returncode, 0)
        self.addCleanup(self.srv.cli, "account", "require-app-passwords", USER, "off")
        m = self.connect()
        with self.assertRaises(imaplib.IMAP4.error) as cm:
            m.authenticate("SCRAM-SHA-256", Scram(USER, mk.PASSWORD))
        self.assertIn("AUTHENTICATIONFAILED", str(cm.exception))
        # The app password logs in with PLAIN; SCRAM proves the account password only.
        typ, _ = m.authenticate("PLAIN", lambda _: ("\0%s\0%s" % (USER, app)).encode())
        self.assertEqual(typ, "OK")

    def test_scram_with_initial_response(self):
        # SASL-IR (RFC 4959): the client-first message on the command line.
        scram = Scram(USER, mk.PASSWORD)
        with socket.create_connection(("127.0.0.1", self.srv.imaps_port), timeout=30) as raw:
            with mk.client_tls_context().wrap_socket(raw, server_hostname="localhost") as s:
                f = s.makefile("rwb")
                self.assertIn(b"SASL-IR", f.readline())

                def send(line):
                    f.write(line + b"\r\n")
                    f.flush()
                    return f.readline()
                challenge = send(b"a AUTHENTICATE SCRAM-SHA-256 " + base64.b64encode(scram.first()))
                self.assertTrue(challenge.startswith(b"+ "), challenge)
                signature = send(base64.b64encode(scram.final(base64.b64decode(challenge[2:].strip()))))
                self.assertEqual(base64.b64decode(signature[2:].strip()).decode(), scram.expected)
                self.assertTrue(send(b"").startswith(b"a OK [CAPABILITY "))
                self.assertEqual(send(b"b LOGOUT"), b"* BYE Logging out\r\n")


if __name__ == "__main__":
    unittest.main(verbosity=2)
