#!/bin/bash
# run-cli-tests.sh: the CLI end to end. Brings up a private stack (PostgreSQL,
# lighttpd, the FastCGI pool; no billing) on a free loopback port and a fake
# Databricks, runs t/cli_tests (which runs ./ironlayer against it), stops it.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../stack-harness.sh"
harness_init ironlayer-cli-test

# the fake Databricks SQL Statement API, which records every request
harness_fake_databricks dapi-ironlayer-cli-tests-0123456789 wh-cli-tests
export IRONLAYER_DATABRICKS_ALLOWED_HOSTS="$dbx_address"

# $var/shared is a root shared read-only with every tenant: the fixture lives there
export IRONLAYER_SHARED_REPO_ROOTS="$var/shared"

harness_stack_up

"$top_srcdir/t/fixtures/make-api-repo.sh" "$var/shared/cli" >>"$var/log/harness.log" 2>&1
harness_seed_warehouse
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

harness_finish "$rc"
