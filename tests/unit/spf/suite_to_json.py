"""Turns the RFC 7208 test suite (YAML, shipped by Debian's python3-spf) into JSON for
tests/unit/spf/suite_test.cpp, with the suite's DNS semantics resolved per name and type.

The suite's zone data is read the way its own driver (testspf.py) reads it: SPF records double
as TXT records unless the name has TXT ones, "TXT: NONE" means no TXT records, a TIMEOUT entry
times out every query type not answered before it, a missing name under "error." times out,
and a CNAME is followed one level. What this writes is, per name and type, either the records
or "timeout"; names not listed answer NXDOMAIN.

usage: suite_to_json.py SUITE.yml.gz OUT.json
"""
import gzip
import json
import sys

import yaml

TYPES = ("A", "AAAA", "MX", "TXT", "PTR")


def entries(name, records):
    """testspf.py's getrdata(): the list of (type, value) and 'TIMEOUT' entries."""
    out, generated, gen = [], [], True
    for r in records:
        if r == "TIMEOUT":
            out.append("TIMEOUT")
            continue
        for t, v in r.items():
            if t in ("TXT", "SPF") and isinstance(v, str):
                v = [v]
            if t == "TXT":
                gen = False
            elif t == "SPF" and gen:
                generated.append(("TXT", v))
            if v != ["NONE"]:
                out.append((t, v))
    if gen:
        out.extend(generated)
    return out


def lookup(zone, name, qtype, level=0):
    """Records of qtype at name, "timeout", or None for NXDOMAIN (testspf.py's DNSLookup)."""
    labels = [l for l in name.split(".") if l]
    if any(len(l) > 63 for l in labels):
        return "timeout"
    name = ".".join(labels).lower()
    if name not in zone:
        return "timeout" if name.startswith("error.") else None
    found, seen = [], False
    for e in zone[name]:
        if e == "TIMEOUT":
            if not seen:
                return "timeout"
            break
        t, v = e
        if t == qtype:
            seen = True
        if v == "TIMEOUT":
            if t == qtype:
                return "timeout"
            continue
        if t == qtype:
            found.append(v)
        if t == "CNAME" and level == 0:
            sub = lookup(zone, v, qtype, 1)
            if sub == "timeout":
                return "timeout"
            found.extend(sub or [])
    return found


def main():
    src, dst = sys.argv[1], sys.argv[2]
    with gzip.open(src, "rb") as f:
        docs = list(yaml.safe_load_all(f))
    scenarios = []
    for doc in docs:
        if not doc:
            continue
        zone = {n.lower(): entries(n, r) for n, r in doc.get("zonedata", {}).items()}
        names = {}
        for n in zone:
            names[n] = {t: lookup(zone, n, t) for t in TYPES}
        tests = []
        for tid, t in doc["tests"].items():
            res = t["result"]
            tests.append({
                "id": tid,
                "helo": t.get("helo", ""),
                "host": t["host"],
                "mailfrom": t.get("mailfrom", ""),
                "result": res if isinstance(res, list) else [res],
                "explanation": t.get("explanation"),
            })
        scenarios.append({"description": doc.get("description", ""), "names": names, "tests": tests})
    with open(dst, "w") as f:
        json.dump(scenarios, f, indent=1)


if __name__ == "__main__":
    main()
