"""`mailkeep spam train` and `spam eval` as an administrator uses them: directories of
message files in, a model in the data directory out (added to on later runs), and clear
errors for wrong input. Then the filter in the MX with a real client (smtplib): every
accepted message carries X-Mailkeep-Spam with its signals, GTUBE is refused at SMTP time
(550 5.7.1), and once the model is trained the classifier's signal joins in, within the
server's recheck interval."""
import email
import email.policy
import os
import re
import shutil
import smtplib
import subprocess
import tempfile
import time
import unittest

import mkharness as mk
import rig as rigmod

SPAM = ["Subject: Cheap meds %d\r\n\r\nBuy cheap pills now, click http://pills%d.example/ FREE offer!!!\r\n",
        "Subject: You won %d\r\n\r\nClaim your prize money today http://win%d.example/ while you can\r\n"]
HAM = ["Subject: Meeting notes %d\r\n\r\nHere are the notes from Tuesday's meeting, item %d.\r\n",
       "Subject: Re: patch %d\r\n\r\nThe patch looks good to me; merged as commit %d.\r\n"]


def deliver(srv, subject, body, sender="someone@sender.example"):
    """A message to me@localhost through the MX (port 25)."""
    msg = "From: %s\r\nTo: me@localhost\r\nSubject: %s\r\n\r\n%s\r\n" % (sender, subject, body)
    with smtplib.SMTP("127.0.0.1", srv.smtp_port, timeout=30) as s:
        s.sendmail(sender, ["me@localhost"], msg)


def stored(srv, subject, mailboxes=("INBOX",), tagged=False):
    """The stored bytes of the message with this subject, or with it tagged as suspected
    phishing when `tagged` (None if it does not arrive)."""
    deadline = time.monotonic() + mk.HANG_GUARD
    wanted = [("Subject: %s\r\n" % s).encode() for s in
              ((subject, "[SUSPECTED PHISHING] " + subject) if tagged else (subject,))]
    while time.monotonic() < deadline:
        for box in mailboxes:
            for _, m in srv.messages(mailbox=box):
                if any(w in m for w in wanted):
                    return m
        time.sleep(0.1)
    return None


def write(directory, templates, n):
    os.makedirs(directory)
    for i in range(n):
        with open(os.path.join(directory, "%03d.eml" % i), "w") as f:
            f.write("From: someone%d@sender.example\r\n" % i + templates[i % 2] % (i, i))


class SpamCliTest(mk.SharedServerTest):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.dir = tempfile.mkdtemp(prefix="mk-spam-")
        cls.addClassCleanup(shutil.rmtree, cls.dir, True)
        for name, templates in (("spam", SPAM), ("ham", HAM), ("spam2", SPAM), ("ham2", HAM)):
            write(os.path.join(cls.dir, name), templates, 20)

    def test_train_and_eval(self):
        d = lambda n: os.path.join(self.dir, n)
        r = self.srv.cli("spam", "train", "--spam", d("spam"), "--ham", d("ham"))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("trained on 20 spam and 20 ham; the model", r.stdout)
        self.assertIn("has learned 20 spam and 20 ham in all", r.stdout)
        self.assertTrue(os.path.getsize(os.path.join(self.srv.dir, "spam.model")) > 16 << 20)
        r = self.srv.cli("spam", "train", "--spam", d("spam2"))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("has learned 40 spam and 20 ham in all", r.stdout)
        r = self.srv.cli("spam", "train")
        self.assertEqual(r.returncode, 2)
        self.assertIn("give --spam DIR and/or --ham DIR", r.stderr)
        r = self.srv.cli("spam", "train", "--spam", d("missing"))
        self.assertEqual(r.returncode, 2)
        self.assertIn("missing: not a directory of message files", r.stderr)
        # eval needs no instance: a fresh model each time.
        r = mk.run_cli("spam", "eval", "--train-spam", d("spam"), "--train-ham", d("ham"),
                       "--test-spam", d("spam2"), "--test-ham", d("ham2"), "--threshold", "0")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("tested on 20 spam and 20 ham", r.stdout)
        self.assertIn("threshold 0.00: false positives 0 (0.00% of ham), false negatives 0 (0.00% of spam)", r.stdout)
        self.assertIn("1-ROCA%: 0.0000", r.stdout)
        self.assertRegex(r.stdout, r"classification: \d+ messages/second")


