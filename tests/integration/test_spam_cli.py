"""`mailkeep spam train` and `spam eval` as an administrator uses them: directories of
message files in, a model in the data directory out (added to on later runs), and clear
errors for wrong input."""
import os
import tempfile
import unittest

import mkharness as mk

SPAM = ["Subject: Cheap meds %d\r\n\r\nBuy cheap pills now, click http://pills%d.example/ FREE offer!!!\r\n",
        "Subject: You won %d\r\n\r\nClaim your prize money today http://win%d.example/ act now\r\n"]
HAM = ["Subject: Meeting notes %d\r\n\r\nHere are the notes from Tuesday's meeting, item %d.\r\n",
       "Subject: Re: patch %d\r\n\r\nThe patch looks good to me; merged as commit %d.\r\n"]


def write(directory, templates, n):
    os.makedirs(directory)
    for i in range(n):
        with open(os.path.join(directory, "%03d.eml" % i), "w") as f:
            f.write("From: someone%d@sender.example\r\n" % i + templates[i % 2] % (i, i))


class SpamCliTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = mk.Server().start()
        cls.dir = tempfile.mkdtemp(prefix="mk-spam-")
        for name, templates in (("spam", SPAM), ("ham", HAM), ("spam2", SPAM), ("ham2", HAM)):
            write(os.path.join(cls.dir, name), templates, 20)

    @classmethod
    def tearDownClass(cls):
        mk.stop_all(cls.srv)

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
                       "--test-spam", d("spam2"), "--test-ham", d("ham2"))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("tested on 20 spam and 20 ham", r.stdout)
        self.assertIn("false positives 0 (0.00% of ham), false negatives 0 (0.00% of spam)", r.stdout)
        self.assertIn("1-ROCA%: 0.0000", r.stdout)
        self.assertRegex(r.stdout, r"classification: \d+ messages/second")


if __name__ == "__main__":
    unittest.main()
