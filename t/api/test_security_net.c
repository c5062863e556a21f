/*
 * test_security_net.c: a tenant's connections reach only the tenant's own
 * warehouse. Each test is an attack through POST /environments or apply, and
 * fails if the attack works: a DSN or Databricks host aimed at the server
 * itself, its files, loopback or private addresses, a redirect, a host the
 * operator stopped allowing between create and apply.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apply_util.h"   /* includes harness.h */

static void new_tenant(struct tenant *t)
{
	tenant_new(t, "net");
}

/* POST /environments for a postgres environment with connection dsn (no quotes in it). */
static struct resp *create_pg(const struct tenant *t, const char *name, const char *prefix,
			      const char *dsn)
{
	char body[2048];

	snprintf(body, sizeof(body), "{\"name\":\"%s\",\"executor\":\"postgres\","
		 "\"schema_prefix\":\"%s\",\"connection\":\"%s\"}", name, prefix, dsn);
	return api_json("POST", "/api/v1/environments", t->token, body);
}

/* POST /environments for a databricks environment on host. */
static struct resp *create_dbx(const struct tenant *t, const char *name, const char *prefix,
			       const char *host, const char *warehouse)
{
	char body[2048];

	snprintf(body, sizeof(body), "{\"name\":\"%s\",\"executor\":\"databricks\","
		 "\"catalog\":\"main\",\"schema_prefix\":\"%s\",\"connection\":{\"host\":\"%s\","
		 "\"warehouse_id\":\"%s\",\"token\":\"%s\"}}", name, prefix, host, warehouse,
		 getenv("IL_TEST_DATABRICKS_TOKEN"));
	return api_json("POST", "/api/v1/environments", t->token, body);
}

/* The answer is a 422 on body.connection whose message holds every needle (NULL-ended). */
static void assert_refused(struct resp *r, const char *what, ...)
{
	const char *msg, *needle;
	va_list ap;

	ck_assert_msg(r->status == 422, "%s: expected 422, got %ld: %s", what, r->status, r->body);
	ck_assert_str_eq(resp_str(r, "code"), "validation_error");
	ck_assert_str_eq(resp_str(r, "detail.0.loc.0"), "body");
	ck_assert_str_eq(resp_str(r, "detail.0.loc.1"), "connection");
	msg = resp_str(r, "detail.0.msg");
	ck_assert_ptr_nonnull(msg);
	va_start(ap, what);
	while ((needle = va_arg(ap, const char *)) != NULL)
		ck_assert_msg(strstr(msg, needle) != NULL, "%s: '%s' lacks '%s'", what, msg, needle);
	va_end(ap);
	resp_free(r);
}

/* A DSN to this run's own-warehouse listener (on warehouse_allowed_hosts) plus extra. */
static const char *tenant_dsn(const char *extra)
{
	static char dsn[8][512];
	static int slot;
	char *out = dsn[slot++ % 8];

	snprintf(out, sizeof(dsn[0]), "host=%s port=5432 dbname=il_tenant_own user=il_tenant_own "
		 "password=%s%s%s", getenv("IL_TEST_PG_TCP"), getenv("IL_TEST_TENANT_PG_PASSWORD"),
		 extra ? " " : "", extra ? extra : "");
	return out;
}

/* How many environments t has (dev included). */
static int environment_count(const struct tenant *t)
{
	struct resp *r = api("GET", "/api/v1/environments", t->token, NULL, NULL, NULL);
	int n;

	ck_assert_status(r, 200);
	n = (int)resp_len(r);
	resp_free(r);
	return n;
}

