"""mutt, a real interactive client, driven through tmux: it logs in over IMAPS, lists the
INBOX, opens a message delivered over SMTP and shows its body, and reading it marks it
\\Seen on the server."""
import imaplib
import os
import smtplib
import subprocess
import time
import unittest

import mkharness as mk


def tmux(sock, *args):
    return subprocess.run(["tmux", "-L", sock, *args], capture_output=True, text=True, timeout=30)


def wait_for(sock, text, timeout=mk.HANG_GUARD):
    deadline = time.monotonic() + timeout
    screen = ""
    while time.monotonic() < deadline:
        screen = tmux(sock, "capture-pane", "-p", "-t", "mutt").stdout
        if text in screen:
            return screen
        time.sleep(0.2)
    raise AssertionError("%r did not appear; screen:\n%s" % (text, screen))


class MuttTest(unittest.TestCase):
    def test_list_and_read(self):
        srv = mk.Server().start()
        self.addCleanup(srv.cleanup)
        with smtplib.SMTP("127.0.0.1", srv.smtp_port) as s:
            s.sendmail("alice@example.org", ["me@localhost"],
                       b"From: Alice <alice@example.org>\r\nSubject: Lunch on Friday\r\n\r\n"
                       b"Shall we try the new place?\r\n")
        rc = os.path.join(srv.dir, "muttrc")
        with open(rc, "w") as f:
            f.write("""set folder = "imaps://me@localhost@localhost:{port}/"
set imap_pass = "{pw}"
set spoolfile = "+INBOX"
set ssl_force_tls = yes
set certificate_file = "{cert}"
set header_cache = ""
set message_cachedir = ""
set pager_stop = yes
""".format(port=srv.imaps_port, pw=mk.PASSWORD, cert=os.path.join(srv.dir, "tls", "selfsigned-cert.pem")))
        sock = "mk-mutt-%d" % os.getpid()
        self.addCleanup(tmux, sock, "kill-server")
        r = tmux(sock, "new-session", "-d", "-s", "mutt", "-x", "160", "-y", "40",
                 "env TERM=xterm mutt -n -F %s" % rc)
        self.assertEqual(r.returncode, 0, r.stderr)
        wait_for(sock, "Lunch on Friday")
        tmux(sock, "send-keys", "-t", "mutt", "Enter")
        screen = wait_for(sock, "Shall we try the new place?")
        self.assertIn("Subject: Lunch on Friday", screen)
        tmux(sock, "send-keys", "-t", "mutt", "q")
        time.sleep(0.5)
        tmux(sock, "send-keys", "-t", "mutt", "q")
        # Reading the message in mutt marked it \Seen on the server.
        m = imaplib.IMAP4_SSL("127.0.0.1", srv.imaps_port, ssl_context=mk.client_tls_context())
        m.login("me@localhost", mk.PASSWORD)
        m.select("INBOX", readonly=True)
        deadline = time.monotonic() + mk.HANG_GUARD
        flags = b""
        while time.monotonic() < deadline:
            flags = m.fetch("1", "(FLAGS)")[1][0]
            if rb"\Seen" in flags:
                break
            time.sleep(0.2)
            m.noop()
        self.assertIn(rb"\Seen", flags)
        m.logout()


if __name__ == "__main__":
    unittest.main(verbosity=2)
