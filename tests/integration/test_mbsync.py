"""mbsync (isync), a real sync client, against mailkeep: the round trips of
sync_scenario.py (1,000 messages to Maildir and back, flags and deletions on both sides)."""
import os
import subprocess
import unittest

import mkharness as mk
import sync_scenario


class MbsyncTest(unittest.TestCase):
    def test_round_trips(self):
        srv = mk.Server().start()
        self.addCleanup(srv.cleanup)
        maildir = os.path.join(srv.dir, "maildir")
        os.makedirs(maildir)
        rc = os.path.join(srv.dir, "mbsyncrc")
        with open(rc, "w") as f:
            f.write("""IMAPAccount mk
Host 127.0.0.1
Port {port}
User me@localhost
Pass {pw}
SSLType IMAPS
CertificateFile {cert}

IMAPStore remote
Account mk

MaildirStore local
Path {md}/
Inbox {md}/INBOX
SubFolders Verbatim

Channel mk
Far :remote:
Near :local:
Patterns *
Create Both
Expunge Both
SyncState *
Sync All
""".format(port=srv.imaps_port, pw=mk.PASSWORD, md=maildir,
           cert=os.path.join(srv.dir, "tls", "selfsigned-cert.pem")))

        def sync():
            r = subprocess.run(["mbsync", "-c", rc, "-a"], capture_output=True, text=True, timeout=300)
            return r.returncode == 0, r.stdout + r.stderr

        sync_scenario.run_round_trips(self, srv, sync, os.path.join(maildir, "INBOX"))


if __name__ == "__main__":
    unittest.main(verbosity=2)
