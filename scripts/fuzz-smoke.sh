#!/usr/bin/env bash
# Runs every libFuzzer target for a short time from its seed corpus (fuzz/corpus/NAME).
# A crash, sanitizer report or leak fails the run. FUZZ_SECONDS sets the time per target.
set -euo pipefail
build=${1:-build/fuzz}
seconds=${FUZZ_SECONDS:-15}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
status=0
for bin in "$build"/fuzz/fuzz_*; do
  name=$(basename "$bin"); name=${name#fuzz_}
  mkdir -p "$work/$name"
  echo "fuzz: $name for ${seconds}s"
  if ! "$bin" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=0 \
       -artifact_prefix="$work/$name-" "$work/$name" "$root/fuzz/corpus/$name" \
       > "$work/$name.log" 2>&1; then
    echo "fuzz: $name FAILED"; tail -40 "$work/$name.log"
    mkdir -p "$root/build/fuzz-artifacts" && cp "$work/$name"-* "$root/build/fuzz-artifacts/" 2>/dev/null || true
    status=1
  else
    grep -E '^#[0-9]+.*(DONE|pulse)' "$work/$name.log" | tail -1 || true
  fi
done
exit $status
