#!/bin/bash
# run-api-tests.sh: brings up a private stack (PostgreSQL, lighttpd, the FastCGI
# pool) on a free loopback port, runs the API test binary against it, stops it.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../stack-harness.sh"
harness_init ironlayer-test

# A fake Stripe (t/fakes/fake_stripe.py) that records every request; the
# workers inherit the IRONLAYER_* billing settings that point them at it.
harness_fake stripe fake_stripe.py --record "$var/stripe-requests.jsonl"
export IRONLAYER_STRIPE_API_BASE="http://127.0.0.1:$(cat "$var/stripe.port")"
export IRONLAYER_STRIPE_SECRET_KEY=sk_test_ironlayer_api_tests
export IRONLAYER_STRIPE_WEBHOOK_SECRET=whsec_ironlayer_api_tests
export IRONLAYER_TIER_TEAM_PRICE_ID=price_team_test
export IRONLAYER_TIER_ENTERPRISE_PRICE_ID=price_enterprise_test
export IRONLAYER_BILLING_ALLOWED_HOSTS="app.example.com, localhost"
export IL_TEST_STRIPE_RECORD="$var/stripe-requests.jsonl" IL_TEST_PORT="$port"

# A fake LLM provider (t/fakes/fake_llm.py: Anthropic and OpenAI shapes) that
# records every request; short timeouts so the "slow" key times out quickly.
harness_fake llm fake_llm.py --record "$var/llm-requests.jsonl" --slow-seconds 5
export IRONLAYER_ANTHROPIC_API_BASE="http://127.0.0.1:$(cat "$var/llm.port")"
export IRONLAYER_OPENAI_API_BASE="$IRONLAYER_ANTHROPIC_API_BASE"
export IRONLAYER_LLM_TIMEOUT_SECONDS=2 IRONLAYER_LLM_TEST_TIMEOUT_SECONDS=2
export IL_TEST_LLM_RECORD="$var/llm-requests.jsonl"

# A fake Databricks SQL Statement API (t/fakes/fake_databricks.py) for
# environments whose executor is databricks; short polls and timeouts. The
# fake's address is on databricks_allowed_hosts; so is the name localhost, to
# show that a listed name still cannot lead to a loopback address.
harness_fake_databricks dapi-ironlayer-api-tests-0123456789 wh-api-tests
export IRONLAYER_DATABRICKS_ALLOWED_HOSTS="*.cloud.databricks.com, *.azuredatabricks.net, *.gcp.databricks.com, localhost, $dbx_address"
export IRONLAYER_DATABRICKS_MAX_RETRIES=2
# a warehouse that never answers fails an apply's steps after 2 s, not 10
export IRONLAYER_WAREHOUSE_CONNECT_TIMEOUT_SECONDS=2

# Every suite signs up and logs in from 127.0.0.1: limits no run of the suite
# reaches (test_throttle.c lowers them to prove them). The per-account limit
# keeps its default (5): each test uses accounts of its own.
export IRONLAYER_LOGIN_MAX_FAILURES_PER_ADDRESS=100000
export IRONLAYER_SIGNUP_MAX_PER_ADDRESS_PER_HOUR=100000
# the origin test_sessions.c sends its browser requests from
export IRONLAYER_CORS_ALLOWED_ORIGINS=http://app.ironlayer.test

# IL_TEST_VALGRIND=1: every worker runs under valgrind; leaks fail the run below
if [ "${IL_TEST_VALGRIND:-0}" = 1 ]; then
	export IRONLAYER_WORKER_WRAPPER="valgrind --leak-check=full --errors-for-leak-kinds=definite --log-file=$var/log/valgrind.%p.log"
	export IL_TEST_SANITIZERS=1   # RSS figures mean nothing under valgrind
fi

# The cluster also listens on a loopback address of this run's own (TCP, password
# logins only): a tenant's own PostgreSQL warehouse, the one address on
# warehouse_allowed_hosts.
for _ in $(seq 1 20); do
	pg_tcp=127.$((3 + RANDOM % 250)).$((RANDOM % 256)).$((1 + RANDOM % 254))
	(exec 3<>"/dev/tcp/$pg_tcp/5432") 2>/dev/null || break