class FilterInTheMxTest(mk.SharedServerTest):
    GTUBE = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.dir = tempfile.mkdtemp(prefix="mk-spam-")
        cls.addClassCleanup(shutil.rmtree, cls.dir, True)
        write(os.path.join(cls.dir, "spam"), SPAM, 30)
        write(os.path.join(cls.dir, "ham"), HAM, 30)

    def send(self, subject, body):
        deliver(self.srv, subject, body)

    def stored(self, subject, mailbox="INBOX"):
        return stored(self.srv, subject, (mailbox,))

    def test_verdicts(self):
        self.send("plain note", "See you at lunch.")
        m = self.stored("plain note")
        self.assertIsNotNone(m)
        self.assertIn(b"\r\nX-Mailkeep-Spam: no; score=0.00\r\n", m)
        with self.assertRaises(smtplib.SMTPDataError) as e:
            self.send("test", "This is the GTUBE test: " + self.GTUBE)
        self.assertEqual(e.exception.smtp_code, 550)
        self.assertIn(b"5.7.1 Message refused as spam (score 100.0: GTUBE=100.00)", e.exception.smtp_error)
        self.assertIn("spam_signals", self.srv.stderr())
        # The classifier joins in once there is a model (the server looks every 10 s).
        r = self.srv.cli("spam", "train", "--spam", os.path.join(self.dir, "spam"), "--ham", os.path.join(self.dir, "ham"))
        self.assertEqual(r.returncode, 0, r.stderr)
        deadline = time.monotonic() + 10 * 10  # hang guard
        n = 0
        while time.monotonic() < deadline:
            n += 1
            self.send("Claim your prize %d" % n, "Claim your prize money today http://win.example/ while you can")
            m = self.stored("Claim your prize %d" % n) or self.stored("Claim your prize %d" % n, "Junk")
            self.assertIsNotNone(m)
            if b"CLASSIFIER=" in m:
                break
            time.sleep(1)
        self.assertRegex(m.decode(), r"X-Mailkeep-Spam: \w+; score=\d+\.\d\d CLASSIFIER=\d")  # positive: spam-like
        self.send("Re: meeting notes", "Here are the notes from the meeting, merged as commit 12.")
        m = self.stored("Re: meeting notes")
        self.assertRegex(m.decode(), r"X-Mailkeep-Spam: no; score=-\d+\.\d\d CLASSIFIER=-")


