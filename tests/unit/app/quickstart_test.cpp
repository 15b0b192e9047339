// Tests for app/quickstart.hpp: the config quickstart writes loads cleanly and says what was
// asked; the systemd unit carries every hardening setting; files are created once.
#include "app/quickstart.hpp"

#include "app/app.hpp"

#include <gtest/gtest.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <optional>
#include <fstream>
#include <regex>
#include <sstream>

namespace mk::app::quickstart {
namespace {

TEST(QuickstartConfig, LoadsCleanlyWithWhatWasAsked) {
  const std::string text =
      config_text("mail.example.org", "/var/lib/mail keep \"x\"", "you@example.org");
  auto c = parse_config(text, "quickstart.toml", "/etc/mailkeep");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->hostname, "mail.example.org");
  EXPECT_EQ(c->data_dir, "/var/lib/mail keep \"x\"");  // quoted and escaped, read back as given
  EXPECT_EQ(c->security.admin_address, "you@example.org");
  EXPECT_FALSE(c->dev);
  EXPECT_TRUE(c->tls_cert.empty());  // the data directory's key.pem and cert.pem
  ASSERT_EQ(c->smtp.listen.size(), 2u);
  EXPECT_EQ(c->smtp.listen[0].port, 25);
  EXPECT_EQ(c->submission.listen_tls.at(0).port, 465);
  EXPECT_EQ(c->imap.listen_tls.at(0).port, 993);
}

TEST(QuickstartConfig, TheHeaderListsExactlyTheSectionsWritten) {
  const std::string text = config_text("mail.example.org", "/var/lib/mailkeep", "you@example.org");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(text, m, std::regex("# Sections:([^.\\n]*)\\.\\n")));
  std::string written;
  const std::regex header("\\n\\[([a-z]+)\\]\\n");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), header);
       it != std::sregex_iterator(); ++it)
    written += " [" + (*it)[1].str() + "]";
  EXPECT_EQ(m[1].str(), written);
  EXPECT_EQ(written,
            " [server] [log] [tls] [smtp] [submission] [imap] [http] [web] [metrics] [acme] [outbound] [security]");
}

TEST(QuickstartUnit, CarriesEveryHardeningSetting) {
  const std::string unit = systemd_unit(
      {"/usr/bin/mailkeep", "/etc/mailkeep/mailkeep.toml", "/var/lib/mailkeep", 4624, 60});
  const char* want[] = {
      "User=mailkeep",
      "Group=mailkeep",
      "ExecStart=/usr/bin/mailkeep serve --config /etc/mailkeep/mailkeep.toml",
      "ExecReload=/bin/kill -HUP $MAINPID",
      "Restart=on-failure",
      "TimeoutStopSec=60s",
      "UMask=0077",
      "LimitNOFILE=4624",
      "CapabilityBoundingSet=CAP_NET_BIND_SERVICE",
      "AmbientCapabilities=CAP_NET_BIND_SERVICE",
      "NoNewPrivileges=yes",
      "ProtectSystem=strict",
      "ReadWritePaths=/var/lib/mailkeep",
      "ProtectHome=yes",
      "PrivateTmp=yes",
      "PrivateDevices=yes",
      "ProtectKernelTunables=yes",
      "ProtectKernelModules=yes",
      "ProtectControlGroups=yes",
      "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX",
      "RestrictNamespaces=yes",
      "LockPersonality=yes",
      "MemoryDenyWriteExecute=yes",
      "SystemCallFilter=@system-service",
      "SystemCallArchitectures=native",
      "WantedBy=multi-user.target",
  };
  for (const char* line : want)
    EXPECT_NE(unit.find(std::string("\n") + line + "\n"), std::string::npos) << line;
}

TEST(QuickstartUnit, TheCollectorsRunsTheCollectorWithNoCapability) {
  UnitSettings u{"/usr/bin/mailkeep", "/etc/mailkeep/collector.toml", "/var/lib/mailkeep-collector", 500, 30};
  u.collector = true;
  const std::string unit = systemd_unit(u);
  EXPECT_NE(unit.find("\nExecStart=/usr/bin/mailkeep collector --config /etc/mailkeep/collector.toml\n"),
            std::string::npos)
      << unit;
  EXPECT_NE(unit.find("\nCapabilityBoundingSet=\n"), std::string::npos);
  EXPECT_EQ(unit.find("AmbientCapabilities"), std::string::npos);
  EXPECT_EQ(unit.find("ExecReload"), std::string::npos);  // the collector has no reload
  EXPECT_NE(unit.find("\nReadWritePaths=/var/lib/mailkeep-collector\n"), std::string::npos);
  EXPECT_NE(unit.find("# mailkeep-collector.service: the mailkeep log collector"), std::string::npos);
}

