"""Inbound SMTP on the real binary with real clients: Python smtplib and a raw socket for
what smtplib cannot send. Each test asserts the exact reply and the stored bytes."""
import select
import smtplib
import socket
import ssl
import time
import unittest

import mkharness as mk

MSG = b"From: a@example.org\r\nTo: me@localhost\r\nSubject: test\r\n\r\nHello\r\n"


class DevServerTest(mk.SharedServerTest):
    """One `mailkeep dev` instance shared by the tests of this class."""

    def smtp(self):
        return smtplib.SMTP("127.0.0.1", self.srv.smtp_port, timeout=30)

    def count(self, **kw):
        return len(self.srv.messages(**kw))

    def test_dev_prints_listener_and_account(self):
        out = "\n".join(self.srv.stdout_lines)
        self.assertIn("listening smtp 127.0.0.1:%d (STARTTLS)" % self.srv.smtp_port, out)
        self.assertIn("account me@localhost password %s" % mk.PASSWORD, out)

    def test_plain_delivery_is_stored_with_trace_headers(self):
        before = self.count()
        with self.smtp() as s:
            refused = s.sendmail("a@example.org", ["me@localhost"], MSG + b".dot line\r\n")
            self.assertEqual(refused, {})
        msgs = self.srv.messages()
        self.assertEqual(len(msgs), before + 1)
        body = msgs[-1][1]
        self.assertTrue(body.startswith(b"Return-Path: <a@example.org>\r\nX-Mailkeep-Spam: no; score=0.00\r\n"
                                        b"Received: from "), body[:200])
        self.assertIn(b"with ESMTP id ", body)
        self.assertIn(b"for <me@localhost>;", body)
        self.assertTrue(body.endswith(MSG + b".dot line\r\n"))

    def test_forged_mail_program_fields_send_it_to_junk_with_reasons(self):
        """Ratware's copy of Outlook (its Message-ID and priority field without Outlook), a
        Date: two days after the first server's Received: and base64 Western text: the
        forgery rules junk it, and X-Mailkeep-Spam names each (read back over IMAP)."""
        forged = (b"Received: from pc (pc [198.51.100.7]) by relay.example.net with SMTP; "
                  b"Thu, 26 Sep 2002 19:11:11 +0000\r\n"
                  b"Date: Sat, 28 Sep 2002 19:11:11 +0000\r\n"
                  b"From: Offers <deals@offers.example>\r\nTo: me@localhost\r\n"
                  b"Subject: forged-fields\r\n"
                  b"Message-ID: <000801c26590$3b5f5a80$0201a8c0@pc>\r\n"
                  b"X-MSMail-Priority: High\r\nX-Priority: 1\r\n"
                  b"Content-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: base64\r\n\r\n"
                  b"aGVsbG8gdGhlcmU=\r\n")
        def verdict_of(message, folder, subject):
            """Delivers the message and reads its X-Mailkeep-Spam back from the folder over IMAP."""
            with self.smtp() as s:
                self.assertEqual(s.sendmail("deals@offers.example", ["me@localhost"], message), {})
            found = [m for m in self.srv.imap_messages(folder) if m["Subject"] == subject]
            self.assertEqual(len(found), 1, (folder, subject))
            return " ".join(str(found[0]["X-Mailkeep-Spam"]).split())

        verdict = verdict_of(forged, "Junk", "forged-fields")
        self.assertTrue(verdict.startswith("junk; score="), verdict)
        for signal in ("MSGID_OUTLOOK_FORGED=1.50", "PRIORITY_HIGH=0.50", "DATE_AHEAD=1.50", "TEXT_BASE64=1.00"):
            self.assertIn(signal, verdict)
        # Outlook's priority field beside Outlook's Message-ID is one anomaly, counted once.
        self.assertNotIn("MSMAIL_PRIORITY_FORGED", verdict)
        # The same message as Outlook Express writes it (X-Mailer and X-MimeOLE) is not junked
        # for its fields.
        real = (forged.replace(b"X-MSMail-Priority: High\r\nX-Priority: 1\r\n",
                               b"X-Mailer: Microsoft Outlook Express 6.00.2600.0000\r\n"
                               b"X-MimeOLE: Produced By Microsoft MimeOLE V6.00.2600.0000\r\n")
                .replace(b"Sat, 28 Sep", b"Thu, 26 Sep").replace(b"forged-fields", b"real-fields")
                .replace(b"Content-Transfer-Encoding: base64\r\n\r\naGVsbG8gdGhlcmU=", b"\r\nhello there"))
        verdict = verdict_of(real, "INBOX", "real-fields")
        self.assertTrue(verdict.startswith("no; score=0.00"), verdict)
        # The same with a Message-ID whose time ("01c25c0f", 2002-09-14) is twelve days before
        # its Date: and the first server's: named, and not junked for that alone.
        stale = real.replace(b"01c26590", b"01c25c0f").replace(b"real-fields", b"stale-id")
        verdict = verdict_of(stale, "INBOX", "stale-id")
        self.assertTrue(verdict.startswith("no; score=1.00"), verdict)
        self.assertIn("MSGID_OUTLOOK_TIME=1.00", verdict)

    def test_starttls_delivery(self):
        with self.smtp() as s:
            s.ehlo("client.example")
            self.assertTrue(s.has_extn("starttls"))
            code, _ = s.starttls(context=mk.client_tls_context())
            self.assertEqual(code, 220)
            self.assertIn(s.sock.version(), ("TLSv1.2", "TLSv1.3"))
            s.ehlo("client.example")
            self.assertFalse(s.has_extn("starttls"))
            self.assertTrue(s.has_extn("requiretls"))
            s.sendmail("a@example.org", ["me@localhost"], MSG.replace(b"test", b"tls"),
                       mail_options=["REQUIRETLS"])
        body = self.srv.messages()[-1][1]
        received = mk.header(body, "Received")
        self.assertIn("with ESMTPS", received)
        self.assertRegex(received, r"using TLSv1\.[23] with cipher \S+ \(\d+/\d+ bits\)")

    def test_tls_rejects_old_protocols(self):
        raw = mk.RawClient(self.srv.smtp_port)
        raw.reply()
        raw.cmd("EHLO c.example")
        self.assertEqual(raw.cmd("STARTTLS")[0], 220)
        ctx = mk.client_tls_context()
        ctx.minimum_version = ssl.TLSVersion.TLSv1
        ctx.maximum_version = ssl.TLSVersion.TLSv1_1
        ctx.set_ciphers("ALL:@SECLEVEL=0")
        with self.assertRaises((ssl.SSLError, ConnectionResetError)):
            ctx.wrap_socket(raw.sock, server_hostname="localhost")
        raw.close()

    def test_pipelining_in_one_write(self):
        raw = mk.RawClient(self.srv.smtp_port)
        self.assertEqual(raw.reply()[0], 220)
        self.assertEqual(raw.cmd("EHLO c.example")[0], 250)
        raw.send(b"MAIL FROM:<p@example.org>\r\nRCPT TO:<nobody@localhost>\r\n"
                 b"RCPT TO:<me@localhost>\r\nDATA\r\n")
        self.assertEqual([raw.reply()[0] for _ in range(4)], [250, 550, 250, 354])
        raw.send(b"Subject: pipelined\r\n\r\nx\r\n.\r\nQUIT\r\n")
        code, text = raw.reply()
        self.assertEqual(code, 250)
        self.assertRegex(text, r"^2\.0\.0 OK id=[0-9a-f]{16}$")
        self.assertEqual(raw.reply()[0], 221)
        self.assertIn(b"Subject: pipelined", self.srv.messages()[-1][1])

    def test_8bitmime(self):
        body = "Subject: 8bit\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nGrüße\r\n".encode()
        with self.smtp() as s:
            s.ehlo()
            self.assertTrue(s.has_extn("8bitmime"))
            s.sendmail("a@example.org", ["me@localhost"], body, mail_options=["BODY=8BITMIME"])
        self.assertTrue(self.srv.messages()[-1][1].endswith(body))

    def test_smtputf8(self):
        r = self.srv.cli("account", "add", "jörg@localhost", "--password-stdin",
                         stdin="a long enough password\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        msg = "From: ö@example.org\r\nSubject: ütf8\r\n\r\nhi\r\n".encode()
        with self.smtp() as s:
            s.ehlo()
            self.assertTrue(s.has_extn("smtputf8"))
            s.sendmail("ö@example.org", ["jörg@localhost"], msg, mail_options=["SMTPUTF8"])
        body = self.srv.messages(address="jörg@localhost")[-1][1]
        self.assertIn("Return-Path: <ö@example.org>".encode(), body)
        self.assertIn(b"with UTF8SMTP id", body)
        # Without SMTPUTF8 a non-ASCII address is refused with the RFC 6531 code.
        raw = mk.RawClient(self.srv.smtp_port)
        raw.reply()
        raw.cmd("EHLO c.example")
        code, text = raw.cmd("MAIL FROM:<ö@example.org>")
        self.assertEqual((code, text[:5]), (553, "5.6.7"))
        raw.close()

    def test_bdat_chunking(self):
        raw = mk.RawClient(self.srv.smtp_port)
        raw.reply()
        ehlo = raw.cmd("EHLO c.example")[1]
        self.assertIn("CHUNKING", ehlo)
        raw.cmd("MAIL FROM:<b@example.org>")
        raw.cmd("RCPT TO:<me@localhost>")
        part1 = b"Subject: bdat\r\n\r\nfirst "
        part2 = b"second\r\n"
        raw.send(b"BDAT %d\r\n" % len(part1) + part1)
        self.assertEqual(raw.reply(), (250, "2.0.0 %d octets received" % len(part1)))
        raw.send(b"BDAT %d LAST\r\n" % len(part2) + part2)
        self.assertEqual(raw.reply()[0], 250)
        raw.cmd("QUIT")
        self.assertTrue(self.srv.messages()[-1][1].endswith(part1 + part2))

    def test_size_limit_at_mail(self):
        with self.smtp() as s:
            s.ehlo()
            self.assertEqual(int(s.esmtp_features["size"]), 50 * 1024 * 1024)
            code, text = s.mail("a@example.org", ["SIZE=%d" % (60 * 1024 * 1024)])
            self.assertEqual((code, text[:5]), (552, b"5.3.4"))

    def test_unknown_user(self):
        with self.smtp() as s:
            with self.assertRaises(smtplib.SMTPRecipientsRefused) as cm:
                s.sendmail("a@example.org", ["nobody@localhost"], MSG)
            code, text = cm.exception.recipients["nobody@localhost"]
            self.assertEqual((code, text[:5]), (550, b"5.1.1"))

    def test_relay_attempts_are_refused(self):
        raw = mk.RawClient(self.srv.smtp_port)
        raw.reply()
        raw.cmd("EHLO attacker.example")
        self.assertEqual(raw.cmd("MAIL FROM:<spam@attacker.example>")[0], 250)
        cases = {
            "<victim@gmail.com>": (554, "5.7.1"),
            "<victim@LOCALHOST.gmail.com>": (554, "5.7.1"),
            "<@localhost:victim@gmail.com>": (554, "5.7.1"),
            "<victim@[8.8.8.8]>": (554, "5.7.1"),
            "<victim@[127.0.0.1]>": (554, "5.7.1"),
            "<victim%gmail.com@localhost>": (550, "5.1.1"),
            "<gmail.com!victim@localhost>": (550, "5.1.1"),
            "<\"victim@gmail.com\"@localhost>": (550, "5.1.1"),
            "<victim@gmail.com@localhost>": (501, "5.1.3"),
            "victim@gmail.com": (501, "5.1.3"),
        }
        for rcpt, want in cases.items():
            code, text = raw.cmd("RCPT TO:" + rcpt)
            self.assertEqual((code, text[:5]), want, rcpt)
        self.assertEqual(raw.cmd("DATA")[0], 554)
        raw.cmd("QUIT")

    def test_smuggling_sequences_are_rejected(self):
        # The classic: a second message hidden behind a non-standard end of data.
        for end in (b"\n.\n", b"\r.\r", b"\n.\r\n", b"\r\n.\n", b"\r.\r\n"):
            before = self.count()
            raw = mk.RawClient(self.srv.smtp_port)
            self.assertEqual(raw.transaction(), 250)
            self.assertEqual(raw.cmd("DATA")[0], 354)
            raw.send(b"Subject: outer\r\n\r\nouter" + end +
                     b"MAIL FROM:<ceo@localhost>\r\nRCPT TO:<me@localhost>\r\nDATA\r\n"
                     b"Subject: smuggled\r\n\r\nsmuggled\r\n.\r\n")
            code, text = raw.reply()
            self.assertEqual((code, text[:6]), (554, "5.6.11"), repr(end))
            self.assertTrue(raw.closed(), repr(end))
            raw.close()
            self.assertEqual(self.count(), before, repr(end))

    def test_bare_lf_in_command_closes(self):
        raw = mk.RawClient(self.srv.smtp_port)
        raw.reply()
        raw.send(b"EHLO c.example\n")
        code, text = raw.reply()
        self.assertEqual((code, text[:5]), (554, "5.5.2"))
        self.assertTrue(raw.closed())

    def test_starttls_injection_is_discarded(self):
        # CVE-2011-0411: commands pipelined behind STARTTLS in cleartext must not be run.
        raw = mk.RawClient(self.srv.smtp_port)
        raw.reply()
        raw.cmd("EHLO c.example")
        raw.send(b"STARTTLS\r\nRSET\r\nMAIL FROM:<injected@example.org>\r\n")
        self.assertEqual(raw.reply()[0], 220)
        raw.starttls()
        # The first reply under TLS must answer our EHLO, not the injected commands.
        code, text = raw.cmd("EHLO c.example")
        self.assertEqual(code, 250)
        self.assertIn("localhost Hello", text)
        # And the injected MAIL did not open a transaction.
        self.assertEqual(raw.cmd("RCPT TO:<me@localhost>")[0], 503)
        raw.close()

    def test_long_command_line(self):
        raw = mk.RawClient(self.srv.smtp_port)
        raw.reply()
        raw.send(b"NOOP " + b"x" * 5000 + b"\r\n")
        code, text = raw.reply()
        self.assertEqual((code, text[:5]), (500, "5.5.2"))
        self.assertEqual(raw.cmd("NOOP")[0], 250)  # still in sync
        raw.close()

    def test_sub_address_and_alias(self):
        r = self.srv.cli("mailbox", "add", "me@localhost", "lists")
        self.assertEqual(r.returncode, 0, r.stderr)
        r = self.srv.cli("alias", "add", "info@localhost", "me@localhost")
        self.assertEqual(r.returncode, 0, r.stderr)
        before_inbox = self.count()
        with self.smtp() as s:
            s.sendmail("a@example.org", ["me+lists@localhost"], b"Subject: to lists\r\n\r\nx\r\n")
            s.sendmail("a@example.org", ["me+nofolder@localhost"], b"Subject: tag\r\n\r\nx\r\n")
            s.sendmail("a@example.org", ["info@localhost", "me@localhost"],
                       b"Subject: alias\r\n\r\nx\r\n")
        self.assertIn(b"Subject: to lists", self.srv.messages(mailbox="lists")[-1][1])
        inbox = self.srv.messages()
        self.assertEqual(len(inbox), before_inbox + 2)  # alias + direct: one copy
        self.assertIn(b"Subject: tag", inbox[-2][1])
        self.assertIn(b"Subject: alias", inbox[-1][1])
        # RFC 5321 4.1.1.3: <Postmaster> without a domain reaches the postmaster alias.
        self.assertEqual(self.srv.cli("alias", "add", "postmaster@localhost", "me@localhost").returncode, 0)
        raw = mk.RawClient(self.srv.smtp_port)
        raw.reply()
        raw.cmd("EHLO c.example")
        raw.cmd("MAIL FROM:<>")
        self.assertEqual(raw.cmd("RCPT TO:<Postmaster>")[0], 250)
        raw.close()

    def test_vrfy_and_help(self):
        raw = mk.RawClient(self.srv.smtp_port)
        raw.reply()
        self.assertEqual(raw.cmd("VRFY me")[0], 252)
        self.assertEqual(raw.cmd("HELP")[0], 214)
        self.assertEqual(raw.cmd("AUTH PLAIN AGFAYgBj")[0], 502)
        raw.close()


class LimitsTest(unittest.TestCase):
    """Servers with small limits and short timeouts from a generated config."""

    def start(self, **cfg):
        srv = mk.Server(extra_config=cfg).start()
        self.addCleanup(srv.cleanup)
        return srv

    def test_command_timeout(self):
        srv = self.start(**{"smtp.command_timeout": '"1s"'})
        raw = mk.RawClient(srv.smtp_port, timeout=10 * 1)  # hang guard: 10x the timeout
        raw.reply()
        started = time.monotonic()
        code, text = raw.reply()
        self.assertEqual((code, text[:5]), (421, "4.4.2"))
        self.assertGreaterEqual(time.monotonic() - started, 0.95)  # not before its time
        self.assertTrue(raw.closed())

    def test_data_timeout_with_slow_client(self):
        srv = self.start(**{"smtp.data_timeout": '"2s"', "smtp.command_timeout": '"10s"'})
        raw = mk.RawClient(srv.smtp_port, timeout=10 * 2)  # hang guard: 10x the data timeout
        self.assertEqual(raw.transaction(), 250)
        self.assertEqual(raw.cmd("DATA")[0], 354)
        started = time.monotonic()
        # Two bytes a second for as long as the server listens: no read waits anywhere near the
        # 10 s command timeout, so only the 2 s bound on the whole DATA can end it.
        answered = False
        try:
            while not answered and time.monotonic() - started < 10 * 2:
                raw.send(b"x")
                time.sleep(0.5)
                answered = bool(select.select([raw.sock], [], [], 0)[0])
        except OSError:
            answered = True  # it closed the connection after answering
        self.assertTrue(answered, "the server let DATA run past its time")
        code, text = raw.reply()
        self.assertEqual((code, text[:5]), (421, "4.4.2"))
        self.assertGreaterEqual(time.monotonic() - started, 1.95)  # not before its time
        self.assertEqual(srv.messages(), [])

    def test_message_size_limit_in_data(self):
        srv = self.start(**{"smtp.max_message_size": '"2KiB"'})
        # No SIZE parameter: the limit is enforced on the content itself.
        raw = mk.RawClient(srv.smtp_port)
        self.assertEqual(raw.transaction(), 250)
        self.assertEqual(raw.cmd("DATA")[0], 354)
        raw.send(b"Subject: big\r\n\r\n" + b"x" * 4096 + b"\r\n.\r\n")
        code, text = raw.reply()
        self.assertEqual((code, text[:5]), (552, "5.3.4"))
        # The session is still usable afterwards.
        raw.cmd("MAIL FROM:<a@example.org>")
        raw.cmd("RCPT TO:<me@localhost>")
        raw.cmd("DATA")
        raw.send(b"Subject: small\r\n\r\nx\r\n.\r\n")
        self.assertEqual(raw.reply()[0], 250)
        raw.close()
        # SIZE above the limit is refused at MAIL.
        with smtplib.SMTP("127.0.0.1", srv.smtp_port) as s:
            with self.assertRaises(smtplib.SMTPSenderRefused) as cm:
                s.sendmail("a@example.org", ["me@localhost"], b"Subject: big\r\n\r\n" + b"x" * 4096)
            self.assertEqual(cm.exception.smtp_code, 552)
        self.assertEqual(len(srv.messages()), 1)

    def test_connection_limit_per_ip(self):
        srv = self.start(**{"smtp.max_connections_per_ip": "2"})
        a = mk.RawClient(srv.smtp_port)
        b = mk.RawClient(srv.smtp_port)
        self.assertEqual(a.reply()[0], 220)
        self.assertEqual(b.reply()[0], 220)
        c = mk.RawClient(srv.smtp_port)
        code, text = c.reply()
        self.assertEqual((code, text[:5]), (421, "4.7.0"))
        a.cmd("QUIT")
        self.assertTrue(a.closed())
        a.close()
        # The slot is free once the server has ended a's session, a moment after the close.
        clients = []

        def admitted():
            clients.append(mk.RawClient(srv.smtp_port))
            return clients[-1].reply()[0] == 220
        mk.wait_for(admitted, "a closed connection still counts against the limit", interval=0.1)
        for x in [b, c] + clients:
            x.close()

    def test_json_logs_carry_the_connection_id(self):
        srv = self.start(**{"log.format": '"json"', "log.level": '"info"'})
        with smtplib.SMTP("127.0.0.1", srv.smtp_port) as s:
            s.sendmail("a@example.org", ["me@localhost"], MSG)
            with self.assertRaises(smtplib.SMTPRecipientsRefused):
                s.sendmail("a@example.org", ["x@gmail.com"], MSG)
        srv.stop()
        import json
        events = [json.loads(l) for l in srv.stderr().splitlines() if l.startswith("{")]
        conn_events = [e for e in events if e["event"].startswith("smtp.")]
        names = [e["event"] for e in conn_events]
        for want in ("smtp.connect", "smtp.delivered", "smtp.reply", "smtp.disconnect"):
            self.assertIn(want, names)
        ids = {e.get("conn") for e in conn_events}
        self.assertEqual(len(ids), 1, conn_events)
        self.assertRegex(ids.pop(), r"^[0-9a-f]{12}$")
        delivered = next(e for e in conn_events if e["event"] == "smtp.delivered")
        self.assertEqual(delivered["rcpts"], 1)
        self.assertIsInstance(delivered["size"], int)

    def test_graceful_shutdown(self):
        srv = self.start()
        idle = mk.RawClient(srv.smtp_port)
        idle.reply()
        idle.cmd("EHLO c.example")
        busy = mk.RawClient(srv.smtp_port)
        self.assertEqual(busy.transaction(), 250)
        self.assertEqual(busy.cmd("DATA")[0], 354)
        busy.send(b"Subject: in flight\r\n\r\n")
        srv.proc.send_signal(15)
        code, text = idle.reply()
        self.assertEqual((code, text[:5]), (421, "4.3.2"))
        # The transaction in progress may still finish and is stored.
        busy.send(b"finished\r\n.\r\n")
        self.assertEqual(busy.reply()[0], 250)
        code, _ = busy.reply()  # then it is told the server is going away
        self.assertEqual(code, 421)
        self.assertEqual(srv.stop(), 0)
        self.assertIn(b"finished", srv.messages()[-1][1])
        # New connections are refused once it has stopped.
        with self.assertRaises(OSError):
            socket.create_connection(("127.0.0.1", srv.smtp_port), timeout=2)


class CliTest(unittest.TestCase):
    def test_config_errors_name_file_and_line(self):
        srv = mk.Server()
        self.addCleanup(srv.cleanup)
        with open(srv.config, "w") as f:
            f.write('[server]\nhostname = "localhost"\ndata_dir = "."\n[smtp]\nmax_recipient = 5\n')
        r = srv.cli("serve")
        self.assertEqual(r.returncode, 2)
        self.assertIn(srv.config + ':5: unknown key "smtp.max_recipient"', r.stderr)
        r = srv.cli("config", "check")
        self.assertEqual(r.returncode, 2)

    def test_account_lifecycle(self):
        srv = mk.Server().start()
        self.addCleanup(srv.cleanup)
        r = srv.cli("account", "add", "bob@example.net", "--password-stdin", stdin="long enough pw\n")
        self.assertEqual(r.returncode, 1)
        self.assertIn("mailkeep domain add example.net", r.stderr)
        self.assertEqual(srv.cli("domain", "add", "example.net").returncode, 0)
        r = srv.cli("account", "add", "bob@example.net", "--password-stdin", stdin="short\n")
        self.assertEqual(r.returncode, 2)
        self.assertIn("at least 12", r.stderr)
        r = srv.cli("account", "add", "Bob@Example.NET", "--password-stdin", stdin="long enough pw\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("bob@example.net", srv.cli("account", "list").stdout)
        with smtplib.SMTP("127.0.0.1", srv.smtp_port) as s:
            s.sendmail("a@example.org", ["bob@example.net"], MSG)
        self.assertEqual(len(srv.messages(address="bob@example.net")), 1)
        r = srv.cli("account", "passwd", "bob@example.net", "--password-stdin", stdin="another long pw\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(srv.cli("account", "remove", "bob@example.net").returncode, 0)
        with smtplib.SMTP("127.0.0.1", srv.smtp_port) as s:
            with self.assertRaises(smtplib.SMTPRecipientsRefused):
                s.sendmail("a@example.org", ["bob@example.net"], MSG)
        # The password never reaches the logs.
        self.assertNotIn("long enough pw", srv.stderr())
        self.assertNotIn(mk.PASSWORD, srv.stderr())

    def test_usage_error_exit_code(self):
        r = __import__("subprocess").run([mk.BIN, "account", "frobnicate"], capture_output=True)
        self.assertEqual(r.returncode, 2)


if __name__ == "__main__":
    unittest.main(verbosity=2)