START_TEST(test_security_net__pg_dsn_aimed_at_the_server_itself_is_refused)
{
	struct tenant t;
	char dsn[1024];
	static const struct {
		const char *host, *why;
	} hosts[] = {
		{ "127.0.0.1", "a loopback address" }, { "localhost", "a loopback address" },
		{ "::1", "a loopback address" }, { "::ffff:127.0.0.1", "a loopback address" },
		{ "2130706433", "a loopback address" },
		{ "10.0.0.1", "a private address" }, { "192.168.1.1", "a private address" },
		{ "172.16.5.4", "a private address" }, { "fd00::1", "a private address" },
		{ "169.254.169.254", "a link-local address" }, { "0.0.0.0", "an unspecified address" },
		{ "100.64.0.1", "shared" },
	};
	size_t i;

	new_tenant(&t);
	/* the attack as found: the state database's socket, as its superuser, no password */
	snprintf(dsn, sizeof(dsn), "host=%s/pg/run dbname=ironlayer user=postgres",
		 getenv("IL_TEST_VAR"));
	assert_refused(create_pg(&t, "steal", "steal", dsn), dsn, "unix sockets are not allowed",
		       NULL);
	snprintf(dsn, sizeof(dsn), "host=%s/pg/run dbname=ironlayer user=postgres password=x",
		 getenv("IL_TEST_VAR"));
	assert_refused(create_pg(&t, "steal", "steal", dsn), dsn, "unix sockets", NULL);
	snprintf(dsn, sizeof(dsn), "postgresql://postgres:x@%%2Ftmp/ironlayer");
	assert_refused(create_pg(&t, "steal", "steal", dsn), dsn, "unix sockets", NULL);
	/* loopback, private, link-local and other non-public addresses, refused before any connect */
	for (i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
		snprintf(dsn, sizeof(dsn), "host=%s port=5432 dbname=ironlayer user=postgres "
			 "password=x", hosts[i].host);
		assert_refused(create_pg(&t, "steal", "steal", dsn), dsn, hosts[i].why,
			       "warehouse_allowed_hosts", NULL);
		snprintf(dsn, sizeof(dsn), "host=db.example.com hostaddr=%s user=postgres password=x",
			 hosts[i].host);
		if (strcmp(hosts[i].host, "localhost") != 0 && strcmp(hosts[i].host, "2130706433") != 0)
			assert_refused(create_pg(&t, "steal", "steal", dsn), dsn, hosts[i].why, NULL);
	}
	ck_assert_int_eq(environment_count(&t), 1);
	tenant_free(&t);
}
END_TEST

START_TEST(test_security_net__pg_dsn_keywords_that_reach_the_workers_files_are_refused)
{
	struct tenant t;
	static const char *const keywords[] = {
		"passfile=/root/.pgpass", "service=ironlayer", "options='-c role=postgres'",
		"sslkey=/etc/ssl/private/ssl-cert-snakeoil.key", "sslcert=/etc/passwd",
		"sslrootcert=/etc/passwd", "sslcrl=/etc/passwd", "krbsrvname=postgres",
		"gssencmode=require", "requirepeer=postgres", "target_session_attrs=any",
		"sslpassword=x",
	};
	char kw[64];
	size_t i;

	new_tenant(&t);
	for (i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++) {
		snprintf(kw, sizeof(kw), "keyword %.*s is not allowed",
			 (int)strcspn(keywords[i], "="), keywords[i]);
		assert_refused(create_pg(&t, "files", "files", tenant_dsn(keywords[i])), keywords[i],
			       kw, NULL);
	}
	/* the URI form is parsed the same way */
	{
		char uri[512];

		snprintf(uri, sizeof(uri), "postgresql://il_tenant_own:x@%s:5432/il_tenant_own?"
			 "passfile=/root/.pgpass", getenv("IL_TEST_PG_TCP"));
		assert_refused(create_pg(&t, "files", "files", uri), uri, "keyword passfile", NULL);
	}
	ck_assert_int_eq(environment_count(&t), 1);
	tenant_free(&t);
}
END_TEST

