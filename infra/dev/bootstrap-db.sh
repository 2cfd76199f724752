#!/usr/bin/env bash
# Creates the database, one login role per service and a schema owned by it.
# Idempotent. In Kubernetes the same SQL runs as a one-off job (infra/k8s).
set -euo pipefail
source "$(dirname "$0")/env.sh"
psql_su() { PGPASSWORD="$PG_SUPERPASS" psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -v ON_ERROR_STOP=1 -q "$@"; }

psql_su -d postgres -tc "SELECT 1 FROM pg_database WHERE datname = 'platform'" | grep -q 1 \
  || psql_su -d postgres -c "CREATE DATABASE platform"
psql_su -d platform -f "$ROOT/infra/sql/bootstrap.sql" >/dev/null
