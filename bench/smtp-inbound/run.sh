#!/usr/bin/env bash
# bench/smtp-inbound: Postfix's smtp-source against mailkeep and against a private Postfix
# doing the same local virtual-mailbox delivery, side by side in one run, same machine,
# 4 KiB messages at 1 and 20 sessions. Prints messages/second for each, the ratio, the
# resident memory (PSS) of each server under load, and the servers' CPU time per message
# (user + system, exited children included: for Postfix every process of the instance).
#
# mailkeep's figure is its acceptance rate, and every 250 it gives means the message is
# durable in the mailbox. Postfix answers 250 once the message is in its queue (fsync'd)
# and delivers to Maildir afterwards, so for Postfix both the accepted rate and the rate
# at which the mailbox filled ("delivered") are printed; the ratio uses delivered.
#
# mailkeep resolves through a loopback DNS server (bench/benchlib.py) that publishes SPF and
# DMARC for the sender's domain (NXDOMAIN for every other name), so it makes the lookups it
# makes in production, and they pass, with prompt answers; nothing leaves loopback.
# A run that stops making progress (no message accepted or delivered for STALL_SECONDS)
# fails with a message saying what it waited for.
#
# Usage: bench/smtp-inbound/run.sh path/to/optimized/mailkeep [messages]
#        (messages: default $BENCH_MESSAGES, else 5000)
set -euo pipefail
MAILKEEP=${1:?usage: run.sh MAILKEEP_BINARY [MESSAGES]}
MAILKEEP=$(readlink -f "$MAILKEEP")
BENCH=$(dirname "$(dirname "$(readlink -f "$0")")")
N=${2:-${BENCH_MESSAGES:-5000}}
SIZE=4096
# The deadlines of bench/benchlib.py: a server is ready within START_SECONDS, a count that has
# not grown for STALL_SECONDS will not, a control command has hung after COMMAND_SECONDS.
START_SECONDS=60
STALL_SECONDS=60
COMMAND_SECONDS=120
work=$(mktemp -d /tmp/mk-bench-XXXXXX)
chmod 755 "$work"
MK_PORT=$((30000 + RANDOM % 10000))
PF_PORT=$((MK_PORT + 1))
mk_pid="" dns_pid="" src_pid=""
stop_pid() {  # PID: SIGTERM, and SIGKILL if it has not exited within START_SECONDS
  local i
  kill "$1" 2>/dev/null || return 0
  for ((i = 0; i < START_SECONDS * 10; i++)); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}
