#!/usr/bin/env bash
# make test: the content pipeline beside PyPI's implementations, each held to a bar: on 3,000
# generated articles (a fifth rewrites), our near-duplicates beside datasketch's MinHashLSH
# (precision at least 0.95, recall within 0.05 of datasketch's); our TextRank summaries beside
# sumy's on the texts of /usr/share/common-licenses (agreement 15 points above a random pick).
set -euo pipefail
source "$(cd "$(dirname "$0")" && pwd)/env.sh"
VENV="$ROOT/.dev/venv"
BIN="$(cd "$ROOT" && swift build --show-bin-path)/experience"
[ -x "$BIN" ] || (cd "$ROOT" && swift build --product experience)
mkdir -p "$DEV_DIR/ml"
"$BIN" pipeline-bench --articles 3000 --out "$DEV_DIR/ml/pipeline.jsonl" >/dev/null
"$VENV/bin/python" "$ROOT/ml/near_duplicates_baseline.py" --check "$DEV_DIR/ml/pipeline.jsonl"
"$VENV/bin/python" "$ROOT/ml/summary_baseline.py" --check "$BIN" "$DEV_DIR/ml"
