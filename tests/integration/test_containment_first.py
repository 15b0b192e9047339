"""Containment from the first message (issue 18), with real clients on loopback.

Both sides:
- A compromised account with no history tries a 300-message spam burst, one new recipient
  each: at most 10 are accepted and at most 10 reach the (simulated) remote MX; the user
  and the admin are alerted. Once from a network the account never used, once from the
  owner's own network (where no new-network rule applies: the account's lack of history
  does the work).
- A user answers 50 people who wrote to them first (no sender authentication in dev mode):
  nothing is held. People whose unauthenticated mail was not answered stay strangers:
  forged writers do not make a spam run's targets known.
- Authenticated writers (SPF aligned with From:, through a DNS rig) are known even for a
  message that is not a reply.
- A new user's day: 20 ordinary, different messages to 20 new people go through. The
  budget allows 5 an hour, so the day is sent in four rounds; between them the server is
  stopped and the store's record of the account's sending moved six hours back, which a
  start reads as it would read a day that went on (its windows start from that record).
  (The sliding windows are checked with injected time in tests/unit/guard/limits_test.cpp.)
- A hold that cannot be stored refuses the submission with 451 4.7.1 and every later one,
  for holds from the trust budget and from the content checks alike."""
import os
import random
import smtplib
import sqlite3
import ssl
import time
import unittest

import mkharness as mk
import rig as rigmod

USER = "me@localhost"
ADMIN, ADMIN_PW = "admin@localhost", "the admin's own password"
OWNER, OWNER_PW = "carol@localhost", "carol's long password"
BURST = 300
MAX_LEFT = 10

NAMES = ["John", "Maria", "Wei", "Fatima", "Olga", "Pedro", "Aisha", "Lars", "Yuki", "Sven", "Ngozi", "Ravi"]
SPAM = [
    ("Your account needs verification",
     "Dear {name}, we detected unusual activity on your account. Please verify your identity within 24 hours at "
     "http://secure-verify.example/login?u={n} or your account will be suspended. Thank you, the security team."),
    ("Best prices, no prescription",
     "Hi {name}, get the best prices on all medications, no prescription needed, fast and discreet shipping "
     "worldwide. Order now at http://pharma-deals.example/?id={n} and save 80% on your first order today!"),
    ("You won!",
     "Congratulations {name}! Your email address was selected in our monthly draw and you won 1,000,000 USD. To "
     "claim your prize send your full name, address and phone number to claims@lotto-winner.example today."),
]
ORDINARY = [
    "could you send me the minutes of last week's board meeting when you find a minute?",
    "the plumber comes on Wednesday morning, so I will work from home and call you after lunch.",
    "thanks for the book tip, I started it on the train and could not put it down.",
    "we are thinking of renting a cabin by the lake in August, would you like to join us?",
    "my new address is Lindenstrasse 12, the doorbell still shows the old name for now.",
    "the kids loved the museum, next time we should take the guided tour in the morning.",
    "I found the recipe for the plum cake, it is here: https://www.example-recipes.org/plum-cake",
    "can we move our call to Friday? Thursday is full of meetings from nine to five.",
    "the club's spring cleanup is on Saturday at ten, bring gloves if you have them.",
    "here is the route for Sunday's ride: https://www.openstreetmap.org/directions?route=52.5%2C13.4",
    "happy birthday! I hope you have a wonderful day with the family.",
    "the invoice for the repairs came today, I will forward it once I have checked it.",
    "did you manage to fix the printer, or should I ask the shop to come by?",
    "the choir starts again after the holidays, rehearsals are Tuesdays at half past seven.",
    "I left my umbrella at your place on Sunday, no hurry, I will pick it up next week.",
    "the photos from the wedding are ready, I will bring a USB stick when we meet.",
    "our flight lands at 18:40, we will take the train into town and meet you at the hotel.",
    "I signed the lease this morning, the keys are ours from the first of the month!",
    "the vet says the dog is fine, it was only something he ate in the park.",
    "please remind me what time the parents' evening starts, I lost the letter.",
]


def spam_message(sender, rcpt, n):
    subject, body = SPAM[n % len(SPAM)]
    return ("From: %s\r\nTo: %s\r\nSubject: %s\r\nMessage-ID: <burst-%d-%s>\r\n\r\n%s\r\n"
            % (sender, rcpt, subject, n, sender, body.format(name=random.choice(NAMES), n=n)))