TEST(QuickstartCollectorConfig, LoadsCleanlyWithWhatWasAsked) {
  char tmpl[] = "/tmp/mk-qs-collector-XXXXXX";
  const std::string dir = ::mkdtemp(tmpl);
  for (const std::string relay : {"", "mail.example.org:25"}) {
    const std::string path = dir + "/collector.toml";
    std::ofstream(path, std::ios::trunc) << collector_config_text(
        {"logs.example.org", "/var/lib/mk \"c\"", "/var/lib/mk/tls/c.pem", "/var/lib/mk/tls/k.pem",
         "admin@example.org", relay});
    auto c = load_collector_config(path);
    ASSERT_TRUE(c.ok()) << c.error().message;
    EXPECT_EQ(c->hostname, "logs.example.org");
    EXPECT_EQ(c->data_dir, "/var/lib/mk \"c\"");
    ASSERT_EQ(c->listen.size(), 2u);
    EXPECT_EQ(c->listen[0].second, 6514);
    EXPECT_EQ(c->tls_cert, "/var/lib/mk/tls/c.pem");
    EXPECT_EQ(c->alerts.mail_to, "admin@example.org");
    EXPECT_EQ(c->alerts.mail_from, "collector@logs.example.org");
    EXPECT_EQ(c->alerts.relay, relay.empty() ? "127.0.0.1:25" : relay);
    EXPECT_TRUE(c->servers.empty());  // the admin adds each server's `mailkeep log key`
  }
  std::filesystem::remove_all(dir);
}

TEST(QuickstartUnit, PathsAreQuotedAndPercentsDoubled) {
  const std::string unit =
      systemd_unit({"/opt/mail keep/mailkeep", "/etc/100%/m.toml", "/srv/mail", 1, 1});
  EXPECT_NE(unit.find("\nExecStart=\"/opt/mail keep/mailkeep\" serve --config /etc/100%%/m.toml\n"),
            std::string::npos)
      << unit;
}

TEST(QuickstartUnit, OpenFilesCoverEveryConnectionTheConfigAllows) {
  auto c = parse_config(config_text("mail.example.org", "/var/lib/mailkeep", "you@example.org"),
                        "q.toml", "/");
  ASSERT_TRUE(c.ok()) << c.error().message;
  // Every listener's connection limit and the outbound one, read from the parsed config so a
  // new default or a forgotten protocol shows here, plus the 1024 files beside them.
  const std::uint64_t connections = c->smtp.limits.max_connections +
                                    c->submission.max_connections +
                                    c->imap.limits.max_connections +
                                    c->http.limits.max_connections + c->outbound.max_connections;
  EXPECT_EQ(connections, 1000u + 500u + 2000u + 1000u + 100u);  // the values quickstart writes
  EXPECT_EQ(max_open_files(*c), connections + 1024u);
  // An admin's larger HTTP limit raises the unit's limit by as much.
  std::string text = config_text("mail.example.org", "/var/lib/mailkeep", "you@example.org");
  text.replace(text.find("[http]\n"), 7, "[http]\nmax_connections = 7777\n");
  auto more = parse_config(text, "q.toml", "/");
  ASSERT_TRUE(more.ok()) << more.error().message;
  EXPECT_EQ(max_open_files(*more), connections - 1000u + 7777u + 1024u);
  EXPECT_EQ(stop_timeout_seconds(*c), 30 + 30);
}

TEST(QuickstartFiles, CreatedOnceWithTheirMode) {
  char tmpl[] = "/tmp/mk-qs-XXXXXX";
  const std::string dir = ::mkdtemp(tmpl);
  const std::string path = dir + "/a/b/mailkeep.toml";
  ASSERT_TRUE(make_dirs(dir + "/a/b", 0755).ok());
  auto first = create_file_once(path, "one\n", 0640);
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_TRUE(*first);
  auto second = create_file_once(path, "two\n", 0600);
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_FALSE(*second);
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  EXPECT_EQ(ss.str(), "one\n");
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir + "/a/b"), {}),
            1);  // no temporary left
  auto bad = create_file_once("/proc/mk-nowhere/mailkeep.toml", "x", 0640);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().code, 0);
  std::filesystem::remove_all(dir);
}

// A temporary directory, removed at the end of the test.
struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/mk-qs-XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};

