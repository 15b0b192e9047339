"""Spam filtering on the SpamAssassin public corpus, with a sound evaluation protocol (issue
18): mailkeep's classifier alone, mailkeep's MX verdict as shipped (day one, and after an
admin trained it), and the peers, on the same messages in the same run.

Protocol (corpus.py): train on spam-1, easy-ham-1 and the first half of hard-ham-1; test on
spam-2, easy-ham-2 and the second half of hard-ham-1. A validation set is carved from the
training part by a fixed rule on the file names (corpus.VALIDATION_RULE). Tuning is done
with --validate, which runs every row on train-minus-validation -> validation; the default
mode reports on the test split, which nothing else reads.

Rows (BENCH_ONLY=name,name runs a subset):
  mailkeep             the classifier alone: `mailkeep spam eval` (trained on the train set)
  mailkeep-mx          the MX verdict as shipped, day one: a fresh `mailkeep quickstart`
                       install, no training; every test message through SMTP from a sending
                       host with forward-confirmed reverse DNS, verdicts read over IMAP (mx.py)
  mailkeep-mx-corrected  the same day-one install, its user moving each mistake to where it
                       belongs over IMAP after every mx.CORRECT_EVERY messages (nothing else
                       trained): each message judged as it arrived (online), what the moves teach
  mailkeep-mx-trained  the same after `mailkeep spam train` on the train set, as an admin does
  mailkeep-mx-heavy    the same for a heavy user on a large installation: an account that has
                       written to 10,000 people at 3,333 domains, on a server hosting 1,000
                       more domains (mx.py): what each verdict compares the message with
  spamassassin         SpamAssassin 4, the rules Debian ships, no Bayes, no network (spamd)
  rspamd               rspamd 3.4 as shipped: no Bayes, no network (peers.py)
  bogofilter           bogofilter trained on the train set, default cutoffs
  spamassassin-bayes   SpamAssassin with Bayes trained on the train set (sa-learn)
  rspamd-bayes         rspamd with Bayes in redis, trained on the train set (controller)

Figures per row: FP% and FN% at the filter's shipped threshold (mailkeep MX: the message
went to Junk or was refused; "tag" counts as not junked and is reported apart), 1-ROCA%
(the area above the ROC curve of the scores, in percent), FN% at the best threshold that
keeps FP <= 0.1% of ham, messages per second with one client at a time (the classifier and
bogofilter: the best of three runs, reading the files included; the MX: SMTP delivery,
each answer after the message is stored) and the CPU time of the filter's processes per
message (the MX: the whole server, SMTP and storage included, and below the table the spam
verdict's own CPU as the server measures it, the metric mailkeep_spam_verdict_cpu_seconds;
the classifier: its time per message as `spam eval` measures it, one thread). "(trained)" rows learn from the training
set: the train split, or with --validate train-minus-validation. A message the MX refused
for another reason than spam never reached the inbox, so it counts as junked, but it has no
score: the two score-based columns leave it out, and a line below the table names the reply.

Every step has a deadline sized to the messages it handles; a server must answer within
benchlib.START_SECONDS of its start (rspamd: peers.RSPAMD_START_SECONDS) and each message
within benchlib.STALL_SECONDS, or the run ends saying what it waited for. Everything the
run started is stopped and its files removed, on failure too (SIGTERM included).

Usage: /usr/bin/python3 bench/spam/run.py [--validate | --day-one-training | --split NAME] path/to/mailkeep
       --split reversed | mixed: another split of the corpus (corpus.SPLITS), for a report of how
       the shipped choices carry to data they were not chosen on; never for tuning (the tuning
       modes refuse it)
       --day-one-training: only the rows that learn nothing from a training set (mailkeep-mx,
       mailkeep-mx-corrected, spamassassin, rspamd),
       measured on the whole training split: day one's rules may be tuned there
       BENCH_MESSAGES=N: at most N messages from each corpus directory, for a quick run
       BENCH_ONLY=mailkeep-mx,rspamd: only these rows
       BENCH_KEEP=1: keep the work directory (the servers' logs and data) to look into
"""
import os
import re
import shutil
import signal
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)
from benchlib import BenchError, Dns, corpus_dir, run, run_main  # noqa: E402
import corpus  # noqa: E402
import mx  # noqa: E402
import peers  # noqa: E402

