#!/usr/bin/env bash
# OpenVINO's C runtime (photoml's detector), from the PyPI wheel: its headers and shared
# libraries go to .dev/openvino, where Package.swift points the compiler and linker. Also
# run by the container image's build stage.
set -euo pipefail
OPENVINO_VERSION=2026.4.1
OPENVINO_DIR="$(cd "$(dirname "$0")/../.." && pwd)/.dev/openvino"
if [ ! -f "$OPENVINO_DIR/.version-$OPENVINO_VERSION" ]; then
  echo "install: openvino==$OPENVINO_VERSION (C headers and libraries from the PyPI wheel) into $OPENVINO_DIR"
  cache="$(mktemp -d)"
  python3 -m pip download -q --disable-pip-version-check --no-deps "openvino==$OPENVINO_VERSION" -d "$cache"
  rm -rf "$OPENVINO_DIR"
  python3 - "$cache" "$OPENVINO_DIR" <<'PY'
import glob, os, sys, zipfile
cache, target = sys.argv[1], sys.argv[2]
wheel = zipfile.ZipFile(glob.glob(os.path.join(cache, "openvino-*.whl"))[0])
for name in wheel.namelist():
    for prefix, folder in (("openvino/libs/", "lib"), ("openvino/include/", "include")):
        if name.startswith(prefix) and not name.endswith("/") and not name.endswith("cache.json"):
            path = os.path.join(target, folder, name[len(prefix):])
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with wheel.open(name) as source, open(path, "wb") as sink:
                sink.write(source.read())
PY
  # The linker looks for the unversioned names.
  for versioned in "$OPENVINO_DIR"/lib/libopenvino_c.so.* "$OPENVINO_DIR"/lib/libopenvino.so.*; do
    ln -sf "$(basename "$versioned")" "${versioned%.so.*}.so"
  done
  rm -rf "$cache"
  touch "$OPENVINO_DIR/.version-$OPENVINO_VERSION"
fi
