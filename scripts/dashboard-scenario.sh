#!/usr/bin/env bash
# Renders docs/dashboard.png: Cascade's Grafana dashboard (deploy/grafana/cascade.json) drawn from
# a real drain scraped by a real Prometheus. Takes about 5 minutes on a 2-core machine:
#
#   0. join      ~20 s:  the window opens on one `cascade consume` member; a second one joins (a
#                        cooperative rebalance) and they share the 6 partitions.
#   1. healthy   100 s:  1,500 reports/s (10 % failures; 3 % malformed, which become dead letters);
#                        lag stays near zero.
#   2. stall      60 s:  the reports keep coming, but a psql session holds
#                        LOCK TABLE jobs IN EXCLUSIVE MODE, so every batch's UPDATE of jobs waits:
#                        no batch commits, lag in messages and seconds grows.
#   3. recovery   60 s:  the lock is released, the backlog drains at several times 1,500/s, then the
#                        drain is healthy again until the load ends; a few idle seconds close the window.
#
#   scripts/dashboard-scenario.sh            # writes docs/dashboard.png, prints the window and figures
#
# Needs the release binary (.build/release/cascade), Debian's `prometheus` (2.x), python3 with
# confluent_kafka and matplotlib, and the local services (scripts/services.sh, started here when
# they are not running, and left running). It works in a database of its own (cascade_dashboard on
# the services' PostgreSQL, recreated each run), so the lock stalls no one else, on topics of its
# own (dash<epoch>.*), and by default on a broker of its own (see DASH_BROKER below).
# Environment: DASH_RATE (1500 reports/s), DASH_HEALTHY_S (100), DASH_STALL_S (60),
# DASH_RECOVERY_S (60), DASH_OUT (docs/dashboard.png), DASH_BROKER (private | shared),
# DASH_KEEP=1 (keep the logs and Prometheus data), CASCADE_BIN. Its children (Prometheus, Tansu,
# the members, the load, psql) are stopped on exit; logs stay in the printed temporary directory
# when the run fails.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
CASCADE="${CASCADE_BIN:-$ROOT/.build/release/cascade}"
PSQL="${CASCADE_PG_BIN:-/usr/lib/postgresql/15/bin}/psql"
PROMETHEUS="${PROMETHEUS_BIN:-/usr/bin/prometheus}"
RATE="${DASH_RATE:-1500}"
HEALTHY_S="${DASH_HEALTHY_S:-100}"
STALL_S="${DASH_STALL_S:-60}"
RECOVERY_S="${DASH_RECOVERY_S:-60}"
OUT="${DASH_OUT:-docs/dashboard.png}"
LOAD_S=$((HEALTHY_S + STALL_S + RECOVERY_S))
SCRIPT_START=$SECONDS