class Client:
    """One authenticated submission connection (465), reconnecting when the server closes it;
    send() returns the reply code."""

    def __init__(self, srv, user=USER, password=mk.PASSWORD, source="127.0.0.1"):
        self.srv, self.user, self.password, self.source = srv, user, password, source
        self.s = None

    def send(self, rcpts, msg):
        for _ in range(3):
            try:
                if self.s is None:
                    self.s = smtplib.SMTP_SSL("127.0.0.1", self.srv.submissions_port, context=mk.client_tls_context(),
                                              timeout=30, source_address=(self.source, 0))
                    self.s.login(self.user, self.password)
                self.s.sendmail(self.user, rcpts, msg.encode() if isinstance(msg, str) else msg)
                return 250, ""
            except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as e:
                if e.smtp_code == 421:
                    self.close()
                    continue
                return e.smtp_code, e.smtp_error.decode()
            except (smtplib.SMTPServerDisconnected, ConnectionError, ssl.SSLError):
                self.close()
        return 0, "no answer"

    def close(self):
        if self.s is not None:
            try:
                self.s.quit()
            except (smtplib.SMTPException, OSError):
                pass
        self.s = None


def inbound(srv, sender, rcpt, msg, source="127.0.0.1"):
    """Mail from elsewhere to the MX (port 25)."""
    with smtplib.SMTP("127.0.0.1", srv.smtp_port, timeout=30, source_address=(source, 0)) as s:
        s.sendmail(sender, [rcpt], msg.encode())


def writer_message(author, n, subject):
    return ("From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: Tue, 01 Dec 2026 08:00:00 +0000\r\n"
            "Message-ID: <ask-%d@%s>\r\n\r\nHello, %s\r\n" % (author, USER, subject, n, author.split("@")[1],
                                                           ORDINARY[n % len(ORDINARY)]))


def reply_message(to, n, subject):
    msgid = "ask-%d@%s" % (n, to.split("@")[1])
    return ("From: %s\r\nTo: %s\r\nSubject: Re: %s\r\nIn-Reply-To: <%s>\r\nReferences: <%s>\r\n\r\n"
            "Dear %s, thank you for writing (%d). %s\r\n" % (USER, to, subject, msgid, msgid, to.split("@")[0], n,
                                                            ORDINARY[(n * 7 + 3) % len(ORDINARY)].capitalize()))


def plain_message(to, n, text):
    return ("From: %s\r\nTo: %s\r\nSubject: note %d\r\n\r\nHi %s, %s\r\n\r\nAnna\r\n"
            % (USER, to, n, to.split("@")[0], text))


def held_reason(srv, user=USER):
    for line in srv.cli("account", "list").stdout.splitlines():
        if line.startswith(user) and "outbound held: " in line:
            return line.split("outbound held: ", 1)[1]
    return None