START_TEST(test_security_net__pg_dsn_needs_its_own_credentials_and_one_host)
{
	struct tenant t;
	char dsn[512];
	const char *tcp = getenv("IL_TEST_PG_TCP");

	new_tenant(&t);
	/* the workers' ambient credentials are never lent: no password, no connection */
	snprintf(dsn, sizeof(dsn), "host=%s dbname=il_tenant_own user=il_tenant_own", tcp);
	assert_refused(create_pg(&t, "creds", "creds", dsn), dsn, "needs a password", NULL);
	snprintf(dsn, sizeof(dsn), "host=%s dbname=il_tenant_own password=x", tcp);
	assert_refused(create_pg(&t, "creds", "creds", dsn), dsn, "needs a user", NULL);
	snprintf(dsn, sizeof(dsn), "host=%s,127.0.0.1 user=u password=x", tcp);
	assert_refused(create_pg(&t, "creds", "creds", dsn), dsn, "exactly one host", NULL);
	snprintf(dsn, sizeof(dsn), "host=%s port=5432,5433 user=u password=x", tcp);
	assert_refused(create_pg(&t, "creds", "creds", dsn), dsn, "port", NULL);
	assert_refused(create_pg(&t, "creds", "creds", "dbname=il_tenant_own user=u password=x"),
		       "no host", "needs a host", NULL);
	assert_refused(create_pg(&t, "creds", "creds", "host='' user=u password=x"), "empty host",
		       "needs a host", NULL);
	ck_assert_int_eq(environment_count(&t), 1);
	tenant_free(&t);
}
END_TEST

/* ---- apply --------------------------------------------------------------- */

static const char *tag_sha(const char *tag)
{
	static char out[4][48];
	static int slot;
	char *full = fixture_sha(tag), *o = out[slot++ % 4];

	snprintf(o, 48, "%s", full);
	free(full);
	return o;
}

/* Generates c1..c2 in env and approves it; the plan id (malloc'd). */
static char *approved_plan(const struct tenant *t, const char *env)
{
	return plan_approved(t, tenant_repo(t), tag_sha("c1"), tag_sha("c2"), env);
}

/*
 * The runs of an apply answer: all SUCCESS (n1 NULL), or none ran: each is
 * FAIL with an error_message holding n1 and n2, or CANCELLED after one that was.
 */
static void assert_runs(struct resp *r, const char *n1, const char *n2)
{
	json_object *runs = json_object_object_get(r->json, "runs");
	size_t i, failed = 0;

	ck_assert_uint_gt(json_object_array_length(runs), 0);
	for (i = 0; i < json_object_array_length(runs); i++) {
		json_object *run = json_object_array_get_idx(runs, i);
		const char *st = json_object_get_string(json_object_object_get(run, "status"));
		const char *err = json_object_get_string(json_object_object_get(run,
										 "error_message"));

		if (n1 == NULL) {
			ck_assert_msg(strcmp(st, "SUCCESS") == 0, "run %zu is %s: %s", i, st, r->body);
			continue;
		}
		if (strcmp(st, "CANCELLED") == 0)
			continue;
		ck_assert_msg(strcmp(st, "FAIL") == 0, "run %zu is %s: %s", i, st, r->body);
		ck_assert_msg(err != NULL && strstr(err, n1) != NULL && strstr(err, n2) != NULL,
			      "error: %s", err);
		failed++;
	}
	ck_assert(n1 == NULL || failed > 0);
}

/* psql's one-line answer in the tenant's own warehouse database (malloc'd, no newline). */
static char *own_warehouse(const char *sql)
{
	char *out = psql("il_tenant_own", sql);

	out[strcspn(out, "\n")] = '\0';
	return out;
}

START_TEST(test_security_net__own_postgres_warehouse_is_reached_through_the_checked_address)
{
	struct tenant t;
	const char *prefix = unique("own");
	char sql[512], *id, *out;
	struct resp *r;

	new_tenant(&t);
	/* the tenant's warehouse has the schemas its models go to, owned by its login */
	snprintf(sql, sizeof(sql), "CREATE SCHEMA %s_raw AUTHORIZATION il_tenant_own; CREATE SCHEMA "
		 "%s_staging AUTHORIZATION il_tenant_own; CREATE SCHEMA %s_analytics "
		 "AUTHORIZATION il_tenant_own", prefix, prefix, prefix);
	free(own_warehouse(sql));
	r = create_pg(&t, "own", prefix, tenant_dsn("sslmode=prefer connect_timeout=5"));
	ck_assert_status(r, 201);
	ck_assert_ptr_null(strstr(r->body, getenv("IL_TEST_TENANT_PG_PASSWORD")));
	resp_free(r);
	id = approved_plan(&t, "own");
	r = apply_plan(&t, id);
	ck_assert_status(r, 200);
	ck_assert_msg(strcmp(resp_str(r, "status"), "applied") == 0, "%s", r->body);
	assert_runs(r, NULL, NULL);
	resp_free(r);
	/* the rows are in the tenant's database, built by the tenant's own login */
	snprintf(sql, sizeof(sql), "SELECT count(*) > 0, pg_get_userbyid(c.relowner) FROM "
		 "\"%s_raw\".orders, pg_class c WHERE c.oid = '\"%s_raw\".orders'::regclass "
		 "GROUP BY 2", prefix, prefix);
	out = own_warehouse(sql);
	ck_assert_str_eq(out, "t|il_tenant_own");
	free(out);
	free(id);
	tenant_free(&t);
}
END_TEST

