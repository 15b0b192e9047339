"""A loopback web site for the "share a link" tests and benchmark: pages with Open Graph tags
and a real PNG, redirects to internal addresses, oversized and slow answers. The same site
listens on 127.0.0.1 (the address the tests allow mailkeep to fetch from), and on 127.0.0.2
and ::1 (internal addresses that must never be fetched: every request they get is logged
in `internal_hits`)."""
import errno
import http.server
import socket
import struct
import threading
import time
import zlib


def png(width=2, height=2, rgb=(200, 40, 40)):
    """A valid PNG of one colour."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    raw = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


IMAGE = png(8, 8)
TITLE = "Tomato & basil soup"
DESCRIPTION = "Ready in 20 minutes, serves four."
XSS_TITLE = '<img src=x onerror="document.title=\'pwned\'">Soup'


def article(title=TITLE, image="/img/soup.png", extra=""):
    return ("<!doctype html><html><head><meta charset=utf-8><title>fallback</title>"
            '<meta property="og:title" content="%s">'
            '<meta property="og:description" content="%s">'
            '<meta property="og:site_name" content="Loopback Recipes">'
            '<meta property="og:image" content="%s">%s</head><body><p>%s</p></body></html>'
            % (title.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;"), DESCRIPTION, image, extra,
               "text " * 200))


class Site:
    def __init__(self, host_v6=True):
        self.internal_hits = []  # (address, path) of requests that reached 127.0.0.2 or ::1
        self.hits = []           # paths requested on 127.0.0.1
        addresses = [("127.0.0.1", socket.AF_INET), ("127.0.0.2", socket.AF_INET)]
        if host_v6:
            addresses.append(("::1", socket.AF_INET6))
        # One port on every address: a port free on 127.0.0.1 may be taken on another address
        # by a test running beside this one, so a port that cannot be had everywhere is given
        # up for the next.
        for attempt in range(20):
            self.port = self._free_port()
            self.servers = []
            try:
                for address, family in addresses:
                    self.servers.append(self._serve(address, family))
                break
            except OSError as e:
                self.stop()
                if e.errno != errno.EADDRINUSE or attempt == 19:
                    raise

    @staticmethod
    def _free_port():
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        return port

    def url(self, path, host="127.0.0.1"):
        return "http://%s:%d%s" % (host, self.port, path)

    def _serve(self, address, family):
        site = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def send(self, status, body=b"", ctype="text/html; charset=utf-8", headers=()):
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Connection", "close")
                for k, v in headers:
                    self.send_header(k, v)
                self.end_headers()
                try:
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the fetcher stopped reading (a cap) or gave up (its deadline)

            def do_GET(self):
                if address != "127.0.0.1":
                    site.internal_hits.append((address, self.path))
                    self.send(200, b"internal secret")
                    return
                site.hits.append(self.path)
                p = self.path.split("?")[0]
                port = site.port
                if p in ("/article", "/rebind"):
                    # /rebind is fetched as http://rebind.example:PORT/rebind: its image is on
                    # the same name, which the test DNS answers with 127.0.0.2 the second time.
                    img = "/img/soup.png" if p == "/article" else "http://rebind.example:%d/img/soup.png" % port
                    self.send(200, article(image=img).encode())
                elif p == "/xss":
                    self.send(200, article(title=XSS_TITLE).encode())
                elif p == "/no-image":
                    self.send(200, article(image="").encode())
                elif p == "/img/soup.png":
                    self.send(200, IMAGE, "image/png")
                elif p == "/big-image-page":
                    self.send(200, article(image="/img/big.png").encode())
                elif p == "/img/big.png":
                    self.send(200, IMAGE + b"\0" * (2 * 1024 * 1024), "image/png")
                elif p == "/svg-page":
                    self.send(200, article(image="/img/x.svg").encode())
                elif p == "/img/x.svg":
                    self.send(200, b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
                              "image/svg+xml")
                elif p == "/huge":
                    # 3 MiB of page: the title is at its start, the fetch stops at 2 MiB.
                    self.send(200, article().encode() + b"<p>" + b"x" * (3 * 1024 * 1024) + b"</p>")
                elif p == "/picture.png":
                    self.send(200, IMAGE, "image/png")
                elif p == "/redirect":
                    self.send(302, headers=[("Location", "/article")])
                elif p == "/to-internal":
                    self.send(302, headers=[("Location", "http://127.0.0.2:%d/secret" % port)])
                elif p == "/to-v6":
                    self.send(302, headers=[("Location", "http://[::1]:%d/secret" % port)])
                elif p == "/to-metadata":
                    self.send(302, headers=[("Location", "http://169.254.169.254/latest/meta-data/")])
                elif p == "/slow":
                    time.sleep(8)  # longer than the share's 5 s deadline; the thread then ends
                    self.send(200, article().encode())
                else:
                    self.send(404, b"not here")

        class Server(http.server.ThreadingHTTPServer):
            address_family = family
            daemon_threads = True

        srv = Server((address, self.port), Handler)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        return srv

    def stop(self):
        for s in self.servers:
            s.shutdown()
            s.server_close()
