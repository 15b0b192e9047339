// The annotated example must stay valid and document every key the loader knows.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "app/config.hpp"

namespace mk::app {
namespace {

TEST(ExampleConfig, LoadsCleanly) {
  auto c = load_config(std::string(MK_SOURCE_DIR) + "/mailkeep.example.toml");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->hostname, "mail.example.org");
  EXPECT_EQ(c->smtp.listen.size(), 2u);
}

TEST(ExampleConfig, DocumentsEveryKey) {
  std::ifstream f(std::string(MK_SOURCE_DIR) + "/mailkeep.example.toml");
  std::stringstream ss;
  ss << f.rdbuf();
  const std::string text = ss.str();
  for (const auto& key : config_keys()) {
    const auto dot = key.rfind('.');  // log.remote.collectors: [log.remote], collectors
    const std::string section = "[" + key.substr(0, dot) + "]";
    const std::string name = key.substr(dot + 1);
    const auto sec = text.find(section);
    ASSERT_NE(sec, std::string::npos) << section;
    // The key appears (set or commented out) after its section header.
    EXPECT_TRUE(text.find("\n" + name + " = ", sec) != std::string::npos ||
                text.find("# " + name + " = ", sec) != std::string::npos)
        << key << " is not documented in mailkeep.example.toml";
  }
}

}  // namespace
}  // namespace mk::app
