#!/usr/bin/env bash
# bench/imap: see run.py. Usage: bench/imap/run.sh MAILKEEP_BINARY [MESSAGES] [IDLE_CONNECTIONS]
set -euo pipefail
exec /usr/bin/python3 "$(dirname "$0")/run.py" "$@"