done
export IRONLAYER_STACK_PG_TCP="$pg_tcp" IRONLAYER_WAREHOUSE_ALLOWED_HOSTS="$pg_tcp"
export IL_TEST_PG_TCP="$pg_tcp"

# $var/shared is the root the operator shares read-only with every tenant (from
# the environment, so the workers keep it when a test restarts the stack)
export IRONLAYER_SHARED_REPO_ROOTS="$var/shared"

harness_stack_up

# repositories to plan against: the fixture lies outside every root (each
# tenant gets a copy in its own root, see tenant_repo in harness.c), a copy of
# it in the shared root, and traps around them
"$top_srcdir/t/fixtures/make-api-repo.sh" "$var/fixtures/api" >>"$var/log/harness.log" 2>&1
git clone -q --no-hardlinks "$var/fixtures/api" "$var/shared/api" >>"$var/log/harness.log" 2>&1
mkdir -p "$var/repos/notgit" "$var/outside"
harness_seed_warehouse
# a tenant's own warehouse: its login (a password, as every TCP login) and database
tenant_pw=$(od -An -v -tx1 -N12 /dev/urandom | tr -d ' \n')
psql -X -q -v ON_ERROR_STOP=1 "host=$var/pg/run port=5432 dbname=postgres user=postgres passfile=$var/secrets/pgpass" \
	>>"$var/log/harness.log" 2>&1 <<SQL || { echo "cannot make the tenant's own warehouse" >&2; exit 1; }
CREATE ROLE il_tenant_own LOGIN PASSWORD '$tenant_pw';
CREATE DATABASE il_tenant_own OWNER il_tenant_own;
SQL
psql -X -q -v ON_ERROR_STOP=1 "host=$var/pg/run port=5432 dbname=il_tenant_own user=postgres passfile=$var/secrets/pgpass" \
	>>"$var/log/harness.log" 2>&1 <<'SQL' || { echo "cannot seed the tenant's own warehouse" >&2; exit 1; }
CREATE SCHEMA raw AUTHORIZATION il_tenant_own;
CREATE TABLE raw.source_orders (id int, customer_id int, amount numeric, order_date date);
INSERT INTO raw.source_orders
SELECT g, 1 + g % 5, (g % 7) * 10, date '2026-10-25' + (g % 11) FROM generate_series(0, 43) AS g;
ALTER TABLE raw.source_orders OWNER TO il_tenant_own;
SQL
export IL_TEST_TENANT_PG_PASSWORD="$tenant_pw"
git -c init.defaultBranch=main init -q "$var/outside/repo"
ln -sfn "$var/outside/repo" "$var/repos/escape"

export IL_TEST_URL="http://127.0.0.1:$port" IL_TEST_VAR="$var" IL_TEST_STACK="$stack"
export IL_TEST_REPO="$var/fixtures/api" IL_TEST_SHARED_REPO="$var/shared/api"
export IL_TEST_SRCDIR="$top_srcdir" IL_TEST_BUILDDIR="$builddir"
"$builddir/t/api_tests"
rc=$?

# IL_TEST_VALGRIND=1: the workers' valgrind logs show no error and no definite leak
harness_extra_checks() {
	[ "${IL_TEST_VALGRIND:-0}" = 1 ] || return 0
	if ! ls "$var/log/"valgrind.*.log >/dev/null 2>&1; then
		echo "no valgrind logs: did the workers run under valgrind?" >&2
		return 1
	elif grep -E "definitely lost: [1-9]|ERROR SUMMARY: [1-9]" "$var/log/"valgrind.*.log >/dev/null; then
		echo "valgrind found errors or leaks in the workers:" >&2
		grep -E -B 2 -A 25 "definitely lost in|Invalid|uninitialised" "$var/log/"valgrind.*.log | head -200 >&2
		return 1
	fi
	echo "valgrind: $(ls "$var/log/"valgrind.*.log | wc -l) worker processes, no errors, nothing definitely lost"
}
harness_finish "$rc"
