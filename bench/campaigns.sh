#!/usr/bin/env bash
# make bench-campaigns: a million-subscriber campaign sent to postfix's smtp-sink on
# loopback (release build, the test stack's PostgreSQL and broker). Prints figures.
#   BENCH_CAMPAIGNS_RECIPIENTS (1000000), BENCH_CAMPAIGNS_SECONDS (120)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
if ! command -v smtp-sink >/dev/null && [ ! -x /usr/sbin/smtp-sink ]; then
  echo "bench: apt-get install postfix (for smtp-sink)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q postfix >/dev/null
fi
PORT=26025
/usr/sbin/smtp-sink -u nobody "127.0.0.1:$PORT" 1024 &
SINK=$!
trap 'kill $SINK 2>/dev/null || true' EXIT
cd "$ROOT"
infra/dev/install.sh >/dev/null
# The same flags as the test build below, so the two share one release build.
swift build -c release -Xswiftc -enable-testing --product campaigns
CAMPAIGNS_BINARY="$(swift build -c release -Xswiftc -enable-testing --show-bin-path)/campaigns" CAMPAIGNS_BENCH_SMTP="smtp://127.0.0.1:$PORT" BENCH_CAMPAIGNS=1 BENCH=1 \
  SWIFT_TEST_ARGS="-c release -Xswiftc -enable-testing --no-parallel --filter CampaignsBenchmark" infra/dev/stack.sh test
