#!/usr/bin/python3
"""Cross-validation of mailkeep's filter on the training split only: K folds of spam-1,
easy-ham-1 and the first half of hard-ham-1, each fold judged by a model trained on the
others, every fold's scores pooled into one set of figures. The test split is not read.

Why beside run.py --validate: the validation set (a fifth of the training split) holds 106
spam and 541 ham, so one message moves its figures by 0.2-1%; pooled over K folds every
training message is judged once, by a model that did not learn it. Tuning choices are made
on both (issue 18's protocol).

Fold of a message: the SHA-256 of "fold " + its key "DIR/FILE", as a big-endian number,
modulo K (5): it depends on the name only, so the folds are the same on every machine.

Rows: `mailkeep spam eval` with --rules (the header and content rules, the phishing checks
and the classifier, what a verdict knows offline; no SMTP, no DNS), and the classifier
alone. Figures as run.py's (bench/spam/corpus.py metrics): FP% and FN% at the Junk score,
1-ROCA%, FN% at FP <= 0.1%.

--by-date: instead of the folds, the newest fifth of the training spam and of the training ham
(by each message's Date header; one without a usable Date stays in training) is judged by a
model trained on the older four fifths. The test split is a year newer than the training
split, and the folds, which mix the years' months, do not show what that drift costs:
this does, still without reading the test split.

--by-source: the folds are drawn by the message's source instead of its name, so that each
fold is judged by a model that never saw its sources: the mailing list (List-Id, or another
list field) for list mail, else the organisation of the From: address (its last two labels,
three under a two-letter country's "co." and the like). The test split's mail comes partly
from senders the training split does not have (its second year of spam, the second half of
hard-ham-1), and the name folds, which scatter each list and sender over every fold, cannot
show what unseen senders cost: these folds do, without reading the test split. They are
uneven (a large list is a whole fold's ham), which pooling the scores does not mind.

--draws N: the folds are drawn N times (draw k > 0 salts the hash: SHA-256("draw K " + "fold "
+ ...)) and each figure is the mean of the N draws' pooled figures; each draw's own are printed
too. One draw's figures move with the draw by as much as most changes move them (4b48af9 by
source: 1-ROCA 0.419% on draw 0, 0.508% the mean of twelve), so the mean of several shows
which way a change goes. Draw 0 is the plain folds above. Not with --by-date, which has no
folds.

Usage: /usr/bin/python3 bench/spam/cv.py [--by-date | --by-source] [--draws N] path/to/mailkeep
"""
import email.utils
import hashlib
import os
import re
import shutil
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)
from email.parser import BytesHeaderParser  # noqa: E402
from email.policy import compat32  # noqa: E402
from email.utils import getaddresses  # noqa: E402
from benchlib import BenchError, corpus_dir, run, run_main  # noqa: E402
import corpus  # noqa: E402
import peers  # noqa: E402

FOLDS = 5


def fold_of(key, draw=0):
    salt = b"draw %d " % draw if draw else b""
    return int.from_bytes(hashlib.sha256(salt + b"fold " + key.encode()).digest(), "big") % FOLDS


# Second-level labels under which a two-letter country's registrations sit ("example.co.uk").
COUNTRY_SECOND_LEVEL = {"ac", "co", "com", "edu", "gov", "ne", "net", "or", "org"}


def organisation(domain):
    labels = domain.lower().strip(".").split(".")
    keep = 3 if len(labels) >= 3 and len(labels[-1]) == 2 and labels[-2] in COUNTRY_SECOND_LEVEL else 2
    return ".".join(labels[-keep:])


def source_of(data, key):
    """Where a message comes from, for --by-source: "list:ID", "from:ORGANISATION", or for a
    message that names neither its own "none:KEY" (such messages share no known source)."""
    head = BytesHeaderParser(policy=compat32).parsebytes(data, headersonly=True)
    list_id = head.get("List-Id")
    if list_id is not None:
        m = re.search(r"<([^>]+)>", str(list_id))
        return "list:" + (m.group(1) if m else str(list_id)).strip().lower()
    for field in ("List-Post", "Mailing-List", "X-Mailing-List"):
        if head.get(field) is not None:
            return "list:" + " ".join(str(head.get(field)).split()).lower()
    for _, addr in getaddresses([str(v) for v in head.get_all("From") or []]):
        if "@" in addr:
            return "from:" + organisation(addr.rsplit("@", 1)[1])
    return "none:" + key


def date_of(data):
    """The message's Date header as unix seconds, or None."""
    head = data.split(b"\n\n", 1)[0].decode("latin-1")
    for line in head.splitlines():
        if line.lower().startswith("date:"):
            try:
                return email.utils.parsedate_to_datetime(line[5:].strip()).timestamp()
            except (TypeError, ValueError, IndexError, OverflowError):
                return None
    return None


