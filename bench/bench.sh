#!/usr/bin/env bash
# Runs the benchmark after `npm run build`. 1000 sandboxes need about 3000
# file descriptors across the host and client processes: raise the soft
# limit as far as the hard limit allows.
set -euo pipefail
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
exec node "$(dirname "$0")/run.mjs" "$@"
