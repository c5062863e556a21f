#!/bin/bash
# run-cli-tests.sh: the CLI end to end. Brings up a private stack (PostgreSQL,
# lighttpd, the FastCGI pool; no billing) on a free loopback port and a fake
# Databricks, runs t/cli_tests (which runs ./ironlayer against it), stops it.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top_srcdir=$(cd "$here/../.." && pwd)
builddir=$(pwd)
stack="$top_srcdir/scripts/stack"

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

var=$(mktemp -d /tmp/ironlayer-cli-test.XXXXXX)
port=$(free_port) || { echo "no free port" >&2; exit 1; }
mkdir -p "$var/log"

dbx_pid=
cleanup() {
	"$stack" down --var "$var" >>"$var/log/harness.log" 2>&1
	if [ -n "$dbx_pid" ]; then kill "$dbx_pid" 2>/dev/null; wait "$dbx_pid" 2>/dev/null; fi
	dbx_pid=
}
trap cleanup EXIT

# the fake Databricks SQL Statement API, which records every request; HTTPS
# only, like Databricks: a CA made for this run signs its certificate
dbx_token=dapi-ironlayer-cli-tests-0123456789 dbx_warehouse=wh-cli-tests dbx_address=127.0.0.2
"$top_srcdir/t/fixtures/make-test-tls.sh" "$var/tls" "IP:$dbx_address" >>"$var/log/harness.log" 2>&1 ||
	{ echo "cannot make the test certificates" >&2; exit 1; }
python3 "$top_srcdir/t/fakes/fake_databricks.py" --port-file "$var/databricks.port" \
	--record "$var/databricks-requests.jsonl" --token "$dbx_token" --warehouse "$dbx_warehouse" \
	--host "$dbx_address" --tls-cert "$var/tls/server.pem" --tls-key "$var/tls/server.key" \
	>"$var/log/fake-databricks.log" 2>&1 &
dbx_pid=$!
for _ in $(seq 1 50); do [ -s "$var/databricks.port" ] && break; sleep 0.1; done
[ -s "$var/databricks.port" ] || { echo "fake Databricks did not start" >&2; exit 1; }
export IL_TEST_DATABRICKS_URL="https://$dbx_address:$(cat "$var/databricks.port")"
export IL_TEST_DATABRICKS_RECORD="$var/databricks-requests.jsonl"
export IL_TEST_DATABRICKS_TOKEN="$dbx_token" IL_TEST_DATABRICKS_WAREHOUSE="$dbx_warehouse"
export IRONLAYER_DATABRICKS_CA_FILE="$var/tls/ca.pem" IRONLAYER_DATABRICKS_ALLOWED_HOSTS="$dbx_address"
export IRONLAYER_DATABRICKS_TIMEOUT_SECONDS=5 IRONLAYER_DATABRICKS_POLL_INTERVAL_MS=20

# $var/shared is a root shared read-only with every tenant: the fixture lives there
export IRONLAYER_SHARED_REPO_ROOTS="$var/shared"

# a port picked as free can be taken by another test run before lighttpd binds it
for attempt in 1 2 3; do
	"$stack" up --var "$var" --port "$port" --builddir "$builddir" >"$var/log/stack-up.log" 2>&1 && break
	if [ "$attempt" = 3 ] || ! grep -q "already in use" "$var/log/"*.log 2>/dev/null; then
		echo "stack did not come up:" >&2
		cat "$var/log/stack-up.log" >&2
		exit 1
	fi
	"$stack" down --var "$var" >>"$var/log/harness.log" 2>&1
	: >"$var/log/lighttpd-error.log"
	port=$(free_port) || exit 1
done

"$top_srcdir/t/fixtures/make-api-repo.sh" "$var/shared/cli" >>"$var/log/harness.log" 2>&1
# the warehouse's shared source table (owned by the warehouse admin, like ./dev up's seed)
psql -X -q -v ON_ERROR_STOP=1 "$(sed -n 's/^warehouse_admin_dsn = //p' "$var/ironlayer.conf")" \
	>>"$var/log/harness.log" 2>&1 <<'SQL' || { echo "cannot seed the warehouse" >&2; exit 1; }
CREATE SCHEMA IF NOT EXISTS raw;
CREATE TABLE IF NOT EXISTS raw.source_orders (id int, customer_id int, amount numeric, order_date date);
TRUNCATE raw.source_orders;
INSERT INTO raw.source_orders
SELECT g, 1 + g % 5, (g % 7) * 10, date '2026-10-25' + (g % 11) FROM generate_series(0, 43) AS g;
SQL
# every statement in the PostgreSQL log: the SQL preview is compared with what
# apply really sent (this private cluster only)
psql -X -q -v ON_ERROR_STOP=1 \
	"host=$var/pg/run port=5432 dbname=postgres user=postgres passfile=$var/secrets/pgpass" \
	>>"$var/log/harness.log" 2>&1 <<'SQL' || { echo "cannot log the statements" >&2; exit 1; }
ALTER SYSTEM SET log_statement = 'all';
SELECT pg_reload_conf();
SQL

export IL_TEST_URL="http://127.0.0.1:$port" IL_TEST_VAR="$var" IL_TEST_STACK="$stack"
export IL_TEST_REPO="$var/shared/cli" IL_TEST_PGLOG="$var/log/postgresql.log"
export IL_TEST_SRCDIR="$top_srcdir" IL_TEST_BUILDDIR="$builddir"
"$builddir/t/cli_tests"
rc=$?

cleanup
trap - EXIT
if grep -E "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:" "$var/log/"*.log >/dev/null 2>&1; then
	echo "sanitizer reports in the worker logs:" >&2
	grep -E -A 30 "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:" "$var/log/"*.log | head -200 >&2
	rc=1
fi
if [ "$rc" -ne 0 ]; then
	echo "--- last worker log lines ($var/log) ---" >&2
	tail -n 40 "$var/log/worker.log" >&2 2>/dev/null
else
	rm -rf "$var"
fi
exit "$rc"
