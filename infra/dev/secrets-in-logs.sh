#!/usr/bin/env bash
# make test, after the fuzzing pass: the logs of the services it ran (info level, tens of
# thousands of requests carrying bearer tokens, refresh tokens and the passwords below) and of
# the test run hold no token and no password. Prints each offending line, cut short, and fails.
set -euo pipefail
[ $# -gt 0 ] || { echo "usage: secrets-in-logs.sh LOG..." >&2; exit 2; }
patterns=(
  # A JWT (header.payload.signature, both JSON parts base64url of "{").
  'eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}'
  'Bearer [A-Za-z0-9._~+/-]{16,}'
  '"(password|refreshToken|refresh_token|accessToken|access_token|client_secret|clientSecret)" *: *"[^"]'
  # The passwords the fuzzing pass and the tests sign in with.
  'operator-password-dev|a fuzzing password 2026|a long enough password|correct horse battery|another good passphrase'
)
found=0
for pattern in "${patterns[@]}"; do
  if grep -E -H -n -- "$pattern" "$@" 2>/dev/null | cut -c1-240 | head -5 | grep .; then found=1; fi
done
if [ "$found" = 1 ]; then
  echo "secrets-in-logs: tokens or passwords in the logs above" >&2
  exit 1
fi
echo "secrets-in-logs: $(cat "$@" | wc -l) log lines, no token or password"
