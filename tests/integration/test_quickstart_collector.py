"""`mailkeep quickstart --collector`: the log collector's config, self-signed certificate and
systemd unit for a second machine. What it writes is used as written: a mail server given the
certificate as its ca_file and the printed [log.remote] settings ships its security log to a
collector started from that config, and the chain verifies there. The unit passes
`systemd-analyze verify`; running it again keeps everything."""
import os
import re
import shutil
import subprocess
import tempfile
import unittest

import logship
import mkharness as mk


def quickstart(*args):
    return subprocess.run([mk.BIN, "quickstart", *args], capture_output=True, text=True, timeout=300,
                          stdin=subprocess.DEVNULL)


class QuickstartCollectorTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="mk-qs-collector-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.units = os.path.join(self.dir, "units")
        os.mkdir(self.units)
        self.config = os.path.join(self.dir, "collector.toml")
        self.data = os.path.join(self.dir, "data")
        self.args = ["admin@example.org", "--collector", "--hostname", "logs.example.org", "--config", self.config,
                     "--data-dir", self.data, "--systemd-dir", self.units]

    def test_what_it_writes_receives_a_servers_log(self):
        r = quickstart(*self.args)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        cert = os.path.join(self.data, "tls", "collector-cert.pem")
        self.assertIn("collectors = [\"logs.example.org:6514\"]", r.stdout)
        self.assertIn("server_name = \"logs.example.org\"", r.stdout)
        self.assertIn(cert, r.stdout)
        self.assertIn("go through an MTA on this machine (127.0.0.1:25)", r.stdout)  # no --relay
        with open(self.config) as f:
            text = f.read()
        self.assertIn('listen = ["0.0.0.0:6514", "[::]:6514"]', text)
        self.assertIn('\nalert_mail_to = "admin@example.org"\n# alert_relay = "127.0.0.1:25"\n', text)
        self.assertEqual(os.stat(self.config).st_mode & 0o777, 0o640)
        self.assertEqual(os.stat(os.path.join(self.data, "tls", "collector-key.pem")).st_mode & 0o777, 0o600)

        # The unit runs the collector, with no capability (6514 is above 1024).
        unit = os.path.join(self.units, "mailkeep-collector.service")
        with open(unit) as f:
            u = f.read()
        self.assertIn("\nExecStart=%s collector --config %s\n" % (os.path.realpath(mk.BIN), self.config), u)
        self.assertIn("\nCapabilityBoundingSet=\n", u)
        self.assertNotIn("AmbientCapabilities", u)
        self.assertIn("\nReadWritePaths=%s\n" % self.data, u)
        if shutil.which("systemd-analyze"):
            v = subprocess.run(["systemd-analyze", "verify", unit], capture_output=True, text=True, cwd=self.units)
            self.assertEqual(v.returncode, 0, v.stdout + v.stderr)
            sec = subprocess.run(["systemd-analyze", "security", "--offline=yes", unit], capture_output=True,
                                 text=True, cwd=self.units)
            m = re.search(r"Overall exposure level for mailkeep-collector\.service: ([\d.]+)", sec.stdout + sec.stderr)
            self.assertTrue(m, sec.stdout + sec.stderr)
            self.assertLessEqual(float(m.group(1)), 2.0, sec.stdout)

        # As the printed steps say: the server trusts the certificate and names the collector;
        # the collector lists the server's key. Only the port is the test's.
        port = logship.free_port()
        srv, key = logship.shipping_server(port, {"ca": cert},
                                           **{"log.remote.server_name": '"logs.example.org"'})
        collector = None
        try:
            text = text.replace('listen = ["0.0.0.0:6514", "[::]:6514"]', 'listen = ["127.0.0.1:%d"]' % port)
            text += '[[collector.server]]\nname = "localhost"\nkey = "%s"\n' % key
            with open(self.config, "w") as f:
                f.write(text)
            collector = subprocess.Popen([mk.BIN, "collector", "--config", self.config], stdout=subprocess.PIPE,
                                         stderr=subprocess.PIPE, text=True)
            line = collector.stdout.readline()
            self.assertTrue(line.startswith("listening syslog-tls 127.0.0.1:%d" % port), line)
            for i in range(3):
                srv.imap_auth("wrong-%d" % i)  # security records to ship
            local = os.path.join(srv.dir, "security.log")
            remote = os.path.join(self.data, "servers", "localhost", "security.log")
            logship.wait_same(local, remote, "the server's log did not arrive at the quickstart collector")
            self.assertTrue(logship.chain_ok(logship.records(remote)))
            v = subprocess.run([mk.BIN, "collector", "--config", self.config, "verify"], capture_output=True,
                               text=True, timeout=60)
            self.assertEqual(v.returncode, 0, v.stdout + v.stderr)
            self.assertIn("localhost: OK", v.stdout)
        finally:
            if collector:
                collector.terminate()
                _, err = collector.communicate(timeout=30)
                mk.assert_no_sanitizer_report(err, "collector")
            mk.stop_all(srv)

        # Again: everything kept.
        again = quickstart(*self.args)
        self.assertEqual(again.returncode, 0, again.stdout + again.stderr)
        self.assertIn("already there, kept", again.stdout)
        with open(self.config) as f:
            self.assertEqual(f.read(), text)

    def test_with_a_relay_alerts_are_mailed(self):
        r = quickstart(*self.args, "--relay", "mail.example.org:25")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        with open(self.config) as f:
            text = f.read()
        self.assertIn('\nalert_mail_to = "admin@example.org"\nalert_relay = "mail.example.org:25"\n', text)
        self.assertNotIn("127.0.0.1:25", r.stdout)
        bad = quickstart("admin@example.org", "--collector", "--relay", "mail.example.org", "--config",
                         os.path.join(self.dir, "other.toml"), "--data-dir", os.path.join(self.dir, "other"),
                         "--no-systemd")
        self.assertEqual(bad.returncode, 2)
        self.assertIn("--relay \"mail.example.org\" must be host:port", bad.stderr)


if __name__ == "__main__":
    unittest.main()
