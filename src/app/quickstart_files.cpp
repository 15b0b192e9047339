// app/quickstart_files.cpp: what `mailkeep quickstart` writes outside the store: the config
// file, the systemd unit, the system user and the data directory's ownership.
// SECURITY: see app/quickstart.hpp.
#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <pwd.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <memory>

#include "app/quickstart.hpp"
#include "base/strings.hpp"

extern char** environ;

namespace mk::app::quickstart {
namespace {

// Beyond the connections: the SQLite index and its WAL, message files being written, DNS
// sockets, the security log, the model files.
constexpr std::uint64_t kFilesBesideConnections = 1024;
// After the shutdown grace, the time the server may take to close the store and exit.
constexpr std::int64_t kStopSlackSeconds = 30;
// Parents make_dirs creates for the data directory: others (the system user) traverse them.
constexpr mode_t kParentDirMode = 0755;
// How deep chown_tree descends: a data directory is a few levels deep; a deeper tree is not one.
constexpr int kMaxTreeDepth = 32;
// The environment of the programs quickstart runs as root: a PATH of system directories only.
constexpr const char* kProgramPath = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";

Error errno_error(const std::string& what) {
  const int e = errno;
  return Error{fmt::format("{}: {}", what, std::strerror(e)), e};
}

// A TOML basic string (TOML 1.0 §String): quotes, backslashes and control characters escaped.
std::string toml_string(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\')
      out += '\\', out += c;
    else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
      out += fmt::format("\\u{:04x}", static_cast<unsigned char>(c));
    else
      out += c;
  }
  return out + "\"";
}

// One word of a unit file setting (systemd.syntax(7)): quoted when it holds spaces or quotes,
// and '%' doubled, since systemd expands %-specifiers in paths.
std::string unit_word(std::string_view s) {
  std::string body;
  bool quote = false;
  for (char c : s) {
    if (c == '%')
      body += "%%";
    else if (c == '"' || c == '\\')
      body += '\\', body += c, quote = true;
    else
      body += c, quote |= c == ' ' || c == '\t' || c == '\'';
  }
  return quote ? "\"" + body + "\"" : body;
}

struct Section {
  const char* name;
  std::string body;  // its comments and keys
};

}  // namespace

