#!/usr/bin/env bash
# The whole platform on loopback, without Docker.
#   stack.sh run    install, start PostgreSQL + broker, build, run every service in the
#                   foreground with prefixed logs; Ctrl-C stops what it started
#   stack.sh up     the same in the background; returns when the gateway is ready (idempotent)
#   stack.sh down   stop services, broker and PostgreSQL
#   stack.sh test   a separate PostgreSQL + broker (STACK=test), `swift test`, then a short
#                   seeded pass of API fuzzing against the whole platform, then stop them
#   stack.sh fuzz   the long API fuzzing pass on the test stack (`make fuzz`)
set -euo pipefail
DEV="$(cd "$(dirname "$0")" && pwd)"
cmd="${1:-up}"
case "$cmd" in test | fuzz) export STACK=test ;; esac
source "$DEV/env.sh"
cd "$ROOT"

# Auth first (the others fetch its JWKS), the gateway last.
SERVICES=()
for name in auth tasks experience search notifications campaigns photoml gateway; do
  SERVICES+=("$name:$(port "$name")")
done
AUTH_PORT="$(port auth)"; GATEWAY_PORT="$(port gateway)"

# The gateway's route table names the dev stack's ports; another stack gets a copy with its own.
routes_file() {
  local file="$ROOT/infra/gateway/routes.json"
  [ "$STACK" = dev ] && { echo "$file"; return; }
  local copy="$DEV_DIR/routes.json" script="" s
  for s in "${SERVICES[@]}"; do script+="s/127\.0\.0\.1:$(STACK=dev port "${s%%:*}")\b/127.0.0.1:${s##*:}/g;"; done
  sed "$script" "$file" >"$copy"
  echo "$copy"
}

secrets() {
  # Development secrets, made once per stack folder and kept there (gitignored).
  local file="$DEV_DIR/secrets.env"
  if [ ! -f "$file" ]; then
    umask 077
    # The test stack shares its database with `swift test`, whose auth seals signing keys
    # with 32 bytes of 0x4B (Tests/AuthTests/AuthServer.swift): the same key opens them.
    local sealing; sealing="$([ "$STACK" = test ] && printf 'K%.0s' {1..32} | base64 || head -c 32 /dev/urandom | base64)"
    { echo "AUTH_KEY_ENCRYPTION_KEY=$sealing"
      echo "AUTH_REFRESH_TOKEN_SECRET=$(head -c 32 /dev/urandom | base64)"; } >"$file"
  fi
  set -a; source "$file"; set +a
}

infra_up() {
  "$DEV/install.sh"
  "$DEV/postgres.sh" start
  "$DEV/broker.sh" start
  "$DEV/oidc.sh" start
  "$DEV/smtp.sh" start
  "$DEV/feeds.sh" start
  # OBSERVE=1: a Prometheus scraping every service, with the platform's alerting rules.
  if [ "${OBSERVE:-}" = 1 ]; then "$DEV/prometheus.sh" start; fi
}

infra_down() {
  # The photo tests' S3 stand-in outlives the test process that started it (it ignores the
  # SIGTERM the process's children inherit as ignored): the stack's own, by path.
  pkill -9 -f "$ROOT/.dev/venv/bin/moto_server" 2>/dev/null || true
  "$DEV/prometheus.sh" stop
  "$DEV/feeds.sh" stop
  "$DEV/smtp.sh" stop
  "$DEV/oidc.sh" stop
  "$DEV/broker.sh" stop
  "$DEV/postgres.sh" stop
}

build() {
  echo "stack: swift build (first build takes several minutes)"
  swift build
}

