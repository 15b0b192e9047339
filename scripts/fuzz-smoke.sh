#!/usr/bin/env bash
# Runs every libFuzzer target for a short time from its seed corpus (fuzz/corpus/NAME),
# FUZZ_JOBS at a time (default: one per core; each fuzzer uses one). A crash, sanitizer report
# or leak fails the run. FUZZ_SECONDS sets the time per target.
set -euo pipefail
build=${1:-build/fuzz}
seconds=${FUZZ_SECONDS:-15}
jobs=${FUZZ_JOBS:-$(nproc)}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

run_one() {  # NAME BINARY: the exit status goes to $work/NAME.status
  local name=$1 bin=$2 rc=0
  mkdir -p "$work/$name"
  "$bin" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=0 \
    -artifact_prefix="$work/$name-" "$work/$name" "$root/fuzz/corpus/$name" > "$work/$name.log" 2>&1 || rc=$?
  echo "$rc" > "$work/$name.status"
}

names=()
for bin in "$build"/fuzz/fuzz_*; do
  name=$(basename "$bin"); name=${name#fuzz_}
  names+=("$name")
  while (( $(jobs -rp | wc -l) >= jobs )); do wait -n || true; done
  echo "fuzz: $name for ${seconds}s"
  run_one "$name" "$bin" &
done
wait

status=0
for name in "${names[@]}"; do
  if [[ "$(cat "$work/$name.status" 2>/dev/null || echo 1)" != 0 ]]; then
    echo "fuzz: $name FAILED"; tail -40 "$work/$name.log"
    mkdir -p "$root/build/fuzz-artifacts" && cp "$work/$name"-* "$root/build/fuzz-artifacts/" 2>/dev/null || true
    status=1
  else
    echo "fuzz: $name: $(grep -E '^#[0-9]+.*(DONE|pulse)' "$work/$name.log" | tail -1 || true)"
  fi
done
exit $status
