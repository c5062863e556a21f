#!/bin/bash
# bench/api.sh: requests per second of the real stack (lighttpd + the FastCGI
# pool + PostgreSQL) on loopback, measured with wrk, every read endpoint against
# the bare health endpoint in one run.
# Usage: bench/api.sh [--workers N] [--seconds S] [--runs R] [--connections C]
#                     [--builddir DIR] [--rss N] [--only REGEX] [--profile DIR]
#                     [--explain FILE]
# Brings up a private stack (scripts/stack), a tenant with no plans and one with
# the demo applied and 20 small plans, then runs wrk -t2 -cC for S seconds, R
# times per endpoint, interleaved (round r measures every endpoint before round
# r+1 starts, so a burst of load elsewhere on the machine hits all of them), and
# prints per endpoint the median req/s, p50, p99 and the ratio to health.
# --builddir benches the binaries of another built tree (a before/after run);
# --rss N sends N more requests to /auth/me and prints the workers' RSS before
# and after; --profile DIR records each endpoint once more under perf (this
# stack's lighttpd, workers and PostgreSQL processes only, call graphs) and
# writes DIR/<n>.txt: CPU by process kind and library, then the top symbols.
# --explain FILE writes the plans of the list queries (bench/lists-explain.sql).
# --only REGEX measures only the matching endpoints (and health).
# Needs wrk (./dev deps installs it; perf too).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
builddir=$top workers=4 seconds=5 runs=3 conns=64 rss=0 only=. profile= explain=
while [ $# -gt 0 ]; do
	case "$1" in
	--workers) workers=$2; shift 2 ;;
	--seconds) seconds=$2; shift 2 ;;
	--runs) runs=$2; shift 2 ;;
	--connections) conns=$2; shift 2 ;;
	--builddir) builddir=$(cd "$2" && pwd); shift 2 ;;
	--rss) rss=$2; shift 2 ;;
	--only) only=$2; shift 2 ;;
	--explain) explain=$2; shift 2 ;;
	--profile) mkdir -p "$2"; profile=$(cd "$2" && pwd); shift 2 ;;
	*) sed -n '4,5p' "$0" >&2; exit 2 ;;
	esac
done
command -v wrk >/dev/null || { echo "bench/api.sh needs wrk: apt-get install wrk" >&2; exit 1; }

# the stack script and migrations of the tree under test (a before/after run)
stack=$builddir/scripts/stack
[ -x "$stack" ] || stack=$top/scripts/stack
var=$(mktemp -d /tmp/ironlayer-bench-api.XXXXXX)
port=$((20000 + RANDOM % 12000))   # below the ephemeral range (32768+)
trap '"$stack" down --var "$var" >/dev/null 2>&1; rm -rf "$var"' EXIT
IRONLAYER_LOG_LEVEL=warn IRONLAYER_SIGNUP_MAX_PER_ADDRESS_PER_HOUR=1000 \
	"$stack" up --var "$var" --port "$port" \
	--workers "$workers" --builddir "$builddir" >"$var/stack.log" 2>&1 ||
	{ cat "$var/stack.log" >&2; exit 1; }
