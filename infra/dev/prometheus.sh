#!/usr/bin/env bash
# start | stop: a real Prometheus (Debian's package) scraping every service of this stack on
# loopback every 5 s, with the platform's rules (infra/observability/prometheus/rules.yaml):
# `make up OBSERVE=1`, then http://127.0.0.1:9090 (alerts under /alerts).
set -euo pipefail
source "$(dirname "$0")/env.sh"
PROMETHEUS_PORT="$(port prometheus)"

case "${1:-start}" in
start)
  if ! command -v prometheus >/dev/null; then
    echo "install: apt-get install prometheus"
    "$ROOT/infra/dev/apt-install.sh" prometheus
  fi
  mkdir -p "$DEV_DIR/prometheus"
  cp "$ROOT/infra/observability/prometheus/rules.yaml" "$DEV_DIR/prometheus/rules.yaml"
  {
    echo "global: {scrape_interval: 5s, evaluation_interval: 15s}"
    echo "rule_files: [rules.yaml]"
    echo "scrape_configs:"
    for service in gateway auth tasks experience search notifications campaigns photoml; do
      echo "  - job_name: $service"
      echo "    static_configs: [{targets: ['127.0.0.1:$(port "$service")'], labels: {service: $service}}]"
    done
  } >"$DEV_DIR/prometheus/prometheus.yml"
  if ! pid_alive prometheus; then
    nohup prometheus --config.file="$DEV_DIR/prometheus/prometheus.yml" --storage.tsdb.path="$DEV_DIR/prometheus/data" \
      --web.listen-address="127.0.0.1:$PROMETHEUS_PORT" --storage.tsdb.retention.time=2d >"$LOG_DIR/prometheus.log" 2>&1 &
    echo $! >"$PID_DIR/prometheus.pid"
  fi
  wait_for_port "$PROMETHEUS_PORT" 30
  ;;
stop)
  if pid_alive prometheus; then kill "$(cat "$PID_DIR/prometheus.pid")" 2>/dev/null || true; fi
  rm -f "$PID_DIR/prometheus.pid"
  ;;
esac
