"""The web server with real HTTP clients (curl, Python's http.client and urllib): the
redirect from HTTP to HTTPS, the MTA-STS policy on mta-sts.DOMAIN, Thunderbird autoconfig,
Outlook autodiscover and the Apple profile read by real parsers (xml.etree, plistlib), and
the limits seen from outside: an oversized header, a header that trickles in, too many
connections from one address."""
import http.client
import plistlib
import socket
import ssl
import subprocess
import time
import unittest
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

import mkharness as mk


def https(srv, method, path, host="localhost", body=None, headers=None):
    c = http.client.HTTPSConnection("127.0.0.1", srv.https_port, context=mk.client_tls_context(), timeout=30)
    h = {"Host": host}
    h.update(headers or {})
    c.request(method, path, body=body, headers=h)
    r = c.getresponse()
    data = r.read()
    c.close()
    return r, data


def curl(*args):
    return subprocess.run(["curl", "--silent", "--show-error", "--max-time", "30", *args],
                          capture_output=True, text=True, timeout=60)


class WellKnownTest(mk.SharedServerTest):
    """The files clients and senders fetch, on the dev instance (domain localhost)."""

    def test_plain_http_redirects_to_the_same_url_over_https(self):
        r = curl("--include", "http://127.0.0.1:%d/mail/config-v1.1.xml?emailaddress=me%%40localhost" % self.srv.http_port,
                 "-H", "Host: localhost")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("HTTP/1.1 301 Moved Permanently", r.stdout)
        self.assertIn("Location: https://localhost:%d/mail/config-v1.1.xml?emailaddress=me%%40localhost\n"
                      % self.srv.https_port, r.stdout)
        # A Host that is not ours is not echoed into the redirect.
        r = curl("--include", "http://127.0.0.1:%d/x" % self.srv.http_port, "-H", "Host: evil.example")
        self.assertIn("Location: https://localhost:%d/x\n" % self.srv.https_port, r.stdout)

    def test_urllib_follows_the_redirect_and_gets_the_autoconfig(self):
        ctx = mk.client_tls_context()
        opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=ctx))
        url = "http://localhost:%d/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress=%s" % (
            self.srv.http_port, urllib.parse.quote("me@localhost"))
        with opener.open(url, timeout=30) as resp:
            self.assertEqual(resp.status, 200)
            self.assertTrue(resp.geturl().startswith("https://localhost:%d/" % self.srv.https_port))
            self.check_autoconfig(resp.read())

    def check_autoconfig(self, body):
        root = ET.fromstring(body)
        self.assertEqual(root.tag, "clientConfig")
        provider = root.find("emailProvider")
        self.assertEqual(provider.get("id"), "localhost")
        self.assertEqual(provider.findtext("domain"), "localhost")
        servers = [(s.tag, s.get("type"), s.findtext("hostname"), int(s.findtext("port")), s.findtext("socketType"),
                    s.findtext("username")) for s in provider if s.tag in ("incomingServer", "outgoingServer")]
        # Implicit TLS first (RFC 8314 §5.1), then STARTTLS; the ports the instance listens on.
        self.assertEqual(servers, [
            ("incomingServer", "imap", "localhost", self.srv.imaps_port, "SSL", "%EMAILADDRESS%"),
            ("incomingServer", "imap", "localhost", self.srv.imap_port, "STARTTLS", "%EMAILADDRESS%"),
            ("outgoingServer", "smtp", "localhost", self.srv.submissions_port, "SSL", "%EMAILADDRESS%"),
            ("outgoingServer", "smtp", "localhost", self.srv.submission_port, "STARTTLS", "%EMAILADDRESS%"),
        ])

    def test_autoconfig_on_the_autoconfig_name_and_only_for_hosted_domains(self):
        r, body = https(self.srv, "GET", "/mail/config-v1.1.xml", host="autoconfig.localhost")
        self.assertEqual(r.status, 200, body)
        self.assertEqual(r.getheader("Content-Type"), "application/xml; charset=utf-8")
        self.check_autoconfig(body)
        r, _ = https(self.srv, "GET", "/mail/config-v1.1.xml?emailaddress=someone%40other.example")
        self.assertEqual(r.status, 404)
        r, _ = https(self.srv, "GET", "/mail/config-v1.1.xml?emailaddress=not-an-address")
        self.assertEqual(r.status, 400)

    def test_the_settings_then_work(self):
        # What the autoconfig file says is what the servers do: log in where it points.
        _, body = https(self.srv, "GET", "/mail/config-v1.1.xml?emailaddress=me%40localhost")
        imap = ET.fromstring(body).find("emailProvider/incomingServer")
        self.assertEqual(int(imap.findtext("port")), self.srv.imaps_port)
        self.assertTrue(self.srv.imap_auth(mk.PASSWORD))

    def test_mta_sts_policy_is_served_on_its_name_only(self):
        r, body = https(self.srv, "GET", "/.well-known/mta-sts.txt", host="mta-sts.localhost")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.getheader("Content-Type"), "text/plain")
        self.assertEqual(body, b"version: STSv1\r\nmode: enforce\r\nmx: localhost\r\nmax_age: 604800\r\n")
        for host in ("localhost", "mta-sts.other.example"):
            r, _ = https(self.srv, "GET", "/.well-known/mta-sts.txt", host=host)
            self.assertEqual(r.status, 404, host)
        # RFC 8461 §3.3: HTTPS only; the plain port only redirects.
        r = curl("--include", "http://127.0.0.1:%d/.well-known/mta-sts.txt" % self.srv.http_port, "-H",
                 "Host: mta-sts.localhost")
        self.assertIn("301 Moved Permanently", r.stdout)
        self.assertNotIn("STSv1", r.stdout)

    def test_autodiscover(self):
        request = ('<?xml version="1.0" encoding="utf-8"?>\n'
                   '<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006">'
                   '<Request><EMailAddress>me@localhost</EMailAddress>'
                   '<AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a'
                   '</AcceptableResponseSchema></Request></Autodiscover>')
        r, body = https(self.srv, "POST", "/autodiscover/autodiscover.xml", host="autodiscover.localhost",
                        body=request, headers={"Content-Type": "text/xml"})
        self.assertEqual(r.status, 200, body)
        ns = {"a": "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"}
        protocols = ET.fromstring(body).findall("a:Response/a:Account/a:Protocol", ns)
        got = [(p.findtext("a:Type", namespaces=ns), int(p.findtext("a:Port", namespaces=ns)),
                p.findtext("a:SSL", namespaces=ns), p.findtext("a:LoginName", namespaces=ns)) for p in protocols]
        self.assertEqual(got, [("IMAP", self.srv.imaps_port, "on", "me@localhost"),
                               ("SMTP", self.srv.submissions_port, "on", "me@localhost")])
        r, _ = https(self.srv, "GET", "/autodiscover/autodiscover.xml", host="autodiscover.localhost")
        self.assertEqual(r.status, 405)
        self.assertEqual(r.getheader("Allow"), "POST")
        r, _ = https(self.srv, "POST", "/autodiscover/autodiscover.xml", body="<nothing/>")
        self.assertEqual(r.status, 400)

    def test_apple_profile(self):
        r, body = https(self.srv, "GET", "/apple/mail.mobileconfig?emailaddress=me%40localhost")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.getheader("Content-Type"), "application/x-apple-aspen-config")
        profile = plistlib.loads(body)
        self.assertEqual(profile["PayloadType"], "Configuration")
        account = profile["PayloadContent"][0]
        self.assertEqual(account["PayloadType"], "com.apple.mail.managed")
        self.assertEqual(account["EmailAddress"], "me@localhost")
        self.assertEqual((account["IncomingMailServerHostName"], account["IncomingMailServerPortNumber"],
                          account["IncomingMailServerUseSSL"]), ("localhost", self.srv.imaps_port, True))
        self.assertEqual((account["OutgoingMailServerPortNumber"], account["OutgoingMailServerUseSSL"]),
                         (self.srv.submissions_port, True))
        # The same address gets the same profile identity (installing it again replaces it).
        _, again = https(self.srv, "GET", "/apple/mail.mobileconfig?emailaddress=me%40localhost")
        self.assertEqual(plistlib.loads(again)["PayloadUUID"], profile["PayloadUUID"])

    def test_security_headers_and_head(self):
        r = curl("--insecure", "--head", "https://127.0.0.1:%d/mail/config-v1.1.xml?emailaddress=me%%40localhost"
                 % self.srv.https_port)
        self.assertEqual(r.returncode, 0, r.stderr)
        for h in ("strict-transport-security: max-age=31536000", "content-security-policy: default-src 'none'",
                  "x-content-type-options: nosniff", "content-length: "):
            self.assertIn(h, r.stdout.lower())

    def test_access_log_has_the_path_not_the_query(self):
        https(self.srv, "GET", "/mail/config-v1.1.xml?emailaddress=private%40localhost")
        log = mk.wait_for(lambda: [l for l in self.srv.stderr().splitlines()
                                   if "event=http.request" in l and "config-v1.1.xml" in l], "the access log line")
        self.assertIn("path=/mail/config-v1.1.xml status=200", log[-1])
        self.assertNotIn("private", self.srv.stderr())


