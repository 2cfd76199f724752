# Sourced by the dev scripts. A "stack" is a folder under .dev/ with its own ports (the
# table in infra/dev/ports), so the development stack and the test stack run side by side.
#   STACK=dev  -> .dev/
#   STACK=test -> .dev/test/
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
STACK="${STACK:-dev}"
# port NAME: NAME's port in this stack, from infra/dev/ports.
port() {
  awk -v name="$1" -v column="$([ "$STACK" = test ] && echo 3 || echo 2)" '!/^#/ && $1 == name { print $column }' "$ROOT/infra/dev/ports"
}
if [ "$STACK" = test ]; then DEV_DIR="$ROOT/.dev/test"; else DEV_DIR="$ROOT/.dev"; fi
PG_PORT="${PG_PORT:-$(port postgres)}"; KAFKA_PORT="${KAFKA_PORT:-$(port broker)}"
OIDC_PORT="${OIDC_PORT:-$(port oidc)}"; SMTP_PORT="${SMTP_PORT:-$(port smtp)}"
# Where the local SMTP server delivers: a Maildir (new mail in $MAILDIR/new).
MAILDIR="$DEV_DIR/mail"
# The local relay (STARTTLS, AUTH, PIPELINING): its certificate, key and Maildir.
SMTP_RELAY_PORT="${SMTP_RELAY_PORT:-$(port smtp-relay)}"; SMTP_RELAY_DIR="$DEV_DIR/smtp-relay"
# tansu listens here; the shim listens on KAFKA_PORT and is the address clients use.
TANSU_PORT=$((KAFKA_PORT + 1))
PID_DIR="$DEV_DIR/pids"
LOG_DIR="$DEV_DIR/logs"
PG_BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
PG_SUPERPASS="postgres-dev"
mkdir -p "$PID_DIR" "$LOG_DIR"

# process_alive PID: true for a running process. A zombie counts as dead: kill -0 succeeds
# on one, and where PID 1 reaps orphans slowly (containers, these machines) a killed server
# stays a zombie long enough to be taken for alive and never restarted.
process_alive() {
  local state
  kill -0 "$1" 2>/dev/null || return 1
  state="$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null || echo X)"
  [ "$state" != Z ] && [ "$state" != X ]
}

# pid_alive NAME: true when .dev/pids/NAME.pid names a running process.
pid_alive() {
  local f="$PID_DIR/$1.pid"
  [ -f "$f" ] && process_alive "$(cat "$f")"
}

# port_open PORT: true when something accepts connections on 127.0.0.1:PORT.
port_open() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# stop_process NAME PID GRACE: SIGTERM, then SIGKILL after GRACE seconds; says when it had to.
stop_process() {
  local name=$1 pid=$2 grace=$3 i
  kill "$pid" 2>/dev/null || return 0
  for ((i = 0; i < grace * 5; i++)); do process_alive "$pid" || return 0; sleep 0.2; done
  echo "stack: $name (pid $pid) did not stop within ${grace} s of SIGTERM; killed" >&2
  kill -9 "$pid" 2>/dev/null || true
}

wait_for_port() { # PORT SECONDS
  local i
  for ((i = 0; i < $2 * 10; i++)); do
    port_open "$1" && return 0
    sleep 0.1
  done
  echo "nothing answered on 127.0.0.1:$1 after $2 s" >&2
  return 1
}
