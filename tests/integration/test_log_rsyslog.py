"""Log shipping to a third-party collector: Debian's rsyslog (imtcp with the gtls driver,
RFC 5425 over TLS) receives a mailkeep server's security log. The records arrive in order,
each as an RFC 5424 message whose structured data carries seq, prev and hash, and the chain
they form verifies independently of mailkeep. The operational log goes along as RFC 5424
messages with MSGID "log" (facility mail, the line's level as severity). rsyslog acknowledges nothing, so mailkeep
remembers what it wrote: a restart of the server does not send the records again."""
import os
import re
import shutil
import signal
import subprocess
import tempfile
import unittest

import logship
import mkharness as mk

RSYSLOGD = shutil.which("rsyslogd") or "/usr/sbin/rsyslogd"
RFC5424 = re.compile(r'^<(\d+)>1 (\S+) (\S+) (\S+) (\S+) (\S+) (\[chain@32473 [^\]]*\]) (.*)$')


class Rsyslog:
    def __init__(self, d, port, certs):
        self.dir = d
        self.out = os.path.join(d, "received.log")
        self.conf = os.path.join(d, "rsyslog.conf")
        work = os.path.join(d, "work")
        os.makedirs(work, exist_ok=True)
        with open(self.conf, "w") as f:
            f.write("""
global(workDirectory="%(work)s" maxMessageSize="64k"
       DefaultNetstreamDriver="gtls" DefaultNetstreamDriverCAFile="%(ca)s"
       DefaultNetstreamDriverCertFile="%(cert)s" DefaultNetstreamDriverKeyFile="%(key)s")
module(load="imtcp" StreamDriver.Name="gtls" StreamDriver.Mode="1" StreamDriver.AuthMode="anon")
template(name="raw" type="string" string="%%rawmsg%%\\n")
input(type="imtcp" address="127.0.0.1" port="%(port)d" ruleset="received")
ruleset(name="received") { action(type="omfile" file="%(out)s" template="raw") }
""" % {"work": work, "ca": certs["ca"], "cert": certs["cert"], "key": certs["key"], "port": port,
                "out": self.out})
        self.proc = None

    def start(self):
        self.err = open(os.path.join(self.dir, "rsyslog.err"), "ab")
        self.proc = subprocess.Popen([RSYSLOGD, "-n", "-f", self.conf, "-i", os.path.join(self.dir, "rsyslog.pid")],
                                     stdout=self.err, stderr=self.err)
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=30)
            self.err.close()

    def messages(self):
        try:
            with open(self.out, "rb") as f:
                return [l.rstrip(b"\n").decode() for l in f if l.strip()]
        except FileNotFoundError:
            return []


class RsyslogCollectorTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="mk-rsyslog-")
        self.certs = logship.make_ca(self.tmp)
        self.port = logship.free_port()
        self.rsyslog = Rsyslog(self.tmp, self.port, self.certs).start()
        self.srv = mk.Server(extra_config={
            "log.remote.collectors": '["127.0.0.1:%d"]' % self.port,
            "log.remote.ca_file": '"%s"' % self.certs["ca"],
            "log.remote.server_name": '"collector.example"',
            "security.login_failures_before_ban": "50",
            "log.remote.operational": '"info"',
        })
        self.local = os.path.join(self.srv.dir, "security.log")

    def tearDown(self):
        self.rsyslog.stop()
        mk.stop_all(self.srv)
        shutil.rmtree(self.tmp, ignore_errors=True)

    def records_received(self):
        out = []
        for m in self.rsyslog.messages():
            g = RFC5424.match(m)
            if g and g.group(6) == "security":
                out.append((g.group(7), g.group(8)))
        return out

    def test_rsyslog_receives_the_chain_in_order(self):
        self.srv.start()
        for i in range(4):
            self.assertIs(self.srv.smtp_auth("wrong-%d" % i, source="127.0.0.2"), False)

        def arrived():
            local = logship.records(self.local)
            got = self.records_received()
            return len(local) >= 4 and [m.encode() for _, m in got] == local
        mk.wait_for(arrived, "rsyslog's copy of the security log")
        got = self.records_received()
        self.assertTrue(logship.chain_ok([m.encode() for _, m in got]))
        for sd, msg in got:
            rec = __import__("json").loads(msg)
            self.assertEqual(sd, '[chain@32473 seq="%d" prev="%s" hash="%s"]' % (rec["seq"], rec["prev"], rec["hash"]))
        # The operational lines, as the server logged them, severity 6 (info) of facility mail.
        local = [l for l in self.srv.stderr().splitlines() if ".auth_failed " in l]
        self.assertEqual(len(local), 4)

        def operational():
            return [m for m in self.rsyslog.messages() if m.split(" ")[5:6] == ["log"]]
        mk.wait_for(lambda: [m.split(" - ", 1)[1] for m in operational() if "auth_failed" in m] == local,
                    "the operational lines at rsyslog")
        self.assertTrue(all(m.startswith("<22>1 ") for m in operational() if "level=info" in m))
        # rsyslog answers nothing: the server treated it as such and keeps what it wrote.
        self.assertRegex(self.srv.stderr(), r"event=log\.remote\.connected .*acknowledged=false")
        self.assertTrue(any(m.split(" ")[5] == "heartbeat" for m in self.rsyslog.messages()))
        # A restart of the server resumes after the last record written, without repeats.
        count = len(got)
        self.srv.stop()
        self.srv.start()
        self.assertIs(self.srv.smtp_auth("wrong-again", source="127.0.0.2"), False)
        mk.wait_for(lambda: len(self.records_received()) > count, "the record after the restart")
        seqs = [int(__import__("json").loads(m)["seq"]) for _, m in self.records_received()]
        self.assertEqual(seqs, list(range(1, len(seqs) + 1)))