class PhishingWarningTest(mk.SharedServerTest):
    def test_banner_and_subject_tag(self):
        # The link text shows a domain the recipient has no relation to (weak: how newsletters
        # link through trackers); the name showing another address is phishing.
        html = '<p>Your account is locked. <a href="http://login.evil.example/">https://www.bank.example/</a></p>'
        msg = ("From: \"security@bank.example\" <alerts@evil.example>\r\nTo: me@localhost\r\nSubject: account locked\r\n"
               "MIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n%s\r\n" % html)
        with smtplib.SMTP("127.0.0.1", self.srv.smtp_port, timeout=30) as s:
            s.sendmail("alerts@evil.example", ["me@localhost"], msg)
        raw = stored(self.srv, "[SUSPECTED PHISHING] account locked", ("INBOX", "Junk"))
        self.assertIsNotNone(raw)
        m = email.message_from_bytes(raw, policy=email.policy.default)
        self.assertEqual(m["Subject"], "[SUSPECTED PHISHING] account locked")
        self.assertIn("DISPLAY_NAME_SPOOF=2.00", m["X-Mailkeep-Spam"])
        self.assertIn("LINK_TEXT_MISMATCH=0.25", m["X-Mailkeep-Spam"])
        self.assertEqual(m.get_content_type(), "multipart/mixed")
        banner, original = list(m.iter_parts())
        self.assertIn("WARNING: this message looks like phishing.", banner.get_content())
        self.assertIn("the sender's name shows bank.example but the address is at evil.example", banner.get_content())
        self.assertEqual(original.get_content_type(), "text/html")
        self.assertEqual(original.get_content().strip(), html)
        self.assertRegex(self.srv.stderr(), r"event=smtp.verdict .*phishing=warned")
        # Ordinary mail is left alone.
        deliver(self.srv, "lunch", '<a href="https://www.bank.example/">www.bank.example</a>')
        self.assertNotIn(b"SUSPECTED PHISHING", stored(self.srv, "lunch"))


    def send_raw(self, mail_from, msg):
        with smtplib.SMTP("127.0.0.1", self.srv.smtp_port, timeout=30) as s:
            s.sendmail(mail_from, ["me@localhost"], msg)

    def test_reply_chain_hijack(self):
        self.send_raw("alice@partner.example",
                      "From: Alice <alice@partner.example>\r\nTo: me@localhost\r\nSubject: the contract\r\n"
                      "Message-ID: <contract-1@partner.example>\r\n\r\nDraft attached.\r\n")
        self.assertIsNotNone(stored(self.srv, "the contract"))
        # Someone outside the conversation answers in it: warned.
        self.send_raw("alice@partner-invoices.example",
                      "From: Alice <alice@partner-invoices.example>\r\nTo: me@localhost\r\nSubject: Re: the contract\r\n"
                      "In-Reply-To: <contract-1@partner.example>\r\nReferences: <contract-1@partner.example>\r\n\r\n"
                      "Please pay to our new account.\r\n")
        m = stored(self.srv, "Re: the contract", ("INBOX", "Junk"), tagged=True)
        self.assertIn(b"THREAD_HIJACK=3.00", m)
        self.assertIn(b"Subject: [SUSPECTED PHISHING] Re: the contract", m)
        self.assertIn(b"from alice@partner-invoices.example, who was not part of it", m)
        # A colleague of the participant answers: fine.
        self.send_raw("carol@partner.example",
                      "From: Carol <carol@partner.example>\r\nTo: me@localhost\r\nSubject: Re: the contract (2)\r\n"
                      "In-Reply-To: <contract-1@partner.example>\r\n\r\nSigned.\r\n")
        m = stored(self.srv, "Re: the contract (2)", ("INBOX", "Junk"), tagged=True)
        self.assertNotIn(b"THREAD_HIJACK", m)

    def test_list_replies_are_not_hijacks(self):
        # Issue 18: the false positive that junked list mail. A thread the user received from
        # a mailing list, answered by another member with a link: ordinary list traffic.
        lists = "List-Id: <dev.lists.example>\r\nList-Post: <mailto:dev@lists.example>\r\n"
        self.send_raw("dev-bounces@lists.example",
                      "From: Ann <ann@one.example>\r\nTo: dev@lists.example\r\nSubject: [dev] build broken\r\n"
                      "Message-ID: <build-1@one.example>\r\n" + lists + "\r\nThe build fails on arm64.\r\n")
        self.assertIsNotNone(stored(self.srv, "[dev] build broken"))
        self.send_raw("dev-bounces@lists.example",
                      "From: Bob <bob@two.example>\r\nTo: dev@lists.example\r\nSubject: Re: [dev] build broken\r\n"
                      "In-Reply-To: <build-1@one.example>\r\n" + lists +
                      "\r\nFixed in https://git.two.example/commit/1\r\n")
        m = stored(self.srv, "Re: [dev] build broken", ("INBOX", "Junk"), tagged=True)
        self.assertNotIn(b"THREAD_HIJACK", m)
        self.assertNotIn(b"SUSPECTED PHISHING", m)


# Public-looking client addresses, added to lo by the test: a loopback or private client is
# in no public list, so the server does not ask about it (and a listing of one would not count).
LISTED, ALLOWED, REFUSED, LOCAL_LISTED = "11.0.19.70", "11.0.19.71", "11.0.19.72", "127.0.0.70"