ROWS = ("mailkeep", "mailkeep-mx", "mailkeep-mx-corrected", "mailkeep-mx-trained", "mailkeep-mx-heavy",
        "spamassassin", "rspamd", "bogofilter", "spamassassin-bayes", "rspamd-bayes")
# The heavy user's correspondents and the large installation's hosted domains (mailkeep-mx-heavy).
HEAVY_CORRESPONDENTS = 10000
HEAVY_HOSTED = 1000
# The X-Mailkeep-Spam action of a message delivered with a tag (filter/verdict.cpp says "yes").
TAGGED = ("yes", "tag")
LABELS = {"mailkeep": "mailkeep classifier alone (trained)",
          "mailkeep-mx": "mailkeep MX verdict, day one (as shipped, no training)",
          "mailkeep-mx-corrected": "mailkeep MX verdict, day one, its user moving each mistake (online)",
          "mailkeep-mx-trained": "mailkeep MX verdict, after `mailkeep spam train` (trained)",
          "mailkeep-mx-heavy": "the same, 10,000 correspondents, 1,000 hosted domains (trained)",
          "spamassassin": "SpamAssassin 4.0 rules, no Bayes",
          "rspamd": "rspamd 3.4 as shipped (no Bayes)",
          "bogofilter": "bogofilter (trained)",
          "spamassassin-bayes": "SpamAssassin 4.0 + Bayes (trained)",
          "rspamd-bayes": "rspamd 3.4 + Bayes in redis (trained)"}


def classifier(binary, dirs, count):
    """`mailkeep spam eval`: the classifier trained on the train set, scores of the test set."""
    args = [binary, "spam", "eval", "--verbose", "--train-spam", dirs["train_spam"], "--train-ham", dirs["train_ham"],
            "--test-spam", dirs["test_spam"], "--test-ham", dirs["test_ham"]]
    # Scores are deterministic; the speed is the best of RUNS runs (a fraction of a second
    # each, so one run is at the mercy of the machine's other work).
    rate = 0
    for _ in range(peers.RUNS):
        out = run(args, timeout=peers.deadline_for(count), text=True).stdout
        rate = max(rate, float(re.search(r"classification: (\d+) messages/second", out).group(1)))
    spam = [float(l.split()[2]) for l in out.splitlines() if l.startswith("spam ")]
    ham = [float(l.split()[2]) for l in out.splitlines() if l.startswith("ham ")]
    threshold = float(re.search(r"threshold ([0-9.]+):", out).group(1))  # the Junk threshold
    return peers.Scores(spam, ham, threshold, rate, 1000.0 / rate)