say() { printf 'dashboard: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

[ -x "$CASCADE" ] || die "$CASCADE is missing; build it first: swift build -c release --product cascade"
[ -x "$PSQL" ] || die "$PSQL is missing (PostgreSQL 15 client)"
[ -x "$PROMETHEUS" ] || die "$PROMETHEUS is missing (Debian: apt-get install prometheus)"
python3 -c 'import confluent_kafka, matplotlib' 2>/dev/null \
  || die "python3 needs confluent_kafka and matplotlib (python3 -m pip install confluent-kafka matplotlib)"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/cascade-dashboard.XXXXXX")"
CHILDREN=()   # pids, stopped in reverse order on exit

stop_children() {
  local pid i deadline
  for ((i = ${#CHILDREN[@]} - 1; i >= 0; i--)); do
    pid="${CHILDREN[i]}"
    kill -0 "$pid" 2>/dev/null || continue
    kill -TERM "$pid" 2>/dev/null || true
    deadline=$((SECONDS + 30))   # a member drains for at most --shutdown-timeout (20 s)
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.2; done
    if kill -0 "$pid" 2>/dev/null; then say "pid $pid ignored SIGTERM for 30 s; killing it"; kill -KILL "$pid" 2>/dev/null || true; fi
    wait "$pid" 2>/dev/null || true
  done
  CHILDREN=()
}

on_exit() {
  local status=$?
  trap - EXIT INT TERM
  stop_children
  if [ "$status" != 0 ]; then say "failed (exit $status); logs kept in $WORK"
  elif [ "${DASH_KEEP:-0}" = 1 ]; then say "logs and Prometheus data kept in $WORK"
  else rm -rf "$WORK"; fi
  exit "$status"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# wait_for SECONDS WHAT COMMAND...: runs COMMAND every half second until it succeeds, or dies.
wait_for() {
  local limit=$1 what=$2 deadline=$((SECONDS + $1))
  shift 2
  until "$@"; do
    ((SECONDS < deadline)) || die "gave up after ${limit} s waiting for $what"
    sleep 0.5
  done
}

# wait_exit SECONDS PID WHAT: waits for a child to end (and returns its status), or dies.
wait_exit() {
  local limit=$1 pid=$2 what=$3 deadline=$((SECONDS + $1))
  while kill -0 "$pid" 2>/dev/null; do
    ((SECONDS < deadline)) || die "gave up after ${limit} s waiting for $what to finish"
    sleep 0.5
  done
  wait "$pid"
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# ---- services and the database ----------------------------------------------------------------

scripts/services.sh start
eval "$(scripts/services.sh env)"
: "${CASCADE_BROKERS:?services.sh env did not set CASCADE_BROKERS}" "${DATABASE_URL:?services.sh env did not set DATABASE_URL}"

# A broker of its own by default, empty: Tansu's memory engine keeps every batch ever produced
# and a fetch's cost grows with the partition's batches (see scripts/dashboard_load.py), so the
# shared one (services.sh), filled by other runs, would make the picture depend on them.
# DASH_BROKER=shared uses it instead.
if [ "${DASH_BROKER:-private}" = private ]; then
  BROKER_PORT=$(free_port)
  "$ROOT/.local/tansu/tansu" broker --listener-url "tcp://127.0.0.1:$BROKER_PORT" \
    --advertised-listener-url "tcp://127.0.0.1:$BROKER_PORT" --storage-engine memory://tansu/ >"$WORK/tansu.log" 2>&1 &
  CHILDREN+=($!)
  port_open() { python3 -c "import socket, sys; socket.create_connection(('127.0.0.1', int(sys.argv[1])), 1)" "$1" 2>/dev/null; }
  wait_for 20 "a private Tansu on 127.0.0.1:$BROKER_PORT" port_open "$BROKER_PORT"
  CASCADE_BROKERS="127.0.0.1:$BROKER_PORT"
fi

DB=cascade_dashboard
DB_URL="${DATABASE_URL%/*}/$DB"
sql() { "$PSQL" "$DB_URL" -X -q -v ON_ERROR_STOP=1 -At "$@"; }
"$PSQL" "$DATABASE_URL" -X -q -v ON_ERROR_STOP=1 -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
"$CASCADE" migrate --database-url "$DB_URL" >"$WORK/migrate.log" 2>&1 || { cat "$WORK/migrate.log" >&2; die "cascade migrate failed"; }

RUN="dash$(date +%s)"
SOURCE_MODEL="$RUN-src" TARGET_MODEL="$RUN-dst" JOB_PREFIX="$RUN-job-"
{
  "$CASCADE" model create "$SOURCE_MODEL" --database-url "$DB_URL"
  "$CASCADE" model create "$TARGET_MODEL" --database-url "$DB_URL"
  "$CASCADE" version create "$SOURCE_MODEL" v1 --status active --database-url "$DB_URL"
  "$CASCADE" version create "$TARGET_MODEL" v1 --status active --database-url "$DB_URL"
  "$CASCADE" subscription create --source "$SOURCE_MODEL" --target "$TARGET_MODEL" --trigger inference_complete \
    --action inference --input-source trigger_output --label dashboard --database-url "$DB_URL"
} >"$WORK/registry.log" 2>&1 || { cat "$WORK/registry.log" >&2; die "setting up the registry failed"; }
REPORTS=$((RATE * LOAD_S))
say "seeding $REPORTS started jobs of $SOURCE_MODEL"
sql -c "INSERT INTO jobs (job_id, model_id, model_version, job_type, status, input, started_at)
        SELECT '$JOB_PREFIX' || i, '$SOURCE_MODEL', 'v1', 'inference', 'started', '{}'::jsonb, now()
        FROM generate_series(0, $REPORTS - 1) AS i" -c "ANALYZE jobs"

# ---- Prometheus and the members --------------------------------------------------------------

PROM_PORT=$(free_port) MEMBER1_PORT=$(free_port) MEMBER2_PORT=$(free_port)
PROM="http://127.0.0.1:$PROM_PORT"
# `instance` names the members as a StatefulSet would (the dashboard's $member lists it).
cat >"$WORK/prometheus.yml" <<EOF
global:
  scrape_interval: 2s
  scrape_timeout: 1s
  evaluation_interval: 2s
scrape_configs:
  - job_name: cascade
    static_configs:
      - targets: ["127.0.0.1:$MEMBER1_PORT"]
        labels: {instance: cascade-0}
      - targets: ["127.0.0.1:$MEMBER2_PORT"]
        labels: {instance: cascade-1}
EOF
"$PROMETHEUS" --config.file "$WORK/prometheus.yml" --storage.tsdb.path "$WORK/tsdb" \
  --web.listen-address "127.0.0.1:$PROM_PORT" --log.level warn >"$WORK/prometheus.log" 2>&1 &
CHILDREN+=($!)
wait_for 30 "Prometheus at $PROM" curl -fs -o /dev/null "$PROM/-/ready"

# promq EXPR [TIME]: the first sample's value of an instant query ("" when there is none).
promq() {
  curl -fsS "$PROM/api/v1/query" --data-urlencode "query=$1" ${2:+--data-urlencode "time=$2"} |
    python3 -c 'import json, sys; r = json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else "")'
}

TOPIC_ARGS=(--reports-topic "$RUN.reports" --results-topic "$RUN.results" --requests-topic "$RUN.requests"
            --dlq-topic "$RUN.dlq" --topic-partitions 6)
# Tansu needs the short session (joins take about 3 s), answers a fetch only when fetch.wait.max.ms
# runs out, and stalls idempotent produce with more than one request in flight (see the Makefile).
KAFKA_ARGS=(--kafka-config session.timeout.ms=6000 --kafka-config heartbeat.interval.ms=1000
            --kafka-config fetch.wait.max.ms=5 --kafka-config enable.idempotence=false
            --kafka-config max.in.flight.requests.per.connection=1)
start_member() {  # start_member N PORT
  "$CASCADE" consume --auth none --brokers "$CASCADE_BROKERS" --database-url "$DB_URL" --group "$RUN" "${TOPIC_ARGS[@]}" \
    "${KAFKA_ARGS[@]}" --http-listen "127.0.0.1:$2" >"$WORK/member$1.log" 2>&1 &
  CHILDREN+=($!)
}
# The window opens with one member; the second one's join (a rebalance) is its first event.
start_member 0 "$MEMBER1_PORT"
wait_for 60 "the first member to be ready" curl -fs -o /dev/null "http://127.0.0.1:$MEMBER1_PORT/readyz"
one_scraped() { [ "$(promq 'count(up{job="cascade"} == 1)')" = 1 ]; }
wait_for 30 "Prometheus to scrape the first member" one_scraped
sleep 4
WINDOW_START=$(date +%s)
sleep 6
say "the second member joins"
start_member 1 "$MEMBER2_PORT"
wait_for 60 "the second member to be ready" curl -fs -o /dev/null "http://127.0.0.1:$MEMBER2_PORT/readyz"
metric() {  # metric PORT NAME: the sum of a member's samples of NAME
  curl -fsS "http://127.0.0.1:$1/metrics" | awk -v name="$2" '$1 == name || index($1, name "{") == 1 {s += $NF} END {print s + 0}'
}
both_own_partitions() {
  local a b
  a=$(metric "$MEMBER1_PORT" cascade_assigned_partitions) b=$(metric "$MEMBER2_PORT" cascade_assigned_partitions)
  [ "$a" != 0 ] && [ "$b" != 0 ] && [ $((a + b)) = 6 ]
}
wait_for 60 "the two members to share the 6 partitions" both_own_partitions
both_scraped() { [ "$(promq 'count(up{job="cascade"} == 1)')" = 2 ]; }
wait_for 30 "Prometheus to scrape both members" both_scraped
sleep 6

# ---- the story ----------------------------------------------------------------------------------

say "phase 1: healthy, $RATE reports/s for $HEALTHY_S s"
python3 scripts/dashboard_load.py --brokers "$CASCADE_BROKERS" --topic "$RUN.reports" --model "$SOURCE_MODEL" \
  --job-prefix "$JOB_PREFIX" --rate "$RATE" --seconds "$LOAD_S" >"$WORK/load.json" 2>"$WORK/load.log" &
LOAD_PID=$!
CHILDREN+=("$LOAD_PID")
LOAD_START=$(date +%s)
sleep "$HEALTHY_S"
kill -0 "$LOAD_PID" 2>/dev/null || { cat "$WORK/load.log" >&2; die "the load generator stopped early"; }
HEALTHY_LAG=$(promq 'max(max_over_time(cascade_consumer_lag_seconds[30s]))')
say "healthy phase over: lag over the last 30 s at most ${HEALTHY_LAG:-?} s"

say "phase 2: LOCK TABLE jobs IN EXCLUSIVE MODE for $STALL_S s, the load going on"
PGAPPNAME=dashboard-stall "$PSQL" "$DB_URL" -X -q -v ON_ERROR_STOP=1 >"$WORK/lock.log" 2>&1 <<EOF &
BEGIN;
LOCK TABLE jobs IN EXCLUSIVE MODE;
SELECT pg_sleep($STALL_S);
COMMIT;
EOF
LOCK_PID=$!
CHILDREN+=("$LOCK_PID")
lock_held() {
  [ "$(sql -c "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid)
               WHERE a.application_name = 'dashboard-stall' AND l.relation = 'jobs'::regclass
                 AND l.mode = 'ExclusiveLock' AND l.granted")" = 1 ]
}
members_blocked() {
  [ "$(sql -c "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
               AND wait_event_type = 'Lock' AND application_name <> 'dashboard-stall'")" -gt 0 ]
}
wait_for 10 "the lock on jobs" lock_held
STALL_START=$(date +%s)
wait_for 15 "the members' batches to wait on the lock" members_blocked
say "the members' transactions are waiting: $(sql -c "SELECT count(*) FROM pg_stat_activity
     WHERE datname = current_database() AND wait_event_type = 'Lock'") sessions blocked on the lock"
sleep $((STALL_S / 2))
member_state() {  # member_state N PORT: what a member's /metrics says mid-stall
  printf 'cascade-%s: lag %s messages, %s reports pending, fetch paused %s, worker utilisation %s' "$1" \
    "$(metric "$2" cascade_consumer_lag_messages)" "$(metric "$2" cascade_pending_reports)" \
    "$(metric "$2" cascade_fetch_paused)" "$(metric "$2" cascade_worker_utilisation)"
}
say "mid-stall: $(sql -c "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
     AND wait_event_type = 'Lock'") sessions waiting on the lock; $(member_state 0 "$MEMBER1_PORT"); $(member_state 1 "$MEMBER2_PORT")"
wait_exit $((STALL_S + 30)) "$LOCK_PID" "the lock session" || { cat "$WORK/lock.log" >&2; die "the lock session failed"; }
STALL_END=$(date +%s)

say "phase 3: lock released; recovery, the load going on"
wait_exit $((LOAD_S + 120)) "$LOAD_PID" "the load generator" || { cat "$WORK/load.log" >&2; die "the load generator failed"; }
LOAD_END=$(date +%s)
LOAD_RESULT=$(cat "$WORK/load.json")
say "load: $LOAD_RESULT"
COMPLETED_EXPECTED=$(python3 -c "import json; r = json.loads('$LOAD_RESULT'); print(r['success'] + r['failure'])")
drained() {
  [ "$(sql -c "SELECT count(*) FROM jobs WHERE model_id = '$SOURCE_MODEL' AND status IN ('success', 'failure')")" \
    = "$COMPLETED_EXPECTED" ] && [ "$(promq 'sum(cascade_consumer_lag_messages)')" = 0 ]
}
wait_for 180 "the members to apply every report" drained
sleep 10   # a few scrapes of the idle end
WINDOW_END=$(date +%s)

# ---- the picture and its figures -------------------------------------------------------------

SPAN=$((WINDOW_END - WINDOW_START))
python3 scripts/render-dashboard.py --prometheus "$PROM" --dashboard deploy/grafana/cascade.json \
  --start "$WINDOW_START" --end "$WINDOW_END" --out "$OUT" --rate-interval 20s \
  --title "Cascade: a healthy drain, a ${STALL_S} s database stall, and the catch-up (2 members, Tansu, PostgreSQL; $(date -u +%Y-%m-%d))"
# (--rate-interval 20s: what Grafana's $__rate_interval is with the data source's 5 s timeInterval
# over a few minutes: 4 x 5 s.)

figure() { promq "$1" "$WINDOW_END"; }
PEAK_LAG_S=$(figure "max(max_over_time(cascade_consumer_lag_seconds[${SPAN}s]))")
PEAK_LAG_MSGS=$(figure "max_over_time(sum(cascade_consumer_lag_messages)[${SPAN}s:2s])")
PEAK_RATE=$(figure "max_over_time(sum(rate(cascade_reports_total[10s]))[${SPAN}s:2s])")
APPLIED=$(figure 'sum(cascade_reports_total)')
BY_CODE=$(curl -fsS "$PROM/api/v1/query" --data-urlencode 'query=sum by (code) (cascade_reports_total)' \
  --data-urlencode "time=$WINDOW_END" | python3 -c '
import json, sys
rows = sorted(json.load(sys.stdin)["data"]["result"], key=lambda r: r["metric"].get("code", ""))
print(", ".join("%s: %.0f" % (r["metric"].get("code", "?"), float(r["value"][1])) for r in rows))')
DEAD=$(figure 'sum(cascade_dead_letters_total)')
REBALANCES=$(for kind in assigned revoked lost; do
  printf '%s %.0f, ' "$kind" "$(figure "sum(cascade_rebalances_total{kind=\"$kind\"})")"; done)
CHILDREN_JOBS=$(sql -c "SELECT count(*) FROM jobs WHERE model_id = '$TARGET_MODEL'")
utc() { date -u -d "@$1" +%H:%M:%S; }
cat <<EOF
dashboard: $OUT
  window:            $(date -u -d "@$WINDOW_START" '+%Y-%m-%d %H:%M:%S') to $(utc "$WINDOW_END") UTC ($WINDOW_START to $WINDOW_END, $SPAN s)
  load:              $(utc "$LOAD_START") to $(utc "$LOAD_END") UTC, $LOAD_RESULT
  lock on jobs:      $(utc "$STALL_START") to $(utc "$STALL_END") UTC ($((STALL_END - STALL_START)) s)
  peak lag:          $(printf '%.1f' "${PEAK_LAG_S:-0}") s, $(printf '%.0f' "${PEAK_LAG_MSGS:-0}") messages
  peak drain rate:   $(printf '%.0f' "${PEAK_RATE:-0}") reports/s (10 s rate)
  reports applied:   $(printf '%.0f' "${APPLIED:-0}") ($BY_CODE); dead letters $(printf '%.0f' "${DEAD:-0}"); downstream jobs $CHILDREN_JOBS
  rebalance events:  ${REBALANCES%, } (cascade_rebalances_total, both members, from their start)
  run time:          $((SECONDS - SCRIPT_START)) s
EOF
