#!/usr/bin/env bash
# make bench-experience: a million interactions in one tenant (20 small ones beside it) sent
# to the release experience binary through its API, then home feeds uncached and cached
# (the test stack's PostgreSQL and broker), also through wrk; then ALS trained on them. Prints figures.
#   BENCH_EXPERIENCE_ITEMS (100000), BENCH_EXPERIENCE_USERS (10000), BENCH_EXPERIENCE_EVENTS (1000000)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
infra/dev/install.sh >/dev/null
# wrk measures home latency with a C client beside the test's own.
command -v wrk >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
swift build -c release --product experience
EXPERIENCE_BINARY="$(swift build -c release --show-bin-path)/experience" BENCH_EXPERIENCE=1 BENCH=1 \
  SWIFT_TEST_ARGS="--filter ExperienceBenchmark" infra/dev/stack.sh test