cleanup() {
  [ -n "$src_pid" ] && kill "$src_pid" 2>/dev/null || true
  [ -n "$mk_pid" ] && stop_pid "$mk_pid"
  [ -n "$dns_pid" ] && kill "$dns_pid" 2>/dev/null || true
  timeout "$COMMAND_SECONDS" postfix -c "$work/postfix" stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

die() { echo "smtp-inbound: FAILED: $*" >&2; exit 1; }
wait_until() {  # WHAT COMMAND...: runs COMMAND until it succeeds, for at most START_SECONDS
  local what=$1 deadline=$(($(date +%s) + START_SECONDS))
  shift
  until "$@"; do
    [ "$(date +%s)" -lt "$deadline" ] || die "waited $START_SECONDS s for $what"
    sleep 0.1
  done
}
last_count="" last_change=0
progress() {  # WHAT COUNT TARGET, at every poll of a count: fails when it stops growing
  local now
  now=$(date +%s)
  if [ "$2" != "$last_count" ]; then
    last_count=$2 last_change=$now
  elif [ $((now - last_change)) -gt "$STALL_SECONDS" ]; then
    die "$1: $2 of $3, and no progress in $STALL_SECONDS s"
  fi
}
mk() { timeout "$COMMAND_SECONDS" "$MAILKEEP" --config "$work/mk/mailkeep.toml" "$@"; }

# ---- loopback DNS ----
/usr/bin/python3 "$BENCH/benchlib.py" dns \
  example.org TXT "v=spf1 ip4:127.0.0.1 -all" \
  _dmarc.example.org TXT "v=DMARC1; p=none" \
  > "$work/dns.port" 2> "$work/dns.err" &
dns_pid=$!
dns_ready() {
  kill -0 "$dns_pid" 2>/dev/null || die "the DNS server exited: $(cat "$work/dns.err")"
  [ -s "$work/dns.port" ]
}
wait_until "the loopback DNS server" dns_ready
DNS_PORT=$(cat "$work/dns.port")

pss_kb() {  # total PSS of the given pids, in KiB
  local total=0 p v
  for p in "$@"; do
    v=$(awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup" 2>/dev/null || echo 0)
    total=$((total + ${v:-0}))
  done
  echo "$total"
}
postfix_pids() { pgrep -f "$work/postfix" || true; pgrep -u postfix || true; }

# ---- mailkeep ----
mkdir -p "$work/mk"
cat > "$work/mk/mailkeep.toml" <<CONF
[server]
hostname = "bench.localhost"
data_dir = "."
[log]
level = "warn"
[smtp]
listen = ["127.0.0.1:$MK_PORT"]
max_connections_per_ip = 200
# Only the MX is measured: no other listener, so nothing else on the machine is in the way.
[submission]
listen = []
listen_tls = []
[imap]
listen = []
listen_tls = []
[http]
listen = []
listen_tls = []
[dns]
upstream = ["127.0.0.1@$DNS_PORT"]
# The loopback server does not sign its answers.
dnssec = false
CONF
mk domain add bench.example >/dev/null
echo "a benchmark password" | mk account add user@bench.example --password-stdin >/dev/null
"$MAILKEEP" serve --config "$work/mk/mailkeep.toml" > "$work/mk/stdout" 2> "$work/mk/stderr" &
mk_pid=$!
mk_ready() {
  kill -0 "$mk_pid" 2>/dev/null || die "mailkeep serve exited: $(tail -5 "$work/mk/stderr")"
  grep -q '^listening' "$work/mk/stdout"
}
wait_until "mailkeep to listen" mk_ready

# ---- Postfix, private instance ----
pf="$work/postfix"
mkdir -p "$pf" "$work/vmail"
chown nobody:nogroup "$work/vmail"
cp /etc/postfix/master.cf "$pf/master.cf"
cp /etc/postfix/dynamicmaps.cf "$pf/" 2>/dev/null || true
echo "bench.example OK" > /dev/null
echo "user@bench.example bench.example/user/" > "$pf/vmailbox"
cat > "$pf/main.cf" <<CONF
compatibility_level = 3.6
queue_directory = $work/pfqueue
data_directory = $work/pfdata
mail_owner = postfix
setgid_group = postdrop
myhostname = bench.localhost
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
virtual_mailbox_domains = bench.example
virtual_mailbox_maps = texthash:$pf/vmailbox
virtual_mailbox_base = $work/vmail
virtual_uid_maps = static:$(id -u nobody)
virtual_gid_maps = static:$(getent group nogroup | cut -d: -f3)
maillog_file = $work/pfmaillog
maillog_file_prefixes = $work
smtp_dns_support_level = disabled
smtpd_peername_lookup = no
smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination
default_process_limit = 100
CONF
postconf -c "$pf" -M# smtp/inet >/dev/null
postconf -c "$pf" -Me "127.0.0.1:$PF_PORT/inet = 127.0.0.1:$PF_PORT inet n - n - - smtpd"
postconf -c "$pf" -F '*/*/chroot = n'
mkdir -p "$work/pfqueue" "$work/pfdata"
postfix -c "$pf" set-permissions >/dev/null 2>&1 || true
timeout "$COMMAND_SECONDS" postfix -c "$pf" start >/dev/null 2>&1 ||
  die "postfix did not start: $(tail -5 "$work/pfmaillog" 2>/dev/null)"
pf_ready() { (echo > /dev/tcp/127.0.0.1/"$PF_PORT") 2>/dev/null; }
wait_until "Postfix to listen on 127.0.0.1:$PF_PORT" pf_ready

maildir_count() { find "$work/vmail" -type f -path '*/new/*' 2>/dev/null | wc -l; }
# CPU time (clock ticks) of these processes, plus what their exited children used (Postfix's
# master reaps its smtpd/cleanup/virtual processes): the servers' cost per message.
cpu_ticks() {
  local t=0 p v
  for p in "$@"; do
    v=$(awk '{sub(/^.*\) /, ""); print $12 + $13 + $14 + $15}' "/proc/$p/stat" 2>/dev/null) || continue
    t=$((t + ${v:-0}))
  done
  echo "$t"
}
CLK_TCK=$(getconf CLK_TCK)
server_pids() { if [ "$1" = mailkeep ]; then echo "$mk_pid"; else postfix_pids; fi; }

# smtp-source -c writes "N\r" each time a message is accepted.
accepted_count() { tail -c 32 "$work/source.out" 2>/dev/null | tr '\r' '\n' | grep -E '^[0-9]+$' | tail -n 1 || echo 0; }
now() { date +%s.%N; }

declare -A R
run_one() {  # name port sessions
  local name=$1 port=$2 sessions=$3 t0 t1 peak=0 pids
  local before cpu0
  before=$(maildir_count)
  cpu0=$(cpu_ticks $(server_pids "$name"))
  t0=$(now)
  smtp-source -c -d -s "$sessions" -m "$N" -l "$SIZE" -f sender@example.org -t user@bench.example \
    "127.0.0.1:$port" > "$work/source.out" &
  src_pid=$!
  last_count=""
  while kill -0 "$src_pid" 2>/dev/null; do
    if [ "$name" = mailkeep ]; then pids=$mk_pid; else pids=$(postfix_pids); fi
    local p; p=$(pss_kb $pids); [ "$p" -gt "$peak" ] && peak=$p
    progress "$name accepting messages from $sessions session(s)" "$(accepted_count)" "$N"
    sleep 0.2
  done
  wait "$src_pid" || die "smtp-source against $name stopped after $(accepted_count) of $N messages (its error is above)"
  src_pid=""
  t1=$(now)
  R[$name.$sessions.accepted]=$(echo "$N / ($t1 - $t0)" | bc -l)
  if [ "$name" = postfix ]; then
    local n
    last_count=""
    while n=$(maildir_count); [ "$n" -lt $((before + N)) ]; do
      progress "Postfix delivering to Maildir" $((n - before)) "$N"
      sleep 0.05
    done
    local t2; t2=$(now)
    R[$name.$sessions.delivered]=$(echo "$N / ($t2 - $t0)" | bc -l)
  else
    R[$name.$sessions.delivered]=${R[$name.$sessions.accepted]}
  fi
  R[$name.$sessions.pss]=$((peak / 1024))
  R[$name.$sessions.cpu]=$(echo "($(cpu_ticks $(server_pids "$name")) - $cpu0) * 1000 / $CLK_TCK / $N" | bc -l)
}

for s in 1 20; do
  run_one mailkeep "$MK_PORT" "$s"
  run_one postfix "$PF_PORT" "$s"
done

stored=$(mk account list | awk '{print $2}')
echo
echo "smtp-inbound: $N messages of $SIZE bytes per run, $(date -u +%Y-%m-%d), $(nproc) cores"
printf "%-9s %9s %18s %18s %10s %14s %12s\n" sessions server "accepted msg/s" "delivered msg/s" "PSS MiB" "CPU ms/msg" "mk/postfix"
for s in 1 20; do
  ratio=$(echo "${R[mailkeep.$s.delivered]} / ${R[postfix.$s.delivered]}" | bc -l)
  printf "%-9s %9s %18.0f %18.0f %10s %14.2f %12s\n" "$s" mailkeep "${R[mailkeep.$s.accepted]}" "${R[mailkeep.$s.delivered]}" "${R[mailkeep.$s.pss]}" "${R[mailkeep.$s.cpu]}" ""
  printf "%-9s %9s %18.0f %18.0f %10s %14.2f %12.2f\n" "$s" postfix "${R[postfix.$s.accepted]}" "${R[postfix.$s.delivered]}" "${R[postfix.$s.pss]}" "${R[postfix.$s.cpu]}" "$ratio"
done
echo "mailkeep stored $stored bytes for user@bench.example; Postfix Maildir holds $(maildir_count) messages"
