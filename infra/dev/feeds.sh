#!/usr/bin/env bash
# start | stop: a file server of sample feeds (infra/dev/feeds) on loopback, so a newcomer can
# follow a source with `make run` and see its articles arrive in the catalogue:
#   POST /v1/experience/sources {"url": "http://127.0.0.1:9500/world.xml"}
set -euo pipefail
source "$(dirname "$0")/env.sh"
FEEDS_PORT="$(port feeds)"

case "${1:-start}" in
start)
  if ! pid_alive feeds; then
    nohup python3 -m http.server "$FEEDS_PORT" --bind 127.0.0.1 --directory "$ROOT/infra/dev/feeds" >"$LOG_DIR/feeds.log" 2>&1 &
    echo $! >"$PID_DIR/feeds.pid"
  fi
  wait_for_port "$FEEDS_PORT" 20
  ;;
stop)
  if pid_alive feeds; then kill "$(cat "$PID_DIR/feeds.pid")" 2>/dev/null || true; fi
  rm -f "$PID_DIR/feeds.pid"
  ;;
esac