START_TEST(test_security_net__databricks_hosts_that_leave_the_api_are_refused)
{
	struct tenant t;
	const char *fake = getenv("IL_TEST_DATABRICKS_URL");        /* https://127.0.0.2:port */
	const char *port = strrchr(fake, ':') + 1;
	char url[512], *before, *after;
	/* each URL is head + the fake's port + tail */
	static const struct {
		const char *head, *tail, *why;
	} bad[] = {
		{ "http://127.0.0.2:", "", "must start with https://" },
		{ "https://127.0.0.2:", "/api/2.0/sql/statements/x#", "must not have a fragment" },
		{ "https://127.0.0.2:", "/#", "must not have a fragment" },
		{ "https://127.0.0.2:", "/internal/admin", "must not have a path" },
		{ "https://127.0.0.2:", "/?", "must not have a query" },
		{ "https://127.0.0.2:", "?next=", "must not have a query" },
		{ "https://user:pass@127.0.0.2:", "", "must not contain credentials" },
		{ "https://127.0.0.2:", "@127.0.0.1", "must not contain credentials" },
		{ "https://127.0.0.1:", "", "is not in databricks_allowed_hosts" },
		{ "https://[::1]:", "", "is not in databricks_allowed_hosts" },
		{ "https://example.com:", "", "is not in databricks_allowed_hosts" },
		{ "https://metadata.google.internal:", "", "is not in databricks_allowed_hosts" },
		/* on the list by name, but it leads to loopback */
		{ "https://localhost:", "", "resolves to" },
	};
	size_t i;

	new_tenant(&t);
	before = databricks_record();
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(url, sizeof(url), "%s%s%s", bad[i].head, port, bad[i].tail);
		assert_refused(create_dbx(&t, "lake", "lake", url, "w"), url, bad[i].why,
			       "connection.host", NULL);
	}
	assert_refused(create_dbx(&t, "lake", "lake", "https://localhost", "w"), "localhost",
		       "a loopback address", "databricks_allowed_hosts", NULL);
	after = databricks_record();
	ck_assert_str_eq(after, before);        /* nothing was sent anywhere */
	ck_assert_int_eq(environment_count(&t), 1);
	free(before);
	free(after);
	tenant_free(&t);
}
END_TEST

START_TEST(test_security_net__databricks_redirect_is_not_followed)
{
	struct tenant t;
	char *id, *record;
	struct resp *r;

	new_tenant(&t);
	/* the fake answers 302 to every submit for this warehouse */
	r = create_dbx(&t, "lake", unique("lake"), getenv("IL_TEST_DATABRICKS_URL"), "redirect_me");
	ck_assert_status(r, 201);
	resp_free(r);
	id = approved_plan(&t, "lake");
	r = apply_plan(&t, id);
	ck_assert_status(r, 200);
	ck_assert_str_eq(resp_str(r, "status"), "failed");
	ck_assert_msg(strstr(r->body, "databricks answered HTTP 302") != NULL, "%s", r->body);
	resp_free(r);
	record = databricks_record();
	ck_assert_msg(strstr(record, "\"warehouse_id\": \"redirect_me\"") != NULL, "%.2000s",
		      record);
	ck_assert_ptr_null(strstr(record, "/redirect-target"));
	free(record);
	free(id);
	tenant_free(&t);
}
END_TEST

/* ---- the operator's allow lists change between create and apply ---------- */

/* Restarts the stack with the environment of this process. */
static int stack_restart(void)
{
	char args[512];

	snprintf(args, sizeof(args), "up --port %s --builddir %s", getenv("IL_TEST_PORT"),
		 getenv("IL_TEST_BUILDDIR"));
	return stack(args);
}