class BurstTest(unittest.TestCase):
    """A 300-message spam burst from an account without history, through the real queue to a
    simulated remote MX."""

    @classmethod
    def setUpClass(cls):
        rigmod.require_root()
        cls.rig = rigmod.Rig()
        cls.mx = cls.rig.mx("harvested.example", "127.0.0.90", tls=False)
        config = dict(cls.rig.config())
        config.update({"server.dev": "false", "outbound.retry_min": '"1s"', "outbound.connect_timeout": '"2s"',
                       "security.admin_address": '"%s"' % ADMIN})
        cls.srv = mk.Server(extra_config=config).start()
        for user, pw in ((ADMIN, ADMIN_PW), (OWNER, OWNER_PW)):
            r = cls.srv.cli("account", "add", user, "--password-stdin", stdin=pw + "\n")
            assert r.returncode == 0, r.stderr
        # Carol has logged in from home for a month, but never sent anything.
        cls.srv.stop()
        db = sqlite3.connect(os.path.join(cls.srv.dir, "index.sqlite"))
        month_ago = int(time.time()) - 30 * 86400
        db.execute("INSERT INTO login_history(address, network, service, first_seen, last_seen, count) "
                   "VALUES(?, '127.0.0.1', 'imap', ?, ?, 30)", (OWNER, month_ago, month_ago + 86400))
        db.commit()
        db.close()
        cls.srv.start()

    @classmethod
    def tearDownClass(cls):
        mk.stop_all(cls.srv, cls.rig)

    def burst(self, user, password, tag):
        c = Client(self.srv, user, password)
        codes = []
        for i in range(BURST):
            rcpt = "%s%d@harvested.example" % (tag, i)
            codes.append(c.send([rcpt], spam_message(user, rcpt, i)))
        c.close()
        return codes

    def left(self, tag):
        return [m for m in list(self.mx.messages) if any(r.startswith(tag) for r in m.rcpt_tos)]

    def held_in_queue(self, tag):
        return sum(1 for line in self.srv.cli("queue", "list").stdout.splitlines()
                   if "held " in line and "<%s" % tag in line)

    def check(self, user, tag, codes, reason_part):
        replies = [c for c, _ in codes]
        accepted = replies.count(250)
        self.assertNotIn(0, replies)
        self.assertTrue(set(replies) <= {250, 451}, set(replies))
        first = replies.index(451)
        self.assertEqual(replies[:first], [250] * first)
        self.assertEqual(set(replies[first:]), {451})  # once refused, always refused
        self.assertLessEqual(accepted, MAX_LEFT)
        self.assertIn("4.7.1 Sending from %s is suspended pending review" % user, codes[first][1])
        self.assertIn(reason_part, held_reason(self.srv, user))
        # What left: delivered to the remote MX before the hold; the rest is held, not lost.
        mk.wait_for(lambda: len(self.left(tag)) + self.held_in_queue(tag) >= accepted, "the queue did not settle",
                    interval=0.5)
        left = len(self.left(tag))
        self.assertLessEqual(left, MAX_LEFT)
        # The user and the admin were told, once each.
        mk.wait_for(lambda: self.inbox(user, b"has been stopped"), "the user was not alerted")
        mk.wait_for(lambda: self.inbox(ADMIN, ("Outbound mail held: %s" % user).encode()), "the admin was not alerted")
        self.assertEqual(len(self.inbox(user, b"Subject: Your outgoing mail has been stopped")), 1)
        print("\n%s: %d of %d accepted, %d reached the remote MX; held: %s"
              % (user, accepted, BURST, left, held_reason(self.srv, user)))
        return accepted, left

    def inbox(self, user, needle):
        return [m for _, m in self.srv.messages(user) if needle in m]

    def test_a_burst_from_a_network_the_account_never_used(self):
        codes = self.burst(USER, mk.PASSWORD, "victim")
        self.check(USER, "victim", codes, "new recipients in an hour right after a login from a new network")

    def test_a_burst_from_the_owners_network(self):
        codes = self.burst(OWNER, OWNER_PW, "target")
        self.check(OWNER, "target", codes, "new recipients in an hour (the budget of an account with no history")


class AnsweringTest(unittest.TestCase):
    """People who wrote first (unauthenticated: dev mode has no DNS) may be answered; forged
    writers do not become known."""

    def test_fifty_answers_go_through_and_forged_writers_stay_strangers(self):
        # Unauthenticated writers do not widen the messages budget (anyone can forge them), so
        # 50 answers and then more mail in one hour need a limit above the default's half.
        srv = mk.Server(extra_config={"security.max_messages_per_hour": "200"})
        self.addCleanup(srv.cleanup)
        srv.start()
        writers = ["%s%d@town%d.example" % (NAMES[i % len(NAMES)].lower(), i, i % 7) for i in range(50)]
        for n, w in enumerate(writers):
            inbound(srv, w, USER, writer_message(w, n, "question %d" % n))
        c = Client(srv)
        codes = [c.send([w], reply_message(w, n, "question %d" % n)) for n, w in enumerate(writers)]
        self.assertEqual([code for code, _ in codes], [250] * 50, [x for x in codes if x[0] != 250][:1])
        self.assertIsNone(held_reason(srv))
        self.assertEqual(len(srv.messages(USER, "Captured")), 50)
        # Ten forged writers (anyone can put any From: in unauthenticated mail): messages to
        # them that answer nothing are mail to strangers, held at the budget of new recipients.
        forged = ["target%d@elsewhere.example" % i for i in range(10)]
        for n, w in enumerate(forged):
            inbound(srv, w, USER, writer_message(w, 100 + n, "hello"))
        results = [c.send([w], plain_message(w, n, ORDINARY[n])) for n, w in enumerate(forged)]
        c.close()
        self.assertEqual([code for code, _ in results[:5]], [250] * 5, results)
        self.assertEqual(results[5][0], 451)
        self.assertIn("more than 5 new recipients in an hour", results[5][1])
        srv.stop()


