"""The MX when its resolver stops answering: every lookup of a message together ends within
[dns] message_budget, the client gets 451 4.4.3 (try again later) instead of a session that
hangs or a verdict built on failed lookups, the outage is logged once (not once per message or
per lookup), and mail flows again when DNS is back. A real client (smtplib) from an address
added to lo, so that reverse DNS is asked of the test DNS and not answered by libunbound."""
import smtplib
import subprocess
import time
import unittest

import mkharness as mk
import rig as rigmod

CLIENT = "11.0.0.53"  # public-looking, on lo only: libunbound does not answer its PTR itself
QUERY_TIMEOUT, BUDGET = 1, 3  # seconds, as configured below


class DnsOutageTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        rigmod.require_root()
        subprocess.run(["ip", "addr", "add", CLIENT + "/32", "dev", "lo"], capture_output=True)
        cls.dns = rigmod.Dns()
        z = cls.dns.zones
        z.add("mta.sender.example", "A", CLIENT)
        z.add("53.0.0.11.in-addr.arpa", "PTR", "mta.sender.example")
        # A sender domain per message: names asked before may still be in libunbound's cache
        # (negative answers too), and a cached answer is an answer.
        for n in range(1, 200):
            z.add("s%d.example" % n, "TXT", "v=spf1 ip4:%s -all" % CLIENT)
            z.add("_dmarc.s%d.example" % n, "TXT", "v=DMARC1; p=none")
        for name in list(z.records):
            z.ttl[name] = 0  # nothing cached: every message asks again
        config = {"dns.upstream": '["127.0.0.1@%d"]' % cls.dns.port, "dns.dnssec": "false",
                  "dns.query_timeout": '"%ds"' % QUERY_TIMEOUT, "dns.message_budget": '"%ds"' % BUDGET,
                  "server.dev": "false"}
        cls.srv = mk.Server(extra_config=config).start()

    @classmethod
    def tearDownClass(cls):
        mk.stop_all(cls.srv, cls.dns)
        subprocess.run(["ip", "addr", "del", CLIENT + "/32", "dev", "lo"], capture_output=True)

    def deliver(self, n):
        """(code, text) of the reply to the message's DATA, and how long the session took."""
        sender = "news@s%d.example" % n
        msg = mk.test_message(sender, "outage %d" % n)
        started = time.monotonic()
        # The socket timeout is a hang guard, 10x the budget. HELO names the client's address
        # (a literal: no lookup), so every name the MX asks is new.
        with smtplib.SMTP("127.0.0.1", self.srv.smtp_port, local_hostname="[%s]" % CLIENT,
                          timeout=10 * BUDGET, source_address=(CLIENT, 0)) as s:
            try:
                s.sendmail(sender, ["me@localhost"], msg)
                reply = (250, "")
            except smtplib.SMTPDataError as e:
                reply = (e.smtp_code, e.smtp_error.decode())
        return reply, time.monotonic() - started

    def test_outage_defers_mail_and_is_logged_once(self):
        self.assertEqual(self.deliver(1)[0][0], 250)  # DNS answers: accepted
        self.dns.zones.down = True
        for n in (2, 3):
            (code, text), took = self.deliver(n)
            self.assertEqual((code, text[:5]), (451, "4.4.3"), text)
            self.assertGreaterEqual(took, QUERY_TIMEOUT * 0.95)  # it did wait for an answer
        self.assertEqual(self.srv.stderr().count("event=dns.unreachable"), 1)
        self.assertNotIn("outage 2", repr(self.srv.messages()))
        # /metrics counts the messages deferred for it (and, below, the lookups that went unanswered).
        self.assertEqual(self.srv.metric("mailkeep_smtp_messages_total", outcome="deferred", reason="dns_unreachable"), 2)
        self.assertEqual(self.srv.metric("mailkeep_smtp_received_total", dmarc="unchecked"), 2)
        # A lookup a message gave up on is counted when the resolver gives up on it too (a
        # SERVFAIL from libunbound, or its 30 s timeout). Checked while DNS is still down: once
        # it is back, libunbound's next retry of the same lookup is answered and counts as ok.
        unanswered = lambda: sum(self.srv.metric("mailkeep_dns_queries_total", result=r)
                                 for r in ("timeout", "servfail", "failed"))
        mk.wait_for(lambda: unanswered() >= 1, "no unanswered DNS query counted on /metrics", guard=10 * 30)
        # DNS is back: mail flows again and the end of the outage is logged.
        self.dns.zones.down = False
        sent = iter(range(100, 200))
        mk.wait_for(lambda: self.deliver(next(sent))[0][0] == 250, "mail still deferred after DNS came back", interval=1)
        self.assertIn("event=dns.recovered", self.srv.stderr())

if __name__ == "__main__":
    unittest.main()
