#!/usr/bin/env bash
# start | stop: a local OpenID Connect provider (PyPI oidc-provider-mock) that social-login
# tests and `make run` sign in against: code flow with PKCE, no browser needed.
set -euo pipefail
source "$(dirname "$0")/env.sh"

case "${1:-start}" in
start)
  if ! pid_alive oidc; then
    nohup oidc-provider-mock -H 127.0.0.1 -p "$OIDC_PORT" >"$LOG_DIR/oidc.log" 2>&1 &
    echo $! >"$PID_DIR/oidc.pid"
  fi
  wait_for_port "$OIDC_PORT" 20
  ;;
stop)
  if pid_alive oidc; then kill "$(cat "$PID_DIR/oidc.pid")" 2>/dev/null || true; fi
  rm -f "$PID_DIR/oidc.pid"
  ;;
esac