/* In the runner's process, whose environment still has the test allow lists. */
static void restore_allow_lists(void)
{
	if (stack_restart() != 0)
		fprintf(stderr, "security_net: the stack did not come back up\n");
}

START_TEST(test_security_net__hosts_no_longer_allowed_are_refused_at_apply)
{
	struct tenant pg, dbx;
	const char *pg_prefix = unique("later"), *dbx_prefix = unique("lake");
	char *pg_plan, *dbx_plan, sql[256], *out, *record, want[128];
	struct resp *r;

	new_tenant(&pg);
	new_tenant(&dbx);
	/* both accepted while the operator allows their hosts */
	r = create_pg(&pg, "later", pg_prefix, tenant_dsn(NULL));
	ck_assert_status(r, 201);
	resp_free(r);
	r = create_dbx(&dbx, "lake", dbx_prefix, getenv("IL_TEST_DATABRICKS_URL"),
		       getenv("IL_TEST_DATABRICKS_WAREHOUSE"));
	ck_assert_status(r, 201);
	resp_free(r);
	pg_plan = approved_plan(&pg, "later");
	dbx_plan = approved_plan(&dbx, "lake");

	/* then the operator takes the loopback addresses off the lists */
	setenv("IRONLAYER_WAREHOUSE_ALLOWED_HOSTS", "", 1);
	setenv("IRONLAYER_DATABRICKS_ALLOWED_HOSTS", "*.cloud.databricks.com, "
	       "*.azuredatabricks.net, *.gcp.databricks.com", 1);
	ck_assert_int_eq(stack_restart(), 0);

	r = apply_plan(&pg, pg_plan);
	ck_assert_status(r, 200);
	ck_assert_str_eq(resp_str(r, "status"), "failed");
	assert_runs(r, "the environment's connection is not allowed: ",
			"a loopback address (not in warehouse_allowed_hosts)");
	resp_free(r);
	/* nothing ran: not even the schema exists */
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM pg_namespace WHERE nspname LIKE '%s%%'",
		 pg_prefix);
	out = own_warehouse(sql);
	ck_assert_str_eq(out, "0");
	free(out);

	r = apply_plan(&dbx, dbx_plan);
	ck_assert_status(r, 200);
	ck_assert_str_eq(resp_str(r, "status"), "failed");
	assert_runs(r, "the Databricks host is not allowed: ",
			"is not in databricks_allowed_hosts");
	resp_free(r);
	record = databricks_record();
	snprintf(want, sizeof(want), "`%s_", dbx_prefix);
	ck_assert_ptr_null(strstr(record, want));     /* no statement of this tenant was sent */
	free(record);
	free(pg_plan);
	free(dbx_plan);
	tenant_free(&pg);
	tenant_free(&dbx);
}
END_TEST

Suite *suite_security_net(void)
{
	Suite *s = suite_create("security_net");
	TCase *create = tcase_create("create");
	TCase *run = tcase_create("apply");
	TCase *changed = tcase_create("allow lists changed");

	tcase_set_timeout(create, 60);
	tcase_add_test(create, test_security_net__pg_dsn_aimed_at_the_server_itself_is_refused);
	tcase_add_test(create,
		       test_security_net__pg_dsn_keywords_that_reach_the_workers_files_are_refused);
	tcase_add_test(create, test_security_net__pg_dsn_needs_its_own_credentials_and_one_host);
	tcase_add_test(create, test_security_net__databricks_hosts_that_leave_the_api_are_refused);
	suite_add_tcase(s, create);
	tcase_set_timeout(run, 120);
	tcase_add_test(run,
		       test_security_net__own_postgres_warehouse_is_reached_through_the_checked_address);
	tcase_add_test(run, test_security_net__databricks_redirect_is_not_followed);
	suite_add_tcase(s, run);
	/* the stack comes back with the test allow lists whatever happened */
	tcase_set_timeout(changed, 180);
	tcase_add_unchecked_fixture(changed, NULL, restore_allow_lists);
	tcase_add_test(changed, test_security_net__hosts_no_longer_allowed_are_refused_at_apply);
	suite_add_tcase(s, changed);
	return s;
}
