#!/usr/bin/env bash
# make eval-experience: offline recall@20 and NDCG@20 of popularity, the heuristic ranking and
# our ALS on a generated dataset with planted tastes, then the PyPI `implicit` package's ALS on
# the same split with the same parameters. Fails when our ALS's recall@20 is more than 5 %
# below implicit's. Arguments go to `experience evaluate` (e.g. --interactions 1000000).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
VENV="$ROOT/.dev/venv"
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/python" -c 'import implicit' 2>/dev/null ||
  "$VENV/bin/pip" install -q --disable-pip-version-check 'implicit==0.7.3' 'numpy<3' 'scipy<2'
swift build -c release --product experience
OUT="$ROOT/.dev/eval"
"$(swift build -c release --show-bin-path)/experience" evaluate --out "$OUT" "$@"
OPENBLAS_NUM_THREADS=1 "$VENV/bin/python" ml/implicit_baseline.py "$OUT"
