#!/bin/bash
# bench/api.sh: requests per second of the real stack (lighttpd + the FastCGI
# pool + PostgreSQL) on loopback, measured with wrk.
# Usage: bench/api.sh [--workers N] [--seconds S] [--runs R] [--connections C]
# Prints, per endpoint, the median requests/s and median p50/p99 latency of R
# runs. Needs wrk (apt-get install wrk). Run it from a built tree.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
workers=4 seconds=5 runs=3 conns=32
while [ $# -gt 0 ]; do
	case "$1" in
	--workers) workers=$2; shift 2 ;;
	--seconds) seconds=$2; shift 2 ;;
	--runs) runs=$2; shift 2 ;;
	--connections) conns=$2; shift 2 ;;
	*) echo "usage: $0 [--workers N] [--seconds S] [--runs R] [--connections C]" >&2; exit 2 ;;
	esac
done
command -v wrk >/dev/null || { echo "bench/api.sh needs wrk: apt-get install wrk" >&2; exit 1; }

var=$(mktemp -d /tmp/ironlayer-bench-api.XXXXXX)
port=$((20000 + RANDOM % 12000))   # below the ephemeral range (32768+)
trap '"$top/scripts/stack" down --var "$var" >/dev/null 2>&1; rm -rf "$var"' EXIT
IRONLAYER_LOG_LEVEL=warn "$top/scripts/stack" up --var "$var" --port "$port" \
	--workers "$workers" --builddir "$top" >"$var/stack.log" 2>&1 ||
	{ cat "$var/stack.log" >&2; exit 1; }
url="http://127.0.0.1:$port"
token=$(curl -s -X POST "$url/api/v1/auth/signup" -H 'Content-Type: application/json' \
	-d '{"email":"bench@example.com","password":"bench password 1","display_name":"Bench"}' |
	sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')
[ -n "$token" ] || { echo "signup failed" >&2; exit 1; }

median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# one endpoint: R runs of wrk, then the medians
measure() { # measure NAME PATH [AUTH]
	local name=$1 path=$2 auth=${3:-} rps="" p50="" p99="" out
	for _ in $(seq 1 "$runs"); do
		if [ -n "$auth" ]; then
			out=$(wrk -t2 -c"$conns" -d"${seconds}s" --latency -H "Authorization: Bearer $token" "$url$path")
		else
			out=$(wrk -t2 -c"$conns" -d"${seconds}s" --latency "$url$path")
		fi
		rps+="$(awk '/Requests\/sec/ { print $2 }' <<<"$out")"$'\n'
		p50+="$(awk '$1 == "50%" { print $2 }' <<<"$out" | sed 's/ms$//; s/us$/e-3/; s/s$/e3/')"$'\n'
		p99+="$(awk '$1 == "99%" { print $2 }' <<<"$out" | sed 's/ms$//; s/us$/e-3/; s/s$/e3/')"$'\n'
		if grep -q "Non-2xx" <<<"$out"; then echo "$name: non-2xx responses" >&2; grep "Non-2xx" <<<"$out" >&2; fi
	done
	printf '%-34s %10.0f req/s   p50 %7.2f ms   p99 %7.2f ms\n' "$name" \
		"$(median <<<"$rps")" "$(median <<<"$p50")" "$(median <<<"$p99")"
}

echo "ironlayer API on $(nproc) cores: $workers workers, $conns connections, $runs x ${seconds}s (medians)"
measure "GET /api/v1/health (no DB)" /api/v1/health
measure "GET /ready (DB + migrations)" /ready
measure "GET /api/v1/auth/me (JWT + RLS txn)" /api/v1/auth/me auth
measure "GET /api/v1/plans (list, empty)" /api/v1/plans auth
