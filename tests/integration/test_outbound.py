"""Outbound delivery end to end on the loopback rig: mail submitted to mailkeep reaches
scripted MX hosts (aiosmtpd on 127.0.0.x:25) found through a test DNS server, signed and
over STARTTLS; temporary failures are retried, permanent ones and undeliverable domains
come back to the sender as RFC 3464 bounces, and nothing leaves the queue unaccounted."""
import email
import os
import subprocess
import re
import smtplib
import time
import unittest

import dkim

import mkharness as mk
import rig as rigmod

USER = "me@localhost"


class OutboundTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        rigmod.require_root()
        cls.rig = rigmod.Rig()
        z = cls.rig.dns.zones
        cls.ok = cls.rig.mx("remote.example", "127.0.0.2")
        cls.flaky = cls.rig.mx("flaky.example", "127.0.0.3", tls=False)
        cls.flaky.rcpt_replies["bob@flaky.example"] = ["451 4.7.1 Greylisted, come back later"]
        cls.rejecting = cls.rig.mx("reject.example", "127.0.0.4")
        cls.rejecting.rcpt_replies["nobody@reject.example"] = ["550 5.1.1 No such user here"] * 5
        z.add("nullmx.example", "MX", (".", 0))
        z.add("down.example", "MX", ("mx.down.example", 10))
        z.add("down.example", "MX", ("mx2.down.example", 20))
        z.add("mx.down.example", "A", "127.0.0.9")  # nothing listens there
        z.add("mx2.down.example", "A", "127.0.0.10")
        # A hung MX (accepts, never greets) and an IPv6-only one.
        cls.hung = rigmod.Silent("127.0.0.12")
        cls.rig.mxs.append(cls.hung)
        z.add("hung.example", "MX", ("mx.hung.example", 10))
        z.add("mx.hung.example", "A", "127.0.0.12")
        cls.v6 = rigmod.Mx("::1", "mx.v6.example", cls.rig.dir, tls=False)
        cls.rig.mxs.append(cls.v6)
        z.add("v6.example", "MX", ("mx.v6.example", 10))
        z.add("mx.v6.example", "AAAA", "::1")
        # A domain without MX: its own address is the mail host (RFC 5321 section 5.1).
        cls.implicit = cls.rig.mx("implicit-host.example", "127.0.0.5")
        z.add("implicit.example", "A", "127.0.0.5")
        cls.postfix = cls.rig.postfix("postfix.example", "127.0.0.6", ["dave"])
        config = dict(cls.rig.config())
        # One new account writes to a dozen new people within minutes: the ceiling of new
        # recipients is raised so that its budget without history (an eighth) allows it.
        # Containment is tested in test_containment*.py.
        config.update({"server.dev": "false", "outbound.retry_min": '"1s"', "outbound.delay_warning": '"2s"',
                       "outbound.command_timeout": '"6s"', "outbound.connect_timeout": '"2s"',
                       "log.level": '"debug"', "security.max_new_recipients_per_hour": "400"})
        cls.srv = mk.Server(extra_config=config).start()

    @classmethod
    def tearDownClass(cls):
        mk.stop_all(cls.srv, cls.rig)

    def submit(self, rcpts, subject):
        self.srv.submit(rcpts, subject, rcpt_options=["NOTIFY=FAILURE,DELAY"])

    def bounce_for(self, rcpt):
        return self.srv.wait_bounce(rcpt)

    def queue_list(self):
        return self.srv.cli("queue", "list").stdout

    def test_delivered_signed_over_tls(self):
        self.submit(["alice@remote.example"], "to the remote MX")
        m = self.ok.wait_for(b"Subject: to the remote MX")
        self.assertEqual(m.mail_from, USER)
        self.assertEqual(m.rcpt_tos, ["alice@remote.example"])
        self.assertTrue(m.tls, "delivered without STARTTLS")
        # Signed with the dev domain's keys: dkimpy verifies against `mailkeep domain dns`.
        records = self.srv.dkim_records("localhost")
        d = dkim.DKIM(m.data)
        self.assertTrue(d.verify(idx=0, dnsfunc=lambda n, timeout=5: records[n.decode().rstrip(".")].encode()))

    def dkim_records(self):
        return self.srv.dkim_records("localhost")

    def test_postfix_receives_and_opendkim_verifies(self):
        self.submit(["dave@postfix.example"], "to a real postfix")
        got = self.postfix.wait("postfix.example", "dave")
        msg = got[0].replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        self.assertIn(b"Subject: to a real postfix", msg)
        # Postfix records the TLS session it accepted the message over.
        self.assertRegex(msg.decode(errors="replace"), r"\(using TLSv1\.[23] with cipher")
        records = self.dkim_records()
        d = dkim.DKIM(msg)
        for i in range(2):
            self.assertTrue(d.verify(idx=i, dnsfunc=lambda n, timeout=5: records[n.decode().rstrip(".")].encode()))
        # OpenDKIM, a second independent verifier, on each signature.
        import tempfile
        head, body = msg.split(b"\r\n\r\n", 1)
        fields = re.split(rb"\r\n(?![ \t])", head)
        for algo, bits in ((b"ed25519-sha256", "0-bit"), (b"rsa-sha256", "2048-bit")):
            kept = [f for f in fields if not f.startswith(b"DKIM-Signature:") or (b"a=" + algo + b";") in f]
            with tempfile.TemporaryDirectory() as t:
                with open(os.path.join(t, "keys"), "w") as f:
                    for name, txt in records.items():
                        f.write("%s %s\n" % (name, txt))
                with open(os.path.join(t, "conf"), "w") as f:
                    f.write("Mode v\nTestPublicKeys %s/keys\nSyslog no\n" % t)
                with open(os.path.join(t, "msg"), "wb") as f:
                    f.write(b"\r\n".join(kept) + b"\r\n\r\n" + body)
                r = subprocess.run(["opendkim", "-x", os.path.join(t, "conf"), "-t", os.path.join(t, "msg")],
                                   capture_output=True, text=True, timeout=60)
            self.assertRegex(r.stdout + r.stderr, r"verification \(s=mk\w+, d=localhost, %s key\) succeeded" % bits)

    def test_delay_notice(self):
        self.submit(["late@down.example"], "delay notice please")
        notices = lambda: [m for _, m in self.srv.messages() if b"Action: delayed" in m and b"late@down.example" in m]
        found = mk.wait_for(notices, "no delay notice")
        self.assertIn(b"Subject: Delayed Mail (still being retried)", found[0])
        self.assertIn(b"Status: 4.4.1", found[0])
        time.sleep(3)  # exactly one notice however many retries follow
        self.assertEqual(len(notices()), 1)

    def test_hung_server_times_out(self):
        self.submit(["h@hung.example"], "to a hung server")
        mk.wait_for(self.hung.open_connections, "no attempt on the hung MX")
        # Meanwhile other destinations are served: a hung MX holds only its own domain. The
        # healthy delivery (well under a second on an idle machine) must be done while our
        # client still waits for the hung MX's greeting (6 s, outbound.command_timeout).
        self.submit(["meanwhile@remote.example"], "while another MX hangs")
        self.ok.wait_for(b"while another MX hangs")
        self.assertEqual((len(self.hung.conns), self.hung.open_connections()), (1, 1),
                         "delivery to a healthy MX waited for the hung one")
        out = mk.wait_for(lambda: (lambda o: o if re.search(r"queued\s+<h@hung\.example>  attempts [1-9]", o) else None)(
            self.queue_list()), "no failed attempt on the hung MX")
        self.assertRegex(out, r"<h@hung\.example>  attempts [1-9]\d*  next .*last error: mx\.hung\.example \[127\.0\.0\.12\]")

    def test_ipv6_only_mx(self):
        self.submit(["six@v6.example"], "over IPv6")
        self.assertTrue(any(b"over IPv6" in m.data for m in self.v6.handler.wait(1)))

    def test_spf_dkim_dmarc_pass_at_the_receiver(self):
        # A hosted domain whose DNS (in the rig) is exactly what `mailkeep domain dns` says to
        # publish; its MX (this host, "localhost") resolves to 127.0.0.1: the checks all pass.
        self.assertEqual(self.srv.cli("domain", "add", "sender.example").returncode, 0)
        r = self.srv.cli("account", "add", "alice@sender.example", "--password-stdin", stdin="alice's pw 12345\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        text = self.srv.cli("domain", "dns", "sender.example").stdout
        z = self.rig.dns.zones
        for name, value in re.findall(r'(?m)^(\S+)\.\t3600\tIN\tTXT\t(.*)$', text):
            z.add(name, "TXT", "".join(re.findall(r'"([^"]*)"', value)))
        pref, host = re.search(r'(?m)^sender\.example\.\t3600\tIN\tMX\t(\d+) (\S+)\.$', text).groups()
        z.add("sender.example", "MX", (host, int(pref)))
        z.add(host, "A", "127.0.0.1")
        msg = "From: Alice <alice@sender.example>\r\nTo: a@remote.example\r\nSubject: auth checks\r\n\r\nhi\r\n"
        with smtplib.SMTP("127.0.0.1", self.srv.submission_port, timeout=20) as s:
            s.starttls(context=mk.client_tls_context())
            s.login("alice@sender.example", "alice's pw 12345")
            s.sendmail("alice@sender.example", ["a@remote.example"], msg.encode())
        m = self.ok.wait_for(b"Subject: auth checks")
        # SPF by pyspf (python3-spf), asking the rig's DNS.
        import dns.resolver
        import spf
        res = dns.resolver.Resolver(configure=False)
        res.nameservers = ["127.0.0.1"]
        res.port = self.rig.dns.port
        dns.resolver.default_resolver = res
        result, _ = spf.check2(i=m.peer_ip, s=m.mail_from, h=m.helo)
        self.assertEqual(result, "pass")
        # DKIM by dkimpy, same DNS.
        def txt(name, timeout=5):
            for rtype, value in z.records.get(name.decode().rstrip(".").lower(), []):
                if rtype == "TXT":
                    return value.encode()
            return None
        self.assertTrue(dkim.verify(m.data, dnsfunc=txt))
        # DMARC (RFC 7489 section 3.1): both identifiers are aligned with the From domain,
        # and the domain publishes a policy, so DMARC passes.
        d = dkim.DKIM(m.data)
        d.verify(dnsfunc=txt)
        self.assertEqual(d.domain.decode(), "sender.example")
        self.assertEqual(m.mail_from.split("@")[1], "sender.example")
        self.assertTrue(txt(b"_dmarc.sender.example").startswith(b"v=DMARC1; p="))

    def test_implicit_mx(self):
        self.submit(["carol@implicit.example"], "no MX record")
        self.assertTrue(any(b"no MX record" in m.data for m in self.implicit.wait(1)))

    def test_temporary_failure_is_retried(self):
        self.submit(["bob@flaky.example"], "greylisted once")
        got = self.flaky.wait(1, timeout=40)
        self.assertIn(b"greylisted once", got[0].data)
        self.assertEqual(got[0].rcpt_tos, ["bob@flaky.example"])
        self.assertFalse(got[0].tls)  # this MX offers no STARTTLS: opportunistic TLS delivers anyway
        self.assertNotIn("bob@flaky.example", self.queue_list())
        # On /metrics: the greylisted attempt deferred, the retry delivered in plain text.
        self.srv.wait_metric("mailkeep_outbound_deliveries_total", 1, result="delivered", tls="plaintext",
                             policy="opportunistic")
        self.assertGreaterEqual(self.srv.metric("mailkeep_outbound_deliveries_total", result="deferred",
                                                tls="plaintext"), 1)

    def test_permanent_failure_bounces(self):
        self.submit(["nobody@reject.example"], "to a missing user")
        b = self.bounce_for("nobody@reject.example")
        msg = email.message_from_bytes(b)
        self.assertEqual(msg.get_content_type(), "multipart/report")
        self.assertEqual(msg["To"], "<%s>" % USER)
        status = [p for p in msg.walk() if p.get_content_type() == "message/delivery-status"][0]
        text = status.as_string()
        self.assertIn("Final-Recipient: rfc822; nobody@reject.example", text)
        self.assertIn("Action: failed", text)
        self.assertIn("Status: 5.1.1", text)
        self.assertIn("Diagnostic-Code: smtp; 550 5.1.1 No such user here", text)
        self.assertIn(b"Subject: to a missing user", b)  # the original is returned
        self.assertNotIn("nobody@reject.example", self.queue_list())

    def test_null_mx_and_missing_domain_bounce(self):
        self.submit(["x@nullmx.example", "y@no-such-domain.example"], "undeliverable domains")
        self.assertIn("Status: 5.1.10", self.bounce_for("x@nullmx.example").decode())
        self.assertIn("Status: 5.1.2", self.bounce_for("y@no-such-domain.example").decode())

    def test_unreachable_host_stays_queued(self):
        self.submit(["z@down.example"], "host is down")
        out = mk.wait_for(lambda: (lambda o: o if re.search(r"queued\s+<z@down\.example>  attempts [1-9]", o) else None)(
            self.queue_list()), "no failed attempt on the unreachable host")
        self.assertRegex(out, r"queued\s+<z@down\.example>  attempts [1-9]\d*  next .*last error: mx2\.down\.example \[127\.0\.0\.10\]")


class ExpiryTest(unittest.TestCase):
    """A message that cannot be delivered within max_age comes back with status 4.4.7."""

    def test_expired_message_bounces(self):
        if os.geteuid() != 0:
            raise unittest.SkipTest("run as root")
        rig = rigmod.Rig()
        rig.dns.zones.add("gone.example", "MX", ("mx.gone.example", 10))
        rig.dns.zones.add("mx.gone.example", "A", "127.0.0.11")  # nothing listens
        config = dict(rig.config())
        config.update({"server.dev": "false", "outbound.retry_min": '"1s"', "outbound.max_age": '"3s"'})
        srv = mk.Server(extra_config=config).start()
        try:
            with smtplib.SMTP("127.0.0.1", srv.submission_port, timeout=20) as s:
                s.starttls(context=mk.client_tls_context())
                s.login(USER, mk.PASSWORD)
                s.sendmail(USER, ["w@gone.example"], b"From: me@localhost\r\nSubject: expires\r\n\r\nx\r\n")
            # max_age 3 s, retried every second: the hang guard is 20x.
            bounce = mk.wait_for(lambda: next((m for _, m in srv.messages() if b"Action: failed" in m), None),
                                 "no bounce after max_age")
            self.assertIn(b"Status: 4.4.7", bounce)
            self.assertIn(b"delivery time expired", bounce)
            self.assertIn("0 messages queued", srv.cli("queue", "list").stdout)
            self.assertEqual(srv.stop(), 0)
        finally:
            try:
                srv.cleanup()
            finally:
                rig.stop()


if __name__ == "__main__":
    unittest.main()