url="http://127.0.0.1:$port"
api=$url/api/v1
conf_get() { sed -n "s/^$1 = //p" "$var/ironlayer.conf" | tail -n 1; }
json_field() { sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p"; echo; }

signup() { # signup EMAIL: prints the access token
	curl -sf -X POST "$api/auth/signup" -H 'Content-Type: application/json' \
		-d "{\"email\":\"$1\",\"password\":\"bench password 1\",\"display_name\":\"Bench\"}" |
		json_field access_token
}
post() { # post TOKEN PATH BODY
	curl -sf -X POST "$api$2" -H "Authorization: Bearer $1" -H 'Content-Type: application/json' -d "$3"
}

# A tenant with the demo applied (models, runs, a lineage) and 20 small plans:
# its own copy of the demo repository with 19 more commits, each a comment in
# one model, each planned from the models commit. Prints the last plan's id.
setup_busy_tenant() {
	local token=$1 email=$2 tid repo src=$var/demo base i id
	psql -X -q -v ON_ERROR_STOP=1 "$(conf_get warehouse_admin_dsn)" \
		-f "$top/examples/demo-project/seed.sql" >/dev/null
	"$top/examples/make-demo-repo.sh" "$top/examples/demo-project" "$src" >/dev/null
	git -C "$src" reset -q --hard HEAD~1   # the models commit
	for i in $(seq 1 19); do
		printf -- '-- bench revision %d\n' "$i" >>"$src/models/analytics/orders_daily.sql"
		git -C "$src" -c user.name=bench -c user.email=bench@example.com \
			-c commit.gpgsign=false commit -qam "bench revision $i"
	done
	"$builddir/ironlayer" --config "$var/ironlayer.conf" repo add --tenant "$email" \
		"$src" demo >/dev/null
	tid=$(curl -sf "$api/auth/me" -H "Authorization: Bearer $token" | json_field tenant_id)
	repo=$var/repos/$tid/demo
	base=$(git -C "$src" rev-parse HEAD~19)
	id=$(post "$token" /plans/generate "{\"repo_path\":\"$repo\",\"base_sha\":\"$(git -C "$src" rev-parse HEAD~20)\",\"target_sha\":\"$base\"}" | json_field plan_id)
	post "$token" "/plans/$id/approve" '{}' >/dev/null
	post "$token" "/plans/$id/apply" '{}' >/dev/null
	for i in $(seq 0 18); do
		post "$token" /plans/generate "{\"repo_path\":\"$repo\",\"base_sha\":\"$base\",\"target_sha\":\"$(git -C "$src" rev-parse "HEAD~$i")\"}" |
			json_field plan_id
	done | grep . | tail -n 1
}

empty_token=$(signup bench-empty@example.com)
busy_email=bench-busy@example.com
busy_token=$(signup $busy_email)
[ -n "$empty_token" ] && [ -n "$busy_token" ] || { echo "signup failed" >&2; exit 1; }
plan_id=$(setup_busy_tenant "$busy_token" "$busy_email")
nplans=$(curl -sf -D - -o /dev/null "$api/plans?limit=1" -H "Authorization: Bearer $busy_token" |
	sed -n 's/^[Xx]-[Tt]otal-[Cc]ount: *\([0-9]*\).*/\1/p')
[ "${nplans:-0}" -ge 20 ] || { echo "setup made ${nplans:-0} plans, not 20" >&2; exit 1; }

if [ -n "$explain" ]; then
	busy_tenant=$(curl -sf "$api/auth/me" -H "Authorization: Bearer $busy_token" | json_field tenant_id)
	psql -X -q "host=$var/pg/run port=5432 dbname=ironlayer user=postgres passfile=$var/secrets/pgpass" \
		-v tenant="$busy_tenant" -f "$top/bench/lists-explain.sql" >"$explain" 2>&1 ||
		echo "bench/api.sh: EXPLAIN failed, see $explain" >&2
fi

# name|path|token[|connections[|miss]]: the floor is /ready, one statement in
# one round trip on the worker's connection (no transaction, no tenant, no
# user check): no read can be faster on this stack. The -c8 rows show the
# latency without the queue that 64 connections build in front of the
# workers. A read whose answer a worker keeps (ROUTE_KEPT, http/respcache.h)
# is answered from it while the tenant's data version stays: the "never kept"
# rows add a query parameter no handler reads, different in every request,
# so that every request misses and runs its handler (the cost of a read just
# after a write).
miss_script=$var/miss.lua
cat >"$miss_script" <<'LUA'
local threads, n = 0, 0
-- setup runs in the main state; "id" becomes a global of each thread's state
function setup(thread) threads = threads + 1; thread:set("id", threads) end
function request()
	n = n + 1
	local sep = string.find(wrk.path, "?", 1, true) and "&" or "?"
	return wrk.format(nil, wrk.path .. sep .. "bench_miss=" .. id .. "-" .. n)
end
LUA
low=8
endpoints=(
	"GET /api/v1/health|/api/v1/health|"
	"GET /ready (floor)|/ready|"
	"GET /api/v1/health -c$low|/api/v1/health||$low"
	"GET /ready (floor) -c$low|/ready||$low"
	"GET /api/v1/auth/me -c$low|/api/v1/auth/me|$busy_token|$low"
	"GET /plans?limit=20 (20 plans) -c$low|/api/v1/plans?limit=20|$busy_token|$low"
	"GET /api/v1/auth/me|/api/v1/auth/me|$busy_token"
	"GET /plans?limit=20 (0 plans)|/api/v1/plans?limit=20|$empty_token"
	"GET /plans?limit=20 (20 plans)|/api/v1/plans?limit=20|$busy_token"
	"GET /models?limit=20|/api/v1/models?limit=20|$busy_token"
	"GET /runs?limit=20|/api/v1/runs?limit=20|$busy_token"
	"GET /environments|/api/v1/environments|$busy_token"
	"GET /plans/:id|/api/v1/plans/$plan_id|$busy_token"
	"GET /models/:name/lineage|/api/v1/models/analytics.orders_daily/lineage|$busy_token"
	"GET /api/v1/auth/me (never kept)|/api/v1/auth/me|$busy_token||miss"
	"GET /plans?limit=20 (20 plans, never kept)|/api/v1/plans?limit=20|$busy_token||miss"
	"GET /models?limit=20 (never kept)|/api/v1/models?limit=20|$busy_token||miss"
)

# every endpoint answers 200 before it is measured; the size of its body
declare -A bytes
for e in "${endpoints[@]}"; do
	IFS='|' read -r name path token _ <<<"$e"
	read -r code size < <(curl -s -o /dev/null -w '%{http_code} %{size_download}\n' \
		${token:+-H "Authorization: Bearer $token"} "$url$path")
	[ "$code" = 200 ] || { echo "$name: $code before the run" >&2; exit 1; }
	bytes[$name]=$size
done

ms() { sed 's/ms$//; s/us$/e-3/; s/s$/e3/'; }
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
declare -A rps p50 p99
for _ in $(seq 1 "$runs"); do
	for e in "${endpoints[@]}"; do
		IFS='|' read -r name path token c miss <<<"$e"
		grep -Eq -- "$only" <<<"$name" || [[ "$name" = "GET /api/v1/health"* || "$name" = "GET /ready"* ]] || continue
		out=$(wrk -t2 -c"${c:-$conns}" -d"${seconds}s" --latency ${miss:+-s "$miss_script"} \
			${token:+-H "Authorization: Bearer $token"} "$url$path")
		if grep -q "Non-2xx" <<<"$out"; then echo "$name: $(grep Non-2xx <<<"$out")" >&2; fi
		rps[$name]+="$(awk '/Requests\/sec/ { print $2 }' <<<"$out") "
		p50[$name]+="$(awk '$1 == "50%" { print $2 }' <<<"$out" | ms) "
		p99[$name]+="$(awk '$1 == "99%" { print $2 }' <<<"$out" | ms) "
	done
done

med() { tr ' ' '\n' <<<"$1" | grep . | median; }
# ratios to health and to the floor at the same number of connections
base() { # base NAME CONNECTIONS
	local n=$1
	[ "$2" = "$conns" ] || n="$1 -c$2"
	med "${rps[$n]:-0}"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
echo "ironlayer API, $(nproc) cores ($(uptime | sed 's/.*load average: //') load), $workers workers," \
	"wrk -t2 -c$conns (-cN: N connections), medians of $runs x ${seconds}s, $(basename "$builddir")"
printf '| %-40s | %8s | %8s | %8s | %6s | %6s |\n' request req/s "p50 ms" "p99 ms" health floor
printf '|%s|---------:|---------:|---------:|-------:|-------:|\n' "$(printf -- '-%.0s' $(seq 1 42))"
for e in "${endpoints[@]}"; do
	IFS='|' read -r name _ _ c _ <<<"$e"
	[ -n "${rps[$name]:-}" ] || continue
	r=$(med "${rps[$name]}")
	printf '| %-40s | %8.0f | %8.2f | %8.2f | %6s | %6s |\n' "\`$name\`" "$r" \
		"$(med "${p50[$name]}")" "$(med "${p99[$name]}")" \
		"$(ratio "$r" "$(base "GET /api/v1/health" "${c:-$conns}")")" \
		"$(ratio "$r" "$(base "GET /ready (floor)" "${c:-$conns}")")"
done
echo
printf 'body bytes:'
for e in "${endpoints[@]}"; do
	IFS='|' read -r name _ _ c _ <<<"$e"
	if [ -n "${rps[$name]:-}" ] && [ -z "$c" ]; then printf ' %s %s;' "${name#GET }" "${bytes[$name]}"; fi
done
echo

# lighttpd, the workers and every PostgreSQL process of this stack
stack_pids() {
	local pid pm
	cat "$var/run/lighttpd.pid"
	for pid in $(pgrep -x ironlayer-fcgi); do
		tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | grep -q "$var" && echo "$pid"
	done
	pm=$(head -n 1 "$var/pg/data/postmaster.pid")
	echo "$pm"
	pgrep -P "$pm"
}

# one endpoint under perf: where the CPU goes, by process kind and library, then by symbol
profile_endpoint() { # profile_endpoint N NAME PATH TOKEN [miss]
	local data=$profile/$1.data pids
	pids=$(stack_pids | paste -sd,)
	perf record -q -g -o "$data" -p "$pids" -- \
		wrk -t2 -c"$conns" -d"${seconds}s" ${5:+-s "$miss_script"} \
			${4:+-H "Authorization: Bearer $4"} "$url$3" \
		>"$profile/$1.wrk" 2>/dev/null || true
	{
		echo "# $2 ($(awk '/Requests\/sec/ { print $2 }' "$profile/$1.wrk") req/s under perf)"
		echo "## CPU by process and library"
		perf report -i "$data" --no-children --sort comm,dso --percent-limit 1 -q -g none 2>/dev/null |
			grep -v '^$' | head -n 25 || true
		echo "## top symbols (self)"
		perf report -i "$data" --no-children --sort comm,sym --percent-limit 0.7 -q -g none 2>/dev/null |
			grep -v '^$' | head -n 40 || true
		echo "## inclusive (children), PostgreSQL and the workers"
		perf report -i "$data" --children --sort sym --percent-limit 3 -q -g none \
			--comms postgres,ironlayer-fcgi 2>/dev/null | grep -v '^$' | head -n 40 || true
	} >"$profile/$1.txt"
	rm -f "$data"
}

# the workers of this stack only (other stacks may run on the machine)
pool_rss() {
	local pid total=0
	for pid in $(pgrep -x ironlayer-fcgi); do
		tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | grep -q "$var" || continue
		total=$((total + $(awk '/^VmRSS/ { print $2 }' "/proc/$pid/status")))
	done
	echo "$total"
}
if [ -n "$profile" ]; then
	n=0
	for e in "${endpoints[@]}"; do
		IFS='|' read -r name path token c miss <<<"$e"
		n=$((n + 1))
		[ -z "$c" ] || continue   # the profile is of 64 connections
		grep -Eq -- "$only" <<<"$name" || [[ "$name" = "GET /api/v1/health"* || "$name" = "GET /ready"* ]] || continue
		profile_endpoint "$n" "$name" "$path" "$token" "$miss"
	done
	echo "profiles in $profile"
fi
if [ "$rss" -gt 0 ]; then
	before=$(pool_rss) sent=0
	while [ "$sent" -lt "$rss" ]; do
		out=$(wrk -t2 -c"$conns" -d10s -H "Authorization: Bearer $busy_token" "$url/api/v1/auth/me")
		sent=$((sent + $(awk '/requests in/ { print $1 }' <<<"$out")))
	done
	echo "worker RSS of the pool (KiB): $before after the runs above, $(pool_rss) after $sent more requests to /auth/me"
fi
