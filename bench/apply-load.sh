#!/bin/bash
# bench/apply-load.sh: do applies slow down reads? GET /api/v1/health and
# GET /api/v1/plans of the real stack (lighttpd + both FastCGI pools +
# PostgreSQL) on loopback, measured with wrk, with no apply running and while
# two tenants apply models that sleep in the warehouse.
# Usage: bench/apply-load.sh [--workers N] [--apply-workers N] [--seconds S]
#                            [--rounds R] [--connections C]
# Each round measures both endpoints without applies, and with one apply per
# tenant running (a model sleeping through the round's measurements; the
# measurements start once both runs show RUNNING); rounds alternate which
# side comes first, so a busy machine weighs on both sides alike. Prints each
# round, then the median requests/s and p50/p99 latency of the R rounds per
# endpoint and side, and the ratio with/without. Needs wrk
# (apt-get install wrk; ./dev bench installs it). Run it from a built tree.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
workers=4 apply_workers=2 seconds=5 rounds=5 conns=64
while [ $# -gt 0 ]; do
	case "$1" in
	--workers) workers=$2; shift 2 ;;
	--apply-workers) apply_workers=$2; shift 2 ;;
	--seconds) seconds=$2; shift 2 ;;
	--rounds) rounds=$2; shift 2 ;;
	--connections) conns=$2; shift 2 ;;
	*) sed -n '6,7p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
	esac
done
command -v wrk >/dev/null || { echo "bench/apply-load.sh needs wrk: apt-get install wrk" >&2; exit 1; }

var=$(mktemp -d /tmp/ironlayer-bench-apply.XXXXXX)
port=$((20000 + RANDOM % 12000))   # below the ephemeral range (32768+)
trap '"$top/scripts/stack" down --var "$var" >/dev/null 2>&1; rm -rf "$var"' EXIT
# the repository below is shared read-only with every tenant (shared_repo_roots)
IRONLAYER_LOG_LEVEL=warn "$top/scripts/stack" up --var "$var" --port "$port" \
	--workers "$workers" --apply-workers "$apply_workers" --builddir "$top" \
	--set shared_repo_roots="$var/repos/shared" \
	>"$var/stack.log" 2>&1 || { cat "$var/stack.log" >&2; exit 1; }
url="http://127.0.0.1:$port"
api="$url/api/v1"
sleep_s=$((2 * seconds + 4))   # each apply outlasts the round's two measurements

signup() { # email -> access token
	curl -s -X POST "$api/auth/signup" -H 'Content-Type: application/json' \
		-d "{\"email\":\"$1\",\"password\":\"bench password 1\",\"display_name\":\"Bench\"}" |
		sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p'
}

# A repository with one model per round: commit i makes the model sleep again
# (its text changes), so each round applies a new plan.
repo=$var/repos/shared/sleepy
mkdir -p "$repo/models"
git -C "$repo" -c init.defaultBranch=main init -q
gitc() { git -C "$repo" -c user.name=bench -c user.email=bench@example.com "$@"; }
gitc commit -q --allow-empty -m empty
for i in $(seq 1 "$rounds"); do
	printf -- '-- name: bench.sleepy\n-- kind: FULL_REFRESH\nSELECT %d AS round FROM (SELECT pg_sleep(%d)) AS s\n' \
		"$i" "$sleep_s" >"$repo/models/sleepy.sql"
	gitc add -A
	gitc commit -q -m "round $i"
done

plan() { # token base target -> approved plan id
	local id
	id=$(curl -s -X POST "$api/plans/generate" -H "Authorization: Bearer $1" -H 'Content-Type: application/json' \
		-d "{\"repo_path\":\"$repo\",\"base_sha\":\"$2\",\"target_sha\":\"$3\"}" |
		sed -n 's/.*"plan_id":"\([0-9a-f]*\)".*/\1/p')
	[ -n "$id" ] || { echo "plan generation failed" >&2; exit 1; }
	curl -s -o /dev/null -X POST "$api/plans/$id/approve" -H "Authorization: Bearer $1" \
		-H 'Content-Type: application/json' -d '{}'
	echo "$id"
}

reader=$(signup reader@example.com)
tok_a=$(signup tenant-a@example.com)
tok_b=$(signup tenant-b@example.com)
[ -n "$reader" ] && [ -n "$tok_a" ] && [ -n "$tok_b" ] || { echo "signup failed" >&2; exit 1; }
mapfile -t shas < <(git -C "$repo" rev-list --reverse HEAD)
plans_a=() plans_b=()
for i in $(seq 1 "$rounds"); do
	plans_a+=("$(plan "$tok_a" "${shas[i - 1]}" "${shas[i]}")")
	plans_b+=("$(plan "$tok_b" "${shas[i - 1]}" "${shas[i]}")")
	plan "$reader" "${shas[i - 1]}" "${shas[i]}" >/dev/null   # the reader's list has rows
