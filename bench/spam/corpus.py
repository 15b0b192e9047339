"""The spam benchmark's data and figures: the split of the SpamAssassin public corpus, the
validation set carved from its training part, the messages as every filter gets them, the
order the MX receives them in, and the figures computed from the scores.

Split (issue 8): train on spam-1, easy-ham-1 and the first half of hard-ham-1 (by file
name); test on spam-2, easy-ham-2 and the second half of hard-ham-1. Issue 18's filter is
judged on other splits of the same corpus too, so two more can be asked for (SPLITS; run.py
--split), for a report only, never for tuning: "reversed" trains on the 2003 half and tests on
the 2002 half (every rule was written reading the 2002 ham, so day one's FP there is
flattered); "mixed" halves every directory by a hash of the file name, so both halves hold
both years, lists and senders.

Validation (issue 18): a message of the training part is in the validation set when the
SHA-256 of its key "DIR/FILE" (e.g. "spam-1/00001.7848dde101aa985090474a91ec93fcf0.txt"),
read as a big-endian number, falls in the lowest VALIDATION_PERCENT % of its range. The
rule depends on the name only, so the set is the same on every machine and does not move
when other messages are added; it holds about a fifth of spam-1, easy-ham-1 and the first
half of hard-ham-1. Tuning is done on train-minus-validation -> validation (run.py
--validate); the test split is read only for the report.

Every filter gets the same bytes: the corpus file without its leading mbox "From " line
(which is no part of the message and which an MX never receives), written once into the
run's work directory, one flat directory per set.
"""
import hashlib
import os
from email.parser import BytesHeaderParser
from email.policy import compat32
from email.utils import getaddresses

VALIDATION_PERCENT = 20
VALIDATION_RULE = ("validation set = the training messages whose SHA-256 of \"DIR/FILE\" (e.g. "
                   "\"spam-1/00001.7848dde101aa985090474a91ec93fcf0.txt\"), as a big-endian number, is in the "
                   "lowest %d%% of its range" % VALIDATION_PERCENT)
SETS = ("train_spam", "train_ham", "test_spam", "test_ham")
# The envelope sender when a message names none the MX could take (no address, not ASCII).
FALLBACK_SENDER = "sender@fallback.example"
MAX_ADDRESS = 254  # RFC 5321 §4.5.3.1.3: a path holds at most 256 octets with its brackets


class Message:
    """One corpus message: its key "DIR/FILE", the file every filter reads, and its label."""

    def __init__(self, key, path, spam):
        self.key, self.path, self.spam = key, path, spam

    def data(self):
        with open(self.path, "rb") as f:
            return f.read()

    def order(self):
        """Its place in the MX's delivery order: spam and ham interleaved, the same every run."""
        return hashlib.sha256(b"order " + self.key.encode()).digest()


def in_validation(key):
    digest = int.from_bytes(hashlib.sha256(key.encode()).digest(), "big")
    return digest < (VALIDATION_PERCENT << 256) // 100


SPLITS = {
    "issue8": "train spam-1, easy-ham-1, hard-ham-1 first half; test spam-2, easy-ham-2, hard-ham-1 second half",
    "reversed": "train spam-2, easy-ham-2, hard-ham-1 second half; test spam-1, easy-ham-1, hard-ham-1 first half",
    "mixed": "every directory halved by SHA-256(\"split \" + DIR/FILE): even to train, odd to test",
}


def in_mixed_training(key):
    return hashlib.sha256(b"split " + key.encode()).digest()[-1] % 2 == 0


