#!/usr/bin/env bash
# The services' OpenAPI documents, checked and fuzzed.
#   fuzz.sh validate          openapi-spec-validator on every contracts/openapi/*.yaml
#   fuzz.sh quick GATEWAY     a short seeded schemathesis pass per service (make test)
#   fuzz.sh long GATEWAY      the long pass (make fuzz)
# sahi, moto and dkimpy are pinned here too: the photoml tests hold their slicing and merging to
# sahi, their S3 store to moto_server, and the campaigns tests their DKIM signatures to dkimpy.
# The Python tools live in a virtual environment under .dev/, pinned.
set -euo pipefail
source "$(cd "$(dirname "$0")" && pwd)/env.sh"
VENV="$ROOT/.dev/venv"
# opentelemetry-proto: the OTLP receiver of the tracing system test (infra/dev/otlp_receiver.py);
# datasketch and sumy: the content pipeline's baselines (infra/dev/ml-baselines.sh).
TOOLS=("schemathesis==4.32.5" "openapi-spec-validator==0.9.0" "sahi==0.12.8" "moto[server]==5.2.1" "dkimpy==1.1.8" "pynacl==1.6.2" "opentelemetry-proto==1.39.1"
  "datasketch==1.6.5" "sumy==0.11.0")
marker="$VENV/.tools-$(echo "${TOOLS[*]}" | md5sum | cut -c1-12)"
if [ ! -f "$marker" ]; then
  echo "fuzz: pip install ${TOOLS[*]} into $VENV"
  [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check "${TOOLS[@]}"
  touch "$marker"
fi
PYTHONUNBUFFERED=1 exec "$VENV/bin/python" "$ROOT/infra/dev/fuzz.py" "$@"
