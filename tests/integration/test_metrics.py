"""The Prometheus endpoint with real peers: Debian's prometheus scrapes a running mailkeep and
evaluates the shipped alert rules (deploy/prometheus/mailkeep-alerts.yml) against what it
scraped; promtool lints the exposition and checks and unit-tests the rules. The traffic is
real: mail over SMTP and submission, a refused recipient, failed IMAP and SMTP AUTH logins
up to a ban."""
import os
import re
import shutil
import smtplib
import socket
import subprocess
import tempfile
import time
import unittest
import urllib.error
import urllib.request

import mkharness as mk

RULES_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "deploy", "prometheus")
RULES = os.path.join(RULES_DIR, "mailkeep-alerts.yml")
scrape = mk.scrape_metrics
samples = mk.metric_samples
value = mk.metric_value


def promtool(*args, stdin=None):
    return subprocess.run(["promtool", *args], input=stdin, capture_output=True, text=True, timeout=120)


class Prometheus:
    """A private prometheus scraping one target every second and evaluating the rules."""

    def __init__(self, target_port):
        self.dir = tempfile.mkdtemp(prefix="mk-prom-")
        self.port = mk.claim_free_port(10000, 32768)
        with open(os.path.join(self.dir, "prometheus.yml"), "w") as f:
            f.write("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                    "rule_files: [%s]\n"
                    "scrape_configs:\n  - job_name: mailkeep\n"
                    "    static_configs: [{targets: ['127.0.0.1:%d']}]\n" % (RULES, target_port))
        self.log = open(os.path.join(self.dir, "prometheus.log"), "wb")
        self.proc = subprocess.Popen(
            ["prometheus", "--config.file", os.path.join(self.dir, "prometheus.yml"),
             "--storage.tsdb.path", os.path.join(self.dir, "data"),
             "--web.listen-address", "127.0.0.1:%d" % self.port],
            stdout=self.log, stderr=subprocess.STDOUT)
        mk.wait_for(lambda: self.api("query?query=up") is not None, "prometheus did not start")

    def api(self, path):
        import json
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d/api/v1/%s" % (self.port, path), timeout=10) as r:
                return json.loads(r.read())["data"]
        except (urllib.error.URLError, ConnectionError):
            return None

    def query(self, expr):
        """The instant vector's values, as floats."""
        data = self.api("query?query=" + urllib.request.quote(expr)) or {"result": []}
        return [float(r["value"][1]) for r in data["result"]]

    def firing(self):
        return {a["labels"]["alertname"] for a in (self.api("alerts") or {"alerts": []})["alerts"]
                if a["state"] == "firing"}

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


class RulesTest(unittest.TestCase):
    """The shipped alert rules, as Prometheus itself reads them."""

    def test_rules_check_and_their_unit_tests_pass(self):
        r = promtool("check", "rules", RULES)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        r = subprocess.run(["promtool", "test", "rules", "mailkeep-alerts.test.yml"], cwd=RULES_DIR,
                           capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)


class MetricsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = mk.Server(extra_config={"security.login_failures_before_ban": "5",
                                          "security.allow_networks": '["127.0.0.9"]'}).start()

    @classmethod
    def tearDownClass(cls):
        code = cls.srv.stop()
        cls.srv.cleanup()
        assert code == 0, "mailkeep exited with %s" % code

    def test_a_real_prometheus_scrapes_it_and_the_rules_fire_on_an_attack(self):
        content_type, text = scrape(self.srv.metrics_port)
        self.assertEqual(content_type, "text/plain; version=0.0.4; charset=utf-8")
        prom = Prometheus(self.srv.metrics_port)
        try:
            mk.wait_for(lambda: prom.query('up{job="mailkeep"} == 1'), "prometheus never scraped mailkeep")
            mk.wait_for(lambda: prom.query('mailkeep_security_events_total{event="ban"} == 0'),
                        "the ban counter is not there at 0 before any ban")
            self.traffic()
            # The ban raises the shipped rule's alert, evaluated by Prometheus on what it scraped.
            mk.wait_for(lambda: "MailkeepNetworkBanned" in prom.firing(),
                        "MailkeepNetworkBanned never fired: %s" % prom.firing())
            self.assertEqual(prom.query('mailkeep_bans_active'), [1.0])
            self.assertEqual(prom.query('mailkeep_logins_total{service="imap",result="failed"}'), [2.0])
            self.assertNotIn("MailkeepDown", prom.firing())
            rules = prom.api("rules")["groups"]
            bad = [(r["name"], r.get("lastError")) for g in rules for r in g["rules"] if r["health"] != "ok"]
            self.assertEqual(bad, [], "rules Prometheus could not evaluate")
            self.assertEqual(sum(len(g["rules"]) for g in rules), 17)
        finally:
            prom.stop()

        text = scrape(self.srv.metrics_port)[1]
        lint = promtool("check", "metrics", stdin=text)
        self.assertEqual(lint.returncode, 0, "promtool check metrics: " + lint.stdout + lint.stderr)
        s = samples(text)
        self.assertGreaterEqual(value(s, "mailkeep_smtp_messages_total", service="smtp", outcome="accepted"), 1, text)
        self.assertGreaterEqual(value(s, "mailkeep_smtp_messages_total", service="submission", outcome="accepted"), 1)
        self.assertGreaterEqual(value(s, "mailkeep_smtp_refusals_total", service="smtp", status="5.1.1"), 1, text)
        self.assertEqual(value(s, "mailkeep_smtp_messages_total", service="smtp", reason="spam"), 1, text)
        self.assertEqual(value(s, "mailkeep_smtp_messages_total", service="submission", outcome="rejected",
                               reason="from_not_owned"), 1, text)
        self.assertGreaterEqual(value(s, "mailkeep_smtp_refusals_total", service="submission", status="5.7.8"), 3, text)
        self.assertEqual(value(s, "mailkeep_logins_total", service="submission", result="ok"), 2)
        self.assertEqual(value(s, "mailkeep_security_events_total", event="ban"), 1)
        self.assertGreaterEqual(value(s, "mailkeep_connections_total", listener="imap"), 2)
        self.assertGreaterEqual(value(s, "mailkeep_session_duration_seconds_count", listener="smtp"), 1)
        self.assertGreaterEqual(value(s, "mailkeep_store_seconds_count", op="smtp_deliver"), 1)
        # Both messages that reached the MX's verdicts, the accepted one and GTUBE (refused by
        # its verdict), and no submitted one.
        self.assertEqual(value(s, "mailkeep_spam_verdict_cpu_seconds_count"), 2, text)
        self.assertGreater(value(s, "mailkeep_spam_verdict_cpu_seconds_sum"), 0, text)
        self.assertGreater(value(s, "mailkeep_tls_certificate_expiry_timestamp_seconds"), time.time() + 86400)
        self.assertEqual(value(s, "mailkeep_tls_certificate_self_signed"), 1)
        self.assertEqual(value(s, "mailkeep_accounts"), 1)
        self.assertEqual(value(s, "mailkeep_queue_messages"), 0)
        # Scrapes are not access-logged at info level, and secrets never reach the log.
        log = self.srv.stderr()
        self.assertNotIn("path=/metrics", re.sub(r".*level=debug.*\n", "", log))
        self.assertNotIn(mk.PASSWORD, log)

    def traffic(self):
        srv = self.srv
        # The MX: one message accepted, one recipient refused.
        with smtplib.SMTP("127.0.0.1", srv.smtp_port, timeout=30) as c:
            c.ehlo("client.example")
            c.sendmail("a@example.org", ["me@localhost"], mk.test_message("a@example.org", "metrics one"))
            with self.assertRaises(smtplib.SMTPRecipientsRefused):
                c.sendmail("a@example.org", ["nobody@localhost"], mk.test_message("a@example.org", "metrics two"))
        srv.submit(["me@localhost"], "metrics three")
        # Spam (GTUBE) on the MX, and a submitted From: the account does not own.
        gtube = mk.test_message("a@example.org", "metrics spam",
                                body="XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X\r\n")
        with smtplib.SMTP("127.0.0.1", srv.smtp_port, timeout=30) as c:
            try:
                c.sendmail("a@example.org", ["me@localhost"], gtube)
            except smtplib.SMTPDataError as e:
                self.assertEqual(e.smtp_code, 550)
        with smtplib.SMTP_SSL("127.0.0.1", srv.submissions_port, context=mk.client_tls_context(), timeout=30) as c:
            c.login("me@localhost", mk.PASSWORD)
            with self.assertRaises(smtplib.SMTPDataError) as e:
                c.sendmail("me@localhost", ["me@localhost"], mk.test_message("boss@example.org", "forged"))
            self.assertEqual(e.exception.smtp_code, 550)
        # Two failed IMAP logins, then SMTP AUTH failures until the network is banned.
        self.assertFalse(srv.imap_auth("wrong-1"))
        self.assertFalse(srv.imap_auth("wrong-2"))
        for i in range(10):
            r = srv.smtp_auth("wrong-smtp-%d" % i)
            if r is not False:
                break
        self.assertIsInstance(r, tuple, "never banned")