def keys(corpus, limit, split_name="issue8"):
    """The keys of the four parts of the split (SPLITS), at most `limit` from each corpus
    directory (hard-ham-1 counts as its two halves)."""
    if split_name not in SPLITS:
        raise ValueError("unknown split %r; the splits are %s" % (split_name, ", ".join(SPLITS)))
    ls = lambda d: ["%s/%s" % (d, f) for f in sorted(os.listdir(os.path.join(corpus, d)))]
    hard = ls("hard-ham-1")
    half = len(hard) // 2
    cut = lambda names: names[:limit] if limit else names
    if split_name == "mixed":
        spam = cut(ls("spam-1")) + cut(ls("spam-2"))
        ham = cut(ls("easy-ham-1")) + cut(hard[:half]) + cut(ls("easy-ham-2")) + cut(hard[half:])
        return {"train_spam": [k for k in spam if in_mixed_training(k)],
                "train_ham": [k for k in ham if in_mixed_training(k)],
                "test_spam": [k for k in spam if not in_mixed_training(k)],
                "test_ham": [k for k in ham if not in_mixed_training(k)]}
    first = {"spam": cut(ls("spam-1")), "ham": cut(ls("easy-ham-1")) + cut(hard[:half])}
    second = {"spam": cut(ls("spam-2")), "ham": cut(ls("easy-ham-2")) + cut(hard[half:])}
    train, test = (second, first) if split_name == "reversed" else (first, second)
    return {"train_spam": train["spam"], "train_ham": train["ham"], "test_spam": test["spam"], "test_ham": test["ham"]}


def split(corpus, work, limit, validate, split_name="issue8"):
    """{set: [Message]} and {set: directory}. With validate, the training part is split into
    train-minus-validation ("train_*") and the validation set ("test_*"), and the test split
    is not read at all. validate == "training": the whole training split is the measured set
    (for the rows that learn nothing, day one: nothing is trained), the test split unread."""
    k = keys(corpus, limit, split_name)
    if validate == "training":
        k = {"train_spam": [], "train_ham": [], "test_spam": k["train_spam"], "test_ham": k["train_ham"]}
    elif validate:
        k = {"train_spam": [x for x in k["train_spam"] if not in_validation(x)],
             "train_ham": [x for x in k["train_ham"] if not in_validation(x)],
             "test_spam": [x for x in k["train_spam"] if in_validation(x)],
             "test_ham": [x for x in k["train_ham"] if in_validation(x)]}
    sets, dirs = {}, {}
    for name in SETS:
        d = os.path.join(work, "sets", name)
        os.makedirs(d)
        dirs[name] = d
        sets[name] = []
        for key in k[name]:
            with open(os.path.join(corpus, key), "rb") as f:
                data = f.read()
            if data.startswith(b"From "):  # the mbox separator line
                data = data[data.find(b"\n") + 1:]
            path = os.path.join(d, key.replace("/", "."))
            with open(path, "wb") as f:
                f.write(data)
            sets[name].append(Message(key, path, name.endswith("spam")))
    return sets, dirs


def plain_address(a):
    return bool(a) and "@" in a and a.isascii() and len(a) <= MAX_ADDRESS and \
        not any(c in a for c in " \t<>()[],;:\"\\")


def envelope_sender(data):
    """MAIL FROM for a message: its Return-Path, else its From address, else FALLBACK_SENDER;
    "" (the null path) when the Return-Path is <>."""
    head = BytesHeaderParser(policy=compat32).parsebytes(data, headersonly=True)
    for field in ("Return-Path", "From"):
        values = [str(v) for v in head.get_all(field) or []]
        if field == "Return-Path" and values and values[0].strip() == "<>":
            return ""
        for _, addr in getaddresses(values):
            if plain_address(addr):
                return addr
    return FALLBACK_SENDER


def metrics(spam, ham, threshold=None, spam_flagged=None, ham_flagged=None):
    """FP%, FN% (spam above threshold, or as flagged), 1-ROCA%, FN% at FP <= 0.1%: as
    filter/evaluate.cpp. A score of None (the MX refused the message for another reason than
    spam) counts in FP% and FN% as flagged and is left out of the score-based figures."""
    if spam_flagged is None:
        spam_flagged = [s > threshold for s in spam]
        ham_flagged = [s > threshold for s in ham]
    fp = sum(ham_flagged)
    fn = sum(1 for f in spam_flagged if not f)
    fp_percent, fn_percent = 100.0 * fp / len(ham), 100.0 * fn / len(spam)
    spam = [s for s in spam if s is not None]
    ham = [s for s in ham if s is not None]
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
    return fp_percent, fn_percent, 100.0 * (1 - auc), 100.0 * missed / ns
