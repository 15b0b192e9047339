#!/usr/bin/python3
"""bench/web: the web admin and API on a server with 10,000 accounts, against issue 20's
targets: the admin dashboard's time to first render (target <= 300 ms) and the API's p99
latency under 50 concurrent clients (target <= 50 ms).

No peer serves the same pages, so the figures stand against the targets alone. The server is
a Release build with [http] max_connections_per_ip raised to 200 (50 clients from one
address is what a load test looks like, not what the default of 20 is for); everything else
is the default configuration. Accounts are written to the index directly, with one argon2id
hash for all (hashing 10,000 passwords would time the hash, not the pages).

- Dashboard: headless chromium (Debian's, through Selenium) loads /admin/#dashboard with a
  logged-in session, RUNS times (each a new document); time to first render is
  performance.now() (navigation start = 0) when a MutationObserver, installed before the
  page's own scripts (CDP Page.addScriptToEvaluateOnNewDocument), first sees the dashboard's
  cards: the HTML, the module scripts, the session and the two API calls the page makes. An
  empty page (the favicon, no script) is timed the same way: the browser's own floor. The
  dashboard's figures are kept a second (web/routes.hpp): one admin's reloads a second apart
  do not reuse them, concurrent clients mostly do. The accounts page (all rows) is timed too.
- API: ab (apache2-utils) with 50 concurrent keep-alive TLS clients, REQUESTS requests per
  route, on GET /api/v1/dashboard, GET /api/v1/accounts/{address} and GET /api/v1/me; the
  p50/p99 it reports are the figures.

- Share a link: SHARES shares of a page on a loopback web site (tests/integration/linksite.py:
  Open Graph tags and a PNG; [share] fetch_allow lets exactly 127.0.0.1 through), one after
  another, timed from the POST to its 201, which comes once the mail with the page's image is
  stored (fsync): target <= 5 s. And SHARES shares of a link with no fetch (an address the
  fetch refuses before connecting): the mail with the link alone, target <= 1 s.

Usage: bench/web/run.py MAILKEEP_BINARY [ACCOUNTS]   (env: BENCH_RUNS (20), BENCH_REQUESTS (20000),
BENCH_SHARES (30))
"""
import http.client
import json
import os
import re
import sqlite3
import ssl
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "bench"))
from benchlib import BenchError, Dns, free_port, run, run_main, start, stop  # noqa: E402

sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
import linksite  # noqa: E402

ADMIN = "admin@bench.example"
PASSWORD = "bench admin password"
CLIENTS = 50
AB_SECONDS = 300  # one ab run ends within this, or it hung


def tls_ctx():
    c = ssl.create_default_context()
    c.check_hostname = False
    c.verify_mode = ssl.CERT_NONE
    return c


def setup(binary, work, https_port, dns):
    cfg = os.path.join(work, "mailkeep.toml")
    with open(cfg, "w") as f:
        f.write('[server]\nhostname = "bench.localhost"\ndata_dir = "."\n[log]\nlevel = "warn"\n'
                '[smtp]\nlisten = ["127.0.0.1:%d"]\n[submission]\nlisten = []\nlisten_tls = []\n'
                '[imap]\nlisten = []\nlisten_tls = []\n[metrics]\nlisten = []\n'
                '[http]\nlisten = []\nlisten_tls = ["127.0.0.1:%d"]\nmax_connections_per_ip = 200\n'
                '[web]\nadmins = ["%s"]\n[share]\nfetch_allow = ["127.0.0.1/32"]\n' % (free_port(), https_port, ADMIN))
        f.write(dns.config())
    run([binary, "--config", cfg, "domain", "add", "bench.example"])
    run([binary, "--config", cfg, "account", "add", ADMIN, "--password-stdin"], input=PASSWORD + "\n", text=True)
    return cfg


def add_accounts(work, n):
    db = sqlite3.connect(os.path.join(work, "index.sqlite"))
    (hash_,) = db.execute("SELECT password_hash FROM accounts WHERE address = ?", (ADMIN,)).fetchone()
    now = int(time.time())
    db.executemany("INSERT INTO accounts(address, password_hash, created, used_bytes, quota_bytes) VALUES(?, ?, ?, ?, ?)",
                   (("user%05d@bench.example" % i, hash_, now, i * 1000, (i % 3) * (1 << 30)) for i in range(n)))
    db.commit()
    db.close()


def login(port):
    c = http.client.HTTPSConnection("127.0.0.1", port, context=tls_ctx(), timeout=60)
    c.request("POST", "/api/v1/session", body=json.dumps({"address": ADMIN, "password": PASSWORD}),
              headers={"Content-Type": "application/json", "Host": "bench.localhost"})
    r = c.getresponse()
    body = r.read()
    if r.status != 200:
        raise BenchError("login failed: %d %s" % (r.status, body[:200]))
    cookie = r.getheader("Set-Cookie").split(";")[0]
    return cookie, json.loads(body)["csrf"]


def share_times(port, cookie, csrf, link, n, want_preview):
    """Seconds from POST /api/v1/share to its answer (the mail is stored), n times in a row."""
    times = []
    for i in range(n):
        c = http.client.HTTPSConnection("127.0.0.1", port, context=tls_ctx(), timeout=60)
        body = json.dumps({"url": link + ("&" if "?" in link else "?") + "n=%d" % i, "tag": "bench"})
        started = time.perf_counter()
        c.request("POST", "/api/v1/share", body=body, headers={"Content-Type": "application/json", "Cookie": cookie,
                                                               "X-CSRF-Token": csrf, "Host": "bench.localhost"})
        r = c.getresponse()
        answer = json.loads(r.read())
        times.append(time.perf_counter() - started)
        c.close()
        if r.status != 201 or answer["preview"] != want_preview or (want_preview and not answer["image"]):
            raise BenchError("share of %s: %d %s" % (link, r.status, answer))
    return times


