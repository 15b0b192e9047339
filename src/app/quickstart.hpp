// app/quickstart.hpp: the files and system changes of `mailkeep quickstart`
// (app/quickstart_files.cpp): the commented config it writes, the hardened systemd unit, the
// system user, and writing files that must never be overwritten.
//
// SECURITY: quickstart runs as root on a real server. Files it creates are written to a
// temporary name, fsynced and linked into place only if nothing has that name (never
// replacing a config, key or unit the admin has). The data directory given to the system user
// is new, empty or that user's already, never `/` or a directory of the admin's; ownership
// changes walk it by file descriptor and follow no symbolic link, cross no mount and skip hard
// links to others' files. Commands run by absolute path with an argument vector and a fixed
// PATH, never through a shell.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "app/config.hpp"
#include "base/result.hpp"

namespace mk::app::quickstart {

// The configuration quickstart writes: every section it sets, commented, with Debian paths
// by default. It passes load_config (tests/unit/app/quickstart_test.cpp).
std::string config_text(const std::string& hostname, const std::string& data_dir,
                        const std::string& admin_address);

// The log collector's configuration (app/collector_cli.cpp reads it): listening on 6514 with
// the certificate quickstart made, alerts by mail to alert_to through relay (an MTA on the
// collector's machine without one), and where each mail server's entry goes.
struct CollectorFiles {
  std::string hostname, data_dir, tls_cert, tls_key, alert_to, relay;
};
std::string collector_config_text(const CollectorFiles& f);

// The systemd service unit: the server as the unprivileged system user kSystemUser, allowed
// to bind ports below 1024 and to write the data directory, and nothing else of note.
inline constexpr const char* kSystemUser = "mailkeep";
inline constexpr const char* kUnitName = "mailkeep.service";
// `mailkeep quickstart --collector`: the log collector on a second machine.
inline constexpr const char* kCollectorUnitName = "mailkeep-collector.service";
struct UnitSettings {
  std::string binary;       // absolute path of this mailkeep
  std::string config_path;  // absolute
  std::string data_dir;     // absolute
  std::uint64_t max_open_files = 0;
  std::int64_t stop_timeout_seconds = 0;
  // The log collector (`mailkeep collector`, kCollectorUnitName): port 6514 needs no
  // capability at all, and it has no reload.
  bool collector = false;
};
std::string systemd_unit(const UnitSettings& u);
// Open files the server may need: every connection the config allows, inbound and outbound,
// plus the store, message files being written, DNS and logs.
std::uint64_t max_open_files(const Config& cfg);
// systemd's stop timeout: the config's shutdown grace plus time to close the store.
std::int64_t stop_timeout_seconds(const Config& cfg);

// Writes `content` to `path` (mode `mode`) unless a file exists there: true when it was
// written, false when one was there (and is kept). Errors carry errno in Error::code.
Result<bool> create_file_once(const std::string& path, const std::string& content, mode_t mode);
// mkdir -p: `dir` itself, when new, gets `mode`; new parents get 0755 so that the system user
// can reach a 0700 data directory below them. Errors carry errno in Error::code.
Status make_dirs(const std::string& dir, mode_t mode);
// An absolute path for a path given on the command line.
std::string absolute_path(const std::string& path);

// Whether systemd is the init system here (what sd_booted(3) checks).
bool systemd_running();
// Creates the system user with the data directory as home and no login shell, unless it
// exists; `created` says which.
Status ensure_system_user(const std::string& home, bool& created);
Result<std::pair<uid_t, gid_t>> system_user_ids();
// Gives `dir` and everything under it to uid:gid, walking by directory file descriptors: no
// symbolic link below `dir` is followed (a link changes owner, never its target), nothing on
// another file system is touched, and a regular file with more than one name that uid does
// not own already is skipped (a hard link to a system file). Safe against the system user
// changing the tree meanwhile.
Status chown_tree(const std::string& dir, uid_t uid, gid_t gid);
// Whether quickstart may give `dir` to uid: it does not exist yet, is empty, or is uid's
// already. Refused: the root directory, and any other directory with something in it (the
// admin's /var or home), whose files would become the system user's.
Status check_data_dir_to_give(const std::string& dir, uid_t uid);
// The programs quickstart runs as root, by absolute path (Debian 12's locations).
inline constexpr const char* kUseradd = "/usr/sbin/useradd";
inline constexpr const char* kSystemctl = "/usr/bin/systemctl";
inline constexpr const char* kNologin = "/usr/sbin/nologin";
// Runs a program (argv[0] an absolute path; no PATH lookup, no shell) with an environment of
// only a system PATH, and waits: an error with its exit status.
Status run_program(const std::vector<std::string>& argv);

}  // namespace mk::app::quickstart
