# t/stack-harness.sh: what the API and CLI test runners share (sourced, not run):
# a free loopback port, a private stack (scripts/stack) brought up on it, the
# local fakes of third-party services, the warehouse's seed, and the verdict.
# The runner sets here (its own folder) before sourcing; then:
#   harness_init NAME; harness_fake_databricks TOKEN WAREHOUSE; harness_stack_up;
#   harness_seed_warehouse; run the tests; harness_finish RC
top_srcdir=$(cd "$here/../.." && pwd)
builddir=$(pwd)
stack="$top_srcdir/scripts/stack"
harness_pids=

free_port() {
	local p
	for _ in $(seq 1 50); do
		p=$((20000 + RANDOM % 12000))   # below the ephemeral range (32768+)
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

# Stops the stack and every fake started through harness_fake.
harness_cleanup() {
	local pid
	"$stack" down --var "$var" >>"$var/log/harness.log" 2>&1
	for pid in $harness_pids; do
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	harness_pids=
}

# harness_init NAME: $var (a fresh temp dir), $port (free), the cleanup trap.
harness_init() {
	var=$(mktemp -d "/tmp/$1.XXXXXX")
	port=$(free_port) || { echo "no free port" >&2; exit 1; }
	mkdir -p "$var/log"
	trap harness_cleanup EXIT
}

# harness_fake NAME SCRIPT ARGS...: starts t/fakes/SCRIPT, which writes the port
# it listens on to $var/NAME.port; exits when it does not start.
harness_fake() {
	local name=$1 script=$2
	shift 2
	python3 "$top_srcdir/t/fakes/$script" --port-file "$var/$name.port" "$@" \
		>"$var/log/fake-$name.log" 2>&1 &
	harness_pids="$harness_pids $!"
	for _ in $(seq 1 50); do [ -s "$var/$name.port" ] && break; sleep 0.1; done
	[ -s "$var/$name.port" ] || { echo "fake $name did not start" >&2; exit 1; }
}

# harness_fake_databricks TOKEN WAREHOUSE: the fake Databricks SQL Statement API,
# which records every request. HTTPS only, like Databricks: a CA made for this
# run signs its certificate, and databricks_ca_file points the workers at it.
harness_fake_databricks() {
	dbx_address=127.0.0.2
	"$top_srcdir/t/fixtures/make-test-tls.sh" "$var/tls" "IP:$dbx_address" \
		>>"$var/log/harness.log" 2>&1 || { echo "cannot make the test certificates" >&2; exit 1; }
	harness_fake databricks fake_databricks.py --record "$var/databricks-requests.jsonl" \
		--token "$1" --warehouse "$2" --host "$dbx_address" \
		--tls-cert "$var/tls/server.pem" --tls-key "$var/tls/server.key"
	export IL_TEST_DATABRICKS_URL="https://$dbx_address:$(cat "$var/databricks.port")"
	export IL_TEST_DATABRICKS_RECORD="$var/databricks-requests.jsonl"
	export IL_TEST_DATABRICKS_TOKEN="$1" IL_TEST_DATABRICKS_WAREHOUSE="$2"
	export IRONLAYER_DATABRICKS_CA_FILE="$var/tls/ca.pem"
	export IRONLAYER_DATABRICKS_TIMEOUT_SECONDS=5 IRONLAYER_DATABRICKS_POLL_INTERVAL_MS=20
}

# Brings the stack up on $port (another free one when a test run took it first).
harness_stack_up() {
	for attempt in 1 2 3; do
		"$stack" up --var "$var" --port "$port" --builddir "$builddir" \
			>"$var/log/stack-up.log" 2>&1 && return 0
		if [ "$attempt" = 3 ] || ! grep -q "already in use" "$var/log/"*.log 2>/dev/null; then
			echo "stack did not come up:" >&2
			cat "$var/log/stack-up.log" >&2
			exit 1
		fi
		"$stack" down --var "$var" >>"$var/log/harness.log" 2>&1
		: >"$var/log/lighttpd-error.log"
		port=$(free_port) || exit 1
	done
}

# The warehouse's shared source table (owned by the warehouse admin, like ./dev up's seed).
harness_seed_warehouse() {
	psql -X -q -v ON_ERROR_STOP=1 "$(sed -n 's/^warehouse_admin_dsn = //p' "$var/ironlayer.conf")" \
		>>"$var/log/harness.log" 2>&1 <<'SQL' || { echo "cannot seed the warehouse" >&2; exit 1; }
CREATE SCHEMA IF NOT EXISTS raw;
CREATE TABLE IF NOT EXISTS raw.source_orders (id int, customer_id int, amount numeric, order_date date);
TRUNCATE raw.source_orders;
INSERT INTO raw.source_orders
SELECT g, 1 + g % 5, (g % 7) * 10, date '2026-10-25' + (g % 11) FROM generate_series(0, 43) AS g;
SQL
}

# harness_finish RC: stops everything, fails on sanitizer reports in the worker
# logs (and on what harness_extra_checks finds, when the runner defines it),
# keeps $var for a failed run, and exits with the verdict.
harness_finish() {
	local rc=$1
	harness_cleanup
	trap - EXIT
	# workers log sanitizer and leak reports to their stderr when they exit
	if grep -E "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:" "$var/log/"*.log >/dev/null 2>&1; then
		echo "sanitizer reports in the worker logs:" >&2
		grep -E -A 30 "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:" "$var/log/"*.log | head -200 >&2
		rc=1
	fi
	if declare -F harness_extra_checks >/dev/null && ! harness_extra_checks; then
		rc=1
	fi
	if [ "$rc" -ne 0 ]; then
		echo "--- last worker log lines ($var/log) ---" >&2
		tail -n 40 "$var/log/worker.log" >&2 2>/dev/null
	else
		rm -rf "$var"
	fi
	exit "$rc"
}