def mx_row(binary, work, name, dns, test, dirs, trained, lines, heavy=False, corrected=False):
    verdicts, rate, cpu, thresholds, notes = mx.mx_verdicts(
        binary, work, name, dns, test, (dirs["train_spam"], dirs["train_ham"]) if trained else None,
        HEAVY_CORRESPONDENTS if heavy else 0, HEAVY_HOSTED if heavy else 0, mx.CORRECT_EVERY if corrected else 0)
    spam = [v for m, v in zip(test, verdicts) if m.spam]
    ham = [v for m, v in zip(test, verdicts) if not m.spam]
    if corrected:
        # How far the user's moves took it: the same figures over each half of the stream.
        half = len(test) // 2
        for label, part in (("first", slice(0, half)), ("second", slice(half, None))):
            s_ = [v for m, v in zip(test[part], verdicts[part]) if m.spam]
            h_ = [v for m, v in zip(test[part], verdicts[part]) if not m.spam]
            if not s_ or not h_:
                continue  # a small run (BENCH_MESSAGES) may give a half of one kind only
            fp, fn, roca, fn_at = corpus.metrics([v[2] for v in s_], [v[2] for v in h_], None,
                                                 [v[0] for v in s_], [v[0] for v in h_])
            lines.append("%s: the %s half of the stream (%d spam, %d ham): FP %.2f%%, FN %.2f%%, 1-ROCA %.3f%%, "
                         "FN at FP <= 0.1%% %.2f%%" % (name, label, len(s_), len(h_), fp, fn, roca, fn_at))
    tag = lambda vs: 100.0 * sum(1 for v in vs if v[1] in TAGGED) / len(vs)
    count = lambda vs, action: sum(1 for v in vs if v[1] == action)
    lines.append("%s: tagged (delivered to INBOX marked, not counted as junked): %.2f%% of ham, %.2f%% of spam; "
                 "refused as spam at SMTP: %d ham, %d spam; refused for another reason: %d ham, %d spam"
                 % (name, tag(ham), tag(spam), count(ham, "reject"), count(spam, "reject"), count(ham, "refused"),
                    count(spam, "refused")))
    lines.append("%s: thresholds (the account's, as the CLI shows them): tag %g, Junk %g, reject %g"
                 % ((name,) + thresholds))
    lines.extend(notes)
    return peers.Scores([v[2] for v in spam], [v[2] for v in ham], None, rate, cpu,
                        spam_flagged=[v[0] for v in spam], ham_flagged=[v[0] for v in ham])


def selected_rows():
    only = os.environ.get("BENCH_ONLY", "").strip()
    if not only:
        return list(ROWS)
    names = [n.strip() for n in only.split(",") if n.strip()]
    unknown = [n for n in names if n not in ROWS]
    if unknown:
        raise BenchError("BENCH_ONLY: unknown row(s) %s; the rows are %s" % (", ".join(unknown), ", ".join(ROWS)))
    return [r for r in ROWS if r in names]


def terminated(signum, frame):
    raise BenchError("stopped by signal %d" % signum)


