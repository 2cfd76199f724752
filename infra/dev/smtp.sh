#!/usr/bin/env bash
# start | stop: a local SMTP server (PyPI aiosmtpd) that delivers every message to the
# Maildir $MAILDIR, where tests read mail back and developers open it.
set -euo pipefail
source "$(dirname "$0")/env.sh"

case "${1:-start}" in
start)
  if ! pid_alive smtp; then
    # aiosmtpd's Mailbox handler creates the Maildir itself and refuses one that exists.
    rm -rf "$MAILDIR"
    nohup python3 -m aiosmtpd -n -l "127.0.0.1:$SMTP_PORT" -c aiosmtpd.handlers.Mailbox "$MAILDIR" >"$LOG_DIR/smtp.log" 2>&1 &
    echo $! >"$PID_DIR/smtp.pid"
  fi
  wait_for_port "$SMTP_PORT" 20
  ;;
stop)
  if pid_alive smtp; then kill "$(cat "$PID_DIR/smtp.pid")" 2>/dev/null || true; fi
  rm -f "$PID_DIR/smtp.pid"
  ;;
esac