mode_t mode_of(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

uid_t owner_of(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
  return st.st_uid;
}

void write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

TEST(QuickstartFiles, NewParentsAreTraversableAndOnlyTheDataDirectoryIsPrivate) {
  TempDir t;
  const mode_t old = ::umask(077);  // as under a strict sudo: it must not decide the parents
  auto made = make_dirs(t.path + "/new/parent/data", 0700);
  ::umask(old);
  ASSERT_TRUE(made.ok()) << made.error().message;
  EXPECT_EQ(mode_of(t.path + "/new"), 0755u);
  EXPECT_EQ(mode_of(t.path + "/new/parent"), 0755u);
  EXPECT_EQ(mode_of(t.path + "/new/parent/data"), 0700u);
  ASSERT_EQ(::chmod(t.path.c_str(), 0711), 0);
  ASSERT_TRUE(make_dirs(t.path + "/new/parent/data", 0700).ok());  // existing ones are kept
  EXPECT_EQ(mode_of(t.path), 0711u);
}

// The ids of an unprivileged user to give files to; the tests that chown need root.
std::optional<std::pair<uid_t, gid_t>> nobody_as_root() {
  if (::geteuid() != 0) return std::nullopt;
  const passwd* pw = ::getpwnam("nobody");
  if (!pw || pw->pw_uid == 0) return std::nullopt;
  return std::pair{pw->pw_uid, pw->pw_gid};
}

TEST(QuickstartChown, GivesTheTreeButNoLinkTargetOrHardLinkedFile) {
  auto nobody = nobody_as_root();
  if (!nobody) GTEST_SKIP() << "needs root and a user nobody";
  const auto [uid, gid] = *nobody;
  TempDir t;
  const std::string data = t.path + "/data", outside = t.path + "/outside";
  ASSERT_TRUE(make_dirs(data + "/sub/deeper", 0700).ok());
  ASSERT_TRUE(make_dirs(outside + "/dir", 0755).ok());
  write(data + "/sub/mail", "m");
  write(data + "/sub/deeper/blob", "b");
  write(outside + "/passwd", "root:x:0:0");
  write(outside + "/shadow", "root:*");
  ASSERT_EQ(::symlink((outside + "/passwd").c_str(), (data + "/file-link").c_str()), 0);
  ASSERT_EQ(::symlink((outside + "/dir").c_str(), (data + "/sub/dir-link").c_str()), 0);
  ASSERT_EQ(::link((outside + "/shadow").c_str(), (data + "/sub/hard").c_str()), 0);

  const auto sub_mode = mode_of(data + "/sub");
  auto s = chown_tree(data, uid, gid);
  ASSERT_TRUE(s.ok()) << s.error().message;

  for (const char* mine : {"", "/sub", "/sub/deeper", "/sub/mail", "/sub/deeper/blob",
                           "/file-link", "/sub/dir-link"})
    EXPECT_EQ(owner_of(data + mine), uid) << mine;  // links themselves, never their targets
  for (const char* theirs : {"/passwd", "/dir", "/shadow"})
    EXPECT_EQ(owner_of(outside + theirs), 0u) << theirs;
  EXPECT_EQ(owner_of(data + "/sub/hard"), 0u);  // the same file as outside/shadow: kept
  EXPECT_EQ(mode_of(data + "/sub"), sub_mode);  // modes untouched
}

TEST(QuickstartChown, AHardLinkedFileAlreadyTheUsersStaysTheirs) {
  auto nobody = nobody_as_root();
  if (!nobody) GTEST_SKIP() << "needs root and a user nobody";
  const auto [uid, gid] = *nobody;
  TempDir t;
  write(t.path + "/a", "x");
  ASSERT_EQ(::link((t.path + "/a").c_str(), (t.path + "/b").c_str()), 0);
  ASSERT_EQ(::chown((t.path + "/a").c_str(), uid, 0), 0);  // group still root's
  ASSERT_TRUE(chown_tree(t.path, uid, gid).ok());
  struct stat st {};
  ASSERT_EQ(::stat((t.path + "/b").c_str(), &st), 0);
  EXPECT_EQ(st.st_gid, gid);  // the user's file already: its group follows
}

TEST(QuickstartDataDir, OnlyANewEmptyOrTheUsersDirectoryIsGiven) {
  TempDir t;
  const uid_t someone = 4242;
  EXPECT_TRUE(check_data_dir_to_give(t.path + "/new", someone).ok());
  EXPECT_TRUE(check_data_dir_to_give(t.path, someone).ok());  // empty

  auto root = check_data_dir_to_give("/", someone);
  ASSERT_FALSE(root.ok());
  EXPECT_EQ(root.error().message, "/ is the root directory: the data directory becomes the "
                                  "mailkeep user's");
  EXPECT_FALSE(check_data_dir_to_give("/tmp/..", someone).ok());  // the same directory

  write(t.path + "/notes", "mine");
  auto full = check_data_dir_to_give(t.path, someone);
  ASSERT_FALSE(full.ok());
  EXPECT_EQ(full.error().message,
            t.path + " is not empty and does not belong to the mailkeep user: quickstart would "
                     "give everything in it to that user");
  EXPECT_TRUE(check_data_dir_to_give(t.path, ::geteuid()).ok());  // the user's own already
}

TEST(QuickstartPrograms, RunByAbsolutePathOnly) {
  auto relative = run_program({"true"});
  ASSERT_FALSE(relative.ok());
  EXPECT_EQ(relative.error().message, "not an absolute program path: true");
  EXPECT_TRUE(run_program({"/bin/true"}).ok());
  auto failed = run_program({"/bin/false"});
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().message, "`/bin/false` failed (exit status 1)");
  // The program sees a system PATH only, whatever the caller's.
  TempDir t;
  const std::string out = t.path + "/env";
  ASSERT_TRUE(run_program({"/bin/sh", "-c", "echo \"$PATH\" > " + out}).ok());
  std::ifstream f(out);
  std::string path;
  std::getline(f, path);
  EXPECT_EQ(path, "/usr/sbin:/usr/bin:/sbin:/bin");
}

}  // namespace
}  // namespace mk::app::quickstart