class AuthenticatedWritersTest(unittest.TestCase):
    """With sender authentication (a DNS rig: SPF of sender.example allows 127.0.0.1), people
    whose authenticated mail reached the user are known, even for a message that is not a
    reply; unauthenticated writers are not."""

    def test_authenticated_writers_are_known(self):
        dns = rigmod.Dns()
        dns.zones.add("sender.example", "TXT", "v=spf1 ip4:127.0.0.1 -all")
        srv = mk.Server(extra_config={"dns.upstream": '["127.0.0.1@%d"]' % dns.port, "dns.dnssec": "false"})
        self.addCleanup(dns.stop)
        self.addCleanup(srv.cleanup)
        srv.start()
        signed = ["friend%d@sender.example" % i for i in range(10)]
        unsigned = ["someone%d@nospf.example" % i for i in range(10)]
        for n, w in enumerate(signed + unsigned):
            inbound(srv, w, USER, writer_message(w, n, "hi"))
        stored = srv.messages(USER)
        self.assertEqual(sum(1 for _, m in stored if b"spf=pass smtp.mailfrom=friend" in m), 10)
        c = Client(srv)
        codes = [c.send([w], plain_message(w, n, ORDINARY[n])) for n, w in enumerate(signed)]
        self.assertEqual([code for code, _ in codes], [250] * 10, codes)
        codes = [c.send([w], plain_message(w, n, ORDINARY[n + 10])) for n, w in enumerate(unsigned)]
        c.close()
        self.assertEqual([code for code, _ in codes[:5]], [250] * 5, codes)
        self.assertEqual(codes[5][0], 451)
        srv.stop()


class NewUserDayTest(unittest.TestCase):
    """A new user's first day: 20 ordinary, different messages to 20 new people, some with
    links, in four rounds six hours apart (the store's record of its sending is moved back
    while the server is stopped)."""

    @staticmethod
    def six_hours_later(srv):
        db = sqlite3.connect(os.path.join(srv.dir, "index.sqlite"))
        moved = db.execute("UPDATE send_history SET hour = hour - 6").rowcount
        db.commit()
        db.close()
        return moved

    def test_twenty_ordinary_messages_over_a_day(self):
        srv = mk.Server()
        self.addCleanup(srv.cleanup)
        srv.start()
        codes = []
        for round_ in range(4):
            if round_:
                srv.stop()
                self.assertGreater(self.six_hours_later(srv), 0)
                srv.start()
            c = Client(srv)
            for i in range(5):
                n = round_ * 5 + i
                to = "%s.%d@friends%d.example" % (NAMES[n % len(NAMES)].lower(), n, n % 4)
                codes.append(c.send([to], plain_message(to, n, ORDINARY[n])))
            c.close()
        self.assertEqual([code for code, _ in codes], [250] * 20, [x for x in codes if x[0] != 250][:1])
        self.assertIsNone(held_reason(srv))
        self.assertEqual(len(srv.messages(USER, "Captured")), 20)
        self.assertNotIn("guard.hold", srv.stderr())
        srv.stop()


class UnstoredHoldTest(unittest.TestCase):
    """The database refuses to store holds (a trigger): holds from the trust budget and from
    the content checks are enforced in memory all the same."""

    def server(self):
        srv = mk.Server(extra_config={"security.admin_address": '"%s"' % USER})
        self.addCleanup(srv.cleanup)
        srv.start()
        srv.stop()
        mk.refuse_holds(srv)
        srv.start()
        return srv

    def assert_told_once(self, srv):
        self.assertIn("guard.hold_not_stored", srv.stderr())
        self.assertIsNone(held_reason(srv))  # indeed not stored
        admin = mk.wait_for(lambda: [m for _, m in srv.messages() if b"THE HOLD COULD NOT BE STORED" in m],
                            "the admin was not told")
        self.assertEqual(len(admin), 1)

    def test_a_budget_hold_that_cannot_be_stored(self):
        srv = self.server()
        c = Client(srv)
        codes = [c.send(["new%d@remote.example" % i], plain_message("new%d@remote.example" % i, i, ORDINARY[i]))[0]
                 for i in range(9)]
        codes.append(c.send([USER], plain_message(USER, 99, "a note to myself"))[0])  # local mail too
        c.close()
        self.assertEqual(codes, [250] * 5 + [451] * 5)
        self.assert_told_once(srv)

    def test_a_content_hold_that_cannot_be_stored(self):
        srv = self.server()
        c = Client(srv)
        gtube = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"
        first = c.send(["new@remote.example"], plain_message("new@remote.example", 0, gtube))
        later = [c.send(["other%d@remote.example" % i], plain_message("x@remote.example", i, ORDINARY[i]))[0]
                 for i in range(3)]
        c.close()
        self.assertEqual(first[0], 451)
        self.assertIn("FILTER_SPAM=8 (the inbound spam filter would refuse it", first[1])
        self.assertEqual(later, [451] * 3)
        self.assert_told_once(srv)


if __name__ == "__main__":
    unittest.main()
