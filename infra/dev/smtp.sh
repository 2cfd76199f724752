#!/usr/bin/env bash
# start | stop: a local SMTP server (PyPI aiosmtpd) that delivers every message to the
# Maildir $MAILDIR, where tests read mail back and developers open it; and beside it a
# relay like a production one (STARTTLS, AUTH and PIPELINING; infra/dev/smtp_relay.py) on
# $SMTP_RELAY_PORT, delivering to $SMTP_RELAY_DIR/mail, for the mail kit's tests.
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
  if ! pid_alive smtp-relay; then
    mkdir -p "$SMTP_RELAY_DIR"
    if [ ! -f "$SMTP_RELAY_DIR/server.crt" ]; then
      openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=localhost" \
        -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -keyout "$SMTP_RELAY_DIR/server.key" -out "$SMTP_RELAY_DIR/server.crt" 2>/dev/null
    fi
    nohup python3 "$(dirname "$0")/smtp_relay.py" "$SMTP_RELAY_PORT" "$SMTP_RELAY_DIR" >"$LOG_DIR/smtp-relay.log" 2>&1 &
    echo $! >"$PID_DIR/smtp-relay.pid"
  fi
  wait_for_port "$SMTP_PORT" 20
  wait_for_port "$SMTP_RELAY_PORT" 20
  ;;
stop)
  for name in smtp smtp-relay; do
    if pid_alive "$name"; then kill "$(cat "$PID_DIR/$name.pid")" 2>/dev/null || true; fi
    rm -f "$PID_DIR/$name.pid"
  done
  ;;
esac