std::string config_text(const std::string& hostname, const std::string& data_dir,
                        const std::string& admin_address) {
  // The sections quickstart writes, in order: the one place to add a section. Values are the defaults of app/config.cpp
  // made visible; mailkeep.example.toml documents every key.
  const std::vector<Section> sections = {
      {"server",
       fmt::format(
           "# The name this server greets with: your MX records point at it and its certificate\n"
           "# names it.\n"
           "hostname = {}\n"
           "# Accounts, mail, the queue, DKIM and TLS keys. Back it up.\n"
           "data_dir = {}\n"
           "# On SIGTERM, mail transactions in progress get this long to finish.\n"
           "shutdown_grace = \"30s\"\n",
           toml_string(hostname), toml_string(data_dir))},
      {"log",
       "# Logs go to stderr (the journal under systemd): \"kv\" or \"json\" lines.\n"
       "format = \"kv\"\n"
       "level = \"info\"\n"},
      {"tls",
       "# Unset cert and key: the server presents DATA_DIR/tls/cert.pem for DATA_DIR/tls/key.pem, "
       "the\n"
       "# key its published TLSA record names (self-signed until a CA-issued certificate for\n"
       "# that key replaces it). Set both to use a certificate of your own:\n"
       "# cert = \"/etc/mailkeep/fullchain.pem\"\n"
       "# key = \"/etc/mailkeep/privkey.pem\"\n"
       "min_version = \"1.2\"\n"},
      {"smtp",
       "# Mail from the Internet (MX). Numeric addresses only; IPv6 in brackets.\n"
       "listen = [\"0.0.0.0:25\", \"[::]:25\"]\n"
       "max_message_size = \"50MiB\"\n"
       "max_connections = 1000\n"},
      {"submission",
       "# Your users' mail clients send here, after logging in over TLS.\n"
       "listen = [\"0.0.0.0:587\", \"[::]:587\"]\n"
       "listen_tls = [\"0.0.0.0:465\", \"[::]:465\"]\n"
       "max_connections = 500\n"},
      {"imap",
       "# Your users' mail clients read mail here (login over TLS only).\n"
       "listen = [\"0.0.0.0:143\", \"[::]:143\"]\n"
       "listen_tls = [\"0.0.0.0:993\", \"[::]:993\"]\n"
       "max_connections = 2000\n"},
      {"http",
       "# HTTP answers the CA's challenges and sends everything else to HTTPS; HTTPS serves each\n"
       "# domain's MTA-STS policy and the files mail clients configure themselves from.\n"
       "listen = [\"0.0.0.0:80\", \"[::]:80\"]\n"
       "listen_tls = [\"0.0.0.0:443\", \"[::]:443\"]\n"},
      {"web",
       fmt::format("# Who may use the admin pages (https://HOSTNAME/admin/) and the admin API; every\n"
                   "# account can log in to its own page at /account/.\n"
                   "admins = [{}]\n",
                   toml_string(admin_address))},
      {"metrics",
       "# Prometheus metrics at http://127.0.0.1:9325/metrics (docs/metrics.md); the alert rules\n"
       "# are in deploy/prometheus/. Another address needs token_file (a bearer token).\n"
       "listen = [\"127.0.0.1:9325\"]\n"},
      {"acme",
       fmt::format(
           "# Certificates from Let's Encrypt for the hostname and each domain's mta-sts.,\n"
           "# autoconfig. and autodiscover. names, renewed automatically. \"\" turns it off.\n"
           "directory = \"https://acme-v02.api.letsencrypt.org/directory\"\n"
           "contact = {}\n"
           "challenge = \"http-01\"\n",
           toml_string(admin_address))},
      {"outbound",
       "# Mail to other domains: retried for max_age, then returned to its sender.\n"
       "max_age = \"5d\"\n"
       "max_connections = 100\n"},
      {"security",
       fmt::format(
           "# Security alerts about the whole server (breached passwords, held accounts) go here.\n"
           "admin_address = {}\n"
           "# A password found in the breached-password list (mailkeep breached import FILE)\n"
           "# is refused at login until it is changed.\n"
           "breached_passwords = \"block\"\n",
           toml_string(admin_address))},
  };
  char day[16];
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&now, &tm);
  std::strftime(day, sizeof day, "%Y-%m-%d", &tm);
  std::string names;
  for (const auto& s : sections) names += fmt::format(" [{}]", s.name);
  std::string out = fmt::format(
      "# mailkeep.toml, written by `mailkeep quickstart` on {}.\n"
      "# Sections:{}.\n"
      "# Every key, its default and what it does: mailkeep.example.toml.\n"
      "# After an edit: mailkeep --config THIS_FILE config check, then restart the server.\n",
      day, names);
  for (const auto& s : sections) out += fmt::format("\n[{}]\n{}", s.name, s.body);
  return out;
}

std::string systemd_unit(const UnitSettings& u) {
  // What differs between the mail server and the log collector.
  const std::string what = u.collector ? "mailkeep log collector" : "mailkeep mail server";
  const std::string exec =
      u.collector ? fmt::format("ExecStart={} collector --config {}\n", unit_word(u.binary), unit_word(u.config_path))
                  : fmt::format("ExecStart={} serve --config {}\n"
                                "# systemctl reload: look at the certificate again now (after `mailkeep tls "
                                "rollover`).\n"
                                "ExecReload=/bin/kill -HUP $MAINPID\n",
                                unit_word(u.binary), unit_word(u.config_path));
  const std::string caps = u.collector
                               ? "# Port 6514 is above 1024: no capability at all.\n"
                                 "CapabilityBoundingSet=\n"
                               : "# Ports 25, 143, 465, 587 and 993 are below 1024: that one capability, nothing "
                                 "else.\n"
                                 "CapabilityBoundingSet=CAP_NET_BIND_SERVICE\n"
                                 "AmbientCapabilities=CAP_NET_BIND_SERVICE\n";
  return fmt::format(
      "# {unit}: the {what} as an unprivileged system user, written by `mailkeep quickstart`.\n"
      "# Check it with: systemd-analyze security {unit}\n"
      "[Unit]\n"
      "Description={what}\n"
      "After=network-online.target\n"
      "Wants=network-online.target\n"
      "\n"
      "[Service]\n"
      "Type=simple\n"
      "User={user}\n"
      "Group={user}\n"
      "{exec}"
      "Restart=on-failure\n"
      "RestartSec=5s\n"
      "TimeoutStopSec={stop}s\n"
      "UMask=0077\n"
      "LimitNOFILE={nofile}\n"
      "{caps}"
      "NoNewPrivileges=yes\n"
      "# The whole file system is read-only but the data directory.\n"
      "ProtectSystem=strict\n"
      "ReadWritePaths={data_dir}\n"
      "ProtectHome=yes\n"
      "PrivateTmp=yes\n"
      "PrivateDevices=yes\n"
      "PrivateMounts=yes\n"
      "ProtectProc=invisible\n"
      "RemoveIPC=yes\n"
      "ProtectKernelTunables=yes\n"
      "ProtectKernelModules=yes\n"
      "ProtectKernelLogs=yes\n"
      "ProtectControlGroups=yes\n"
      "ProtectClock=yes\n"
      "ProtectHostname=yes\n"
      "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX\n"
      "RestrictNamespaces=yes\n"
      "RestrictRealtime=yes\n"
      "RestrictSUIDSGID=yes\n"
      "LockPersonality=yes\n"
      "MemoryDenyWriteExecute=yes\n"
      "SystemCallFilter=@system-service\n"
      "SystemCallFilter=~@privileged @resources\n"
      "SystemCallErrorNumber=EPERM\n"
      "SystemCallArchitectures=native\n"
      "\n"
      "[Install]\n"
      "WantedBy=multi-user.target\n",
      fmt::arg("unit", u.collector ? kCollectorUnitName : kUnitName), fmt::arg("user", kSystemUser),
      fmt::arg("what", what), fmt::arg("exec", exec), fmt::arg("caps", caps),
      fmt::arg("stop", u.stop_timeout_seconds), fmt::arg("nofile", u.max_open_files),
      fmt::arg("data_dir", unit_word(u.data_dir)));
}

