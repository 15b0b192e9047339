"""IMAP on the real binary with Python's imaplib (and a raw socket for IDLE and bad input):
TLS-only login, mailbox commands, FETCH/STORE/SEARCH/COPY/MOVE/EXPUNGE, APPEND, messages
delivered over SMTP showing up, IDLE reporting a delivery within a second, and errors."""
import imaplib
import smtplib
import socket
import ssl
import time
import unittest

import mkharness as mk

USER = "me@localhost"


class ImapTest(mk.SharedServerTest):

    def imaps(self):
        m = imaplib.IMAP4_SSL("127.0.0.1", self.srv.imaps_port, ssl_context=mk.client_tls_context(),
                              timeout=30)
        m.login(USER, mk.PASSWORD)
        self.addCleanup(self._logout, m)
        return m

    @staticmethod
    def _logout(m):
        try:
            m.logout()
        except (imaplib.IMAP4.error, OSError):
            pass

    def deliver(self, subject, body="hello\r\n", rcpt=USER):
        with smtplib.SMTP("127.0.0.1", self.srv.smtp_port, timeout=30) as s:
            s.sendmail("sender@example.org", [rcpt],
                       ("From: Sender <sender@example.org>\r\nTo: %s\r\nSubject: %s\r\n\r\n%s"
                        % (rcpt, subject, body)).encode())

    def test_login_requires_tls(self):
        m = imaplib.IMAP4("127.0.0.1", self.srv.imap_port, timeout=30)
        self.assertIn("LOGINDISABLED", m.capabilities)
        self.assertIn("STARTTLS", m.capabilities)
        with self.assertRaises(imaplib.IMAP4.error) as cm:
            m.login(USER, mk.PASSWORD)
        self.assertIn("PRIVACYREQUIRED", str(cm.exception))
        m.starttls(ssl_context=mk.client_tls_context())
        typ, data = m.login(USER, mk.PASSWORD)
        self.assertEqual(typ, "OK")
        m.logout()

    def test_wrong_password(self):
        m = imaplib.IMAP4_SSL("127.0.0.1", self.srv.imaps_port, ssl_context=mk.client_tls_context())
        with self.assertRaises(imaplib.IMAP4.error) as cm:
            m.login(USER, "not the password")
        self.assertIn("AUTHENTICATIONFAILED", str(cm.exception))
        m.logout()

    def test_authenticate_plain(self):
        m = imaplib.IMAP4_SSL("127.0.0.1", self.srv.imaps_port, ssl_context=mk.client_tls_context())
        typ, _ = m.authenticate("PLAIN", lambda _: ("\0%s\0%s" % (USER, mk.PASSWORD)).encode())
        self.assertEqual(typ, "OK")
        m.logout()

    def test_list_has_special_use(self):
        m = self.imaps()
        typ, data = m.list()
        self.assertEqual(typ, "OK")
        joined = b"\n".join(data)
        for flag, name in ((rb"\Sent", b'"Sent"'), (rb"\Junk", b'"Junk"'), (rb"\Trash", b'"Trash"'),
                           (rb"\Drafts", b'"Drafts"'), (rb"\Archive", b'"Archive"')):
            self.assertRegex(joined, rb"\(\\HasNoChildren " + flag.replace(b"\\", b"\\\\") + rb"\) \"/\" " + name)

    def test_smtp_delivery_is_fetched(self):
        self.deliver("over smtp", "line one\r\nline two\r\n")
        m = self.imaps()
        typ, data = m.select("INBOX")
        n = int(data[0])
        typ, data = m.search(None, "SUBJECT", '"over smtp"')
        self.assertEqual(typ, "OK")
        seq = data[0].split()[-1]
        typ, data = m.fetch(seq, "(UID FLAGS ENVELOPE BODY.PEEK[TEXT] BODYSTRUCTURE)")
        self.assertEqual(typ, "OK")
        meta, text = data[0]
        self.assertIn(b'"over smtp"', meta)
        self.assertIn(b'(("Sender" NIL "sender" "example.org"))', meta)
        self.assertEqual(text, b"line one\r\nline two\r\n")
        self.assertIn(b' BODYSTRUCTURE ("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 20 2', data[1])
        typ, data = m.fetch(seq, "(FLAGS)")
        self.assertNotIn(rb"\Seen", data[0])  # PEEK did not set \Seen
        self.assertGreaterEqual(n, 1)

    def test_search_reads_double_byte_charsets_by_their_superset(self):
        # What Chinese and Japanese mailers send: GBK's characters under "gb2312" in an encoded
        # Subject, and Windows' wave dash (Shift_JIS 81 60) in a Shift_JIS body, found by a
        # UTF-8 search for them, as the same wave dash in ISO-2022-JP is.
        m = self.imaps()
        m.create("Cjk")
        m.append("Cjk", None, None, b"Subject: =?gb2312?B?1tDOxJx51Ic=?=\r\n\r\nbody\r\n")
        m.append("Cjk", None, None, b"Subject: sjis\r\nContent-Type: text/plain; charset=shift_jis\r\n\r\n"
                                    b"10\x8e\x9e\x81\x6012\x8e\x9e\r\n")
        m.append("Cjk", None, None, b"Subject: jis\r\nContent-Type: text/plain; charset=iso-2022-jp\r\n\r\n"
                                    b"10\x1b$B;~!A\x1b(B12\x1b$B;~\x1b(B\r\n")
        m.select("Cjk")

        def search(key, text):
            m.literal = text.encode()
            typ, data = m.uid("SEARCH", "CHARSET", "UTF-8", key)
            self.assertEqual(typ, "OK", data)
            return data[0].split()

        self.assertEqual(search("SUBJECT", "\u6e2c\u8a66"), [b"1"])  # 測試
        self.assertEqual(search("BODY", "\u6642\u301c12"), [b"2", b"3"])  # 時〜12
        m.close()

    def test_append_store_search_expunge(self):
        m = self.imaps()
        m.create("Scratch")
        typ, data = m.append("Scratch", r"(\Flagged)", imaplib.Time2Internaldate(time.time()),
                             b"Subject: appended\r\n\r\nbody\r\n")
        self.assertEqual(typ, "OK")
        self.assertRegex(data[0], rb"^\[APPENDUID \d+ 1\]")
        m.append("Scratch", None, None, b"Subject: second\r\n\r\nbody\r\n")
        m.select("Scratch")
        typ, data = m.search(None, "FLAGGED")
        self.assertEqual(data, [b"1"])
        typ, data = m.store("2", "+FLAGS", r"(\Deleted \Seen)")
        self.assertIn(rb"\Deleted", data[0])
        typ, data = m.uid("SEARCH", "DELETED")
        self.assertEqual(data, [b"2"])
        typ, data = m.expunge()
        self.assertEqual(data, [b"2"])
        typ, data = m.fetch("1:*", "(UID)")
        self.assertEqual(data, [b"1 (UID 1)"])
        m.close()
        typ, data = m.status("Scratch", "(MESSAGES UIDNEXT UNSEEN)")
        self.assertEqual(data, [b'"Scratch" (MESSAGES 1 UIDNEXT 3 UNSEEN 1)'])

    def test_copy_move_rename_delete(self):
        m = self.imaps()
        m.create("Box/A")
        m.append("Box/A", None, None, b"Subject: x\r\n\r\nbody\r\n")
        m.select("Box/A")
        typ, data = m.copy("1", "Archive")
        self.assertEqual(typ, "OK")
        self.assertRegex(data[0], rb"^\[COPYUID \d+ 1 \d+\]")
        typ, data = m._simple_command("MOVE", "1", "Trash")
        self.assertEqual(typ, "OK")
        m.close()
        self.assertEqual(m.rename("Box", "Crate")[0], "OK")
        typ, data = m.list('""', "Crate*")
        self.assertEqual(len(data), 2)
        self.assertEqual(m.delete("Crate/A")[0], "OK")
        typ, data = m.delete("Trash")
        self.assertEqual(typ, "NO")

    def test_two_sessions_see_each_other(self):
        a = self.imaps()
        b = self.imaps()
        a.create("Shared")
        a.append("Shared", None, None, b"Subject: s1\r\n\r\nx\r\n")
        a.select("Shared")
        b.select("Shared")
        a.store("1", "+FLAGS", r"(\Flagged)")
        b.noop()
        self.assertIn(rb"1 (UID 1 FLAGS (\Flagged))", b.untagged_responses.get("FETCH", []))
        typ, data = b.fetch("1", "(FLAGS)")
        self.assertIn(rb"\Flagged", data[0])
        a.append("Shared", None, None, b"Subject: s2\r\n\r\nx\r\n")
        b.noop()
        self.assertEqual(b.untagged_responses.get("EXISTS", [b"?"])[-1], b"2")

    def test_idle_reports_delivery_when_it_happens(self):
        raw = mk.RawClient(self.srv.imaps_port)
        raw.sock = mk.client_tls_context().wrap_socket(raw.sock, server_hostname="localhost")
        self.assertTrue(raw.sock.recv(4096).startswith(b"* OK"))
        raw.send(("a LOGIN %s %s\r\n" % (USER, mk.PASSWORD)).encode())
        self.assertIn(b"a OK", raw.sock.recv(4096))
        raw.send(b"b SELECT INBOX\r\n")
        buf = b""
        while b"b OK" not in buf:
            buf += raw.sock.recv(4096)
        raw.send(b"c IDLE\r\n")
        self.assertTrue(raw.sock.recv(4096).startswith(b"+ idling"))
        self.deliver("idle test")
        # Pushed by the delivery itself (tens of ms on an idle machine); the only other way out
        # of IDLE is the 30-minute autologout. The socket timeout is a hang guard.
        raw.sock.settimeout(mk.HANG_GUARD)
        got = raw.sock.recv(4096)
        self.assertRegex(got, rb"\* \d+ EXISTS")
        raw.send(b"DONE\r\n")
        buf = b""
        while b"c OK" not in buf:
            buf += raw.sock.recv(4096)
        raw.close()

    def test_quota(self):
        r = self.srv.cli("account", "add", "small@localhost", "--password-stdin", stdin="a long password\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        r = self.srv.cli("account", "quota", "small@localhost", "4KiB")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.deliver("fills it", "x" * 5000 + "\r\n", rcpt="small@localhost")
        with smtplib.SMTP("127.0.0.1", self.srv.smtp_port) as s:
            with self.assertRaises(smtplib.SMTPRecipientsRefused) as cm:
                s.sendmail("a@example.org", ["small@localhost"], b"Subject: more\r\n\r\nx\r\n")
            code, text = cm.exception.recipients["small@localhost"]
            self.assertEqual((code, text[:5]), (452, b"4.2.2"))
        m = imaplib.IMAP4_SSL("127.0.0.1", self.srv.imaps_port, ssl_context=mk.client_tls_context())
        m.login("small@localhost", "a long password")
        typ, data = m.getquotaroot("INBOX")
        self.assertEqual(typ, "OK")
        self.assertEqual(data, [[b'"INBOX" ""'], [b'"" (STORAGE 6 4)']])
        typ, data = m.append("INBOX", None, None, b"Subject: x\r\n\r\nx\r\n")
        self.assertEqual(typ, "NO")
        self.assertIn(b"OVERQUOTA", data[0])
        m.logout()
        self.assertEqual(self.srv.cli("account", "quota", "small@localhost", "lots").returncode, 2)

    def test_compress_deflate(self):
        import zlib
        self.deliver("compressed")
        raw = mk.RawClient(self.srv.imaps_port)
        raw.sock = mk.client_tls_context().wrap_socket(raw.sock, server_hostname="localhost")
        self.assertIn(b"COMPRESS=DEFLATE", raw.sock.recv(4096))
        raw.send(("a LOGIN %s %s\r\n" % (USER, mk.PASSWORD)).encode())
        self.assertIn(b"a OK", raw.sock.recv(4096))
        raw.send(b"b COMPRESS DEFLATE\r\n")
        self.assertEqual(raw.sock.recv(4096), b"b OK DEFLATE active\r\n")
        comp = zlib.compressobj(wbits=-15)
        decomp = zlib.decompressobj(wbits=-15)

        def exchange(cmd, tag):
            raw.send(comp.compress(cmd) + comp.flush(zlib.Z_SYNC_FLUSH))
            got = b""
            while (tag + b" ") not in got:
                got += decomp.decompress(raw.sock.recv(65536))
            return got
        got = exchange(b"c SELECT INBOX\r\n", b"c")
        self.assertIn(b"c OK [READ-WRITE]", got)
        got = exchange(b"d FETCH 1:* (FLAGS ENVELOPE)\r\n", b"d")
        self.assertIn(b"d OK FETCH completed", got)
        self.assertIn(b'"compressed"', got)
        got = exchange(b"e LOGOUT\r\n", b"e")
        self.assertIn(b"* BYE", got)
        raw.close()

    def test_bad_input(self):
        raw = mk.RawClient(self.srv.imap_port)
        raw.sock.recv(4096)
        raw.send(b"a FROBNICATE\r\n")
        self.assertEqual(raw.sock.recv(4096), b"a BAD Unknown command\r\n")
        raw.send(b"b SELECT INBOX\r\n")
        self.assertEqual(raw.sock.recv(4096), b"b BAD Log in first\r\n")
        raw.send(b"c NOOP " + b"x" * 20000 + b"\r\n")
        self.assertIn(b"BAD [TOOBIG]", raw.sock.recv(4096))
        raw.send(b"d APPEND INBOX {999999999999}\r\n")
        self.assertIn(b"NO [TOOBIG]", raw.sock.recv(4096))
        raw.send(b"e NOOP\r\n")
        self.assertEqual(raw.sock.recv(4096), b"e OK NOOP completed\r\n")
        raw.send(b"f LOGOUT\r\n")
        self.assertIn(b"* BYE", raw.sock.recv(4096))
        raw.close()


class ImapShutdownTest(unittest.TestCase):
    def test_idle_client_gets_bye_on_shutdown(self):
        srv = mk.Server().start()
        self.addCleanup(srv.cleanup)
        m = imaplib.IMAP4_SSL("127.0.0.1", srv.imaps_port, ssl_context=mk.client_tls_context())
        m.login(USER, mk.PASSWORD)
        m.select("INBOX")
        srv.proc.send_signal(15)
        m.sock.settimeout(mk.HANG_GUARD)
        data = b""
        while b"BYE" not in data:
            try:
                chunk = m.sock.recv(4096)
            except OSError:
                break
            if not chunk:
                break
            data += chunk
        self.assertIn(b"* BYE", data)
        self.assertEqual(srv.stop(), 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
