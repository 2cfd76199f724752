#!/usr/bin/env bash
# Installs Debian packages without their recommendations. A fresh machine image may hold
# no package lists at all ("Unable to locate package"): then the lists are fetched once and
# the install tried again. Usage: apt-install.sh PACKAGE...
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y -qq --no-install-recommends "$@" >/dev/null 2>&1; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "$@" >/dev/null
fi
