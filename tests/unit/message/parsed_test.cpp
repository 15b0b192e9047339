// One parsed message for every MX stage: what it computes at once, what it computes lazily,
// and the one rule for a message's authors.
#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "message/links.hpp"
#include "message/parsed.hpp"

namespace mk::message {
namespace {

const std::string kMsg =
    "From: \"Alice Smith\" <alice@Example.ORG>\r\n"
    "To: bob@example.net\r\n"
    "Subject: =?utf-8?q?caf=C3=A9?=\r\n"
    "Message-ID: <m2@example.org>\r\n"
    "In-Reply-To: <m1@example.net>\r\n"
    "References: <m0@example.org> <m1@example.net>\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/alternative; boundary=b\r\n"
    "\r\n"
    "--b\r\nContent-Type: text/plain\r\n\r\nsee https://a.example/x\r\n"
    "--b\r\nContent-Type: text/html\r\n\r\n<a href=\"https://b.example/\">b</a>\r\n"
    "--b--\r\n";

TEST(Parsed, HeaderIndexAuthorAndIds) {
  const Parsed m(kMsg);
  EXPECT_EQ(m.text(), kMsg);
  ASSERT_EQ(m.header().size(), 8u);
  EXPECT_EQ(m.header()[0].name, "From");
  // The views point into the message's own text.
  EXPECT_GE(m.header()[0].value.data(), m.text().data());
  EXPECT_LT(m.header()[0].value.data(), m.text().data() + m.text().size());
  EXPECT_EQ(m.field("subject"), "=?utf-8?q?caf=C3=A9?=");
  EXPECT_FALSE(m.field("Cc").has_value());
  EXPECT_TRUE(m.body().starts_with("--b\r\n"));
  EXPECT_EQ(m.text().substr(m.header_end(), 2), "\r\n");
  EXPECT_EQ(m.authors().fields, 1u);
  EXPECT_EQ(m.authors().single_address(), "alice@example.org");
  EXPECT_EQ(m.authors().domains(), std::vector<std::string>{"example.org"});
  EXPECT_EQ(m.message_id(), "m2@example.org");
  // What it answers: In-Reply-To first, then References from the newest, each once.
  EXPECT_EQ(m.thread_ids(), (std::vector<std::string>{"m1@example.net", "m0@example.org"}));
}

TEST(Parsed, MimeAndLinksAreTheParsersOwn) {
  const Parsed m(kMsg);
  const Part& root = m.mime();
  EXPECT_EQ(&root, &m.mime());  // built once
  ASSERT_EQ(root.children.size(), 2u);
  EXPECT_EQ(root.children[1].subtype, "html");
  EXPECT_EQ(m.links(), find_links(kMsg, parse_mime(kMsg)));
  EXPECT_EQ(m.links(), (std::vector<std::string>{"https://a.example/x", "https://b.example/"}));
}

TEST(Parsed, LazyPartsAreSafeFromSeveralThreads) {
  const Parsed m(kMsg);
  std::vector<std::thread> threads;
  std::vector<const Part*> roots(4);
  for (std::size_t i = 0; i < roots.size(); ++i)
    threads.emplace_back([&, i] {
      roots[i] = &m.mime();
      EXPECT_EQ(m.links().size(), 2u);
    });
  for (auto& t : threads) t.join();
  for (const Part* r : roots) EXPECT_EQ(r, roots[0]);
}

TEST(Parsed, SharesItsText) {
  auto text = std::make_shared<const std::string>(kMsg);
  const Parsed m(text);
  EXPECT_EQ(m.shared_text().get(), text.get());
  EXPECT_EQ(m.text().data(), text->data());
}

TEST(Parsed, DegenerateMessages) {
  const Parsed empty{std::string()};
  EXPECT_TRUE(empty.header().empty());
  EXPECT_EQ(empty.message_id(), "");
  EXPECT_TRUE(empty.links().empty());
  EXPECT_EQ(empty.authors().single(), nullptr);
  const Parsed no_body("Subject: only a header\r\n");
  EXPECT_EQ(no_body.header().size(), 1u);
  EXPECT_TRUE(no_body.body().empty());
  const Parsed lf("From: a@b.example\nSubject: x\n\nbody\n");
  EXPECT_EQ(lf.authors().single_address(), "a@b.example");
  EXPECT_EQ(lf.body(), "body\n");
  const Parsed null_shared(std::shared_ptr<const std::string>{});
  EXPECT_EQ(null_shared.text(), "");
}

TEST(Authors, OneRuleForEveryStage) {
  auto authors = [](const std::string& header) { return authors_of(parse_message_header(header + "\r\n\r\n")); };
  EXPECT_EQ(authors("Subject: x").fields, 0u);
  EXPECT_EQ(authors("Subject: x").single(), nullptr);
  // Two From: fields: no single author, both domains counted.
  auto two = authors("From: a@one.example\r\nFrom: b@two.example");
  EXPECT_EQ(two.fields, 2u);
  EXPECT_EQ(two.single(), nullptr);
  EXPECT_EQ(two.domains(), (std::vector<std::string>{"one.example", "two.example"}));
  // One field, two mailboxes.
  EXPECT_EQ(authors("From: a@one.example, b@ONE.example").domains(), std::vector<std::string>{"one.example"});
  EXPECT_EQ(authors("From: a@one.example, b@ONE.example").single(), nullptr);
  // A group: its markers are not authors, its one member is.
  auto group = authors("From: Team: a@one.example;");
  ASSERT_EQ(group.mailboxes.size(), 1u);
  EXPECT_EQ(group.single_address(), "a@one.example");
  // No domain: no single author.
  EXPECT_EQ(authors("From: undisclosed").single(), nullptr);
  // Folded.
  EXPECT_EQ(authors("From: \"Long\r\n Name\" <x@y.example>").single_address(), "x@y.example");
  // Too many to read: marked, so that no check passes on the ones it read.
  std::string many = "From: ";
  for (std::size_t i = 0; i <= Authors::kMaxAuthors; ++i) many += (i ? ", u" : "u") + std::to_string(i) + "@m.example";
  auto m = authors(many);
  EXPECT_TRUE(m.truncated);
  EXPECT_EQ(m.mailboxes.size(), Authors::kMaxAuthors);
  EXPECT_FALSE(authors("From: a@one.example").truncated);
  // Group markers count towards the parser's bound: padding with empty groups, or groups of
  // one member, must not push an author out of sight unnoticed.
  std::string empty_groups = "From: me@mine.example";
  for (int i = 0; i < 150; ++i) empty_groups += ", :;";
  EXPECT_TRUE(authors(empty_groups + ", ceo@victim.example").truncated);
  std::string one_member = "From: ";
  for (int i = 0; i < 100; ++i) one_member += "g: me@mine.example;, ";
  EXPECT_TRUE(authors(one_member + "h: ceo@victim.example;").truncated);
}

TEST(Parsed, AHeaderOverItsLimitsHidesNoAuthor) {
  std::string h = "From: me@mine.example\r\n";
  for (int i = 0; i < 2100; ++i) h += "X-Filler: " + std::to_string(i) + "\r\n";
  const Parsed m(h + "From: ceo@victim.example\r\n\r\nbody\r\n");
  EXPECT_TRUE(m.header_truncated());
  EXPECT_TRUE(m.authors().truncated);
  EXPECT_EQ(m.body(), "body\r\n");
  const Parsed big("Subject: " + std::string(300 * 1024, 'x') + "\r\nFrom: ceo@victim.example\r\n\r\nb\r\n");
  EXPECT_TRUE(big.header_truncated());
  EXPECT_TRUE(big.authors().truncated);
  EXPECT_FALSE(Parsed(kMsg).header_truncated());
}

}  // namespace
}  // namespace mk::message