service_env() { # name port
  local name=$1 port=$2
  echo "PORT=$port" "DATABASE_URL=postgres://svc_$name:svc_$name@127.0.0.1:$PG_PORT/platform" \
    "KAFKA_BROKERS=127.0.0.1:$KAFKA_PORT" "JWKS_URL=http://127.0.0.1:$AUTH_PORT/.well-known/jwks.json" \
    "GATEWAY_ROUTES_FILE=$ROUTES_FILE"
  # Social login in development: "google" is the local OpenID provider (infra/dev/oidc.sh).
  [ "$name" = auth ] && echo "AUTH_OAUTH_GOOGLE_CLIENT_ID=dev-client" "AUTH_OAUTH_GOOGLE_CLIENT_SECRET=dev-secret" \
    "AUTH_OAUTH_GOOGLE_ISSUER=http://127.0.0.1:$OIDC_PORT" "AUTH_OAUTH_REDIRECT_URIS=http://localhost:3000/auth/callback"
  # Development: webhooks may go to plain http on this machine (a local receiver).
  [ "$name" = notifications ] && echo "SMTP_URL=smtp://127.0.0.1:$SMTP_PORT" "WEBHOOK_REQUIRE_HTTPS=false" "WEBHOOK_ALLOW_LOOPBACK=true"
  # Development: feeds may be on this machine (infra/dev/feeds.sh serves samples).
  [ "$name" = experience ] && echo "FEEDS_ALLOW_LOOPBACK=true"
  return 0
}

start_services() { # foreground|background
  local bin; bin="$(swift build --show-bin-path)"
  secrets
  ROUTES_FILE="$(routes_file)"
  for s in "${SERVICES[@]}"; do
    local name=${s%%:*} port=${s##*:}
    pid_alive "$name" && continue
    if [ "$1" = foreground ]; then
      env $(service_env "$name" "$port") "$bin/$name" 2>&1 | sed -u "s/^/[$name] /" &
    else
      env $(service_env "$name" "$port") nohup "$bin/$name" >"$LOG_DIR/$name.log" 2>&1 &
    fi
    echo $! >"$PID_DIR/$name.pid"
    # Auth first: the others fetch its JWKS.
    if [ "$name" = auth ]; then wait_ready "$AUTH_PORT" 60; fi
  done
}

wait_ready() { # port seconds
  local i
  for ((i = 0; i < $2 * 4; i++)); do
    curl -fsS "http://127.0.0.1:$1/readyz" >/dev/null 2>&1 && return 0
    sleep 0.25
  done
  echo "stack: service on port $1 not ready after $2 s (see $LOG_DIR)" >&2
  return 1
}

# SIGTERM to every service at once, then each gets the grace period to drain; one that has
# not exited by then is killed, and named.
stop_services() {
  local pids=() names=() s name
  for s in "${SERVICES[@]}"; do
    name=${s%%:*}
    if pid_alive "$name"; then
      pids+=("$(cat "$PID_DIR/$name.pid")"); names+=("$name")
      kill "${pids[-1]}" 2>/dev/null || true
    fi
    rm -f "$PID_DIR/$name.pid"
  done
  local i
  for i in "${!pids[@]}"; do stop_process "${names[$i]}" "${pids[$i]}" "${STOP_GRACE:-45}"; done
  # Strays of the dev stack (a lost pid file); the test stack's are always in its pid files.
  if [ "$STACK" = dev ]; then pkill -f "$(swift build --show-bin-path 2>/dev/null)/" 2>/dev/null || true; fi
}

banner() {
  cat <<MSG
stack: ready. Gateway http://127.0.0.1:$GATEWAY_PORT (PostgreSQL 127.0.0.1:$PG_PORT, broker 127.0.0.1:$KAFKA_PORT,
stack: OpenID provider http://127.0.0.1:$OIDC_PORT as "google")
stack: mail is delivered by the SMTP server on 127.0.0.1:$SMTP_PORT to the Maildir $MAILDIR/new
stack: platform operator: ${PLATFORM_OPERATOR_EMAIL:-operator@example.com} / ${PLATFORM_OPERATOR_PASSWORD:-operator-password-dev}
stack: sample feeds on http://127.0.0.1:$(port feeds)/ (world.xml, tech.atom, kitchen.json, blog.html) to follow:
stack:   POST /v1/experience/sources {"url": "http://127.0.0.1:$(port feeds)/world.xml"}
stack: logs in $LOG_DIR, pids in $PID_DIR
MSG
}

case "$cmd" in
up)
  infra_up
  build
  start_services background
  wait_ready "$GATEWAY_PORT" 90
  banner
  ;;