def newest_fifth(keys, dates):
    """The newest fifth of keys by date (keys without one are never held out)."""
    dated = sorted((dates[k], k) for k in keys if dates.get(k) is not None)
    return {k for _, k in dated[len(dated) - len(dated) // 5:]}


def scores(out):
    """The (label, score) lines of `spam eval --verbose`."""
    spam = [float(line.split()[2]) for line in out.splitlines() if line.startswith("spam ")]
    ham = [float(line.split()[2]) for line in out.splitlines() if line.startswith("ham ")]
    return spam, ham


def main():
    args = sys.argv[1:]
    by_date = "--by-date" in args
    by_source = "--by-source" in args
    draws = 1
    if "--draws" in args:
        at = args.index("--draws")
        try:
            draws = int(args[at + 1])
        except (IndexError, ValueError):
            draws = 0
        del args[at:at + 2]
    args = [a for a in args if a not in ("--by-date", "--by-source")]
    if len(args) != 1 or (by_date and by_source) or draws < 1 or (by_date and draws > 1):
        raise BenchError("usage: cv.py [--by-date | --by-source] [--draws N] path/to/mailkeep")
    binary = os.path.abspath(args[0])
    started = time.monotonic()
    source = corpus_dir()
    work = tempfile.mkdtemp(prefix="mk-bench-cv-")
    try:
        k = corpus.keys(source, None)
        labelled = [(key, True) for key in k["train_spam"]] + [(key, False) for key in k["train_ham"]]
        # The bytes every filter gets (corpus.split's rule), once; each fold links to them.
        files, dates, sources = {}, {}, {}
        os.makedirs(os.path.join(work, "all"))
        for key, _ in labelled:
            with open(os.path.join(source, key), "rb") as f:
                data = f.read()
            if data.startswith(b"From "):
                data = data[data.find(b"\n") + 1:]
            dates[key] = date_of(data)
            sources[key] = source_of(data, key) if by_source else key
            files[key] = os.path.join(work, "all", key.replace("/", "."))
            with open(files[key], "wb") as f:
                f.write(data)
        held = newest_fifth(k["train_spam"], dates) | newest_fifth(k["train_ham"], dates) if by_date else set()
        if by_date:
            print("by date: the newest fifth of the training split (%d spam, %d ham) judged by a model of the "
                  "older rest; the test split is not read"
                  % (len(held & set(k["train_spam"])), len(held & set(k["train_ham"]))))
        else:
            print("cross-validation: %d folds %sof the training split (%d spam, %d ham); the test split is not read"
                  % (FOLDS, "by source " if by_source else "", len(k["train_spam"]), len(k["train_ham"])))
            if by_source:
                # Source folds are uneven, and each draw sizes them differently: every draw's sizes.
                for draw in range(draws):
                    sizes = []
                    for fold in range(FOLDS):
                        members = [(key, spam) for key, spam in labelled if fold_of(sources[key], draw) == fold]
                        sizes.append("%d spam, %d ham from %d sources" % (
                            sum(1 for _, spam in members if spam), sum(1 for _, spam in members if not spam),
                            len({sources[key] for key, _ in members})))
                    if draws > 1:
                        print("  draw %d folds: %s" % (draw, "; ".join(sizes)))
                    else:
                        for fold, size in enumerate(sizes):
                            print("  fold %d: %s" % (fold, size))
            if draws > 1:
                print("  %d draws of the folds; each figure is the mean of the draws' pooled figures" % draws)
        figures = {"rules": [], "alone": []}  # per draw: (FP%, FN%, 1-ROCA%, FN% at FP <= 0.1%)
        for draw in range(draws):
            pooled = {"rules": ([], []), "alone": ([], [])}
            for fold in range(1 if by_date else FOLDS):
                d = os.path.join(work, "draw%d" % draw, "fold%d" % fold)
                for part in ("train_spam", "train_ham", "test_spam", "test_ham"):
                    os.makedirs(os.path.join(d, part))
                for key, spam in labelled:
                    judged = key in held if by_date else fold_of(sources[key], draw) == fold
                    part = ("test_" if judged else "train_") + ("spam" if spam else "ham")
                    os.symlink(files[key], os.path.join(d, part, os.path.basename(files[key])))
                common = [binary, "spam", "eval", "--verbose", "--train-spam", os.path.join(d, "train_spam"),
                          "--train-ham", os.path.join(d, "train_ham"), "--test-spam", os.path.join(d, "test_spam"),
                          "--test-ham", os.path.join(d, "test_ham")]
                for row, extra in (("rules", ["--rules"]), ("alone", [])):
                    out = run(common + extra, timeout=peers.deadline_for(len(labelled)), text=True).stdout
                    spam, ham = scores(out)
                    pooled[row][0].extend(spam)
                    pooled[row][1].extend(ham)
                print("  %sfold %d done" % ("draw %d, " % draw if draws > 1 else "", fold), file=sys.stderr, flush=True)
            for row in figures:
                figures[row].append(corpus.metrics(pooled[row][0], pooled[row][1], 3.0))
            if draws > 1:
                print("  draw %d: %s" % (draw, "; ".join(
                    "%s %.2f / %.2f / %.3f / %.2f" % ((row,) + figures[row][-1]) for row in figures)))
        print()
        print("| mailkeep `spam eval`, %s%s | FP%% | FN%% | 1-ROCA%% | FN%% at FP <= 0.1%% |"
              % ("newest fifth by date" if by_date else "%d-fold CV by source, pooled" % FOLDS if by_source
                 else "%d-fold CV, pooled" % FOLDS, ", mean of %d draws" % draws if draws > 1 else ""))
        print("|---|---|---|---|---|")
        for row, label in (("rules", "rules, phishing checks and classifier (--rules)"), ("alone", "classifier alone")):
            fp, fn, roca, fn_at = (sum(f[i] for f in figures[row]) / draws for i in range(4))
            print("| %s | %.2f | %.2f | %.3f | %.2f |" % (label, fp, fn, roca, fn_at))
        print()
        print("threshold: the Junk score, 3; %s; run time: %.0f s"
              % ("held out: the newest fifth by Date, per class" if by_date
                 else "fold = SHA-256(%s\"fold \" + %s) mod %d" % ("[\"draw K \" +] " if draws > 1 else "",
                                                                  "SOURCE" if by_source else "DIR/FILE", FOLDS),
                 time.monotonic() - started))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    run_main(main)
