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

Usage: /usr/bin/python3 bench/spam/cv.py [--by-date] path/to/mailkeep
"""
import email.utils
import hashlib
import os
import shutil
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)
from benchlib import BenchError, corpus_dir, run, run_main  # noqa: E402
import corpus  # noqa: E402
import peers  # noqa: E402

FOLDS = 5


def fold_of(key):
    return int.from_bytes(hashlib.sha256(b"fold " + key.encode()).digest(), "big") % FOLDS


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
    args = [a for a in args if a != "--by-date"]
    if len(args) != 1:
        raise BenchError("usage: cv.py [--by-date] path/to/mailkeep")
    binary = os.path.abspath(args[0])
    started = time.monotonic()
    source = corpus_dir()
    work = tempfile.mkdtemp(prefix="mk-bench-cv-")
    try:
        k = corpus.keys(source, None)
        labelled = [(key, True) for key in k["train_spam"]] + [(key, False) for key in k["train_ham"]]
        # The bytes every filter gets (corpus.split's rule), once; each fold links to them.
        files, dates = {}, {}
        os.makedirs(os.path.join(work, "all"))
        for key, _ in labelled:
            with open(os.path.join(source, key), "rb") as f:
                data = f.read()
            if data.startswith(b"From "):
                data = data[data.find(b"\n") + 1:]
            dates[key] = date_of(data)
            files[key] = os.path.join(work, "all", key.replace("/", "."))
            with open(files[key], "wb") as f:
                f.write(data)
        held = newest_fifth(k["train_spam"], dates) | newest_fifth(k["train_ham"], dates) if by_date else set()
        if by_date:
            print("by date: the newest fifth of the training split (%d spam, %d ham) judged by a model of the "
                  "older rest; the test split is not read"
                  % (len(held & set(k["train_spam"])), len(held & set(k["train_ham"]))))
        else:
            print("cross-validation: %d folds of the training split (%d spam, %d ham); the test split is not read"
                  % (FOLDS, len(k["train_spam"]), len(k["train_ham"])))
        pooled = {"rules": ([], []), "alone": ([], [])}
        for fold in range(1 if by_date else FOLDS):
            d = os.path.join(work, "fold%d" % fold)
            for part in ("train_spam", "train_ham", "test_spam", "test_ham"):
                os.makedirs(os.path.join(d, part))
            for key, spam in labelled:
                judged = key in held if by_date else fold_of(key) == fold
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
            print("  fold %d done" % fold, file=sys.stderr, flush=True)
        print()
        print("| mailkeep `spam eval`, %s | FP%% | FN%% | 1-ROCA%% | FN%% at FP <= 0.1%% |"
              % ("newest fifth by date" if by_date else "%d-fold CV, pooled" % FOLDS))
        print("|---|---|---|---|---|")
        for row, label in (("rules", "rules, phishing checks and classifier (--rules)"), ("alone", "classifier alone")):
            fp, fn, roca, fn_at = corpus.metrics(pooled[row][0], pooled[row][1], 3.0)
            print("| %s | %.2f | %.2f | %.3f | %.2f |" % (label, fp, fn, roca, fn_at))
        print()
        print("threshold: the Junk score, 3; %s; run time: %.0f s"
              % ("held out: the newest fifth by Date, per class" if by_date
                 else "fold = SHA-256(\"fold \" + DIR/FILE) mod %d" % FOLDS, time.monotonic() - started))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    run_main(main)
