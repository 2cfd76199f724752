#!/usr/bin/env bash
# Gateway throughput on loopback, with wrk, against a trivial upstream (nginx answering
# 200 "ok"): (a) the gateway with ES256 verification and the rate limiter on (shadow mode,
# so nothing is refused), (b) the upstream directly, (c) nginx as a plain reverse proxy,
# (d) relay-ceiling, a SwiftNIO byte relay with no HTTP work: the most any SwiftNIO proxy
# can reach on this machine. The four take turns, round after round, and the medians are
# printed with the ratios: this machine's speed drifts by a third within minutes, and runs
# taken far apart compare the drift, not the proxies. Release build; bounded in time.
#   bench/gateway.sh [seconds per run, default 5] [connections, default 64] [rounds, default 5]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SECONDS_PER_RUN="${1:-5}"
CONNECTIONS="${2:-64}"
ROUNDS="${3:-5}"
WORK="$(mktemp -d)"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

need=()
command -v wrk >/dev/null || need+=(wrk)
command -v nginx >/dev/null || need+=(nginx)
python3 -c 'import cryptography' 2>/dev/null || python3 -m pip install -q cryptography
if [ ${#need[@]} -gt 0 ]; then DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null; fi

UPSTREAM=18901; PROXY=18902; GATEWAY=18903; RELAY=18904
ISSUER="http://bench.platform.local"

# A signing key, its JWKS and one token, as auth would make them.
python3 - "$WORK" "$ISSUER" <<'PY'
import base64, json, sys, time, uuid
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
work, issuer = sys.argv[1], sys.argv[2]
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
key = ec.generate_private_key(ec.SECP256R1())
n = key.public_key().public_numbers()
jwk = {"kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig", "kid": "bench",
       "x": b64(n.x.to_bytes(32, "big")), "y": b64(n.y.to_bytes(32, "big"))}
open(f"{work}/jwks.json", "w").write(json.dumps({"keys": [jwk]}))
now = int(time.time())
claims = {"iss": issuer, "aud": ["platform"], "sub": str(uuid.uuid4()), "tid": str(uuid.uuid4()), "roles": ["member"],
          "scope": "", "iat": now, "exp": now + 3600, "jti": str(uuid.uuid4())}
signing = b64(json.dumps({"alg": "ES256", "typ": "JWT", "kid": "bench"}).encode()) + "." + b64(json.dumps(claims).encode())
r, s = decode_dss_signature(key.sign(signing.encode(), ec.ECDSA(hashes.SHA256())))
open(f"{work}/token", "w").write(signing + "." + b64(r.to_bytes(32, "big") + s.to_bytes(32, "big")))
PY
TOKEN="$(cat "$WORK/token")"

nginx_conf() { # file workers body
  cat >"$1" <<NGINX
worker_processes $2;
error_log $WORK/nginx-error.log warn;
pid $1.pid;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 100000;
  upstream backend { server 127.0.0.1:$UPSTREAM; keepalive 128; }
  server { $3 }
}
NGINX
}
JWKS="$(cat "$WORK/jwks.json")"
nginx_conf "$WORK/upstream.conf" 1 "listen 127.0.0.1:$UPSTREAM; location = /.well-known/jwks.json { default_type application/json; return 200 '$JWKS'; } location / { return 200 'ok'; }"
nginx_conf "$WORK/proxy.conf" auto "listen 127.0.0.1:$PROXY; location / { proxy_pass http://backend; proxy_http_version 1.1; proxy_set_header Connection \"\"; }"
for conf in upstream proxy; do
  nginx -p "$WORK" -c "$WORK/$conf.conf" -g 'daemon off;' &
  PIDS+=($!)
done

cat >"$WORK/routes.json" <<JSON
{"rateLimitClasses": {"bench": {"ipPerMinute": 600, "ipBurst": 10, "shadow": true}},
 "routes": [{"prefix": "/bench", "upstream": "http://127.0.0.1:$UPSTREAM", "rateLimitClass": "bench"}]}
JSON
echo "bench: building the gateway and relay-ceiling (release)"
(cd "$ROOT" && swift build -c release --product gateway >/dev/null && swift build -c release --product relay-ceiling >/dev/null)
BIN="$(cd "$ROOT" && swift build -c release --show-bin-path)"
PORT=$GATEWAY GATEWAY_ROUTES_FILE="$WORK/routes.json" JWKS_URL="http://127.0.0.1:$UPSTREAM/.well-known/jwks.json" \
  TOKEN_ISSUER="$ISSUER" KAFKA_BROKERS="" LOG_LEVEL=warning "$BIN/gateway" >"$WORK/gateway.log" 2>&1 &
PIDS+=($!)
"$BIN/relay-ceiling" $RELAY $UPSTREAM >"$WORK/relay.log" 2>&1 &
PIDS+=($!)
for port in $UPSTREAM $PROXY $GATEWAY $RELAY; do
  for _ in $(seq 1 100); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/healthz")" != 000 ] && break
    sleep 0.1
  done