run)
  infra_up
  build
  trap 'echo; echo "stack: stopping"; stop_services; infra_down; exit 0' INT TERM
  start_services foreground
  wait_ready "$GATEWAY_PORT" 90 && banner
  wait
  ;;
down)
  stop_services
  infra_down
  ;;
test)
  with_test_servers() {
    env PLATFORM_TEST_PG_PORT="$PG_PORT" PLATFORM_TEST_KAFKA="127.0.0.1:$KAFKA_PORT" PLATFORM_TEST_OIDC="http://127.0.0.1:$OIDC_PORT" \
      PLATFORM_TEST_SMTP="smtp://127.0.0.1:$SMTP_PORT" PLATFORM_TEST_MAILDIR="$MAILDIR" \
      PLATFORM_TEST_SMTP_RELAY="smtp://127.0.0.1:$SMTP_RELAY_PORT" PLATFORM_TEST_SMTP_RELAY_DIR="$SMTP_RELAY_DIR" PLATFORM_TEST_PG_CA="$DEV_DIR/postgres/server.crt" "$@"
  }
  swift format lint --strict --recursive Services Shared Tests contracts bench Package.swift
  # The deployment: manifests rendered and validated, the Dockerfile linted (no cluster needed).
  "$ROOT/infra/k8s/validate.sh"
  "$ROOT/infra/observability/check.sh"
  infra_up
  trap 'infra_down' EXIT
  "$DEV/fuzz.sh" validate
  # At most 24 tests at once (Swift Testing starts every one at once otherwise): the whole
  # platform runs in the one test process, on a cooperative pool as wide as the cores (two
  # here), and with all 680 started the CPU-heavy ones stalled the rest for seconds, past
  # their waits. Same total time (about 70 s); measured in 2026-12.
  SWT_EXPERIMENTAL_MAXIMUM_PARALLELIZATION_WIDTH="${SWT_EXPERIMENTAL_MAXIMUM_PARALLELIZATION_WIDTH:-24}" \
    with_test_servers swift test ${SWIFT_TEST_ARGS:-}
  # Benchmarks run this command too, with their own build; they skip the broker restarts
  # and the fuzzing pass.
  if [ -z "${BENCH:-}" ]; then
    # Alone: its services publish the shared tasks outbox to a broker of its own, which
    # would take other tests' events.
    BROKER_RESTARTS=1 with_test_servers swift test --skip-build --filter BrokerRestartTests
    # Alone too: tracing is bootstrapped once per process, by the first service to start.
    TRACING_TEST=1 with_test_servers swift test --skip-build --filter TracingTests
    "$DEV/ml-baselines.sh"
    trap 'stop_services; infra_down' EXIT
    build
    start_services background
    wait_ready "$GATEWAY_PORT" 90
    "$DEV/fuzz.sh" quick "http://127.0.0.1:$GATEWAY_PORT"
    "$DEV/secrets-in-logs.sh" "$LOG_DIR"/{gateway,auth,tasks,experience,search,notifications,campaigns,photoml}.log
  fi
  ;;
fuzz)
  infra_up
  trap 'stop_services; infra_down' EXIT
  build
  start_services background
  wait_ready "$GATEWAY_PORT" 90
  "$DEV/fuzz.sh" long "http://127.0.0.1:$GATEWAY_PORT"
  ;;
*)
  echo "usage: stack.sh run|up|down|test|fuzz" >&2
  exit 2
  ;;
esac