done

# wrk NAME PATH -> "rps p50_ms p99_ms" (appended to $var/NAME)
measure() {
	local name=$1 path=$2 out rps p50 p99
	out=$(wrk -t2 -c"$conns" -d"${seconds}s" --latency -H "Authorization: Bearer $reader" "$url$path")
	if grep -q "Non-2xx" <<<"$out"; then echo "$name: non-2xx responses" >&2; grep "Non-2xx" <<<"$out" >&2; fi
	rps=$(awk '/Requests\/sec/ { print $2 }' <<<"$out")
	p50=$(awk '$1 == "50%" { print $2 }' <<<"$out" | sed 's/ms$//; s/us$/e-3/; s/s$/e3/')
	p99=$(awk '$1 == "99%" { print $2 }' <<<"$out" | sed 's/ms$//; s/us$/e-3/; s/s$/e3/')
	echo "$rps $p50 $p99" >>"$var/$name"
}

running() { # token plan -> 0 when its run is RUNNING
	curl -s "$api/runs?plan_id=$2" -H "Authorization: Bearer $1" | grep -q '"status":"RUNNING"'
}

wait_running() { # token plan round
	for _ in $(seq 1 100); do
		running "$1" "$2" && return 0
		sleep 0.1
	done
	echo "round $(($3 + 1)): an apply did not start" >&2
	exit 1
}

# One after the other: a tenant's first apply prepares its warehouse role, and
# two of those at once can collide in the shared warehouse's catalog.
start_applies() { # round
	curl -s -o "$var/apply-a.json" -X POST "$api/plans/${plans_a[$1]}/apply" \
		-H "Authorization: Bearer $tok_a" -H 'Content-Type: application/json' -d '{}' &
	pid_a=$!
	wait_running "$tok_a" "${plans_a[$1]}" "$1"
	curl -s -o "$var/apply-b.json" -X POST "$api/plans/${plans_b[$1]}/apply" \
		-H "Authorization: Bearer $tok_b" -H 'Content-Type: application/json' -d '{}' &
	pid_b=$!
	wait_running "$tok_b" "${plans_b[$1]}" "$1"
}

end_applies() { # round
	# both applies were still running: their step outlasts the measurements
	running "$tok_a" "${plans_a[$1]}" && running "$tok_b" "${plans_b[$1]}" ||
		echo "round $(($1 + 1)): an apply ended before the measurements did" >&2
	wait "$pid_a" "$pid_b"
	grep -q '"status":"applied"' "$var/apply-a.json" && grep -q '"status":"applied"' "$var/apply-b.json" ||
		{ echo "round $(($1 + 1)): an apply failed" >&2; cat "$var/apply-a.json" "$var/apply-b.json" >&2; exit 1; }
}

measure_side() { # without|with
	measure "health-$1" /api/v1/health
	measure "plans-$1" /api/v1/plans
}

for r in $(seq 0 $((rounds - 1))); do
	if [ $((r % 2)) = 0 ]; then
		measure_side without
		start_applies "$r"
		measure_side with
		end_applies "$r"
	else
		start_applies "$r"
		measure_side with
		end_applies "$r"
		measure_side without
	fi
done

median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
col() { awk -v c="$2" '{ print $c }' "$var/$1" | median; }

echo "ironlayer reads while applies run: $(nproc) cores, api pool $workers workers, apply pool" \
	"$apply_workers + 1, $conns connections, $rounds interleaved rounds of ${seconds}s"
echo "per round (req/s): health without, with; plans without, with"
paste -d' ' <(awk '{ print $1 }' "$var/health-without") <(awk '{ print $1 }' "$var/health-with") \
	<(awk '{ print $1 }' "$var/plans-without") <(awk '{ print $1 }' "$var/plans-with") |
	awk '{ printf "  round %d: %8.0f %8.0f   %8.0f %8.0f\n", NR, $1, $2, $3, $4 }'
echo "medians:"
printf '%-22s %-34s %10s %10s %10s\n' endpoint applies req/s "p50 ms" "p99 ms"
for ep in health plans; do
	for side in without with; do
		label=$([ $side = with ] && echo "2 tenants applying (sleeping)" || echo "none")
		printf '%-22s %-34s %10.0f %10.2f %10.2f\n' "GET /api/v1/$ep" "$label" \
			"$(col "$ep-$side" 1)" "$(col "$ep-$side" 2)" "$(col "$ep-$side" 3)"
	done
	printf '%-22s %-34s %9.0f%%\n' "" "with / without (req/s)" \
		"$(awk -v a="$(col "$ep-with" 1)" -v b="$(col "$ep-without" 1)" 'BEGIN { print 100 * a / b }')"
done