std::string collector_config_text(const CollectorFiles& f) {
  const std::string mail = fmt::format(
      "# Alert mail goes through alert_relay, a mail server that takes mail for alert_mail_to\n"
      "# from this machine (your mail server's MX, e.g. \"mail.example.org:25\"; the default is\n"
      "# an MTA on this machine, 127.0.0.1:25).\n"
      "alert_mail_to = {}\n"
      "{}alert_relay = {}\n",
      toml_string(f.alert_to), f.relay.empty() ? "# " : "", toml_string(f.relay.empty() ? "127.0.0.1:25" : f.relay));
  return fmt::format(
      "# mailkeep log collector, written by `mailkeep quickstart --collector`.\n"
      "# It keeps what mailkeep servers ship (their security logs, [log.remote]), checks every\n"
      "# record's chain as it arrives, and alerts within a minute when a server goes silent or\n"
      "# its log is cut, edited, replaced or rewound (docs/log-shipping.md).\n"
      "[collector]\n"
      "hostname = {host}\n"
      "# Syslog over TLS (RFC 5425). Only the mail servers need to reach it: firewall the rest.\n"
      "listen = [\"0.0.0.0:6514\", \"[::]:6514\"]\n"
      "data_dir = {data}\n"
      "# A self-signed certificate for {bare}: give each mail server a copy as its\n"
      "# log.remote.ca_file (the servers verify it), or replace both files with a CA's.\n"
      "tls_cert = {cert}\n"
      "tls_key = {key}\n"
      "# Alerts: silence (no record and no heartbeat for silence_after), gaps, edited or rewound\n"
      "# logs, clock jumps, and the servers' own tampering reports.\n"
      "silence_after = \"45s\"\n"
      "{mail}"
      "# alert_webhook = \"https://hooks.example.org/mailkeep\"   # a JSON POST per alert\n"
      "alert_mail_from = {from}\n"
      "\n"
      "# One [[collector.server]] per mail server, as `mailkeep log key` prints it there:\n"
      "# [[collector.server]]\n"
      "# name = \"mail.example.org\"\n"
      "# key = \"ed25519:...\"\n",
      fmt::arg("host", toml_string(f.hostname)), fmt::arg("bare", f.hostname),
      fmt::arg("data", toml_string(f.data_dir)), fmt::arg("cert", toml_string(f.tls_cert)),
      fmt::arg("key", toml_string(f.tls_key)), fmt::arg("mail", mail),
      fmt::arg("from", toml_string("collector@" + f.hostname)));
}

std::uint64_t max_open_files(const Config& cfg) {
  return cfg.smtp.limits.max_connections + cfg.submission.max_connections +
         cfg.imap.limits.max_connections + cfg.http.limits.max_connections +
         cfg.outbound.max_connections + kFilesBesideConnections;
}

std::int64_t stop_timeout_seconds(const Config& cfg) {
  return whole_seconds(cfg.shutdown_grace) + kStopSlackSeconds;
}