class DnsListsTest(unittest.TestCase):
    """DNSBL, DNSWL and URI lists served by a real DNS server (dnslib) through the server's
    resolver; clients connect from public-looking addresses on lo."""

    @classmethod
    def setUpClass(cls):
        for ip in (LISTED, ALLOWED, REFUSED):
            subprocess.run(["ip", "addr", "add", ip + "/32", "dev", "lo"], capture_output=True)
            cls.addClassCleanup(subprocess.run, ["ip", "addr", "del", ip + "/32", "dev", "lo"], capture_output=True)
        cls.dns = rigmod.Dns()
        z = cls.dns.zones
        z.add("70.19.0.11.bl.example", "A", "127.0.0.2")         # a listed client
        z.add("71.19.0.11.wl.example", "A", "127.0.10.3")        # an allow-listed one
        z.add("72.19.0.11.bl.example", "A", "127.255.255.254")   # the list refuses to answer
        z.add("70.0.0.127.bl.example", "A", "127.0.0.2")         # "listed", but loopback: not asked
        z.add("pills.example.uri.example", "A", "127.0.1.2")     # a listed link domain
        # partner.example authenticates its mail from 127.0.0.1 (SPF, DMARC).
        z.add("partner.example", "TXT", "v=spf1 ip4:127.0.0.1 -all")
        z.add("_dmarc.partner.example", "TXT", "v=DMARC1; p=none")
        config = {"dns.upstream": '["127.0.0.1@%d"]' % cls.dns.port, "dns.dnssec": "false",
                  "spam.dnsbl": '["bl.example"]', "spam.dnswl": '["wl.example"]', "spam.uribl": '["uri.example"]',
                  "spam.uribl_score": "4"}
        cls.srv = mk.Server(extra_config=config).start()

    @classmethod
    def tearDownClass(cls):
        mk.stop_all(cls.srv, cls.dns)

    def send(self, source, subject, body="Hello."):
        msg = mk.test_message("someone@sender.example", subject, body=body + "\r\n")
        with smtplib.SMTP("127.0.0.1", self.srv.smtp_port, timeout=30, source_address=(source, 0)) as s:
            s.sendmail("someone@sender.example", ["me@localhost"], msg)
        return stored(self.srv, subject, ("INBOX", "Junk"))

    def verdict(self, m):
        self.assertIsNotNone(m)
        return re.search(rb"X-Mailkeep-Spam: ([^\r]*(?:\r\n\t[^\r]*)*)", m).group(1).decode().replace("\r\n\t", " ")

    def test_lists(self):
        v = self.verdict(self.send(LISTED, "from a listed client"))
        self.assertRegex(v, r"^junk; .*DNSBL=3\.00")
        v = self.verdict(self.send(LOCAL_LISTED, "from a loopback client"))
        self.assertNotIn("DNSBL", v)
        v = self.verdict(self.send(ALLOWED, "from an allow-listed client"))
        self.assertIn("DNSWL=-2.00", v)
        self.assertNotIn("DNSBL", v)
        v = self.verdict(self.send("127.0.0.1", "with a listed link", "Buy here: https://www.pills.example/buy now"))
        self.assertIn("URIBL=4.00", v)
        v = self.verdict(self.send("127.0.0.1", "with other links", "See https://docs.example.org/ and https://127.0.0.9/x"))
        self.assertNotIn("URIBL", v)
        # A refusal (here: a public-resolver answer) is logged, never scored.
        v = self.verdict(self.send(REFUSED, "list refuses"))
        self.assertNotIn("DNSBL", v)
        self.assertRegex(self.srv.stderr(), r"filter.dns_list_failed.*bl.example: refused the query \(127.255.255.254\)")
        # check-message asks the same lists and says why.
        path = os.path.join(self.srv.dir, "listed.eml")
        with open(path, "wb") as f:
            f.write(mk.test_message("someone@sender.example", "offer", body="Buy: http://shop.pills.example/\r\n"))
        r = self.srv.cli("check-message", path, "--ip", LISTED, "--helo", "mta.sender.example")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"(?m)^  DNSBL +\+3\.00  11\.0\.19\.70 is listed in bl\.example \(127\.0\.0\.2\)$")
        self.assertRegex(r.stdout, r"(?m)^  URIBL +\+4\.00  a link to pills\.example is listed in uri\.example")


    def send_from(self, author, subject, mail_from):
        msg = mk.test_message(author, subject)
        with smtplib.SMTP("127.0.0.1", self.srv.smtp_port, timeout=30) as s:
            s.sendmail(mail_from, ["me@localhost"], msg)
        return stored(self.srv, subject, ("INBOX", "Junk"), tagged=True)

    def test_what_the_recipient_knows(self):
        # me@localhost writes to Alice; her authenticated mail then counts as a contact's.
        self.srv.submit(["alice@partner.example"], "hello Alice")
        v = self.verdict(self.send_from("Alice Smith <alice@partner.example>", "from alice", "alice@partner.example"))
        self.assertIn("KNOWN_SENDER=-3.00", v)
        # Someone else using her name, from another address: warned.
        m = self.send_from("Alice Smith <alice.smith@freemail.example>", "urgent transfer", "x@freemail.example")
        self.assertIn("CONTACT_IMPERSONATION=2.50", self.verdict(m))
        self.assertIn(b"Subject: [SUSPECTED PHISHING] urgent transfer", m)
        self.assertIn(b"the sender uses the name of a contact, alice@partner.example", m)
        # A look-alike of her domain.
        m = self.send_from("Billing <billing@partnre.example>", "invoice", "billing@partnre.example")
        self.assertIn("LOOKALIKE_DOMAIN=3.50", self.verdict(m))
        self.assertIn(b"looks like partner.example", m)
        # The server keeps what the user knows between verdicts: someone they write to from
        # now on counts at the next verdict.
        self.srv.submit(["carol@supplier-corp.example"], "hello Carol")
        m = self.send_from("Accounts <ar@supplier-crop.example>", "overdue", "ar@supplier-crop.example")
        self.assertIn("LOOKALIKE_DOMAIN=3.50", self.verdict(m))
        self.assertIn(b"looks like supplier-corp.example", m)
        # So are the server's own domains: one added by the CLI (another process on the store)
        # while the server runs counts at the next verdict.
        r = self.srv.cli("domain", "add", "brightwater-mail.example")
        self.assertEqual(r.returncode, 0, r.stderr)
        m = self.send_from("IT desk <it@brightwater-mial.example>", "password expiry", "it@brightwater-mial.example")
        self.assertIn("LOOKALIKE_DOMAIN=3.50", self.verdict(m))
        self.assertIn(b"looks like brightwater-mail.example, the recipient's own domain", m)
        # A colleague of hers, authenticated: the domain's reputation.
        v = self.verdict(self.send_from("Bob <bob@partner.example>", "from bob", "bob@partner.example"))
        self.assertIn("KNOWN_DOMAIN=-1.50", v)


