#!/usr/bin/env bash
# make test: the alerting and recording rules parse (promtool check rules) and behave
# (promtool test rules: rules_test.yaml), the Grafana dashboards equal their generator's
# output and every panel's query parses. promtool comes with Debian's prometheus package.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT/infra/observability"
if ! command -v promtool >/dev/null; then
  echo "install: apt-get install prometheus (promtool)"
  "$ROOT/infra/dev/apt-install.sh" prometheus
fi
promtool check rules prometheus/rules.yaml >/dev/null
(cd prometheus && promtool test rules rules_test.yaml >/dev/null)
python3 grafana/generate.py --check
# Each dashboard query as a recording rule, so promtool parses it.
queries="$(mktemp)"
trap 'rm -f "$queries"' EXIT
python3 grafana/generate.py --queries | python3 -c '
import json, sys
rules = [{"record": f"dashboard:query:{n}", "expr": line.strip()} for n, line in enumerate(sys.stdin) if line.strip()]
print(json.dumps({"groups": [{"name": "dashboards", "rules": rules}]}))' >"$queries"
promtool check rules "$queries" >/dev/null
echo "observability: rules valid and their tests pass, dashboards current and their queries parse"