std::string absolute_path(const std::string& path) {
  if (path.empty() || path[0] == '/') return path;
  char cwd[4096];
  if (!::getcwd(cwd, sizeof cwd)) return path;
  std::string p = path;
  while (p.starts_with("./")) p.erase(0, 2);
  return std::string(cwd) + (std::string(cwd) == "/" ? "" : "/") + p;
}

Status make_dirs(const std::string& dir, mode_t mode) {
  for (std::size_t i = 1; i <= dir.size(); ++i) {
    if (i != dir.size() && dir[i] != '/') continue;
    const std::string part = dir.substr(0, i);
    // Only the directory asked for gets `mode`: a parent made 0700 would keep the system user
    // out of the data directory below it.
    const mode_t want = i == dir.size() ? mode : kParentDirMode;
    if (::mkdir(part.c_str(), want) == 0) {
      // The umask (0077 under some sudo setups) must not decide who may traverse it.
      const int fd = ::open(part.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      const bool ok = fd >= 0 && ::fchmod(fd, want) == 0;
      if (fd >= 0) ::close(fd);
      if (!ok) return errno_error("cannot set the mode of " + part);
    } else if (errno != EEXIST) {
      return errno_error("cannot create " + part);
    }
  }
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) return errno_error("cannot create " + dir);
  if (!S_ISDIR(st.st_mode)) {
    errno = ENOTDIR;
    return errno_error(dir);
  }
  return {};
}

Result<bool> create_file_once(const std::string& path, const std::string& content, mode_t mode) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) return false;
  const auto slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "."
                          : slash == 0               ? "/"
                                                     : path.substr(0, slash);
  const std::string tmp = fmt::format("{}/.{}.tmp-{}", dir, path.substr(slash + 1), random_id(6));
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) return errno_error("cannot write " + path);
  std::size_t off = 0;
  bool ok = ::fchmod(fd, mode) == 0;  // the umask does not decide a config's or unit's mode
  while (ok && off < content.size()) {
    const ssize_t n = ::write(fd, content.data() + off, content.size() - off);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) off += std::size_t(n);
  }
  ok = ok && ::fsync(fd) == 0;
  Error failure = ok ? Error{} : errno_error("cannot write " + path);
  ::close(fd);
  if (ok && ::link(tmp.c_str(), path.c_str()) != 0) {
    ok = false;
    failure = errno_error("cannot create " + path);
  }
  ::unlink(tmp.c_str());
  if (!ok) return failure.code == EEXIST ? Result<bool>(false) : Result<bool>(failure);
  if (const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dfd >= 0) {
    (void)::fsync(dfd);  // the new name's durability; the content already is
    ::close(dfd);
  }
  return true;
}

bool systemd_running() {
  struct stat st {};
  return ::lstat("/run/systemd/system", &st) == 0 && S_ISDIR(st.st_mode);
}

Status run_program(const std::vector<std::string>& argv) {
  // Run as root: an absolute path and a fixed environment, so neither the caller's PATH nor
  // anything else it exports picks the program or changes what it does.
  if (argv.empty() || argv[0].empty() || argv[0][0] != '/')
    return err(fmt::format("not an absolute program path: {}", argv.empty() ? "" : argv[0]));
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  char* env[] = {const_cast<char*>(kProgramPath), nullptr};
  pid_t pid = 0;
  if (const int e = ::posix_spawn(&pid, args[0], nullptr, nullptr, args.data(), env); e != 0)
    return err(fmt::format("cannot run {}: {}", argv[0], std::strerror(e)));
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return errno_error("waiting for " + argv[0]);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return {};
  std::string cmd;
  for (const auto& a : argv) cmd += (cmd.empty() ? "" : " ") + a;
  return err(fmt::format("`{}` failed ({} {})", cmd, WIFEXITED(status) ? "exit status" : "signal",
                         WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status)));
}

Result<std::pair<uid_t, gid_t>> system_user_ids() {
  const passwd* pw = ::getpwnam(kSystemUser);
  if (!pw) return err(fmt::format("no user {}", kSystemUser));
  return std::pair{pw->pw_uid, pw->pw_gid};
}

Status ensure_system_user(const std::string& home, bool& created) {
  created = false;
  if (system_user_ids()) return {};
  if (auto s = run_program({kUseradd, "--system", "--user-group", "--home-dir", home,
                            "--no-create-home", "--shell", kNologin, kSystemUser});
      !s)
    return s;
  created = true;
  return {};
}