class JunkTrainingTest(mk.SharedServerTest):
    """Moving mail into Junk over IMAP (imaplib, UID MOVE and COPY) teaches the user's own
    model, moving it out teaches ham; the next messages are scored with it."""

    def deliver(self, subject, body):
        deliver(self.srv, subject, body, "prizes@win.example" if "prize" in subject else "colleague@work.example")

    def verdict(self, subject):
        m = stored(self.srv, subject, ("INBOX", "Junk"))
        if m is None:
            self.fail("%s was not delivered" % subject)
        return m.split(b"X-Mailkeep-Spam: ", 1)[1].split(b"\r\nReceived:", 1)[0].decode()

    def test_moves_train_the_users_model(self):
        import imaplib
        for i in range(8):
            self.deliver("prize %d" % i, "Claim your prize money today at http://win%d.example/ while you can" % i)
            self.deliver("notes %d" % i, "Here are the notes from the meeting, item %d, see you Tuesday" % i)
        self.assertEqual(self.verdict("prize 0"), "no; score=0.00")  # no model yet
        with imaplib.IMAP4_SSL("127.0.0.1", self.srv.imaps_port, ssl_context=mk.client_tls_context()) as c:
            c.login("me@localhost", mk.PASSWORD)
            c.select("INBOX")
            typ, data = c.uid("SEARCH", "SUBJECT", "prize")
            spam_uids = data[0].decode().split()
            self.assertEqual(len(spam_uids), 8)
            typ, _ = c.uid("MOVE", ",".join(spam_uids[:6]), "Junk")
            self.assertEqual(typ, "OK")
            typ, _ = c.uid("COPY", ",".join(spam_uids[6:]), "Junk")  # a copy says spam too
            self.assertEqual(typ, "OK")
            # A ham message wrongly in Junk, moved back out: ham.
            typ, data = c.uid("SEARCH", "SUBJECT", '"notes 0"')
            c.uid("MOVE", data[0].decode(), "Junk")
            c.select("Junk")
            typ, data = c.uid("SEARCH", "SUBJECT", '"notes 0"')
            typ, _ = c.uid("MOVE", data[0].decode(), "INBOX")
            self.assertEqual(typ, "OK")
        model = os.path.join(self.srv.dir, "spam", "user-1.model")
        # The server's word that the last event (ham, the move out of Junk) has been learnt.
        mk.wait_for(lambda: re.search(r"event=filter\.trained .*account_id=1 as=ham", self.srv.stderr()),
                    "the move out of Junk was not learnt", interval=0.1)
        self.assertTrue(os.path.exists(model))
        self.deliver("prize 99", "Claim your prize money today at http://win99.example/ while you can")
        self.assertRegex(self.verdict("prize 99"), r"^\w+; score=\d+\.\d\d CLASSIFIER=\d")
        # The user's past verdicts on the sender count too (8 of its messages went to Junk).
        self.assertIn("SENDER_JUNKED=2.00", self.verdict("prize 99"))
        self.deliver("notes 99", "Here are the notes from the meeting, item 99, see you Tuesday")
        self.assertRegex(self.verdict("notes 99"), r"^no; score=-\d+\.\d\d CLASSIFIER=-")
        self.assertIn("filter.trained", self.srv.stderr())