def main():
    args = sys.argv[1:]
    split_name = "issue8"
    if "--split" in args:
        i = args.index("--split")
        if i + 1 >= len(args) or args[i + 1] not in corpus.SPLITS:
            raise BenchError("--split needs one of: %s" % ", ".join(corpus.SPLITS))
        split_name = args[i + 1]
        del args[i:i + 2]
    validate = "training" if "--day-one-training" in args else "--validate" in args
    args = [a for a in args if a not in ("--validate", "--day-one-training")]
    if len(args) != 1:
        raise BenchError("usage: run.py [--validate | --day-one-training | --split NAME] path/to/mailkeep")
    if validate and split_name != "issue8":
        # The tuning modes read the issue-8 training split only; another split's training part
        # holds issue 8's test messages, which nothing may be tuned on.
        raise BenchError("--split %s is for a report: it cannot be combined with --validate or "
                         "--day-one-training, which tune on issue 8's training split only" % split_name)
    binary = os.path.abspath(args[0])
    rows = selected_rows()
    if validate == "training":
        # What learns nothing from a training set may be measured on the data that tunes it
        # (the correcting user's filter learns only from the stream it is judged on).
        rows = [r for r in rows if r in ("mailkeep-mx", "mailkeep-mx-corrected", "spamassassin", "rspamd")]
    limit = int(os.environ.get("BENCH_MESSAGES", 0)) or None
    signal.signal(signal.SIGTERM, terminated)
    started = time.monotonic()
    source = corpus_dir()
    work = tempfile.mkdtemp(prefix="mk-bench-spam-")
    os.chmod(work, 0o755)  # spamd and rspamd run as other users
    cleanup = []
    try:
        sets, dirs = corpus.split(source, work, limit, validate, split_name)
        test = sorted(sets["test_spam"] + sets["test_ham"], key=corpus.Message.order)
        n = {k: len(v) for k, v in sets.items()}
        if validate == "training":
            print("mode: --day-one-training: the rows that learn nothing, measured on the whole training split "
                  "(the test split is not read)")
        elif validate:
            print("mode: --validate: trained on train-minus-validation, measured on the validation set "
                  "(the test split is not read)")
            print("split: train-minus-validation %d spam, %d ham; validation %d spam, %d ham"
                  % (n["train_spam"], n["train_ham"], n["test_spam"], n["test_ham"]))
        else:
            print("mode: test: trained on the train split, measured on the test split")
            print("split %s: train %d spam, %d ham; test %d spam, %d ham (%s)"
                  % (split_name, n["train_spam"], n["train_ham"], n["test_spam"], n["test_ham"],
                     corpus.SPLITS[split_name]))
        print(corpus.VALIDATION_RULE + "; --validate tunes there")
        if limit:
            print("BENCH_MESSAGES=%d: at most %d messages from each corpus directory" % (limit, limit))
        dns = Dns()
        cleanup.append(dns.stop)
        mx.publish_relay(dns)
        relay = None
        if any(r.startswith("mailkeep-mx") for r in rows):
            relay = mx.Relay()
            cleanup.append(relay.remove)
        lines, results = [], {}
        for row in rows:
            t = time.monotonic()
            print("running %s ..." % row, file=sys.stderr, flush=True)
            if row == "mailkeep":
                results[row] = classifier(binary, dirs, len(test) + n["train_spam"] + n["train_ham"])
            elif row.startswith("mailkeep-mx"):
                results[row] = mx_row(binary, work, row, dns, test, dirs, row in ("mailkeep-mx-trained",
                                      "mailkeep-mx-heavy"), lines, row == "mailkeep-mx-heavy",
                                      row == "mailkeep-mx-corrected")
            elif row == "bogofilter":
                results[row] = peers.bogofilter(work, sets, test)
            elif row.startswith("spamassassin"):
                results[row] = peers.spamassassin(work, sets, test, row.endswith("bayes"))
            elif row.startswith("rspamd"):
                results[row] = peers.rspamd(work, sets, test, dns.port, mx.meta, row.endswith("bayes"))
            lines.extend(results[row].notes)
            print("  %s done in %.0f s" % (row, time.monotonic() - t), file=sys.stderr, flush=True)
        if relay:
            relay.remove()
        print()
        print("| filter | FP% | FN% | 1-ROCA% | FN% at FP <= 0.1% | messages/s | CPU ms/msg |")
        print("|---|---|---|---|---|---|---|")
        for row in rows:
            r = results[row]
            fp, fn, roca, fn_at = corpus.metrics(r.spam, r.ham, r.threshold, r.spam_flagged, r.ham_flagged)
            cpu = "%.2f" % r.cpu_ms if r.cpu_ms is not None else "-"
            print("| %s | %.2f | %.2f | %.3f | %.2f | %.0f | %s |" % (LABELS[row], fp, fn, roca, fn_at, r.rate, cpu))
        print()
        print("thresholds (spam above): mailkeep classifier %g (the Junk score); mailkeep MX: Junk or refused; "
              "bogofilter %g (spam_cutoff; Unsure is not spam); SpamAssassin %g (required_score); rspamd %g "
              "(add_header)" % (3.0 if "mailkeep" not in results else results["mailkeep"].threshold,
                                peers.BOGOFILTER_CUTOFF, peers.SPAMASSASSIN_THRESHOLD, peers.RSPAMD_THRESHOLD))
        print("sending host for the MX and rspamd: %s, %s (forward-confirmed); every other DNS name is NXDOMAIN"
              % (mx.RELAY_IP, mx.RELAY_NAME))
        for line in lines:
            print(line)
        print("run time: %.0f s" % (time.monotonic() - started))
    finally:
        for c in reversed(cleanup):
            try:
                c()
            except Exception as e:  # noqa: BLE001 - the other clean-ups must still run
                print("clean-up: %s" % e, file=sys.stderr)
        if os.environ.get("BENCH_KEEP"):
            print("BENCH_KEEP: the work directory (servers' logs, data) is kept in %s" % work, file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    run_main(main)
