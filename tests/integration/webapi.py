"""A client of mailkeep's JSON API (/api/v1/) for the tests: a browser's session (cookie and
CSRF token) or an API token, over HTTPS with Python's http.client."""
import http.client
import json
import subprocess
import time

import mkharness as mk


class Answer:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # list of (name, value)
        self.raw = body
        self.json = json.loads(body) if body else None

    def header(self, name):
        return [v for k, v in self.headers if k.lower() == name.lower()]

    @property
    def code(self):
        return self.json["error"]["code"] if self.json and "error" in self.json else None

    def __repr__(self):
        return "%d %s" % (self.status, self.raw[:300])


class Client:
    def __init__(self, srv, token=None, host="localhost"):
        self.srv = srv
        self.host = host
        self.cookie = None  # "name=value"
        self.csrf = None
        self.token = token

    def request(self, method, path, body=None, csrf=True, headers=None, raw=None):
        c = http.client.HTTPSConnection("127.0.0.1", self.srv.https_port, context=mk.client_tls_context(),
                                        timeout=60)
        h = {"Host": self.host}
        if self.cookie:
            h["Cookie"] = self.cookie
        if self.csrf and csrf:
            h["X-CSRF-Token"] = self.csrf
        if self.token:
            h["Authorization"] = "Bearer " + self.token
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        h.update(headers or {})
        c.request(method, path, body=data, headers=h)
        r = c.getresponse()
        answer = Answer(r.status, r.getheaders(), r.read().decode())
        c.close()
        return answer

    def login(self, address="me@localhost", password=mk.PASSWORD, code=None):
        body = {"address": address, "password": password}
        if code:
            body["code"] = code
        a = self.request("POST", "/api/v1/session", body)
        if a.status == 200:
            self.cookie = a.header("Set-Cookie")[0].split(";")[0]
            self.csrf = a.json["csrf"]
        return a

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body if body is not None else {}, **kw)

    def put(self, path, body, **kw):
        return self.request("PUT", path, body, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)


def totp_code(secret, offset=0):
    """The code an authenticator app shows `offset` seconds from now (oathtool, RFC 6238)."""
    return subprocess.run(["oathtool", "--totp", "-b", "--now", "@%d" % int(time.time() + offset), secret],
                          capture_output=True, text=True, check=True, timeout=30).stdout.strip()
