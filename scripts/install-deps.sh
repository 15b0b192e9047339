#!/usr/bin/env bash
# Installs exactly the Debian packages mailkeep needs to build, test and benchmark.
# Idempotent: packages already present are not touched, and apt is not called at all
# when nothing is missing. Run as root (CI and the dev machines are root).
# Usage: install-deps.sh [--bench]   (--bench adds the benchmark peers: Postfix, Dovecot,
#        bogofilter, SpamAssassin, rspamd with redis)
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake ninja-build ccache pkg-config clang libclang-rt-14-dev
  # libraries (see README "Dependencies")
  libboost1.81-dev libssl-dev libsqlite3-dev libsodium-dev libtomlplusplus-dev
  libcli11-dev libfmt-dev libgtest-dev libgmock-dev zlib1g-dev libunbound-dev libpsl-dev publicsuffix
  libpugixml-dev libzip-dev libboost-json1.81-dev
  # real peers for the integration tests
  swaks libnet-ssleay-perl python3 openssl testssl.sh isync offlineimap3 mutt tmux msmtp
  # interimap syncs mailkeep with a private Dovecot (its imap binary as a tunnel, never the service)
  interimap dovecot-imapd
  python3-dkim python3-nacl opendkim opendkim-tools python3-dnslib python3-aiosmtpd dns-root-data postfix
  # a third-party syslog-over-TLS collector for log shipping (RFC 5425); never the system logger
  rsyslog rsyslog-gnutls
  # nft drops a collector's port in the log-shipping fault drills
  nftables
  nsd ldnsutils python3-spf python3-yaml oathtool
  # systemd-analyze checks the unit quickstart writes (it runs without systemd as PID 1)
  systemd
  pebble
  # promtool checks the Prometheus alert rules (check rules, test rules) and the /metrics
  # exposition; the integration test scrapes mailkeep with a private prometheus
  prometheus
  # the web pages and API: a headless browser driven by Selenium, and the OpenAPI document's
  # JSON Schemas checked against the answers
  chromium chromium-driver python3-selenium python3-jsonschema fonts-dejavu-core
  # zbarimg reads the TOTP enrolment's QR codes back (a decoder we did not write)
  zbar-tools
)
if [ "${1:-}" = "--bench" ]; then
  # Dovecot (in the list above: the interimap test's other side) is also the IMAP benchmark
  # peer: installed unconfigured and never started as a system service (bench/ runs private
  # instances). Postfix is in the list above: the outbound tests run a private instance as a
  # remote MX. look(1) is the breached-list peer; bogofilter and SpamAssassin (spamd, spamc;
  # Debian 12 ships spamd as its own package) are the spam-filter peers, and so is rspamd,
  # with redis-server for its Bayes classifier (bench/spam runs private instances of both).
  # ab (apache2-utils) is the web benchmark's load generator.
  packages+=(bsdextrautils bogofilter spamassassin spamd spamc rspamd redis-server apache2-utils)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: must run as root to install packages (try: sudo $0)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# Postfix (a test and benchmark peer) must never configure itself as the machine's MTA.
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
# Benchmark peers run as private instances only; a system-wide spamd or dovecot would
# listen on the machine's ports.
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  for unit in spamd dovecot rspamd redis-server prometheus; do
    systemctl disable --now "$unit" >/dev/null 2>&1 || true
  done
  # rsyslog only when this run installed it: a machine's own system logger is left alone.
  if printf '%s\n' "${missing[@]}" | grep -qx rsyslog; then
    systemctl disable --now rsyslog syslog.socket >/dev/null 2>&1 || true
  fi
fi