class TokenAndPortTest(unittest.TestCase):
    @staticmethod
    def token_server(token, **extra):
        """A server (not started yet) whose metrics need `token`, kept in a file of mode 0640."""
        srv = mk.Server(extra_config={"metrics.token_file": '"metrics.token"', **extra})
        path = os.path.join(srv.dir, "metrics.token")
        with open(path, "w") as f:
            f.write(token + "\n")
        os.chmod(path, 0o640)
        return srv

    def test_a_token_guards_the_endpoint(self):
        token = "t0ken-for-the-integration-test-0123456789"
        srv = self.token_server(token)
        srv.start()
        try:
            with self.assertRaises(urllib.error.HTTPError) as e:
                scrape(srv.metrics_port)
            self.assertEqual(e.exception.code, 401)
            with self.assertRaises(urllib.error.HTTPError) as e:
                scrape(srv.metrics_port, token + "x")
            self.assertEqual(e.exception.code, 401)
            self.assertIn("mailkeep_build_info", scrape(srv.metrics_port, token)[1])
            self.assertNotIn(token, srv.stderr())
        finally:
            self.assertEqual(srv.stop(), 0)
            srv.cleanup()

    def test_off_loopback_it_is_https_only(self):
        """Listening on every address, with a token: the token never crosses a network in clear."""
        token = "another-t0ken-for-the-https-test-0123"
        srv = self.token_server(token)
        srv.extra_config["metrics.listen"] = '["0.0.0.0:%d"]' % srv.metrics_port
        srv.start()
        try:
            req = urllib.request.Request("https://127.0.0.1:%d/metrics" % srv.metrics_port,
                                         headers={"Authorization": "Bearer " + token})
            with urllib.request.urlopen(req, timeout=30, context=mk.client_tls_context()) as r:
                self.assertIn("mailkeep_build_info", r.read().decode())
            with self.assertRaises((urllib.error.URLError, ConnectionError)):
                scrape(srv.metrics_port, token)  # plain HTTP to a TLS port: no answer
        finally:
            self.assertEqual(srv.stop(), 0)
            srv.cleanup()

    def test_a_taken_port_stops_the_server_with_the_fix(self):
        """Another program answering on the port would tell Prometheus all is well."""
        srv = mk.Server(extra_config={})
        blocker = socket.socket()
        blocker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        blocker.bind(("127.0.0.1", srv.metrics_port))
        blocker.listen(1)
        try:
            with self.assertRaises(RuntimeError) as e:
                srv.start()
            self.assertIn("set [metrics] listen to a free port, or [] to turn /metrics off", str(e.exception))
            self.assertEqual(srv.proc.wait(timeout=30), 1)
        finally:
            blocker.close()
            srv.cleanup()

    def test_a_metrics_listener_off_loopback_needs_a_token(self):
        srv = mk.Server(extra_config={"metrics.listen": '["0.0.0.0:9325"]'})
        try:
            with self.assertRaises(RuntimeError) as e:
                srv.start()
            self.assertIn("is not a loopback address", str(e.exception))
            self.assertEqual(srv.proc.wait(timeout=30), 2)
        finally:
            srv.cleanup()


if __name__ == "__main__":
    unittest.main()