done
status="$(curl -s -o "$WORK/first.txt" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$GATEWAY/bench/x")"
[ "$status" = 200 ] || { echo "bench: the gateway answered $status: $(cat "$WORK/first.txt")" >&2; cat "$WORK/gateway.log" >&2; exit 1; }

run() { # name url
  wrk -t2 -c"$CONNECTIONS" -d"${SECONDS_PER_RUN}s" --latency -H "Authorization: Bearer $TOKEN" "$2" >"$WORK/$1.txt"
  local rps p99 non2xx
  rps="$(awk '/^Requests\/sec/ {print $2}' "$WORK/$1.txt")"
  p99="$(awk '$1 == "99%" {print $2}' "$WORK/$1.txt")"
  non2xx="$(awk '/Non-2xx/ {print $NF}' "$WORK/$1.txt")"
  [ -z "$non2xx" ] || echo "bench: $1 answered $non2xx non-2xx" >&2
  echo "$rps $p99" >>"$WORK/$1.runs"
}
for round in $(seq 1 "$ROUNDS"); do
  run direct "http://127.0.0.1:$UPSTREAM/bench/x"
  run nginx "http://127.0.0.1:$PROXY/bench/x"
  run gateway "http://127.0.0.1:$GATEWAY/bench/x"
  run relay "http://127.0.0.1:$RELAY/bench/x"
done

python3 - "$WORK" <<'PY'
import statistics, sys
def ms(text):
    for suffix, unit in (("us", 1e-3), ("ms", 1.0), ("s", 1000.0)):
        if text.endswith(suffix): return float(text[: -len(suffix)]) * unit
    return float(text)
def read(name):
    runs = [line.split() for line in open(f"{sys.argv[1]}/{name}.runs")]
    rps = [float(r) for r, _ in runs]
    p99 = [ms(p) for _, p in runs]
    print(f"BENCH {name:8s} median {statistics.median(rps):9.0f} req/s   p99 {statistics.median(p99):6.2f} ms   runs: "
          + " ".join(f"{r / 1000:.1f}k" for r in rps))
    return statistics.median(rps), statistics.median(p99)
d, n, g, r = read("direct"), read("nginx"), read("gateway"), read("relay")
print(f"BENCH gateway/nginx requests/s: {g[0] / n[0]:.2f} (target >= 0.9)")
print(f"BENCH relay-ceiling/nginx requests/s: {r[0] / n[0]:.2f} (a SwiftNIO proxy doing no HTTP work)")
print(f"BENCH gateway/direct requests/s: {g[0] / d[0]:.2f}")
print(f"BENCH gateway p99 over direct: {g[1] - d[1]:+.2f} ms (target <= 1 ms); nginx p99 over direct: {n[1] - d[1]:+.2f} ms")
PY