def page_times(port, cookie, view, ready_css, runs, page="/admin/"):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    o = webdriver.ChromeOptions()
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--ignore-certificate-errors",
              "--disable-dev-shm-usage", "--window-size=1280,900", "--user-data-dir=" + tempfile.mkdtemp()):
        o.add_argument(a)
    o.binary_location = "/usr/bin/chromium"
    d = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=o)
    d.set_page_load_timeout(60)
    d.set_script_timeout(60)
    try:
        base = "https://127.0.0.1:%d" % port
        d.get(base + "/assets/favicon.svg")
        name, value = cookie.split("=", 1)
        d.add_cookie({"name": name, "value": value, "path": "/", "secure": True})
        # Records when the element first appears, from before any script of the page runs.
        d.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": """
          window.__mk_rendered = null;
          new MutationObserver((_, obs) => {
            if (window.__mk_css && document.querySelector(window.__mk_css)) {
              window.__mk_rendered = performance.now();
              obs.disconnect();
            }
          }).observe(document, {childList: true, subtree: true});
          window.__mk_css = %s;""" % json.dumps(ready_css)})
        out = []
        for i in range(runs + 1):  # the first warms the browser's cache of the module scripts
            time.sleep(1.1)  # past the dashboard's one-second cache: each load computes it
            d.get(base + page + "?run=%d#%s" % (i, view))  # a new document every time
            t = d.execute_async_script("""
              const done = arguments[arguments.length - 1];
              (function check() {
                if (window.__mk_rendered !== null) done(window.__mk_rendered); else setTimeout(check, 5);
              })();""")
            out.append(t)
        return out[1:]
    finally:
        d.quit()


def ab(port, cookie, path, requests):
    r = subprocess.run(["ab", "-q", "-k", "-n", str(requests), "-c", str(CLIENTS), "-H", "Cookie: " + cookie,
                        "-H", "Host: bench.localhost", "https://127.0.0.1:%d%s" % (port, path)],
                       capture_output=True, text=True, timeout=AB_SECONDS)
    if r.returncode != 0:
        raise BenchError("ab failed on %s: %s" % (path, r.stderr[-500:]))
    failed = int(re.search(r"Failed requests:\s+(\d+)", r.stdout).group(1))
    non2xx = re.search(r"Non-2xx responses:\s+(\d+)", r.stdout)
    pct = {int(p): float(v) for p, v in re.findall(r"^\s+(\d+)%\s+(\d+)", r.stdout, re.M)}
    rps = float(re.search(r"Requests per second:\s+([\d.]+)", r.stdout).group(1))
    if failed or non2xx:
        raise BenchError("%s: %d failed, %s non-2xx answers" % (path, failed, non2xx.group(1) if non2xx else 0))
    return pct[50], pct[99], rps


def main():
    if len(sys.argv) < 2:
        raise BenchError(__doc__)
    binary = os.path.abspath(sys.argv[1])
    accounts = int(sys.argv[2]) if len(sys.argv) > 2 else 10000
    runs = int(os.environ.get("BENCH_RUNS", "20"))
    requests = int(os.environ.get("BENCH_REQUESTS", "20000"))
    work = tempfile.mkdtemp(prefix="mk-bench-web-")
    dns = Dns()
    site = linksite.Site(host_v6=False)
    port = free_port()
    cfg = setup(binary, work, port, dns)
    add_accounts(work, accounts)
    proc = start([binary, "serve", "--config", cfg], os.path.join(work, "serve"), "listening https")
    try:
        cookie, csrf = login(port)
        print("web, %d accounts (%s)" % (accounts + 1, time.strftime("%Y-%m-%d %H:%M")))
        floor = page_times(port, cookie, "x", "svg path", runs, page="/assets/favicon.svg")
        print("empty page (the browser's floor): median %.0f ms" % statistics.median(floor))
        dash = page_times(port, cookie, "dashboard", ".cards .stat", runs)
        print("dashboard time to first render: median %.0f ms, p90 %.0f ms, max %.0f ms (target <= 300 ms; %d runs)"
              % (statistics.median(dash), sorted(dash)[int(0.9 * (len(dash) - 1))], max(dash), runs))
        acc = page_times(port, cookie, "accounts", "main tbody tr", max(3, runs // 4))
        print("accounts page with every account: median %.0f ms" % statistics.median(acc))
        worst = 0.0
        for path in ("/api/v1/dashboard", "/api/v1/accounts/user00042%40bench.example", "/api/v1/me"):
            p50, p99, rps = ab(port, cookie, path, requests)
            worst = max(worst, p99)
            print("API %-45s %d clients: p50 %.0f ms, p99 %.0f ms, %.0f requests/s" % (path, CLIENTS, p50, p99, rps))
        print("API p99, worst route: %.0f ms (target <= 50 ms)" % worst)
        shares = int(os.environ.get("BENCH_SHARES", "30"))
        for what, link, preview, target in (
                ("with the page and its image", site.url("/article"), True, "5 s"),
                ("without a fetch (refused address)", "http://10.0.0.1/article", False, "1 s")):
            t = share_times(port, cookie, csrf, link, shares, preview)
            print("share a link %-35s %d shares: median %.0f ms, p90 %.0f ms, max %.0f ms (target <= %s)"
                  % (what, shares, 1000 * statistics.median(t), 1000 * sorted(t)[int(0.9 * (len(t) - 1))],
                     1000 * max(t), target))
    finally:
        stop(proc)
        dns.stop()
        site.stop()


if __name__ == "__main__":
    run_main(main)