class RsyslogSenderTest(unittest.TestCase):
    """The other direction: rsyslog forwards ordinary syslog (omfwd, gtls, octet-counted) to a
    `mailkeep collector` with accept_plain on, which keeps it per sending host."""

    def test_collector_is_a_plain_log_sink(self):
        tmp = tempfile.mkdtemp(prefix="mk-rsyslog-fwd-")
        certs = logship.make_ca(tmp)
        cport, uport = logship.free_port(), logship.free_port()
        col = logship.Collector(tmp, cport, certs, [], "accept_plain = true\n").start()
        conf = os.path.join(tmp, "fwd.conf")
        os.makedirs(os.path.join(tmp, "work"))
        with open(conf, "w") as f:
            f.write("""
global(workDirectory="%(work)s" DefaultNetstreamDriverCAFile="%(ca)s")
module(load="imudp")
input(type="imudp" address="127.0.0.1" port="%(uport)d")
action(type="omfwd" target="127.0.0.1" port="%(cport)d" protocol="tcp" TCP_Framing="octet-counted"
       StreamDriver="gtls" StreamDriverMode="1" StreamDriverAuthMode="x509/name"
       StreamDriverPermittedPeers="collector.example" template="RSYSLOG_SyslogProtocol23Format")
""" % {"work": os.path.join(tmp, "work"), "ca": certs["ca"], "uport": uport, "cport": cport})
        err = open(os.path.join(tmp, "fwd.err"), "ab")
        rs = subprocess.Popen([RSYSLOGD, "-n", "-f", conf, "-i", os.path.join(tmp, "fwd.pid")], stdout=err, stderr=err)
        try:
            import socket
            sent = ['<14>1 2026-12-05T10:00:0%d.000Z app1.example web 42 - - request %d done' % (i, i)
                    for i in range(3)]
            out = os.path.join(col.data, "syslog", "app1.example.log")

            def stored():
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
                    for m in sent:
                        u.sendto(m.encode(), ("127.0.0.1", uport))
                try:
                    with open(out) as f:
                        return [l for l in f.read().splitlines() if "request" in l]
                except FileNotFoundError:
                    return []
            lines = mk.wait_for(lambda: len(stored()) >= 3 and stored(), "rsyslog's lines in the collector")
            for i in range(3):
                self.assertTrue(any(("request %d done" % i) in l and " app1.example web " in l for l in lines), lines)
            # Nothing of it is taken for a server's chain.
            self.assertFalse(os.path.exists(os.path.join(col.data, "servers")) and
                             os.listdir(os.path.join(col.data, "servers")))
        finally:
            rs.terminate()
            rs.wait(timeout=30)
            err.close()
            col.close()
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
