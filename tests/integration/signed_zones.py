"""A loopback DNS server for tests that need a DNSSEC-signed zone whose records change during
the test: NSD serves "example." signed by ldns-signzone (re-signed with the same keys each
time it is published, so the trust anchor stays valid) beside unsigned zones (reverse DNS,
DNS block lists). mailkeep's validator starts from the zone's own trust anchor, so names
under example. are secure, names elsewhere insecure (no anchor covers them), and a tampered
signed record is bogus. Needs Debian's nsd and ldnsutils."""
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import mkharness as mk
from rig import Dns


class SignedZones:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="mk-zones-")
        self.port = Dns.free_port()
        self.proc = None
        self.serial = 0
        ksk = subprocess.run(["ldns-keygen", "-a", "ECDSAP256SHA256", "-k", "example."], cwd=self.dir,
                             capture_output=True, text=True, check=True).stdout.strip()
        zsk = subprocess.run(["ldns-keygen", "-a", "ECDSAP256SHA256", "example."], cwd=self.dir,
                             capture_output=True, text=True, check=True).stdout.strip()
        self.keys = [zsk, ksk]
        self.trust_anchor = os.path.join(self.dir, ksk + ".ds")

    def publish(self, signed, unsigned):
        """signed: zone-file lines (absolute names) for example.; unsigned: {zone: [lines]}.
        Writes, signs and serves them (NSD is restarted)."""
        self.serial += 1
        soa = "@ IN SOA ns.example. hostmaster.example. %d 3600 600 86400 60\n@ IN NS ns.example.\n" % self.serial
        zone = os.path.join(self.dir, "example.zone")
        with open(zone, "w") as f:
            f.write("$ORIGIN example.\n$TTL 60\n" + soa + "ns IN A 127.0.0.1\n")
            f.write("\n".join(signed) + "\n")
        subprocess.run(["ldns-signzone", "-n", zone] + self.keys, cwd=self.dir, check=True, capture_output=True)
        self.signed = zone + ".signed"
        entries = ['zone:\n  name: "example."\n  zonefile: "%s"\n' % self.signed]
        for i, (name, lines) in enumerate(sorted(unsigned.items())):
            path = os.path.join(self.dir, "unsigned%d.zone" % i)
            with open(path, "w") as f:
                f.write("$ORIGIN %s.\n$TTL 60\n" % name.rstrip(".") + soa)
                f.write("\n".join(lines) + "\n")
            entries.append('zone:\n  name: "%s."\n  zonefile: "%s"\n' % (name.rstrip("."), path))
        self._restart("".join(entries))

    def tamper(self, owner, rtype, old, new):
        """Replaces old with new in a signed record's data, leaving its signature as it was."""
        with open(self.signed) as f:
            lines = f.readlines()
        with open(self.signed, "w") as f:
            for line in lines:
                parts = line.split()
                if len(parts) > 3 and parts[0] == owner and parts[3] == rtype and old in line:
                    line = line.replace(old, new)
                f.write(line)
        with open(os.path.join(self.dir, "zones.conf")) as f:
            self._restart(f.read())

    def _restart(self, zones):
        self._stop_nsd()
        with open(os.path.join(self.dir, "zones.conf"), "w") as f:
            f.write(zones)
        conf = os.path.join(self.dir, "nsd.conf")
        with open(conf, "w") as f:
            f.write('server:\n  ip-address: 127.0.0.1@%d\n  username: ""\n  zonesdir: "%s"\n'
                    '  pidfile: "%s/nsd.pid"\n  database: ""\n  zonelistfile: "%s/zone.list"\n'
                    '  xfrdfile: "%s/xfrd.state"\n  logfile: "%s/nsd.log"\n  server-count: 1\n'
                    'remote-control:\n  control-enable: no\n%s'
                    % (self.port, self.dir, self.dir, self.dir, self.dir, self.dir, zones))
        # Its own process group: NSD forks server processes that must go with it.
        self.proc = subprocess.Popen(["nsd", "-d", "-c", conf], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     start_new_session=True)
        deadline = time.monotonic() + mk.HANG_GUARD
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("nsd did not start: %s" % self.log())

    def log(self):
        try:
            with open(os.path.join(self.dir, "nsd.log")) as f:
                return f.read()
        except OSError:
            return ""

    def config(self, dnssec=True):
        """mailkeep's [dns] settings for this server."""
        return {"dns.upstream": '["127.0.0.1@%d"]' % self.port, "dns.dnssec": "true" if dnssec else "false",
                "dns.trust_anchor": '"%s"' % self.trust_anchor}

    def _stop_nsd(self):
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        self.proc.wait(timeout=mk.HANG_GUARD)
        self.proc = None

    def stop(self):
        self._stop_nsd()
        shutil.rmtree(self.dir, ignore_errors=True)
