#!/usr/bin/env bash
# start | stop: a PostgreSQL cluster of our own under .dev/, on 127.0.0.1 only.
set -euo pipefail
source "$(dirname "$0")/env.sh"
DATA="$DEV_DIR/postgres"
# PostgreSQL refuses to run as root: run it as the 'postgres' system user when we are root.
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

case "${1:-start}" in
start)
  # Already running: the roles, schemas and extensions are still brought up to date (a pulled
  # change may need a new extension before its migrations can run).
  if pid_alive postgres; then "$(dirname "$0")/bootstrap-db.sh"; exit 0; fi
  if [ ! -f "$DATA/PG_VERSION" ]; then
    mkdir -p "$DATA"; [ "$(id -u)" = 0 ] && chown postgres "$DATA" "$DEV_DIR"
    pwfile="$(mktemp)"; echo "$PG_SUPERPASS" >"$pwfile"; chmod 644 "$pwfile"
    as_pg "$PG_BIN/initdb" -D "$DATA" -U postgres --pwfile="$pwfile" \
      --auth-local=trust --auth-host=scram-sha-256 >"$LOG_DIR/initdb.log"
    rm -f "$pwfile"
  fi
  # TLS is offered (clients choose with DATABASE_TLS): a self-signed certificate for
  # localhost and 127.0.0.1, which tests of verify-full trust as their CA.
  if [ ! -f "$DATA/server.crt" ]; then
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=localhost" \
      -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -keyout "$DATA/server.key" -out "$DATA/server.crt" 2>/dev/null
    chmod 600 "$DATA/server.key"
  fi
  [ "$(id -u)" = 0 ] && chown -R postgres "$DATA" && touch "$LOG_DIR/postgres.log" && chown postgres "$LOG_DIR/postgres.log"
  as_pg "$PG_BIN/pg_ctl" -D "$DATA" -l "$LOG_DIR/postgres.log" -w start \
    -o "-p $PG_PORT -c listen_addresses=127.0.0.1 -k $DATA -c max_connections=300 -c fsync=off -c shared_buffers=1GB -c ssl=on" >/dev/null
  head -1 "$DATA/postmaster.pid" >"$PID_DIR/postgres.pid"
  "$(dirname "$0")/bootstrap-db.sh"
  ;;
stop)
  if [ -f "$DATA/postmaster.pid" ]; then as_pg "$PG_BIN/pg_ctl" -D "$DATA" -m fast -w stop >/dev/null || true; fi
  rm -f "$PID_DIR/postgres.pid"
  ;;
esac
