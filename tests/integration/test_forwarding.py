"""Forwarding, end to end on the loopback rig: an alias whose target is in another domain
forwards what the MX accepts. The forwarded copy leaves with an SRS envelope sender (so SPF
passes at the destination), carries our ARC seal (python3-dkim's arc_verify checks it against
the keys `mailkeep domain dns` prints) and still carries the author's DKIM signature; a
bounce to the SRS address goes back to the original sender, a forged SRS address is refused."""
import base64
import os
import re
import smtplib
import subprocess
import time
import unittest

import dkim

import mkharness as mk
import rig as rigmod


def message(author, subject):
    return mk.test_message(author, subject, to="fwd@localhost", body="Forward me, please.\r\n")


class ForwardingTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        rigmod.require_root()
        cls.rig = rigmod.Rig()
        cls.sender_key, cls.sender_record = cls.rig.signed_sender("sender.example")
        cls.friend = cls.rig.mx("remote.example", "127.0.0.52", tls=False)
        cls.origin = cls.rig.mx("sender.example", "127.0.0.53", tls=False)
        config = dict(cls.rig.config())
        config.update({"server.dev": "false", "outbound.retry_min": '"1s"', "outbound.connect_timeout": '"2s"'})
        cls.srv = mk.Server(extra_config=config).start()
        r = cls.srv.cli("alias", "add", "fwd@localhost", "friend@remote.example")
        assert r.returncode == 0, r.stderr
        assert "(forwards to another domain)" in r.stdout, r.stdout

    @classmethod
    def tearDownClass(cls):
        mk.stop_all(cls.srv, cls.rig)

    def our_keys(self):
        records = self.srv.dkim_records("localhost")
        records["s._domainkey.sender.example"] = self.sender_record
        return rigmod.dkim_dns(records)

    def test_forwarded_with_srs_and_an_arc_seal(self):
        msg = message("news@sender.example", "forward this")
        msg = dkim.sign(msg, b"s", b"sender.example", self.sender_key) + msg
        with smtplib.SMTP("127.0.0.1", self.srv.smtp_port, local_hostname="mta.sender.example", timeout=30) as s:
            s.sendmail("bounce@sender.example", ["fwd@localhost", "me@localhost"], msg)
        got = self.friend.wait_for(b"Subject: forward this")
        self.assertEqual(got.rcpt_tos, ["friend@remote.example"])
        self.assertRegex(got.mail_from, r"^SRS0=[^=]{4}=[A-Z2-7]{2}=sender\.example=bounce@localhost$")
        self.assertTrue(got.data.startswith(b"ARC-Seal: i=1; a=rsa-sha256;"), got.data[:300])
        self.assertNotIn(b"\r\nReturn-Path:", b"\r\n" + got.data.split(b"\r\n\r\n")[0])
        dnsfunc = self.our_keys()
        cv, _, why = dkim.arc_verify(got.data, dnsfunc=dnsfunc)
        self.assertEqual(cv, dkim.CV_Pass, why)
        self.assertIn(b"ARC-Authentication-Results: i=1; localhost;", got.data)
        self.assertRegex(got.data, rb"dkim=pass [^;]*header\.d=sender\.example")
        self.assertTrue(dkim.verify(got.data, dnsfunc=dnsfunc), "the author's DKIM signature broke in forwarding")
        # The local recipient got its copy too, with Return-Path.
        mk.wait_for(lambda: any(b"forward this" in m for _, m in self.srv.messages()), "the local copy is missing", interval=0.1)
        local = [m for _, m in self.srv.messages() if b"Subject: forward this" in m]
        self.assertEqual(len(local), 1)
        self.assertTrue(local[0].startswith(b"Return-Path: <bounce@sender.example>"))

        # A bounce to the SRS address goes back to the original sender.
        srs = got.mail_from
        dsn = ("From: MAILER-DAEMON@remote.example\r\nTo: %s\r\nSubject: Undelivered Mail Returned to Sender\r\n"
               "Date: Tue, 01 Dec 2026 08:01:00 +0000\r\nMessage-ID: <bounce1@remote.example>\r\n\r\n"
               "friend@remote.example: mailbox full\r\n" % srs).encode()
        with smtplib.SMTP("127.0.0.1", self.srv.smtp_port, local_hostname="localhost", timeout=30) as s:
            s.sendmail("", [srs], dsn)
        back = self.origin.wait_for(b"Undelivered Mail Returned to Sender")
        self.assertEqual(back.rcpt_tos, ["bounce@sender.example"])
        self.assertIn(back.mail_from, ("", "<>"))
        # Anything else at an SRS-looking address is unknown: not a relay.
        forged = srs.replace("=sender.example=bounce@", "=victim.example=bounce@")
        with smtplib.SMTP("127.0.0.1", self.srv.smtp_port, local_hostname="localhost", timeout=30) as s:
            s.ehlo()
            s.mail("")
            code, _ = s.rcpt(forged)
            self.assertEqual(code, 550)
            code, _ = s.rcpt("SRS0=abcd=AA=victim.example=x@localhost")
            self.assertEqual(code, 550)


if __name__ == "__main__":
    unittest.main()
