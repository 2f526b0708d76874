#!/bin/sh
# The same job from a shell agent, through the `porthole` CLI: what a
# Python or Bash agent inside a VM would do. Exit codes carry the reason.
set -eu
say() { echo "shell-agent: $*"; }

say "artifacts: $(porthole ls | awk -F'\t' '{ printf "%s%s (%s bytes)", (NR > 1 ? ", " : ""), $1, $2 }')"

# A slice of the data set: the header line and the first rows.
porthole read sensors.csv --offset 0 --length 200 | head -n 3 > "$WORK/head.csv"
say "first rows: $(sed -n 2p "$WORK/head.csv")"

limit=$(porthole fetch "$DEMO_API/v1/thresholds")
say "thresholds: $limit"

printf 'rows sampled: %s\nthresholds: %s\n' "$(wc -l < "$WORK/head.csv")" "$limit" |
  porthole write shell-notes.txt - > "$WORK/stored.json"
say "wrote shell-notes.txt: $(cat "$WORK/stored.json")"

# Refusals come back as exit codes (10 = POLICY_DENIED, 13 = INVALID_ARGUMENT).
set +e
porthole fetch http://169.254.169.254/latest/meta-data/ 2> "$WORK/err.txt"
code=$?
set -e
[ "$code" -eq 10 ] || { say "UNEXPECTED: metadata fetch exited $code"; exit 1; }
say "refused as expected (exit $code): $(cat "$WORK/err.txt")"

set +e
echo gotcha | porthole write ../escape 2> "$WORK/err.txt"
code=$?
set -e
[ "$code" -eq 13 ] || { say "UNEXPECTED: ../escape write exited $code"; exit 1; }
say "refused as expected (exit $code): $(cat "$WORK/err.txt")"