class LimitsTest(unittest.TestCase):
    """The limits as a client on the network meets them (a server of its own, small limits)."""

    @classmethod
    def setUpClass(cls):
        cls.srv = mk.Server(extra_config={"http.header_timeout": '"1s"', "http.max_connections_per_ip": "3",
                                          "http.max_header_size": '"2KiB"'}).start()

    @classmethod
    def tearDownClass(cls):
        mk.stop_all(cls.srv)

    def test_an_oversized_header_gets_431(self):
        r = curl("--include", "http://127.0.0.1:%d/x" % self.srv.http_port, "-H", "X-Big: " + "a" * 3000)
        self.assertIn("HTTP/1.1 431 Request Header Fields Too Large", r.stdout)

    def test_a_trickled_header_gets_408_after_the_header_timeout(self):
        s = socket.create_connection(("127.0.0.1", self.srv.http_port), timeout=mk.HANG_GUARD)
        started = time.monotonic()
        s.sendall(b"GET / HTTP/1.1\r\nHost: loc")
        got = b""
        for _ in range(5):  # a byte a while, as slowloris does: the deadline is the whole header's
            time.sleep(0.3)
            try:
                s.sendall(b"a")
            except OSError:
                break
        while not got.endswith(b"\r\n\r\n"):
            chunk = s.recv(4096)
            if not chunk:
                break
            got += chunk
        waited = time.monotonic() - started
        s.close()
        self.assertTrue(got.startswith(b"HTTP/1.1 408 Request Timeout\r\n"), got)
        self.assertGreaterEqual(waited, 1.0)

    def test_too_many_connections_from_one_address(self):
        # Three connections, each answered once (so surely accepted) and kept alive. The other
        # tests' connections from this address may not be released yet (the server ends them
        # after its answer, in its own time on a busy machine): until all three are served,
        # they are closed and opened again.
        deadline = time.monotonic() + mk.HANG_GUARD
        while True:
            held = [socket.create_connection(("127.0.0.1", self.srv.http_port), timeout=mk.HANG_GUARD)
                    for _ in range(3)]
            answers = []
            for s in held:
                s.sendall(b"GET /x HTTP/1.1\r\nHost: localhost\r\n\r\n")
                answers.append(s.recv(4096))
            if all(a.startswith(b"HTTP/1.1 301 ") for a in answers):
                break
            for s in held:
                s.close()
            self.assertLess(time.monotonic(), deadline, answers)
            time.sleep(0.2)
        try:
            extra = socket.create_connection(("127.0.0.1", self.srv.http_port), timeout=mk.HANG_GUARD)
            got = extra.recv(4096)
            extra.close()
            self.assertTrue(got.startswith(b"HTTP/1.1 503 Service Unavailable\r\n"), got)
        finally:
            for s in held:
                s.close()
        # Once they are gone, the address is served again.
        def served():
            r = curl("--include", "http://127.0.0.1:%d/x" % self.srv.http_port)
            return "301 Moved Permanently" in r.stdout
        mk.wait_for(served, "a connection after the others closed")


if __name__ == "__main__":
    unittest.main()
