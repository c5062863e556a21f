#!/bin/bash
# run-exec-tests.sh: starts the fake Databricks (t/fakes/fake_databricks.py) on a
# free loopback port, serving HTTPS with a throwaway CA made here, runs
# t/unit_exec against it, stops it.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top_srcdir=$(cd "$here/../.." && pwd)
builddir=$(pwd)

var=$(mktemp -d /tmp/ironlayer-exec-test.XXXXXX)
fake_pid=
cleanup() {
	if [ -n "$fake_pid" ]; then kill "$fake_pid" 2>/dev/null; wait "$fake_pid" 2>/dev/null; fi
	fake_pid=
}
trap cleanup EXIT

# the token and warehouse the tests use; the fake refuses any other. It listens
# on its own loopback address with a certificate for that address and for a
# workspace name that never resolves (the tests pin it to the address).
token=dapi-ironlayer-test-0123456789abcdef
warehouse=wh-0123456789abcdef
address=127.0.0.2 name=workspace.ironlayer.invalid
"$top_srcdir/t/fixtures/make-test-tls.sh" "$var/tls" "IP:$address" "DNS:$name" ||
	{ echo "cannot make the test certificates" >&2; exit 1; }
python3 "$top_srcdir/t/fakes/fake_databricks.py" --port-file "$var/databricks.port" \
	--record "$var/databricks-requests.jsonl" --token "$token" --warehouse "$warehouse" \
	--host "$address" --tls-cert "$var/tls/server.pem" --tls-key "$var/tls/server.key" \
	>"$var/fake-databricks.log" 2>&1 &
fake_pid=$!
for _ in $(seq 1 50); do [ -s "$var/databricks.port" ] && break; sleep 0.1; done
[ -s "$var/databricks.port" ] || { echo "fake Databricks did not start" >&2; cat "$var/fake-databricks.log" >&2; exit 1; }

port=$(cat "$var/databricks.port")
export IL_TEST_DATABRICKS_URL="https://$address:$port" IL_TEST_DATABRICKS_ADDRESS="$address"
export IL_TEST_DATABRICKS_NAME_URL="https://$name:$port" IL_TEST_DATABRICKS_CA="$var/tls/ca.pem"
export IL_TEST_DATABRICKS_RECORD="$var/databricks-requests.jsonl"
export IL_TEST_DATABRICKS_TOKEN="$token" IL_TEST_DATABRICKS_WAREHOUSE="$warehouse"
"$builddir/t/unit_exec"
rc=$?

cleanup
trap - EXIT
if [ "$rc" -ne 0 ]; then
	echo "--- fake Databricks log ($var) ---" >&2
	tail -n 40 "$var/fake-databricks.log" >&2
else
	rm -rf "$var"
fi
exit "$rc"