class ThresholdConfigTest(unittest.TestCase):
    """[spam] scores from the config file decide the action."""

    @classmethod
    def setUpClass(cls):
        cls.srv = mk.Server(extra_config={"spam.tag_score": "-1", "spam.junk_score": "0"}).start()

    @classmethod
    def tearDownClass(cls):
        mk.stop_all(cls.srv)

    def test_junk_score_from_config(self):
        deliver(self.srv, "threshold", "hi")
        self.assertIsNotNone(stored(self.srv, "threshold", ("Junk",)))
        junk = [m for _, m in self.srv.messages(mailbox="Junk") if b"Subject: threshold\r\n" in m]
        self.assertEqual(len(junk), 1)
        self.assertIn(b"X-Mailkeep-Spam: junk; score=0.00\r\n", junk[0])

    def test_account_thresholds(self):
        """An account's own thresholds beat the instance's; "default" gives them back."""
        r = self.srv.cli("account", "spam-thresholds", "me@localhost")
        self.assertEqual(r.stdout.strip(), "me@localhost: tag at -1, Junk at 0, reject at 15 (the instance's [spam] settings)")
        r = self.srv.cli("account", "spam-thresholds", "me@localhost", "5", "4", "20")
        self.assertEqual(r.returncode, 2)
        self.assertIn("ascending order", r.stderr)
        r = self.srv.cli("account", "spam-thresholds", "me@localhost", "2", "4", "20")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("spam thresholds now 2 4 20", r.stdout)
        deliver(self.srv, "own thresholds", "hi")
        m = stored(self.srv, "own thresholds")  # score 0: below the account's tag threshold
        self.assertIn(b"X-Mailkeep-Spam: no; score=0.00\r\n", m)
        r = self.srv.cli("account", "spam-thresholds", "me@localhost", "default")
        self.assertEqual(r.returncode, 0, r.stderr)
        deliver(self.srv, "instance thresholds", "hi")
        self.assertIsNotNone(stored(self.srv, "instance thresholds", ("Junk",)))
        # One message to two accounts: each copy goes where its account's thresholds say.
        r = self.srv.cli("account", "add", "you@localhost", "--password-stdin", stdin="Another-pass-42\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.srv.cli("account", "spam-thresholds", "you@localhost", "2", "4", "20").returncode, 0)
        msg = "From: someone@sender.example\r\nTo: me@localhost, you@localhost\r\nSubject: for both\r\n\r\nhi\r\n"
        with smtplib.SMTP("127.0.0.1", self.srv.smtp_port, timeout=30) as s:
            s.sendmail("someone@sender.example", ["me@localhost", "you@localhost"], msg)
        self.assertIsNotNone(stored(self.srv, "for both", ("Junk",)))
        mk.wait_for(lambda: any(b"Subject: for both" in m for _, m in self.srv.messages(address="you@localhost")),
                    "not delivered to you@localhost", interval=0.1)
        self.assertTrue(any(b"Subject: for both" in m for _, m in self.srv.messages(address="you@localhost")))
        self.assertFalse(any(b"Subject: for both" in m for _, m in
                             self.srv.messages(address="you@localhost", mailbox="Junk")))
        self.assertRegex(self.srv.stderr(), r"spam_per_account=\"?1=junk/0\.00 2=no/0\.00")
        r = self.srv.cli("account", "spam-thresholds", "nobody@localhost", "1", "2", "3")
        self.assertEqual(r.returncode, 2)
        self.assertIn("no such account: nobody@localhost", r.stderr)


if __name__ == "__main__":
    unittest.main()
