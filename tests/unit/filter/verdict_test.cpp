// The verdict: signals add up, thresholds pick the action, the header names every signal.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "filter/features.hpp"
#include "filter/lookalike.hpp"
#include "filter/verdict.hpp"
#include "message/header.hpp"
#include "message/mime.hpp"

namespace mk::filter {
namespace {

const std::string kGtube = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X";

TEST(Verdict, GtubeIsRefusedAndExplained) {
  const auto v = judge("Subject: test\r\n\r\n" + kGtube + "\r\n", {});
  ASSERT_EQ(v.signals.size(), 1u);
  EXPECT_EQ(v.signals[0].name, "GTUBE");
  EXPECT_EQ(v.action, Action::reject);
  EXPECT_EQ(v.header(), "X-Mailkeep-Spam: reject; score=100.00 GTUBE=100.00\r\n");
  EXPECT_EQ(judge("Subject: hello\r\n\r\nhi\r\n", {}).header(), "X-Mailkeep-Spam: no; score=0.00\r\n");
}

TEST(Verdict, ThresholdsAndAuthSignals) {
  mailauth::Assessment a;
  a.spf.result = spf::Outcome::fail;
  a.spf.domain = "sender.example";
  a.dmarc.result = dmarc::Outcome::fail;
  a.dmarc.from_domain = "sender.example";
  a.iprev = mailauth::Iprev::fail;
  Inputs in;
  in.auth = &a;
  in.thresholds = {1, 2, 10};
  auto v = judge("Subject: x\r\n\r\nx\r\n", in);
  EXPECT_EQ(v.summary(), "SPF_FAIL=1.00 DMARC_FAIL=1.00 NO_RDNS=0.50");
  EXPECT_DOUBLE_EQ(v.score, 2.5);
  Inputs defaults;
  defaults.auth = &a;
  EXPECT_EQ(judge("Subject: x\r\n\r\nx\r\n", defaults).action, Action::tag);
  EXPECT_EQ(v.action, Action::junk);
  in.thresholds = {1, 5, 10};
  EXPECT_EQ(judge("Subject: x\r\n\r\nx\r\n", in).action, Action::tag);
  a = {};
  a.iprev = mailauth::Iprev::pass;
  a.dmarc.result = dmarc::Outcome::pass;
  a.dmarc.dkim_aligned = true;
  a.dmarc.dkim_domain = "sender.example";
  v = judge("Subject: x\r\n\r\nx\r\n", in);
  EXPECT_EQ(v.summary(), "DKIM_ALIGNED=-1.00");
  EXPECT_EQ(v.action, Action::deliver);
}

TEST(Verdict, KnownSenders) {
  Inputs in;
  in.known_sender = "friend@sender.example";
  const auto v = judge("Subject: x\r\n\r\nx\r\n", in);
  EXPECT_EQ(v.summary(), "KNOWN_SENDER=-3.00");
  EXPECT_EQ(v.signals[0].why, "the recipient has written to friend@sender.example (authenticated by DMARC)");
}

TEST(Verdict, LinkTextShowingAnotherDomain) {
  const std::string h = "Subject: your account\r\nContent-Type: text/html\r\n\r\n";
  const std::string lure = "<p>Log in at <a href=\"http://192.0.2.7.evil.example/x\"><b>https://www.bank.example/login</b></a></p>\r\n";
  Inputs knows_bank;
  knows_bank.known_domains =
      std::make_shared<const KnownDomains>(std::vector<std::string>{"bank.example"});
  // The text shows a domain the recipient writes to: phishing.
  auto v = judge(h + lure, knows_bank);
  ASSERT_EQ(v.summary(), "HTML_ONLY=0.50 LINK_MISMATCH=2.50");
  EXPECT_EQ(v.signals[1].why, "a link shows www.bank.example but leads to 192.0.2.7.evil.example");
  EXPECT_EQ(v.action, Action::junk);
  // A domain the recipient has no relation to: how newsletters link through click trackers,
  // weak evidence and no warning (issue 18). A bare IP address as the target is evidence of
  // its own (content rules).
  EXPECT_EQ(judge(h + lure, {}).summary(), "HTML_ONLY=0.50 LINK_TEXT_MISMATCH=0.25");
  EXPECT_EQ(judge(h + "<a href=\"http://192.0.2.7/x\">www.shop.example</a>\r\n", {}).summary(),
            "HTML_ONLY=0.50 LINK_NUMERIC_HOST=2.00");
  // Not a mismatch: the same registrable domain, words as link text, a price, mailto.
  for (const char* ok : {"<a href=\"https://login.bank.example/\">www.bank.example</a>",
                         "<a href=\"https://tracker.example/c?u=1\">Read more</a>",
                         "<a href=\"https://shop.example/\">3.50</a>",
                         "<a href=\"mailto:a@b.example\">c.example</a>"})
    EXPECT_EQ(judge(h + ok + "\r\n", knows_bank).summary(), "HTML_ONLY=0.50") << ok;
  // Inside a quoted-printable part of a multipart message too.
  Inputs knows_paypal;
  knows_paypal.known_domains =
      std::make_shared<const KnownDomains>(std::vector<std::string>{"paypal.com"});
  v = judge("Subject: x\r\nContent-Type: multipart/alternative; boundary=b\r\n\r\n--b\r\n"
            "Content-Type: text/html\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
            "<a href=3D\"http://evil.example/\">paypal.com</a>\r\n--b--\r\n", knows_paypal);
  EXPECT_EQ(v.summary(), "HTML_ONLY=0.50 LINK_MISMATCH=2.50");
}

TEST(Verdict, PhishingGetsASubjectTagAndABannerAndKeepsTheMessage) {
  const std::string body = "<p>Log in at <a href=\"http://evil.example/x\">https://www.bank.example/login</a></p>\r\n";
  const std::string msg = "From: Bank <alerts@evil.example>\r\nSubject: your account\r\nMIME-Version: 1.0\r\n"
                          "Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: 7bit\r\n\r\n" + body;
  Inputs knows_bank;
  knows_bank.known_domains =
      std::make_shared<const KnownDomains>(std::vector<std::string>{"bank.example"});
  const auto v = judge(msg, knows_bank);
  ASSERT_TRUE(std::any_of(v.signals.begin(), v.signals.end(), is_phishing_signal));
  const std::string out = warn_phishing(msg, v.signals);
  const auto root = message::parse_mime(out);
  EXPECT_EQ(root.type + "/" + root.subtype, "multipart/mixed");
  EXPECT_EQ(*message::header_value(root.headers, "Subject"), "[SUSPECTED PHISHING] your account");
  EXPECT_EQ(*message::header_value(root.headers, "From"), "Bank <alerts@evil.example>");
  ASSERT_EQ(root.children.size(), 2u);
  const auto& banner = root.children[0];
  EXPECT_EQ(banner.type + "/" + banner.subtype, "text/plain");
  EXPECT_NE(banner.body(out).find("WARNING: this message looks like phishing."), std::string_view::npos);
  EXPECT_NE(banner.body(out).find("a link shows www.bank.example but leads to evil.example"), std::string_view::npos);
  // The original content, unchanged, with its own Content-* fields.
  const auto& original = root.children[1];
  EXPECT_EQ(original.type + "/" + original.subtype, "text/html");
  EXPECT_EQ(original.encoding, "7bit");
  EXPECT_EQ(std::string(original.body(out)) + "\r\n", body);
  // Judged again (a second server, a re-delivery), it is tagged once and still phishing.
  const std::string twice = warn_phishing(out, judge(out, knows_bank).signals);
  EXPECT_EQ(*message::header_value(message::parse_mime(twice).headers, "Subject"), "[SUSPECTED PHISHING] your account");
  // A message without Subject or MIME fields.
  const std::string bare_text = warn_phishing("From: a@b.example\r\n\r\nhello\r\n", v.signals);
  const auto bare = message::parse_mime(bare_text);
  EXPECT_EQ(*message::header_value(bare.headers, "Subject"), "[SUSPECTED PHISHING]");
  ASSERT_EQ(bare.children.size(), 2u);
  EXPECT_EQ(bare.children[1].type + "/" + bare.children[1].subtype, "text/plain");
  // "Subject:" without a space after it still gets a readable tag.
  const std::string tight = warn_phishing("Subject:hello\r\n\r\nx\r\n", v.signals);
  EXPECT_EQ(*message::header_value(message::parse_mime(tight).headers, "Subject"), "[SUSPECTED PHISHING] hello");
}

TEST(Verdict, FormsAskingForPasswords) {
  const std::string h = "Subject: verify your account\r\nContent-Type: text/html\r\n\r\n";
  auto v = judge(h + "<form method=post action=\"https://collect.evil.example/p.php\">User <input name=u>"
                     "Password <INPUT TYPE=\"password\" name=p><input type=submit></form>\r\n", {});
  ASSERT_EQ(v.summary(), "HTML_ONLY=0.50 CREDENTIAL_FORM=3.00");
  EXPECT_EQ(v.signals[1].why, "an HTML form asks for a password and sends it to collect.evil.example");
  EXPECT_EQ(v.action, Action::junk);
  // A form without a password field, or a word "password" outside an input: no signal.
  EXPECT_EQ(judge(h + "<form action=\"https://survey.example/\"><input name=q></form>\r\n", {}).summary(), "HTML_ONLY=0.50");
  EXPECT_EQ(judge(h + "<form action=x><p>Forgot your password? <input name=email></p></form>\r\n", {}).summary(),
            "HTML_ONLY=0.50");
}

TEST(Lookalike, PunycodeAndSkeletons) {
  // RFC 3492 §7.1 (B): Chinese (simplified), and a label with a Cyrillic "а".
  EXPECT_EQ(*punycode_decode("ihqwcrb4cv8a8dqg056pqjye"),
            U"\u4ed6\u4eec\u4e3a\u4ec0\u4e48\u4e0d\u8bf4\u4e2d\u6587");
  EXPECT_EQ(*punycode_decode("bcher-kva"), U"b\u00fccher");
  EXPECT_FALSE(punycode_decode("99999999999a"));
  EXPECT_FALSE(punycode_decode("a\xc3\xa4-x"));
  EXPECT_EQ(skeleton("xn--pypal-4ve.example"), "paypal.example");  // p\u0430ypal: Cyrillic a
  EXPECT_EQ(skeleton("paypa1.example"), skeleton("paypal.example"));
  EXPECT_EQ(skeleton("rnicrosoft.example"), skeleton("microsoft.example"));
  EXPECT_NE(skeleton("xn--ihqwcrb4cv8a8dqg056pqjye.example"), skeleton("xn--fiqs8s.example"));
}

TEST(Lookalike, ImitatedKnownDomains) {
  const std::vector<std::string> known = {"paypal.example", "partner.example.org", "bank.co.example", "ab.example"};
  EXPECT_EQ(imitated("xn--pypal-4ve.example", known), "paypal.example");
  EXPECT_EQ(imitated("paypa1.example", known), "paypal.example");
  EXPECT_EQ(imitated("partnre.example.org", known), "partner.example.org");  // swapped letters
  EXPECT_EQ(imitated("partners.example.org", known), "partner.example.org");  // one added
  // Not look-alikes: the domain itself, short names one letter apart, another suffix,
  // unrelated names.
  EXPECT_FALSE(imitated("paypal.example", known));
  EXPECT_FALSE(imitated("ac.example", known));
  EXPECT_FALSE(imitated("partner.example.net", known));
  EXPECT_FALSE(imitated("shop.example", known));
}

// The prepared set finds what the list finds: the same look-alikes, the same misses, for
// candidates near and far from thousands of known domains.
TEST(Lookalike, KnownDomainsFindWhatTheListFinds) {
  std::vector<std::string> known = {"paypal.example", "partner.example.org", "bank.co.example",
                                    "ab.example",     "paypa1.example",      "",
                                    "paypal.example"};
  for (int i = 0; i < 3000; ++i) known.push_back(fmt::format("correspondent{}.example", i * 7));
  known.push_back("microsoft.example");
  const KnownDomains set(known);
  EXPECT_EQ(set.size(), 3006u);  // repeats and the empty name dropped
  EXPECT_TRUE(set.contains("paypal.example"));
  EXPECT_TRUE(set.contains("correspondent700.example"));
  EXPECT_FALSE(set.contains("correspondent701.example"));
  EXPECT_FALSE(set.contains(""));
  // A known domain is not its own look-alike, but another known one with its skeleton is.
  EXPECT_EQ(set.imitated("paypal.example"), "paypa1.example");
  EXPECT_EQ(set.imitated("paypa1.example"), "paypal.example");
  EXPECT_EQ(imitated("paypa1.example", known), "paypal.example");
  std::vector<std::string> candidates = {"rnicrosoftt.example",
                                         "rnicrosoft.example",
                                         "micros0ft.example",
                                         "xn--pypal-4ve.example",
                                         "partnre.example.org",
                                         "partners.example.org",
                                         "ac.example",
                                         "partner.example.net",
                                         "shop.example",
                                         "nodot",
                                         "correspondent7.example",
                                         "corespondent14.example",
                                         "correspondent2l.example",
                                         "correspondentl4.example",
                                         "correspondent14.example.org",
                                         "orrespondent21.example",
                                         "correspondent211.example",
                                         "correspondent2111.example"};
  for (int i = 0; i < 300; ++i) candidates.push_back(fmt::format("correspondent{}.example", i));
  for (const auto& c : candidates) {
    const auto listed = imitated(c, known);
    const auto found = set.imitated(c);
    ASSERT_EQ(found.has_value(), listed.has_value()) << c;
    // Several may match; each is a true look-alike either way.
    if (found) {
      EXPECT_TRUE(skeleton(*found) == skeleton(c) || imitated(c, {*found})) << c << " " << *found;
    }
  }
  EXPECT_EQ(set.imitated("rnicrosoftt.example"), "microsoft.example");  // a skeleton a letter longer
  EXPECT_TRUE(set.imitated("corespondent14.example"));   // one dropped
  EXPECT_TRUE(set.imitated("correspondentl4.example"));  // l for 1
  EXPECT_FALSE(set.imitated("correspondent14.example.org"));
  EXPECT_FALSE(KnownDomains().imitated("paypal.example"));
  EXPECT_FALSE(KnownDomains().contains("paypal.example"));
}

// A known domain's name standing as a word in a display name: whole words only, names with a
// hyphen, the first domain in byte order when several are named, names of four letters or more.
TEST(Lookalike, KnownDomainsNamedInText) {
  const KnownDomains own(std::vector<std::string>{"ourcompany.example", "bright-water.co.uk", "ibm.example",
                                                  "zeta.example", "acme.example", "acme.test"});
  EXPECT_EQ(own.named_in("ourcompany it desk"), "ourcompany.example");
  EXPECT_EQ(own.named_in("payroll (ourcompany)"), "ourcompany.example");
  EXPECT_EQ(own.named_in("bright-water payroll"), "bright-water.co.uk");
  EXPECT_FALSE(own.named_in("yourcompany desk"));
  EXPECT_FALSE(own.named_in("ourcompanyx"));
  EXPECT_FALSE(own.named_in("bright-waters"));
  EXPECT_FALSE(own.named_in("water"));
  EXPECT_FALSE(own.named_in("ibm support"));  // three letters: too common a word to mean us
  EXPECT_EQ(own.named_in("zeta and acme"), "acme.example");  // the first in byte order
  EXPECT_EQ(own.named_in("acme"), "acme.example");
  EXPECT_EQ(own.named_in("acme\u2019s billing"), "acme.example");  // a boundary that is not ASCII
  // Names with letters that are not ASCII (the display name is lower-cased in ASCII only).
  const KnownDomains idn(std::vector<std::string>{"m\u00fcller-bau.example", "\u00e9cole.example"});
  EXPECT_EQ(idn.named_in("m\u00fcller-bau buchhaltung"), "m\u00fcller-bau.example");
  EXPECT_EQ(idn.named_in("secr\u00e9tariat (\u00e9cole)"), "\u00e9cole.example");
  EXPECT_FALSE(idn.named_in("m\u00fcller-baux"));
  EXPECT_FALSE(own.named_in(""));
  EXPECT_FALSE(KnownDomains().named_in("ourcompany"));
  // Padding that is not a name's bytes hides nothing: spaces, zero-width spaces, punctuation.
  std::string padded;
  for (int i = 0; i < 2000; ++i) padded += " \u200b.";
  EXPECT_EQ(own.named_in(padded + "ourcompany payroll"), "ourcompany.example");
  // Only the first bytes of names are looked at; a word cut there is no whole word.
  const std::string words = [] {
    std::string w;
    while (w.size() < KnownDomains::kNamedBytes) w += "word ";
    return w;
  }();
  EXPECT_FALSE(own.named_in(words + "ourcompany"));
  const std::string before = words.substr(0, KnownDomains::kNamedBytes - 12) + "a ";  // ends 10 short
  EXPECT_EQ(own.named_in(before + "ourcompany"), "ourcompany.example");
  EXPECT_EQ(own.named_in(before + "ourcompany-x"), "ourcompany.example");
  EXPECT_FALSE(own.named_in(before + "ourcompanyxyz"));  // cut right after "ourcompany"
}

TEST(Verdict, ImpersonationOfWhatTheRecipientKnows) {
  dmarc::OrgDomains orgs;
  Inputs in;
  in.orgs = &orgs;
  in.own_domains =
      std::make_shared<const KnownDomains>(std::vector<std::string>{"ourcompany.example"});
  in.known_domains =
      std::make_shared<const KnownDomains>(std::vector<std::string>{"partner.example"});
  auto with_from = [&](const std::string& from) { return judge("From: " + from + "\r\nSubject: invoice\r\n\r\nPay now.\r\n", in); };
  auto v = with_from("Accounts <billing@partnre.example>");
  ASSERT_EQ(v.summary(), "LOOKALIKE_DOMAIN=3.50");
  EXPECT_EQ(v.signals[0].why, "the sender's domain partnre.example looks like partner.example, a domain the recipient writes to");
  v = with_from("CEO <ceo@mail.0urcompany.example>");
  ASSERT_EQ(v.summary(), "LOOKALIKE_DOMAIN=3.50");
  EXPECT_NE(v.signals[0].why.find("the recipient's own domain"), std::string::npos);
  {
    // A look-alike of both an own domain and one the recipient writes to: the own one is named.
    Inputs both = in;
    both.known_domains = std::make_shared<const KnownDomains>(std::vector<std::string>{"0urcompany.example"});
    v = judge("From: CEO <ceo@ourc0mpany.example>\r\nSubject: invoice\r\n\r\nPay now.\r\n", both);
    ASSERT_EQ(v.summary(), "LOOKALIKE_DOMAIN=3.50");
    EXPECT_EQ(v.signals[0].why, "the sender's domain ourc0mpany.example looks like ourcompany.example, the recipient's "
                                "own domain");
  }
  EXPECT_EQ(with_from("Accounts <billing@partner.example>").summary(), "");
  // The organisation's name from outside.
  v = with_from("OurCompany IT Desk <helpdesk@freemail.example>");
  ASSERT_EQ(v.summary(), "OWN_NAME_SPOOF=2.00");
  EXPECT_EQ(with_from("OurCompanyX <a@freemail.example>").summary(), "");  // not the word
  // A contact's name from an address that is not theirs.
  in.namesakes = {"alice@partner.example"};
  v = with_from("Alice Smith <alice.smith@freemail.example>");
  ASSERT_EQ(v.summary(), "CONTACT_IMPERSONATION=2.50");
  EXPECT_EQ(v.signals[0].why, "the sender uses the name of a contact, alice@partner.example, from another address "
                              "(alice.smith@freemail.example)");
  EXPECT_TRUE(is_phishing_signal(v.signals[0]));
  // Reputation: an authenticated author at a domain the recipient writes to.
  in.namesakes.clear();
  in.authenticated_domain = "mail.partner.example";
  EXPECT_EQ(with_from("Bob <bob@mail.partner.example>").summary(), "KNOWN_DOMAIN=-1.50");
  // Past verdicts on the author: junked counts always, rescued only when authenticated.
  in.author_junked = 3;
  in.author_rescued = 1;
  v = with_from("Bob <bob@mail.partner.example>");
  EXPECT_EQ(v.summary(), "SENDER_JUNKED=2.00 KNOWN_DOMAIN=-1.50");
  EXPECT_EQ(v.signals[0].why, "the recipient moved 3 message(s) from this sender to Junk");
  in.author_junked = 0;
  EXPECT_EQ(with_from("Bob <bob@mail.partner.example>").summary(), "SENDER_RESCUED=-2.00 KNOWN_DOMAIN=-1.50");
  in.authenticated_domain.clear();
  EXPECT_EQ(with_from("Bob <bob@mail.partner.example>").summary(), "");
}

TEST(Verdict, ThresholdsAsText) {
  const auto t = parse_thresholds(" 2 4.5  20 ");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->tag, 2);
  EXPECT_EQ(t->junk, 4.5);
  EXPECT_EQ(t->reject, 20);
  EXPECT_EQ(format_thresholds(*t), "2 4.5 20");
  EXPECT_TRUE(parse_thresholds("-1 0 0"));
  for (const char* bad : {"", "2 4", "2 4 20 30", "5 4 20", "2 x 20", "2 nan 20", "2 4 inf", "2 4 5000"})
    EXPECT_FALSE(parse_thresholds(bad)) << bad;
}

TEST(Verdict, RepliesFromOutsideTheThread) {
  std::vector<std::string> participants;
  ASSERT_TRUE(add_thread_participants("From: Alice <Alice@Partner.example>\r\nTo: me@ourcompany.example\r\n"
                                      "Cc: carol@partner.example, dave@third.example\r\n\r\nbody\r\n",
                                      participants));
  EXPECT_EQ(participants, (std::vector<std::string>{"alice@partner.example", "me@ourcompany.example",
                                                    "carol@partner.example", "dave@third.example"}));
  std::vector<std::string> none;
  EXPECT_FALSE(add_thread_participants("From: a@b.example\r\nList-Id: <dev.lists.example>\r\n\r\nx\r\n", none));
  EXPECT_TRUE(none.empty());
  // A message read only to its first kThreadHeaderBytes, cut inside a field: the cut field
  // (half an address) is left out, the whole ones are read, a folded one included.
  std::string cut = "From: alice@one.example\r\nCc: carol@two.example,\r\n dave@three.example\r\nX-Pad: ";
  const std::string tail = "\r\nTo: bob@partner.exa";
  cut.append(kThreadHeaderBytes - cut.size() - tail.size(), 'a');
  cut += tail;
  ASSERT_EQ(cut.size(), kThreadHeaderBytes);
  std::vector<std::string> read;
  ASSERT_TRUE(add_thread_participants(cut, read));
  EXPECT_EQ(read, (std::vector<std::string>{"alice@one.example", "carol@two.example", "dave@three.example"}));

  Inputs in;
  in.thread_found = true;
  in.thread_participants = participants;
  // The recipient's: me@ourcompany.example took part.
  in.own_domains =
      std::make_shared<const KnownDomains>(std::vector<std::string>{"ourcompany.example"});
  auto reply = [&](const std::string& from, const std::string& more = "",
                   const std::string& text = "Please use our new bank account.") {
    return judge("From: " + from + "\r\nSubject: Re: the contract\r\nIn-Reply-To: <1@partner.example>\r\n" + more +
                     "\r\n" + text + "\r\n",
                 in);
  };
  auto v = reply("Alice <alice@partner-invoices.example>");
  ASSERT_EQ(v.summary(), "THREAD_HIJACK=3.00");
  EXPECT_EQ(v.signals[0].why, "a reply in a conversation among alice@partner.example and others from "
                              "alice@partner-invoices.example, who was not part of it");
  EXPECT_TRUE(is_phishing_signal(v.signals[0]));
  // The payload may be a link or an attachment instead of payment talk.
  EXPECT_EQ(reply("Alice <alice@partner-invoices.example>", "", "The signed copy: https://files.example/c").summary(),
            "THREAD_HIJACK=3.00");
  EXPECT_EQ(reply("Alice <alice@partner-invoices.example>",
                  "Content-Type: multipart/mixed; boundary=b\r\n",
                  "--b\r\n\r\nSee attached.\r\n--b\r\nContent-Type: application/pdf\r\n\r\nJVBERi0=\r\n--b--")
                .summary(),
            "THREAD_HIJACK=3.00");
  // Participants, their colleagues, list traffic, a reply carrying nothing, and a thread the
  // recipient only heard of (not among its participants) are fine.
  EXPECT_EQ(reply("Dave <dave@third.example>").summary(), "");
  EXPECT_EQ(reply("Erin <erin@partner.example>").summary(), "");
  EXPECT_EQ(reply("Zed <zed@elsewhere.example>", "List-Id: <dev.lists.example>\r\n").summary(), "");
  EXPECT_EQ(reply("Zed <zed@elsewhere.example>", "Precedence: list\r\n").summary(), "");
  EXPECT_EQ(reply("Zed <zed@elsewhere.example>", "", "Agreed, see you Friday.").summary(), "");
  in.own_domains =
      std::make_shared<const KnownDomains>(std::vector<std::string>{"elsewhere.example"});
  EXPECT_EQ(reply("Alice <alice@partner-invoices.example>").summary(), "");
  in.own_domains =
      std::make_shared<const KnownDomains>(std::vector<std::string>{"ourcompany.example"});
  in.thread_found = false;
  EXPECT_EQ(reply("Alice <alice@partner-invoices.example>").summary(), "");
}

// Forgery: what ratware writes when it copies a mail program, and what the programs write.
TEST(Verdict, ForgeryRules) {
  const auto rules = [](const std::string& header, const std::string& body = "x\r\n") {
    return judge(header + "\r\n" + body, {}).summary();
  };
  const std::string oe_id = "Message-ID: <000801c25c0f$3b5f5a80$0201a8c0@pc>\r\n";
  // The field Outlook for Windows writes beside its X-Mailer (without it, MIMEOLE_MISSING).
  const std::string mime_ole = "X-MimeOLE: Produced By Microsoft MimeOLE V6.00.2600.0000\r\n";
  // Outlook's Message-ID with no Microsoft program named; with one named, nothing.
  EXPECT_EQ(rules(oe_id), "MSGID_OUTLOOK_FORGED=1.50");
  EXPECT_EQ(rules(oe_id + "X-Mailer: Microsoft Outlook Express 6.00.2600.0000\r\n" + mime_ole), "");
  EXPECT_EQ(rules(oe_id + mime_ole), "");
  EXPECT_EQ(rules("Message-ID: <000801c25c0f$3b5f5a80$0201a8c0@pc@x>\r\n"), "");  // not the form
  // Outlook for Windows claimed, another Message-ID (or none).
  const std::string oe = "X-Mailer: Microsoft Outlook Express 5.00.2919.6900\r\nFrom: <a@sender.example>\r\n" + mime_ole;
  EXPECT_EQ(rules(oe + "Message-ID: <1a2b.3c@relay.example>\r\n"), "MAILER_OUTLOOK_FORGED=1.50");
  const auto v = judge(oe + "\r\nx\r\n", {});
  ASSERT_EQ(v.summary(), "MAILER_OUTLOOK_FORGED=1.50");
  EXPECT_EQ(v.signals[0].why, "the X-Mailer claims Outlook for Windows, which always writes a Message-ID");
  EXPECT_EQ(rules("X-Mailer: Microsoft Outlook, Build 10.0.2616\r\nMessage-ID: <x@relay.example>\r\n" + mime_ole),
            "MAILER_OUTLOOK_FORGED=1.50");
  // Webmail sending for Outlook Express sets the author's provider's Message-ID; the Mac
  // edition and Outlook 2000 in Internet Mail Only mode make other forms; all are left alone.
  EXPECT_EQ(rules("X-Mailer: Microsoft Outlook Express 5.50.4133.2400\r\nFrom: <a@hotmail.example>\r\n"
                  "Message-ID: <DAV43l4aii22N3yx@mail.hotmail.example>\r\n" + mime_ole),
            "");
  EXPECT_EQ(rules("X-Mailer: Microsoft-Outlook-Express-Macintosh-Edition/5.02.2022\r\nMessage-ID: <B9A1@x.example>\r\n"), "");
  EXPECT_EQ(rules("X-Mailer: Microsoft Outlook IMO, Build 9.0.2416 (9.0.2911.0)\r\n"
                  "Message-ID: <ILEHJNJFPDLMDEKNIAKH.geege@x.example>\r\n"),
            "");
  EXPECT_EQ(rules(oe + oe_id), "");
  // Outlook 2000 and 2003 name themselves so too; their Message-IDs are Outlook's.
  EXPECT_EQ(rules("X-Mailer: Microsoft Outlook CWS, Build 9.0.2416 (9.0.2910.0)\r\nMessage-ID: <x@relay.example>\r\n" +
                  mime_ole),
            "MAILER_OUTLOOK_FORGED=1.50");
  EXPECT_EQ(rules("X-Mailer: Microsoft Office Outlook, Build 11.0.5510\r\nMessage-ID: <x@relay.example>\r\n" + mime_ole),
            "MAILER_OUTLOOK_FORGED=1.50");
  EXPECT_EQ(rules("X-Mailer: Microsoft Office Outlook, Build 11.0.5510\r\n" + oe_id + mime_ole), "");
  // The author's provider under its own name or a host of it; not a stranger under the
  // same public suffix.
  EXPECT_EQ(rules("X-Mailer: Microsoft Outlook Express 6.00.2600.0000\r\nFrom: <a@hotmail.example>\r\n"
                  "Message-ID: <OE43UPm@mail.hotmail.example>\r\n" + mime_ole),
            "");
  EXPECT_EQ(rules("X-Mailer: Microsoft Outlook Express 6.00.2600.0000\r\nFrom: <a@bank.co.uk>\r\n"
                  "Message-ID: <x@spam.co.uk>\r\n" + mime_ole),
            "MAILER_OUTLOOK_FORGED=1.50");
  EXPECT_EQ(rules("X-Mailer: Microsoft Outlook Express 6.00.2600.0000\r\nFrom: <a@ail.example>\r\n"
                  "Message-ID: <x@mail.example>\r\n" + mime_ole),
            "MAILER_OUTLOOK_FORGED=1.50");
  // Outlook for Windows claimed without its X-MimeOLE field (any build it judges, the field's
  // name in any case); beside a Message-ID Outlook does not make, both. Not for the programs
  // claims_windows_outlook does not judge: the Mac edition (which writes none), Internet Mail
  // Only mode, Outlook 2007 and later (build 12 on), nor for what User-Agent says.
  EXPECT_EQ(rules("X-Mailer: Microsoft Outlook Express 6.00.2600.0000\r\n" + oe_id), "MIMEOLE_MISSING=1.00");
  EXPECT_EQ(rules("X-Mailer: Microsoft Outlook, Build 10.0.2616\r\n" + oe_id), "MIMEOLE_MISSING=1.00");
  EXPECT_EQ(rules("X-Mailer: Microsoft Outlook CWS, Build 9.0.2416 (9.0.2910.0)\r\n" + oe_id), "MIMEOLE_MISSING=1.00");
  EXPECT_EQ(rules("X-Mailer: Microsoft Office Outlook, Build 11.0.5510\r\n" + oe_id), "MIMEOLE_MISSING=1.00");
  EXPECT_EQ(rules("X-Mailer: Microsoft Office Outlook, Build 11.0.5510\r\n" + oe_id +
                  "X-MIMEOLE: Produced By Microsoft MimeOLE V6.00.2800.1106\r\n"),
            "");
  EXPECT_EQ(rules("X-Mailer: Microsoft Outlook Express 5.00.2919.6900\r\nMessage-ID: <x@relay.example>\r\n"),
            "MAILER_OUTLOOK_FORGED=1.50 MIMEOLE_MISSING=1.00");
  const auto missing = judge("X-Mailer: Microsoft Outlook Express 6.00.2600.0000\r\n" + oe_id + "\r\nx\r\n", {});
  ASSERT_EQ(missing.signals.size(), 1u);
  EXPECT_EQ(missing.signals[0].why, "the X-Mailer claims Outlook for Windows, which always writes an X-MimeOLE field");
  EXPECT_EQ(rules("X-Mailer: Microsoft Outlook Express 6.00.2600.0000\r\n" + oe_id +
                  "X-MimeOLE: Produced By Microsoft Exchange V6.5\r\n"),
            "");
  EXPECT_EQ(rules("X-Mailer: Microsoft-Outlook-Express-Macintosh-Edition/5.02.2022\r\n" + oe_id), "");
  EXPECT_EQ(rules("X-Mailer: Microsoft Outlook IMO, Build 9.0.2416 (9.0.2911.0)\r\n" + oe_id), "");
  EXPECT_EQ(rules("X-Mailer: Microsoft Office Outlook 12.0\r\n" + oe_id), "");
  EXPECT_EQ(rules("User-Agent: Microsoft Outlook Express 6.00.2600.0000\r\n" + oe_id), "");
  // The time Outlook writes into its Message-ID ("01c25c0f": 2002-09-14 16:51-16:58 UTC)
  // against the Date: and the first server's time: within 30 hours of either, nothing; further
  // from both (or from the one known), MSGID_OUTLOOK_TIME. Without a Microsoft program named it
  // is MSGID_OUTLOOK_FORGED alone; with neither time known, nothing is judged.
  const std::string outlook = "X-Mailer: Microsoft Outlook Express 6.00.2600.0000\r\n" + mime_ole + oe_id;
  EXPECT_EQ(rules(outlook + "Date: Sat, 14 Sep 2002 17:00:00 +0000\r\n"), "");
  EXPECT_EQ(rules(outlook + "Date: Sat, 14 Sep 2002 19:00:00 +0200\r\n"), "");
  EXPECT_EQ(rules(outlook + "Date: Sun, 15 Sep 2002 22:00:00 +0000\r\n"), "");  // a clock a zone off
  EXPECT_EQ(rules(outlook + "Date: Fri, 13 Sep 2002 11:00:00 +0000\r\n"), "");
  EXPECT_EQ(rules(outlook + "Date: Mon, 16 Sep 2002 00:00:00 +0000\r\n"), "MSGID_OUTLOOK_TIME=1.00");
  EXPECT_EQ(rules(outlook + "Date: Fri, 13 Sep 2002 09:00:00 +0000\r\n"), "MSGID_OUTLOOK_TIME=1.00");
  const auto late = judge(outlook + "Date: Tue, 1 Jul 2003 10:00:00 +0000\r\n\r\nx\r\n", {});
  ASSERT_EQ(late.summary(), "MSGID_OUTLOOK_TIME=1.00");
  EXPECT_EQ(late.signals[0].why, "the Message-ID is made like Outlook's, but the time written into it is not the message's");
  // The first server's time stands in for a Date: that cannot be read, or one that is off.
  const std::string hop = "Received: from pc (pc.example [192.0.2.1]) by mx.example; Sat, 14 Sep 2002 17:05:00 +0000\r\n";
  EXPECT_EQ(rules(hop + outlook + "Date: someday\r\n"), "");
  EXPECT_EQ(rules(hop + outlook), "");
  EXPECT_EQ(rules(hop + outlook + "Date: Fri, 13 Sep 2002 09:00:00 +0000\r\n"), "");
  // A message that waited in the outbox: the Date: is the ID's, the first server's time days
  // later (within DATE_BEHIND's four days); then an unreadable Date: and a first server days away.
  const std::string days_later = "Received: from pc by mx.example; Wed, 18 Sep 2002 09:00:00 +0000\r\n";
  EXPECT_EQ(rules(days_later + outlook + "Date: Sat, 14 Sep 2002 16:55:00 +0000\r\n"), "");
  EXPECT_EQ(rules(days_later + outlook + "Date: someday\r\n"), "MSGID_OUTLOOK_TIME=1.00");
  EXPECT_EQ(rules("Received: from pc by mx.example; Tue, 1 Jul 2003 10:05:00 +0000\r\n" + outlook +
                  "Date: Tue, 1 Jul 2003 10:00:00 +0000\r\n"),
            "MSGID_OUTLOOK_TIME=1.00");
  EXPECT_EQ(rules(outlook + "Date: someday\r\n"), "");
  EXPECT_EQ(rules("X-Mailer: Microsoft Outlook Express 6.00.2600.0000\r\n" + mime_ole +
                  "Message-ID: <000801C25C0F$3B5F5A80$0201A8C0@pc>\r\nDate: Sat, 14 Sep 2002 17:00:00 +0000\r\n"),
            "");
  EXPECT_EQ(rules(oe_id + "Date: Tue, 1 Jul 2003 10:00:00 +0000\r\n"), "MSGID_OUTLOOK_FORGED=1.50");
  // Outlook's priority field without Outlook; the highest priority.
  EXPECT_EQ(rules("X-MSMail-Priority: Normal\r\n"), "MSMAIL_PRIORITY_FORGED=1.00");
  EXPECT_EQ(rules("X-MSMail-Priority: Normal\r\nX-Mailer: Microsoft Outlook Express 6.00.2600.0000\r\n" + oe_id + mime_ole),
            "");
  EXPECT_EQ(rules("X-Priority: 1 (Highest)\r\n"), "PRIORITY_HIGH=0.50");
  EXPECT_EQ(rules("X-Priority: 3\r\n"), "");
  EXPECT_EQ(rules("X-Priority: 10\r\n"), "");
  EXPECT_EQ(rules("X-Priority: 1\r\n"), "PRIORITY_HIGH=0.50");
  EXPECT_EQ(rules("X-Priority: High\r\n"), "PRIORITY_HIGH=0.50");
  EXPECT_EQ(rules("X-Priority: urgent\r\n"), "PRIORITY_HIGH=0.50");
  // Outlook's mail with its X-Mailer taken out by a gateway: one anomaly, counted once.
  EXPECT_EQ(rules(oe_id + "X-MSMail-Priority: Normal\r\n"), "MSGID_OUTLOOK_FORGED=1.50");
  // A Microsoft program named by X-MimeOLE or User-Agent alone.
  EXPECT_EQ(rules("X-MSMail-Priority: Normal\r\nUser-Agent: Microsoft-Outlook/16.0\r\n"), "");
  // Outlook's Message-ID with hex digits that are not.
  EXPECT_EQ(rules("Message-ID: <000801c25c0g$3b5f5a80$0201a8c0@pc>\r\n"), "");
  EXPECT_EQ(rules("Message-ID: <000801c25c0f$3b5f5a8z$0201a8c0@pc>\r\n"), "");
  EXPECT_EQ(rules("Message-ID: <000801c25c0f$3b5f5a80$0201a8cx@pc>\r\n"), "");
  // The Date: against the first server that received the message (the lowest Received:).
  const std::string hops = "Received: from relay.example by mx.example; Fri, 27 Sep 2002 10:00:00 +0000\r\n"
                           "Received: from pc by relay.example; Thu, 26 Sep 2002 19:11:11 +0000\r\n";
  EXPECT_EQ(rules(hops + "Date: Thu, 26 Sep 2002 19:10:00 +0000\r\n"), "");
  EXPECT_EQ(rules(hops + "Date: Fri, 27 Sep 2002 07:11:11 +0000\r\n"), "");  // 12 hours: a wrong clock
  EXPECT_EQ(rules(hops + "Date: Fri, 27 Sep 2002 08:11:12 +0000\r\n"), "DATE_AHEAD=1.50");
  const auto ahead = judge(hops + "Date: Sat, 28 Sep 2002 19:11:11 +0000\r\n\r\nx\r\n", {});
  ASSERT_EQ(ahead.summary(), "DATE_AHEAD=1.50");
  EXPECT_EQ(ahead.signals[0].why, "the Date: is 48 hours after the first server received it");
  EXPECT_EQ(rules(hops + "Date: Sat, 21 Sep 2002 19:11:11 +0000\r\n"), "DATE_BEHIND=1.00");
  EXPECT_EQ(rules(hops + "Date: Sun, 22 Sep 2002 19:11:11 +0000\r\n"), "");  // 4 days
  EXPECT_EQ(rules("Date: Sat, 21 Sep 2002 19:11:11 +0000\r\n"), "");  // no hop: nothing to compare with
  EXPECT_EQ(rules(hops + "Date: Sat, 21 Sep 2002 19:11:11\r\n"), "");  // no zone, no instant
  // Only the lowest hop counts: when its date cannot be read, a later hop's (a list that held
  // the message for moderation) is no measure of when it was written.
  EXPECT_EQ(rules(hops + "Received: from pc by relay.example; Thu, 26 Sep 2002 19:11:11 CEST\r\n"
                         "Date: Sat, 21 Sep 2002 19:11:11 +0000\r\n"),
            "");
  EXPECT_EQ(rules(hops + "Received: from pc by relay.example (no date)\r\nDate: Sat, 21 Sep 2002 19:11:11 +0000\r\n"), "");
  // A zone no clock uses is counted once, as such.
  EXPECT_EQ(rules(hops + "Date: Thu, 26 Sep 2002 19:11:11 -1600\r\n"), "DATE_IMPOSSIBLE_ZONE=1.50");
  // Western text sent base64; UTF-8 text (whose non-ASCII base64 suits) and attachments are not.
  const std::string body = "aGVsbG8gdGhlcmU=\r\n";
  EXPECT_EQ(rules("Content-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: base64\r\n", body),
            "TEXT_BASE64=1.00");
  EXPECT_EQ(rules("Content-Transfer-Encoding: base64\r\n", body), "TEXT_BASE64=1.00");  // us-ascii by default
  EXPECT_EQ(rules("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n", body), "");
  EXPECT_EQ(rules("Content-Type: multipart/mixed; boundary=b\r\n",
                  "--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b\r\nContent-Type: text/plain\r\n"
                  "Content-Disposition: attachment; filename=a.txt\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
                      body + "--b--\r\n"),
            "");
  // A text part with a file name is a file, whatever its disposition.
  EXPECT_EQ(rules("Content-Type: text/plain; charset=iso-8859-1\r\nContent-Disposition: inline; filename=notes.txt\r\n"
                  "Content-Transfer-Encoding: base64\r\n",
                  body),
            "");
  EXPECT_EQ(rules("Content-Type: text/plain; name=page.txt\r\nContent-Transfer-Encoding: base64\r\n", body), "");
  EXPECT_EQ(rules("Content-Type: text/html; charset=us-ascii\r\nContent-Transfer-Encoding: base64\r\n"
                  "List-Unsubscribe: <mailto:u@x.example>\r\n",
                  body),
            "TEXT_BASE64=1.00 LIST_UNSUBSCRIBE=-0.50 HTML_ONLY=0.25");
  EXPECT_EQ(rules("Content-Type: multipart/alternative; boundary=b\r\n",
                  "--b\r\nContent-Type: text/plain; charset=windows-1252\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
                      body + "--b--\r\n"),
            "TEXT_BASE64=1.00");
}

// The header sets today's mail programs and services write: none is a forgery.
TEST(Verdict, ForgeryRulesLeaveMailProgramsAlone) {
  const std::string hop = "Received: from client.example (client.example [203.0.113.5]) by smtp.example.org "
                          "with ESMTPSA id 4b2c; Mon, 2 Jan 2026 15:04:07 +0100 (CET)\r\n"
                          "Date: Mon, 2 Jan 2026 15:04:05 +0100\r\nFrom: Ann <ann@example.org>\r\n";
  for (const std::string program : {
           // Outlook 2016-365 for Windows, sent over SMTP (a trailing '$' before the '@').
           "X-Mailer: Microsoft Outlook 16.0\r\nMessage-ID: <003e01d9a6c5$1d2e3f40$57b8bdc0$@example.org>\r\n"
           "X-Priority: 3\r\nThread-Index: AQHZpsUdLj9A\r\nContent-Language: en-gb\r\n",
           // Outlook Express 6 and Outlook 2003 as they write: X-MimeOLE, and the sending time in the
           // Message-ID ("01dc7bf0": 2026-01-02 14:04 UTC).
           "X-Mailer: Microsoft Outlook Express 6.00.2900.5931\r\nX-MimeOLE: Produced By Microsoft MimeOLE V6.00.2900.6157\r\n"
           "Message-ID: <000a01dc7bf0$5c1d2e3f$0201a8c0@pc>\r\nX-MSMail-Priority: Normal\r\nX-Priority: 3\r\n",
           "X-Mailer: Microsoft Office Outlook, Build 11.0.6353\r\nX-MimeOLE: Produced By Microsoft MimeOLE V6.00.2900.6157\r\n"
           "Message-ID: <001b01dc7bf0$9e8d7c6b$0a00a8c0@desk>\r\nThread-Index: AcZ7pQ\r\n",
           // Outlook for Mac; Outlook.com and Exchange Online.
           "User-Agent: Microsoft-MacOutlook/16.78.23100802\r\nMessage-ID: <C8A1B2C3-D4E5-F6A7-B8C9-0A1B2C3D4E5F@example.org>\r\n",
           "Message-ID: <DB9PR01MB1234ABCD5678EF90@DB9PR01MB1234.eurprd01.prod.outlook.com>\r\n"
           "X-MS-Exchange-Organization-SCL: 1\r\nX-MSMail-Priority: Normal\r\nX-Mailer: Microsoft Outlook 16.0\r\n",
           // Thunderbird, Apple Mail, Gmail.
           "User-Agent: Mozilla Thunderbird\r\nMessage-ID: <5f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b@example.org>\r\n",
           "X-Mailer: Apple Mail (2.3774.300.61.1.2)\r\nMessage-ID: <7A3E1C2B-9D8F-4E6A-B5C4-D3E2F1A0B9C8@example.org>\r\n"
           "Content-Type: text/plain; charset=us-ascii\r\nContent-Transfer-Encoding: 7bit\r\n",
           "Message-ID: <CAKx4V7+Jd8w3XQk1g2=abcDEF@mail.gmail.com>\r\n"
           "Content-Type: text/plain; charset=\"UTF-8\"\r\nContent-Transfer-Encoding: base64\r\n",
           // A list's copy: the list's hops above the author's, List-Id, an old-style priority.
           "Received: from lists.example.net by mx.example.org; Mon, 2 Jan 2026 16:30:00 +0000\r\n"
           "List-Id: <dev.lists.example.net>\r\nPrecedence: list\r\nX-Priority: 3 (Normal)\r\n"
           "Message-ID: <20260102150405.GA1234@client.example>\r\n",
       }) {
    const auto v = judge(program + hop + "\r\naGVsbG8gdGhlcmU=\r\n", {});
    EXPECT_EQ(v.summary(), "") << program;
  }
}

TEST(Verdict, HeaderHeuristics) {
  auto v = judge("From: <rdc7y767@hotmail.example>\r\nTo: undisclosed-recipients:;\r\n"
                 "Subject: Jump start desire   7893vBvF1-278ZKCc8-17\r\n\r\nx\r\n", {});
  EXPECT_EQ(v.summary(), "SUBJECT_TRACKING_CODE=1.00 RECIPIENTS_HIDDEN=0.50 FROM_GENERATED=0.50 SUBJECT_PADDED=2.00 "
                         "SUBJECT_RANDOM_TOKEN=1.50");
  EXPECT_EQ(v.signals[2].why, "the sender's address rdc7y767@hotmail.example looks generated");
  EXPECT_EQ(judge("To: \r\nSubject: MAKE MONEY FAST NOW\r\n\r\nx\r\n", {}).summary(),
            "SUBJECT_SHOUTING=1.00 RECIPIENTS_HIDDEN=0.50 SUBJECT_MONEY=0.50");
  // A time zone no clock uses; ten addresses at five domains shown to each other.
  v = judge("Date: Thu, 26 Sep 2002 19:11:11 -1600\r\n\r\nx\r\n", {});
  ASSERT_EQ(v.summary(), "DATE_IMPOSSIBLE_ZONE=1.50");
  EXPECT_EQ(v.signals[0].why, "the Date: field's time zone -1600 is on no clock");
  EXPECT_EQ(judge("Date: Thu, 26 Sep 2002 19:11:11 +0107 (odd)\r\n\r\nx\r\n", {}).summary(), "DATE_IMPOSSIBLE_ZONE=1.50");
  std::string many = "To: ";
  for (int i = 0; i < 10; ++i) many += fmt::format("{}u{}@d{}.example, ", i == 0 ? "" : " ", i, i % 5);
  many.resize(many.size() - 2);
  v = judge(many + "\r\n\r\nx\r\n", {});
  ASSERT_EQ(v.summary(), "RECIPIENTS_EXPOSED=1.00");
  EXPECT_EQ(v.signals[0].why, "10 recipients at 5 domains shown to each other");
  // Counted over To: and Cc: together.
  EXPECT_EQ(judge("To: a@d0.example, b@d1.example, c@d2.example, d@d3.example, e@d4.example\r\n"
                  "Cc: f@d0.example, g@d1.example, h@d2.example, i@d3.example, j@d4.example\r\n\r\nx\r\n", {})
                .summary(),
            "RECIPIENTS_EXPOSED=1.00");
  // Ordinary mail: numbers in a subject, a short capital word, no To: at all (Bcc),
  // digits that are the whole local part or fewer than three.
  for (const char* ok : {"From: 12345@a.example\r\nSubject: Meeting at 10:30 in room 4\r\n",
                         "From: bob42@a.example\r\nTo: me@b.example\r\nSubject: FYI\r\n",
                         "From: Ann <ann@a.example>\r\nSubject: Re: order 1234\r\n",
                         // Long subjects folded with an indent: the fold is one space, not padding.
                         "From: Ann <ann@a.example>\r\nSubject: [CVS] rules 50_scores.cf,1.226,1.227\r\n"
                         "    60_whitelist.cf,1.31,1.32\r\n",
                         "From: Ann <ann@a.example>\r\nSubject: Fast Occlusion Culling for Outdoor\r\n"
                         "\t\tEnvironments\r\n",
                         // Real zones, at their ends and in quarter hours; named zones; comments.
                         "Date: Mon, 7 Oct 2002 08:00:49 -1200\r\n", "Date: Mon, 7 Oct 2002 08:00:49 +1400\r\n",
                         "Date: Mon, 7 Oct 2002 08:00:49 +0545 (NPT)\r\n", "Date: Mon, 7 Oct 2002 08:00:49 -0930\r\n",
                         "Date: Mon, 7 Oct 2002 08:00:49 EST\r\n", "Date: Mon, 7 Oct 2002 08:00:49\r\n",
                         // Ten people at one organisation, or nine at nine domains.
                         "To: a@x.example, b@x.example, c@x.example, d@x.example, e@x.example, f@x.example, "
                         "g@x.example, h@x.example, i@x.example, j@x.example\r\n",
                         "To: a@1.example, b@2.example, c@3.example, d@4.example, e@5.example, f@6.example, "
                         "g@7.example, h@8.example, i@9.example\r\n",
                         // Five people at four places written "Last, First" (the pieces of the
                         // names are no addresses), a group, the same addresses twice.
                         "To: Smith, Ann <ann@a.example>, Jones, Bob <bob@b.example>, Lee, Cy <cy@c.example>, "
                         "Wu, Di <di@d.example>, Roe, Ed <ed@a.example>\r\nCc: Team: f@a.example, g@b.example;\r\n",
                         "To: a@1.example, b@2.example, c@3.example, d@4.example, e@5.example\r\n"
                         "Cc: a@1.example, b@2.example, c@3.example, d@4.example, E@5.EXAMPLE\r\n"})
    EXPECT_EQ(judge(std::string(ok) + "\r\nx\r\n", {}).summary(), "") << ok;
}

TEST(Verdict, DisplayNamesThatShowAnotherDomain) {
  auto v = judge("From: \"security@bank.example\" <alerts@evil.example>\r\nSubject: x\r\n\r\nx\r\n", {});
  ASSERT_EQ(v.summary(), "DISPLAY_NAME_SPOOF=2.00");
  EXPECT_EQ(v.signals[0].why, "the sender's name shows bank.example but the address is at evil.example");
  // A domain alone in the name counts when the recipient knows it (their own, or one they
  // write to): "News.com Daily" <news@mailer.example> is how newsletters sign (issue 18).
  Inputs knows_bank;
  knows_bank.known_domains =
      std::make_shared<const KnownDomains>(std::vector<std::string>{"bank.example"});
  EXPECT_EQ(judge("From: =?utf-8?q?www=2Ebank=2Eexample?= <x@evil.example>\r\n\r\nx\r\n", knows_bank).summary(),
            "DISPLAY_NAME_SPOOF=2.00");
  EXPECT_EQ(judge("From: =?utf-8?q?www=2Ebank=2Eexample?= <x@evil.example>\r\n\r\nx\r\n", {}).summary(), "");
  EXPECT_EQ(judge("From: \"CNET News.com Daily\" <Online#3.1@newsletter.online.example>\r\n\r\nx\r\n", {}).summary(), "");
  // Ordinary names, the same domain, and prices are fine.
  for (const char* ok : {"From: Alice Smith <alice@bank.example>", "From: \"Bank.example Support\" <help@mail.bank.example>",
                         "From: Shop (save 3.50 today) <news@shop.example>", "From: alice@bank.example"})
    EXPECT_EQ(judge(std::string(ok) + "\r\n\r\nx\r\n", {}).summary(), "") << ok;
}

TEST(Verdict, ClassifierSignalIsBoundedAndHeaderFolds) {
  Model m(16);
  const std::string spam = "Subject: prize\r\n\r\nclaim your prize money now\r\n";
  m.step(extract_features(spam + kGtube + "\r\n"), true, 1000.0);  // one huge step: far past 10
  m.learn(extract_features("Subject: notes\r\n\r\nmeeting notes\r\n"), false);
  Inputs in;
  in.model = &m;
  auto v = judge(spam + kGtube + "\r\n", in);
  ASSERT_GT(m.score(extract_features(spam + kGtube + "\r\n")), 10.0);
  ASSERT_EQ(v.signals.size(), 2u);
  EXPECT_EQ(v.signals[1].name, "CLASSIFIER");
  EXPECT_DOUBLE_EQ(v.signals[1].score, 10.0);  // bounded
  EXPECT_EQ(v.signals[1].why, "statistical text classifier: 100% spam");
  v.signals.insert(v.signals.end(), 6, Signal{"SOME_LONG_RULE_NAME", 1.0, ""});
  const std::string h = v.header();
  EXPECT_NE(h.find("\r\n\t"), std::string::npos);
  for (std::size_t start = 0, end; (end = h.find("\r\n", start)) != std::string::npos; start = end + 2)
    EXPECT_LE(end - start, 78u) << h;
}

// The MX judges a message once per recipient account; the rules and features worked out for
// the first verdict serve the others, and every verdict is what it would be alone.
TEST(Verdict, OneAnalysisServesEveryRecipientsVerdict) {
  const message::Parsed msg(std::string(
      "From: Bob <bob@b.example>\r\nTo: undisclosed-recipients:;\r\nSubject: Re: plans!!\r\n"
      "In-Reply-To: <1@a.example>\r\n\r\nAct now, limited time offer!!\r\n\r\n> Shall we meet?\r\n"));
  Model global(16), user(Model::kUserBits);
  global.learn(classifier_features(msg), true);
  global.learn(classifier_features(message::Parsed(std::string("Subject: notes\r\n\r\nmeeting notes\r\n"))), false);
  user.learn_over(global, classifier_features(msg), false);
  Inputs rules_only, with_model, with_user, in_thread;
  with_model.model = &global;
  with_model.rule_weight = 0.25;
  with_user = with_model;
  with_user.user_model = &user;
  in_thread = with_model;
  in_thread.thread_found = true;
  in_thread.own_domains =
      std::make_shared<const KnownDomains>(std::vector<std::string>{"a.example"});
  const std::vector<const Inputs*> order = {&rules_only, &in_thread, &with_model, &with_user, &in_thread, &rules_only};
  MessageAnalysis shared(msg);
  for (const Inputs* in : order) {
    const Verdict alone = judge(msg, *in), together = judge(msg, *in, &shared);
    EXPECT_EQ(together.summary(), alone.summary());
    EXPECT_EQ(together.score, alone.score);
  }
  // The recipients differ, and so do their verdicts.
  EXPECT_NE(judge(msg, with_user, &shared).summary(), judge(msg, rules_only, &shared).summary());
  EXPECT_NE(judge(msg, in_thread, &shared).summary(), judge(msg, with_model, &shared).summary());
  // The features are what the model learns from.
  EXPECT_EQ(shared.features(), classifier_features(msg));
  // An analysis of another message is not used.
  const message::Parsed other(std::string("Subject: notes\r\n\r\nmeeting notes\r\n"));
  EXPECT_EQ(judge(other, with_model, &shared).summary(), judge(other, with_model).summary());
}

// Rules are the classifier's features too; a model that learnt them from enough mail of
// both kinds takes over most of their weight (issue 18: counted twice, rules and classifier
// junked far more ham than either).
TEST(Verdict, ATrainedClassifierWeighsTheRules) {
  const std::string offer = "To: \r\nSubject: MAKE MONEY FAST NOW\r\n\r\nx\r\n";
  const auto spam = classifier_features(message::Parsed(offer));
  EXPECT_NE(std::find(spam.begin(), spam.end(), rule_feature("SUBJECT_SHOUTING")), spam.end());
  EXPECT_NE(std::find(spam.begin(), spam.end(), rule_feature("RECIPIENTS_HIDDEN")), spam.end());
  EXPECT_EQ(std::find(spam.begin(), spam.end(), rule_feature("SUBJECT_PADDED")), spam.end());
  const auto ham = classifier_features(message::Parsed(std::string("Subject: notes\r\n\r\nmeeting notes\r\n")));

  EXPECT_EQ(hand_rule_weight(nullptr), 1.0);
  Model m(16);
  EXPECT_TRUE(m.knows_rules());
  EXPECT_EQ(hand_rule_weight(&m), 1.0);  // nothing learnt yet
  for (int i = 0; i < 100; ++i) {
    m.learn(spam, true);
    m.learn(ham, false);
  }
  EXPECT_DOUBLE_EQ(hand_rule_weight(&m), 1 - (1 - kRuleWeightLearnt) * 100 / kRulesLearntAfter);
  for (int i = 0; i < 150; ++i) m.learn(spam, true);  // the fewer kind counts
  EXPECT_DOUBLE_EQ(hand_rule_weight(&m), 1 - (1 - kRuleWeightLearnt) * 100 / kRulesLearntAfter);
  for (int i = 0; i < 150; ++i) m.learn(ham, false);
  EXPECT_DOUBLE_EQ(hand_rule_weight(&m), kRuleWeightLearnt);

  Inputs in;
  in.model = &m;
  // The weight is the caller's (from the bulk-trained model): by default the rules count in
  // full, whatever the model learnt (the server's own learning counts examples it did not
  // learn from, review of issue 18).
  EXPECT_DOUBLE_EQ(judge(offer, in).signals[0].score, 1.0);
  in.rule_weight = hand_rule_weight(&m);
  const auto v = judge(offer, in);
  ASSERT_EQ(v.signals.size(), 4u) << v.summary();
  EXPECT_EQ(v.signals[0].name, "SUBJECT_SHOUTING");
  EXPECT_DOUBLE_EQ(v.signals[0].score, kRuleWeightLearnt * 1.0);
  EXPECT_EQ(v.signals[0].why, "the subject is in capitals (counted 25%, the classifier weighs the rest)");
  EXPECT_EQ(v.signals[3].name, "CLASSIFIER");
  EXPECT_GT(v.signals[3].score, 2.0);  // it learnt the rules' firings and the words
  // Without a classifier the rules count in full.
  EXPECT_EQ(judge(offer, {}).summary(), "SUBJECT_SHOUTING=1.00 RECIPIENTS_HIDDEN=0.50 SUBJECT_MONEY=0.50");

  // A model file from before (flags 0) never learnt the rules: they keep their whole score,
  // also in its sum with a newer model.
  const std::string path = testing::TempDir() + "/mk-model-rules.bin";
  ASSERT_TRUE(m.save(path).ok());
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(12);
    const char zero[4] = {0, 0, 0, 0};
    f.write(zero, 4);
  }
  auto old = Model::load(path);
  ASSERT_TRUE(old.ok()) << old.error().message;
  EXPECT_FALSE(old->knows_rules());
  EXPECT_EQ(hand_rule_weight(&*old), 1.0);
  EXPECT_FALSE(Model::sum(*old, m).knows_rules());
  EXPECT_TRUE(Model::sum(m, m).knows_rules());
  ASSERT_TRUE(m.save(path).ok());
  EXPECT_TRUE(Model::load(path)->knows_rules());
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace mk::filter