namespace {

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

// Gives what `dfd` holds to uid:gid, one name at a time relative to the directory's own file
// descriptor, so no path is looked up twice: a name the system user swaps for a symbolic link
// while this runs is opened as the link (O_NOFOLLOW) and the link is all that changes owner.
// Each entry is opened (directories to read, everything else O_PATH, which opens nothing a
// device would notice), checked through that descriptor, and chowned through it.
Status give_entries(int dfd, const std::string& shown, dev_t dev, uid_t uid, gid_t gid,
                    int depth) {
  if (depth > kMaxTreeDepth)
    return err(fmt::format("cannot give {} to {}: deeper than {} levels", shown, kSystemUser,
                           kMaxTreeDepth));
  const int listing = ::dup(dfd);
  if (listing < 0) return errno_error("cannot read " + shown);
  DIR* d = ::fdopendir(listing);
  if (!d) {
    ::close(listing);
    return errno_error("cannot read " + shown);
  }
  std::unique_ptr<DIR, int (*)(DIR*)> closer(d, ::closedir);
  ::rewinddir(d);
  while (true) {
    errno = 0;
    const dirent* e = ::readdir(d);
    if (!e) {
      if (errno != 0) return errno_error("cannot read " + shown);
      return {};
    }
    const std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    const std::string path = shown + "/" + name;
    Fd f{::openat(dfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)};
    const bool is_dir = f.fd >= 0;
    if (!is_dir && (errno == ENOTDIR || errno == ELOOP))
      f.fd = ::openat(dfd, name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (f.fd < 0) {
      if (errno == ENOENT) continue;  // gone meanwhile
      return errno_error("cannot give " + path + " to " + kSystemUser);
    }
    struct stat st {};
    if (::fstat(f.fd, &st) != 0) return errno_error("cannot give " + path + " to " + kSystemUser);
    // Another file system mounted inside (or bind-mounted there) is not the data directory's.
    if (st.st_dev != dev) continue;
    // A second name for a file someone else owns: a hard link from outside (/etc/shadow) must
    // not become the system user's. The server's own files have one name.
    if (S_ISREG(st.st_mode) && st.st_nlink > 1 && st.st_uid != uid) continue;
    if ((st.st_uid != uid || st.st_gid != gid) &&
        ::fchownat(f.fd, "", uid, gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) != 0)
      return errno_error("cannot give " + path + " to " + kSystemUser);
    if (is_dir)
      if (auto s = give_entries(f.fd, path, dev, uid, gid, depth + 1); !s) return s;
  }
}

}  // namespace

Status chown_tree(const std::string& dir, uid_t uid, gid_t gid) {
  // The data directory's own path is the admin's (it may be a symbolic link the admin made);
  // nothing below it is followed.
  Fd root{::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
  if (root.fd < 0) return errno_error("cannot give " + dir + " to " + kSystemUser);
  struct stat st {};
  if (::fstat(root.fd, &st) != 0) return errno_error("cannot give " + dir + " to " + kSystemUser);
  if ((st.st_uid != uid || st.st_gid != gid) && ::fchown(root.fd, uid, gid) != 0)
    return errno_error("cannot give " + dir + " to " + kSystemUser);
  return give_entries(root.fd, dir, st.st_dev, uid, gid, 0);
}

Status check_data_dir_to_give(const std::string& dir, uid_t uid) {
  struct stat st {}, root {};
  if (::stat(dir.c_str(), &st) != 0) {
    if (errno == ENOENT) return {};  // quickstart makes it
    return errno_error("cannot use " + dir);
  }
  if (::stat("/", &root) == 0 && st.st_dev == root.st_dev && st.st_ino == root.st_ino)
    return err(fmt::format("{} is the root directory: the data directory becomes the {} user's",
                           dir, kSystemUser));
  if (!S_ISDIR(st.st_mode)) {
    errno = ENOTDIR;
    return errno_error(dir);
  }
  if (st.st_uid == uid) return {};
  Fd fd{::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
  if (fd.fd < 0) return errno_error("cannot read " + dir);
  DIR* d = ::fdopendir(fd.fd);
  if (!d) return errno_error("cannot read " + dir);
  fd.fd = -1;  // the DIR owns it now
  std::unique_ptr<DIR, int (*)(DIR*)> closer(d, ::closedir);
  while (const dirent* e = ::readdir(d)) {
    const std::string_view name = e->d_name;
    if (name != "." && name != "..")
      return err(fmt::format(
          "{} is not empty and does not belong to the {} user: quickstart would give everything "
          "in it to that user",
          dir, kSystemUser));
  }
  return {};
}

}  // namespace mk::app::quickstart
