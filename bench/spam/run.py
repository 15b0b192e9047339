"""Spam filtering on the SpamAssassin public corpus: mailkeep's classifier, bogofilter and
SpamAssassin (Bayes plus its packaged rules, local tests only: no network) on the same split,
in the same run.

Split (issue 8): train on spam-1, easy-ham-1 and the first half of hard-ham-1 (by file
name); test on spam-2, easy-ham-2 and the second half of hard-ham-1.

For each filter: FP% and FN% at its own default threshold (mailkeep: Junk, log-odds 3;
bogofilter: its spam cutoff, "Unsure" counts as not spam; SpamAssassin: 5.0), 1-ROCA% (the
area above the ROC curve from the raw scores, in percent), FN% at the best threshold that
keeps FP <= 0.1% of ham, and messages classified per second (reading the file included;
mailkeep and bogofilter in one process each, the best of three runs; SpamAssassin through
spamd/spamc, the way it is deployed, once).

Every step has a deadline sized to the messages it handles (SECONDS_PER_MESSAGE); spamd
must answer within benchlib.START_SECONDS of its start and each message within
benchlib.STALL_SECONDS, or the run ends saying what it waited for.

Usage: /usr/bin/python3 bench/spam/run.py path/to/mailkeep
       BENCH_MESSAGES=N: at most N messages from each corpus directory, for a quick run
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from benchlib import (COMMAND_SECONDS, STALL_SECONDS, BenchError, corpus_dir, free_port, run, run_main,  # noqa: E402
                      stop, wait_until)

RUNS = 3  # speed: the best of this many runs of mailkeep and of bogofilter
# A deadline for a step over a set of messages, far above the slowest filter's cost
# (SpamAssassin, about 0.2 s of CPU per message), so only a hung step reaches it.
SECONDS_PER_MESSAGE = 1


def metrics(spam, ham, threshold):
    """FP%, FN% at threshold (spam above it), 1-ROCA%, FN% at FP <= 0.1%: as filter/evaluate.cpp."""
    fp = sum(1 for s in ham if s > threshold)
    fn = sum(1 for s in spam if s <= threshold)
    allv = sorted([(s, 1) for s in spam] + [(s, 0) for s in ham])
    rank_sum, i = 0.0, 0
    while i < len(allv):
        j, here = i, 0
        while j < len(allv) and allv[j][0] == allv[i][0]:
            here += allv[j][1]
            j += 1
        rank_sum += ((i + j - 1) / 2.0 + 1) * here
        i = j
    ns, nh = len(spam), len(ham)
    auc = (rank_sum - ns * (ns + 1) / 2.0) / (ns * nh)
    bound = sorted(ham, reverse=True)[min(int(nh * 0.001), nh - 1)]
    missed = sum(1 for s in spam if s <= bound)
    return 100.0 * fp / nh, 100.0 * fn / ns, 100.0 * (1 - auc), 100.0 * missed / ns


def split(corpus, work, limit):
    """The sets as directories of links to the corpus files, at most `limit` from each corpus
    directory (hard-ham-1 counts as its two halves). A whole directory is used as it is:
    reading through symbolic links costs mailkeep's classifier about a quarter of its speed
    (measured 2026-12-04: 11-15k against 16-17k messages/s), which would skew the figure."""
    def link(name, source, names):
        if limit is None and source != "hard-ham-1":
            return os.path.join(corpus, source)
        d = os.path.join(work, name)
        os.makedirs(d)
        for f in names[:limit]:
            os.symlink(os.path.join(corpus, source, f), os.path.join(d, f))
        return d
    ls = lambda s: sorted(os.listdir(os.path.join(corpus, s)))
    hard = ls("hard-ham-1")
    half = len(hard) // 2
    return {"train_spam": [link("spam-1", "spam-1", ls("spam-1"))],
            "train_ham": [link("easy-ham-1", "easy-ham-1", ls("easy-ham-1")), link("hard-a", "hard-ham-1", hard[:half])],
            "test_spam": [link("spam-2", "spam-2", ls("spam-2"))],
            "test_ham": [link("easy-ham-2", "easy-ham-2", ls("easy-ham-2")), link("hard-b", "hard-ham-1", hard[half:])]}


def deadline(*sets):
    """Seconds a step over these sets of directories may take."""
    return COMMAND_SECONDS + SECONDS_PER_MESSAGE * sum(len(files(s)) for s in sets)


def files(dirs):
    out = []
    for d in dirs:
        out.extend(os.path.join(d, f) for f in sorted(os.listdir(d)))
    return out


def run_mailkeep(binary, s):
    args = [binary, "spam", "eval", "--verbose"]
    for opt, key in (("--train-spam", "train_spam"), ("--train-ham", "train_ham"),
                     ("--test-spam", "test_spam"), ("--test-ham", "test_ham")):
        for d in s[key]:
            args += [opt, d]
    # Scores are deterministic; the speed is the best of RUNS runs (a fraction of a second
    # each, so one run is at the mercy of the machine's other work).
    rate = 0
    for _ in range(RUNS):
        out = run(args, timeout=deadline(*s.values()), text=True).stdout
        rate = max(rate, float(re.search(r"classification: (\d+) messages/second", out).group(1)))
    spam = [float(l.split()[2]) for l in out.splitlines() if l.startswith("spam ")]
    ham = [float(l.split()[2]) for l in out.splitlines() if l.startswith("ham ")]
    threshold = float(re.search(r"threshold ([0-9.]+):", out).group(1))  # the Junk threshold
    return spam, ham, threshold, rate


def run_bogofilter(work, s):
    db = os.path.join(work, "bogo")
    os.makedirs(db)
    run(["bogofilter", "-d", db, "-s", "-B"] + files(s["train_spam"]), timeout=deadline(s["train_spam"]))
    run(["bogofilter", "-d", db, "-n", "-B"] + files(s["train_ham"]), timeout=deadline(s["train_ham"]))
    best = 0
    for _ in range(RUNS):  # as for mailkeep: the best of RUNS runs
        scores = {}
        total, seconds = 0, 0.0
        for key in ("test_spam", "test_ham"):
            t = time.monotonic()
            out = subprocess.run(["bogofilter", "-d", db, "-T", "-B"] + files(s[key]), capture_output=True,
                                 text=True, timeout=deadline(s[key])).stdout
            seconds += time.monotonic() - t
            scores[key] = [float(l.split()[2]) for l in out.splitlines() if l.strip()]
            total += len(scores[key])
        best = max(best, total / seconds)
    # bogofilter's default spam_cutoff is 0.99 ("S" at or above it).
    return scores["test_spam"], scores["test_ham"], 0.99 - 1e-9, best


def run_spamassassin(work, s):
    home = os.path.join(work, "sa")
    site = os.path.join(home, "site")
    os.makedirs(site)
    for f in os.listdir("/usr/share/spamassassin"):
        if f.endswith(".cf") or f.endswith(".pre"):
            shutil.copy(os.path.join("/usr/share/spamassassin", f), site)
    for f in os.listdir("/etc/spamassassin"):
        if f.endswith(".pre"):
            shutil.copy(os.path.join("/etc/spamassassin", f), site)
    with open(os.path.join(site, "zz_bench.cf"), "w") as f:
        f.write("use_bayes 1\nbayes_auto_learn 0\nbayes_path %s/bayes\nbayes_file_mode 0600\n"
                "use_auto_whitelist 0\nskip_rbl_checks 1\nuse_razor2 0\nuse_pyzor 0\nuse_dcc 0\n"
                "dns_available no\nbayes_min_ham_num 1\nbayes_min_spam_num 1\n" % home)
    common = ["--siteconfigpath", site, "-L"]
    run(["sa-learn"] + common + ["--dbpath", home, "--spam"] + s["train_spam"], timeout=deadline(s["train_spam"]))
    run(["sa-learn"] + common + ["--dbpath", home, "--ham"] + s["train_ham"], timeout=deadline(s["train_ham"]))
    user = "nobody" if os.geteuid() == 0 else os.environ.get("USER", "nobody")
    if os.geteuid() == 0:  # spamd will not run as root: its files must be readable by nobody
        run(["chown", "-R", "nobody", home])
    port = free_port()
    spamd = subprocess.Popen(["spamd", "--siteconfigpath", site, "-L", "-i", "127.0.0.1", "-p", str(port),
                              "-m", "2", "-u", user, "--helper-home-dir", home, "-x", "-s", "stderr"],
                             stderr=subprocess.DEVNULL)
    try:
        wait_until("spamd to answer on 127.0.0.1:%d" % port,
                   lambda: subprocess.run(["spamc", "-p", str(port), "-K"], capture_output=True,
                                          timeout=STALL_SECONDS).returncode == 0,
                   alive=lambda: spamd.poll() is None)
        scores = {}
        total, seconds = 0, 0.0
        for key in ("test_spam", "test_ham"):
            out = []
            t = time.monotonic()
            for path in files(s[key]):
                with open(path, "rb") as f:
                    r = subprocess.run(["spamc", "-p", str(port), "-c"], stdin=f, capture_output=True, text=True,
                                       timeout=STALL_SECONDS)
                # spamc -c: exit 0 ham, 1 spam; anything else is an error (and a "0/0" score).
                if r.returncode not in (0, 1):
                    raise BenchError("spamc failed (%d) on %s: %s" % (r.returncode, path, r.stderr.strip()))
                out.append(float(r.stdout.split("/")[0]))
            seconds += time.monotonic() - t
            scores[key] = out
            total += len(out)
        return scores["test_spam"], scores["test_ham"], 5.0 - 1e-9, total / seconds
    finally:
        stop(spamd)


def main():
    binary = os.path.abspath(sys.argv[1])
    corpus = corpus_dir()
    limit = int(os.environ.get("BENCH_MESSAGES", 0)) or None
    work = tempfile.mkdtemp(prefix="mk-bench-spam-")
    os.chmod(work, 0o755)
    try:
        s = split(corpus, work, limit)
        print("train: %d spam, %d ham; test: %d spam, %d ham" % tuple(len(files(s[k])) for k in
                                                                 ("train_spam", "train_ham", "test_spam", "test_ham")))
        rows = []
        for name, fn in (("mailkeep", lambda: run_mailkeep(binary, s)), ("bogofilter", lambda: run_bogofilter(work, s)),
                         ("SpamAssassin", lambda: run_spamassassin(work, s))):
            spam, ham, threshold, rate = fn()
            rows.append((name,) + metrics(spam, ham, threshold) + (rate,))
        print()
        print("| filter | FP% | FN% | 1-ROCA% | FN% at FP <= 0.1% | messages/s |")
        print("|---|---|---|---|---|---|")
        for r in rows:
            print("| %s | %.2f | %.2f | %.3f | %.2f | %.0f |" % r)
        mk, bogo = rows[0], rows[1]
        print("\nspeed ratio mailkeep / bogofilter: %.2f (goal >= 5)" % (mk[5] / bogo[5]))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    run_main(main)
