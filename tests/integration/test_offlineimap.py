"""offlineimap, a second real sync client, against mailkeep: the round trips of
sync_scenario.py (1,000 messages to Maildir and back, flags and deletions on both sides)."""
import os
import subprocess
import unittest

import mkharness as mk
import sync_scenario


class OfflineimapTest(unittest.TestCase):
    def test_round_trips(self):
        srv = mk.Server().start()
        self.addCleanup(srv.cleanup)
        maildir = os.path.join(srv.dir, "maildir")
        os.makedirs(maildir)
        rc = os.path.join(srv.dir, "offlineimaprc")
        with open(rc, "w") as f:
            # "localhost" matches the dev certificate's name, which offlineimap verifies.
            f.write("""[general]
accounts = mk
metadata = {dir}/offlineimap-meta

[Account mk]
localrepository = local
remoterepository = remote

[Repository local]
type = Maildir
localfolders = {md}

[Repository remote]
type = IMAP
remotehost = localhost
remoteport = {port}
remoteuser = me@localhost
remotepass = {pw}
ssl = yes
sslcacertfile = {cert}
folderfilter = lambda name: name == "INBOX"
""".format(dir=srv.dir, md=maildir, port=srv.imaps_port, pw=mk.PASSWORD,
           cert=os.path.join(srv.dir, "tls", "selfsigned-cert.pem")))

        def sync():
            r = subprocess.run(["offlineimap", "-c", rc, "-o", "-u", "basic"], capture_output=True,
                               text=True, timeout=600)
            out = r.stdout + r.stderr
            return r.returncode == 0 and "ERROR" not in out, out

        sync_scenario.run_round_trips(self, srv, sync, os.path.join(maildir, "INBOX"))


if __name__ == "__main__":
    unittest.main(verbosity=2)
