#!/usr/bin/env bash
# Measures how long a kill -9'd member's partitions wait before the surviving member owns them,
# with Cascade's default group timing (docs/OPERATIONS.md, "Group timing"). Needs the services
# (`make services`) and a debug build. Prints one line: seconds from the kill to the reassignment.
#   scripts/measure-failover.sh [extra consume flags, e.g. --kafka-config session.timeout.ms=45000]
set -euo pipefail
cd "$(dirname "$0")/.."
eval "$(scripts/services.sh env)"
BIN=.build/debug/cascade
ID="failover$RANDOM$RANDOM"
DIR=$(mktemp -d)
args=(consume --auth none --group "$ID" --reports-topic "$ID.reports" --results-topic "$ID.results" --requests-topic "$ID.requests"
      --dlq-topic "$ID.dlq" --topic-partitions 6 --status-interval 60 --http-listen 127.0.0.1:0 "$@")
"$BIN" "${args[@]}" >"$DIR/a.log" 2>&1 & A=$!
sleep 1
"$BIN" "${args[@]}" >"$DIR/b.log" 2>&1 & B=$!
trap 'kill -9 $A $B 2>/dev/null || true' EXIT
# Both members own partitions once B's first assignment is logged and A still has some.
for _ in $(seq 1 120); do
  grep -q '"partitions assigned"' "$DIR/b.log" && grep -q '"partitions assigned"' "$DIR/a.log" && break
  sleep 0.5
done
sleep 2
before=$(grep -c '"partitions assigned"' "$DIR/b.log")
kill -9 $A
killed=$(date +%s.%N)
for _ in $(seq 1 1200); do
  [ "$(grep -c '"partitions assigned"' "$DIR/b.log")" -gt "$before" ] && break
  sleep 0.1
done
moved=$(date +%s.%N)
grep '"partitions assigned"' "$DIR/b.log" | tail -1 | cut -c1-200 >&2
python3 -c "print(f'partitions moved {float($moved) - float($killed):.1f} s after the kill -9')"
kill $B; wait $B 2>/dev/null || true
