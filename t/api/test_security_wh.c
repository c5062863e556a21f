/*
 * test_security_wh.c: the shared warehouse's isolation, attacked. Models are
 * applied through the API as tenants do; some attacks are also made over a
 * login as the tenant's own role (statements a model cannot send). Each test
 * fails if its attack works; the effects are checked as the superuser.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "apply_util.h"   /* includes harness.h */

/* One model file: schema.table, materialization (NULL: TABLE) and its SQL. */
struct wh_model {
	const char *name;
	const char *materialization;
	const char *sql;
};

/* The rows of the fixture's raw.source_orders (t/api/run-api-tests.sh seeds 44). */
#define SOURCE_ROWS 44

/* A tenant with its dev schema prefix and its warehouse role (= database) name. */
struct wh_tenant {
	struct tenant t;
	char role[24];
};

static void wh_tenant_new(struct wh_tenant *w)
{
	char sql[256];

	tenant_new(&w->t, "secwh");
	snprintf(sql, sizeof(sql), "SELECT schema_prefix FROM environments WHERE tenant_id = '%s'"
		 " AND name = 'dev'", w->t.tenant_id);
	w->t.prefix = psql1(sql);
	snprintf(w->role, sizeof(w->role), "%s", tenant_wh_db(&w->t));
}

static void wh_tenant_free(struct wh_tenant *w)
{
	tenant_free(&w->t);
}

static void write_model(const char *repo, const struct wh_model *m)
{
	const char *dot = strchr(m->name, '.');
	char path[1024];
	FILE *f;

	ck_assert_ptr_nonnull(dot);
	snprintf(path, sizeof(path), "%s/models/%.*s", repo, (int)(dot - m->name), m->name);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/models/%.*s/%s.sql", repo, (int)(dot - m->name), m->name,
		 dot + 1);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "-- name: %s\n-- kind: FULL_REFRESH\n", m->name);
	if (m->materialization != NULL)
		fprintf(f, "-- materialization: %s\n", m->materialization);
	fprintf(f, "%s\n", m->sql);
	fclose(f);
}

static void git_rev(const char *repo, const char *rev, char out[48])
{
	char cmd[1024];
	FILE *p;

	snprintf(cmd, sizeof(cmd), "git -C %s rev-parse %s", repo, rev);
	p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_nonnull(fgets(out, 48, p));
	pclose(p);
	out[strcspn(out, "\n")] = '\0';
}

/* A repository in the tenant's own root: an empty commit, then the models; both ids. */
static void make_repo(const struct tenant *t, const struct wh_model *m, size_t n,
		      char repo[512], char base[48], char target[48])
{
	const char *git = "git -c user.name=t -c user.email=t@example.com -c commit.gpgsign=false";
	char cmd[2048];
	size_t i;

	snprintf(repo, 512, "%s/repos/%s/%s", getenv("IL_TEST_VAR"), t->tenant_id, unique("secwh"));
	snprintf(cmd, sizeof(cmd), "set -e; mkdir -p %s/models && cd %s && "
		 "git -c init.defaultBranch=main init -q . && %s commit -q --allow-empty -m empty",
		 repo, repo, git);
	ck_assert_int_eq(system(cmd), 0);
	for (i = 0; i < n; i++)
		write_model(repo, &m[i]);
	snprintf(cmd, sizeof(cmd), "cd %s && git add -A && %s commit -q -m models", repo, git);
	ck_assert_int_eq(system(cmd), 0);
	git_rev(repo, "HEAD~1", base);
	git_rev(repo, "HEAD", target);
}

/* POST /plans/generate of a new repository holding the models (all new). */
static struct resp *generate(const struct tenant *t, const struct wh_model *m, size_t n)
{
	char repo[512], base[48], target[48], body[2048];

	make_repo(t, m, n, repo, base, target);
	snprintf(body, sizeof(body), "{\"repo_path\":\"%s\",\"base_sha\":\"%s\",\"target_sha\":"
		 "\"%s\",\"as_of\":\"2026-11-01\"}", repo, base, target);
	return api_json("POST", "/api/v1/plans/generate", t->token, body);
}

/* Plans the models, approves and applies them; the apply's response. */
static struct resp *apply_models(const struct tenant *t, const struct wh_model *m, size_t n)
{
	char *id = plan_approve(t, generate(t, m, n));
	struct resp *r = apply_plan(t, id);

	free(id);
	ck_assert_status(r, 200);
	return r;
}

/* The run of model FAIL with an error containing want. */
static void assert_failed(struct resp *r, const char *model, const char *want)
{
	const char *err = NULL, *status = run_of(r, model, &err);

	ck_assert_msg(status != NULL, "no run of %s in %s", model, r->body);
	ck_assert_msg(strcmp(status, "FAIL") == 0, "%s: %s (attack worked?)", model, status);
	ck_assert_msg(err != NULL && strstr(err, want) != NULL, "%s: error %s, expected %s", model,
		      err, want);
}

/* A tenant whose database, role and shared schema exist (one model applied). */
static void wh_tenant_ready(struct wh_tenant *w)
{
	static const struct wh_model m[] = {
		{ "src.orders", NULL, "SELECT id, amount FROM raw.source_orders" },
	};
	struct resp *r;

	wh_tenant_new(w);
	r = apply_models(&w->t, m, 1);
	ck_assert_str_eq(resp_str(r, "status"), "applied");
	resp_free(r);
}

START_TEST(test_security_wh__model_sql_cannot_escape_its_role)
{
	struct wh_tenant a, b;
	char other_role[160], reset_read[256], cross_db[256];
	struct wh_model m[] = {
		{ "attack.set_admin", NULL,
		  "SELECT set_config('role', 'ironlayer_wh_admin', false) AS r" },
		{ "attack.set_other", NULL, other_role },
		{ "attack.session_auth", NULL,
		  "SELECT set_config('session_authorization', 'postgres', false) AS r" },
		{ "attack.reset_role", NULL, reset_read },
		{ "attack.cross_db", NULL, cross_db },
		{ "attack.read_file", NULL, "SELECT pg_read_file('/etc/passwd') AS f" },
		{ "attack.use_dblink", NULL,
		  "SELECT x FROM dblink('dbname=ironlayer_wh user=ironlayer_wh_admin', "
		  "'SELECT 1') AS t(x int)" },
		{ "attack.lock_shared", NULL, "SELECT id FROM raw.source_orders FOR UPDATE" },
		{ "attack.fdw_disconnect", NULL,
		  "SELECT ironlayer_fdw.postgres_fdw_disconnect_all() AS d" },
	};
	struct resp *r;

	wh_tenant_ready(&a);
	wh_tenant_new(&b);
	snprintf(other_role, sizeof(other_role), "SELECT set_config('role', '%s', false) AS r",
		 a.role);
	snprintf(reset_read, sizeof(reset_read), "SELECT set_config('role', 'none', false) AS r, "
		 "(SELECT count(*) FROM \"%s_src\".orders) AS n", a.t.prefix);
	snprintf(cross_db, sizeof(cross_db), "SELECT * FROM %s.\"%s_src\".orders", a.role,
		 a.t.prefix);
	r = apply_models(&b.t, m, sizeof(m) / sizeof(m[0]));
	ck_assert_str_eq(resp_str(r, "status"), "failed");
	assert_failed(r, "attack.set_admin", "permission denied to set role");
	assert_failed(r, "attack.set_other", "permission denied to set role");
	assert_failed(r, "attack.session_auth", "permission denied to set session authorization");
	assert_failed(r, "attack.reset_role", "does not exist");
	assert_failed(r, "attack.cross_db", "cross-database references are not implemented");
	assert_failed(r, "attack.read_file", "permission denied for function pg_read_file");
	assert_failed(r, "attack.use_dblink", "function dblink");
	assert_failed(r, "attack.lock_shared", "permission denied for foreign table source_orders");
	assert_failed(r, "attack.fdw_disconnect", "permission denied for schema ironlayer_fdw");
	resp_free(r);

	/* no effect: no table built, the source untouched, no extension */
	ck_assert_int_eq(wh_number(b.role, "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON "
				  "n.oid = c.relnamespace WHERE n.nspname = '%s_attack'", b.t.prefix), 0);
	ck_assert_int_eq(wh_number("ironlayer_wh", "SELECT count(*) FROM raw.source_orders"),
			 SOURCE_ROWS);
	ck_assert_int_eq(wh_number(b.role, "SELECT count(*) FROM pg_extension WHERE extname = "
				  "'dblink'"), 0);
	wh_tenant_free(&a);
	wh_tenant_free(&b);
}
END_TEST

/*
 * What a model body cannot even be: a second statement, a write, DDL. The
 * plan is refused (the first layer); the tenant role's privileges below are
 * the second, tested over its own login.
 */
START_TEST(test_security_wh__statements_are_refused_before_they_run)
{
	static const struct wh_model m[] = {
		{ "attack.copy_program", NULL,
		  "SELECT 1 AS x; COPY (SELECT 1) TO PROGRAM 'touch /tmp/il-never'" },
		{ "attack.write_shared", NULL,
		  "WITH w AS (INSERT INTO raw.source_orders VALUES (990001, 1, 1, '2026-01-01')"
		  " RETURNING id) SELECT id FROM w" },
		{ "attack.dblink", NULL, "CREATE EXTENSION dblink" },
		{ "attack.function", NULL,
		  "CREATE FUNCTION raw.f() RETURNS int LANGUAGE sql AS 'SELECT 1'" },
		{ "attack.set_role", NULL, "SET ROLE ironlayer_wh_admin" },
	};
	struct tenant t;
	struct resp *r;
	size_t i;

	tenant_new(&t, "secwh");
	for (i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		r = generate(&t, &m[i], 1);
		ck_assert_msg(r->status == 422, "%s: %ld %s", m[i].name, r->status, r->body);
		ck_assert_str_eq(resp_str(r, "code"), "model_errors");
		resp_free(r);
	}
	tenant_free(&t);
}
END_TEST

/* ---------------------------------------------------------------- as the tenant role itself */

/*
 * Lends role a known password (the workers' sealed one stays unknown to the
 * test); returns the role's SCRAM verifier, which give_back() restores.
 */
static char *borrow_login(const char *role, const char *password)
{
	char sql[512], *verifier, *out;

	snprintf(sql, sizeof(sql), "SELECT rolpassword FROM pg_authid WHERE rolname = '%s'", role);
	verifier = psql("postgres", sql);
	verifier[strcspn(verifier, "\n")] = '\0';
	ck_assert_msg(strncmp(verifier, "SCRAM-SHA-256$", 14) == 0, "%s", verifier);
	snprintf(sql, sizeof(sql), "ALTER ROLE \"%s\" PASSWORD '%s'", role, password);
	out = psql("postgres", sql);
	ck_assert_str_eq(out, "");
	free(out);
	return verifier;
}

static void give_back(const char *role, char *verifier)
{
	char sql[1024], *out;

	snprintf(sql, sizeof(sql), "ALTER ROLE \"%s\" PASSWORD '%s'", role, verifier);
	out = psql("postgres", sql);
	ck_assert_str_eq(out, "");
	free(out);
	free(verifier);
}

/* A session as role on db of the test cluster; NULL with the reason in why when refused. */
static PGconn *login(const char *db, const char *role, const char *password, char *why,
		     size_t why_len)
{
	char conninfo[1024];
	PGconn *c;

	snprintf(conninfo, sizeof(conninfo), "host=%s/pg/run port=5432 dbname=%s user=%s "
		 "password=%s connect_timeout=10", getenv("IL_TEST_VAR"), db, role, password);
	c = PQconnectdb(conninfo);
	if (PQstatus(c) == CONNECTION_OK)
		return c;
	snprintf(why, why_len, "%s", PQerrorMessage(c));
	PQfinish(c);
	return NULL;
}

/* The server refuses sql with a message containing want. */
static void refused(PGconn *c, const char *sql, const char *want)
{
	PGresult *res = PQexec(c, sql);
	const char *msg = PQresultErrorMessage(res);

	ck_assert_msg(PQresultStatus(res) == PGRES_FATAL_ERROR && strstr(msg, want) != NULL,
		      "%s: %s %s (expected: %s)", sql, PQresStatus(PQresultStatus(res)), msg, want);
	PQclear(res);
}

/* sql's one value in c is want. */
static void value_is(PGconn *c, const char *sql, const char *want)
{
	PGresult *res = PQexec(c, sql);

	ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1,
		      "%s: %s", sql, PQresultErrorMessage(res));
	ck_assert_str_eq(PQgetvalue(res, 0, 0), want);
	PQclear(res);
}

/* Logging in as role to db is refused with a reason containing want. */
static void login_refused(const char *db, const char *role, const char *password,
			  const char *want)
{
	char why[1024] = "";
	PGconn *c = login(db, role, password, why, sizeof(why));

	ck_assert_msg(c == NULL, "%s logged in to %s", role, db);
	ck_assert_msg(strstr(why, want) != NULL, "%s to %s: %s (expected: %s)", role, db, why, want);
}

/* Statements a model cannot send, sent by the tenant role over its own login. */
static void attack_as_role(PGconn *c, const struct wh_tenant *a, const struct wh_tenant *b,
			   const char *marker)
{
	char sql[512];

	refused(c, "SET ROLE ironlayer_wh_admin", "permission denied to set role");
	snprintf(sql, sizeof(sql), "SET ROLE \"%s\"", a->role);
	refused(c, sql, "permission denied to set role");
	refused(c, "SET SESSION AUTHORIZATION postgres",
		"permission denied to set session authorization");
	snprintf(sql, sizeof(sql), "RESET ROLE; SELECT * FROM \"%s_src\".orders", a->t.prefix);
	refused(c, sql, "does not exist");
	snprintf(sql, sizeof(sql), "COPY (SELECT 1) TO PROGRAM 'touch %s'", marker);
	refused(c, sql, "pg_execute_server_program");
	refused(c, "SELECT pg_read_file('/etc/passwd')", "permission denied for function");
	refused(c, "CREATE EXTENSION dblink", "permission denied to create extension");
	refused(c, "CREATE FUNCTION raw.f() RETURNS int LANGUAGE sql AS 'SELECT 1'",
		"permission denied for schema raw");
	refused(c, "CREATE TABLE raw.planted (i int)", "permission denied for schema raw");
	refused(c, "INSERT INTO raw.source_orders VALUES (990002, 1, 1, '2026-01-01')",
		"permission denied for foreign table");
	refused(c, "DROP FOREIGN TABLE raw.source_orders", "must be owner");
	refused(c, "DROP SCHEMA raw CASCADE", "must be owner");
	refused(c, "ALTER ROLE CURRENT_USER CONNECTION LIMIT -1", "permission denied");
	snprintf(sql, sizeof(sql), "CREATE FOREIGN TABLE \"%s_src\".authid (rolname name) SERVER "
		 "ironlayer_wh_shared OPTIONS (schema_name 'pg_catalog', table_name 'pg_authid')",
		 b->t.prefix);
	refused(c, sql, "permission denied for foreign server");
	refused(c, "CREATE USER MAPPING FOR CURRENT_USER SERVER ironlayer_wh_shared OPTIONS "
		"(user 'ironlayer_wh_admin', password 'x')", "permission denied for foreign server");
	refused(c, "SELECT ironlayer_fdw.postgres_fdw_get_connections()",
		"permission denied for schema ironlayer_fdw");
	refused(c, "SELECT * FROM pg_user_mapping", "permission denied");
	/* the reader's password in the template's user mapping stays hidden */
	value_is(c, "SELECT count(umoptions) || '/' || count(*) FROM pg_user_mappings", "0/1");
}

/* Holds limit sessions of role on db, then one more is refused. */
static void connection_limit_holds(const char *db, const char *role, const char *password,
				   PGconn *first, long limit)
{
	PGconn *held[64];
	char why[1024] = "";
	long i;

	ck_assert(limit >= 1 && limit < 64);
	held[0] = first;
	for (i = 1; i < limit; i++) {
		held[i] = login(db, role, password, why, sizeof(why));
		ck_assert_msg(held[i] != NULL, "session %ld of %ld: %s", i + 1, limit, why);
	}
	login_refused(db, role, password, "too many connections for role");
	for (i = 1; i < limit; i++)
		PQfinish(held[i]);
}

START_TEST(test_security_wh__the_tenant_role_can_do_nothing_else)
{
	struct wh_tenant a, b;
	char password[64], marker[256], *verifier, *limit_text, why[1024] = "";
	long limit;
	PGconn *c;

	wh_tenant_ready(&a);
	wh_tenant_ready(&b);
	snprintf(password, sizeof(password), "%s", unique("pw-"));
	snprintf(marker, sizeof(marker), "%s/copy-program-%s", getenv("IL_TEST_VAR"),
		 unique("m"));
	limit_text = conf_value("warehouse_connection_limit");
	limit = limit_text ? strtol(limit_text, NULL, 10) : 4;   /* the default */
	free(limit_text);

	verifier = borrow_login(b.role, password);
	c = login(b.role, b.role, password, why, sizeof(why));
	ck_assert_msg(c != NULL, "%s", why);
	attack_as_role(c, &a, &b, marker);
	connection_limit_holds(b.role, b.role, password, c, limit);
	PQfinish(c);
	/* another tenant's database, the shared and state databases, the template */
	login_refused(a.role, b.role, password, "permission denied for database");
	login_refused("ironlayer_wh", b.role, password, "permission denied for database");
	login_refused("ironlayer", b.role, password, "permission denied for database");
	login_refused("ironlayer_wh_template", b.role, password, "permission denied for database");
	login_refused("postgres", b.role, password, "permission denied for database");
	give_back(b.role, verifier);

	ck_assert_int_ne(access(marker, F_OK), 0);
	ck_assert_int_eq(wh_number(b.role, "SELECT count(*) FROM pg_extension WHERE extname = "
				  "'dblink'"), 0);
	ck_assert_int_eq(wh_number(b.role, "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON "
				  "n.oid = c.relnamespace WHERE n.nspname = 'raw' AND c.relkind <> "
				  "'f'"), 0);
	ck_assert_int_eq(wh_number(b.role, "SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON "
				  "n.oid = p.pronamespace WHERE n.nspname = 'raw'"), 0);
	ck_assert_int_eq(wh_number("ironlayer_wh", "SELECT count(*) FROM raw.source_orders"),
			 SOURCE_ROWS);
	wh_tenant_free(&a);
	wh_tenant_free(&b);
}
END_TEST

/* ---------------------------------------------------------------- catalogs and shared data */

START_TEST(test_security_wh__catalogs_show_nothing_of_another_tenant)
{
	struct wh_tenant a, b;
	char secret_sql[256], marker[64];
	struct wh_model ma[] = {
		{ "secret.plans", "VIEW", secret_sql },
		{ "secret.totals", NULL, "SELECT count(*) AS n FROM raw.source_orders" },
	};
	static const struct wh_model mb[] = {
		{ "spy.views", NULL, "SELECT schemaname::text AS s, viewname::text AS v, "
		  "definition AS d FROM pg_views" },
		{ "spy.classes", NULL, "SELECT n.nspname::text AS s, c.relname::text AS r FROM "
		  "pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace" },
		{ "spy.namespaces", NULL, "SELECT nspname::text AS s FROM pg_namespace" },
		{ "spy.mappings", NULL, "SELECT srvname::text AS s, "
		  "coalesce(array_to_string(umoptions, ','), '') AS o FROM pg_user_mappings" },
	};
	struct resp *r;

	wh_tenant_new(&a);
	wh_tenant_new(&b);
	snprintf(marker, sizeof(marker), "%s", unique("tenant_a_secret_"));
	snprintf(secret_sql, sizeof(secret_sql), "SELECT '%s' AS plan_name", marker);
	r = apply_models(&a.t, ma, 2);
	ck_assert_str_eq(resp_str(r, "status"), "applied");
	resp_free(r);
	/* A's view and its SQL are there for a catalog to show */
	ck_assert_int_eq(wh_number(a.role, "SELECT count(*) FROM pg_views WHERE definition LIKE "
				  "'%%%s%%'", marker), 1);

	r = apply_models(&b.t, mb, sizeof(mb) / sizeof(mb[0]));
	ck_assert_msg(strcmp(resp_str(r, "status"), "applied") == 0, "%s", r->body);
	resp_free(r);
	/* B's catalogs hold B's own schemas, and nothing of A's */
	ck_assert_int_eq(wh_number(b.role, "SELECT count(*) FROM \"%s_spy\".namespaces WHERE s = "
				  "'%s_spy'", b.t.prefix, b.t.prefix), 1);
	ck_assert_int_gt(wh_number(b.role, "SELECT count(*) FROM \"%s_spy\".views", b.t.prefix), 0);
	ck_assert_int_gt(wh_number(b.role, "SELECT count(*) FROM \"%s_spy\".classes WHERE s = 'raw'",
				  b.t.prefix), 0);
	ck_assert_int_eq(wh_number(b.role, "SELECT count(*) FROM \"%s_spy\".views WHERE d LIKE "
				  "'%%%s%%' OR s LIKE '%s%%'", b.t.prefix, marker, a.t.prefix), 0);
	ck_assert_int_eq(wh_number(b.role, "SELECT count(*) FROM \"%s_spy\".classes WHERE s LIKE "
				  "'%s%%'", b.t.prefix, a.t.prefix), 0);
	ck_assert_int_eq(wh_number(b.role, "SELECT count(*) FROM \"%s_spy\".namespaces WHERE s LIKE "
				  "'%s%%'", b.t.prefix, a.t.prefix), 0);
	/* the shared server's user mapping is seen, its password is not */
	ck_assert_int_eq(wh_number(b.role, "SELECT count(*) FROM \"%s_spy\".mappings WHERE o = ''",
				  b.t.prefix), 1);
	ck_assert_int_eq(wh_number(b.role, "SELECT count(*) FROM \"%s_spy\".mappings WHERE o <> ''",
				  b.t.prefix), 0);
	wh_tenant_free(&a);
	wh_tenant_free(&b);
}
END_TEST

START_TEST(test_security_wh__shared_sources_are_read_only_and_refreshed)
{
	struct wh_tenant w;
	char table[64], sql[512], *out, read_new[256];
	struct wh_model m[] = {
		{ "seen.total", NULL, "SELECT count(*) AS n FROM raw.source_orders" },
		{ "seen.fresh", NULL, read_new },
	};
	struct resp *r;

	wh_tenant_ready(&w);
	/* the operator adds a source table after the tenant database was made */
	snprintf(table, sizeof(table), "%s", unique("added_"));
	snprintf(sql, sizeof(sql), "CREATE TABLE raw.%s AS SELECT 7 AS v; "
		 "ALTER TABLE raw.%s OWNER TO ironlayer_wh_admin", table, table);
	out = psql("ironlayer_wh", sql);
	ck_assert_str_eq(out, "");
	free(out);
	snprintf(read_new, sizeof(read_new), "SELECT v FROM raw.%s", table);
	r = apply_models(&w.t, m, 2);
	ck_assert_msg(strcmp(resp_str(r, "status"), "applied") == 0, "%s", r->body);
	resp_free(r);
	ck_assert_int_eq(wh_number(w.role, "SELECT n FROM \"%s_seen\".total", w.t.prefix),
			 SOURCE_ROWS);
	ck_assert_int_eq(wh_number(w.role, "SELECT v FROM \"%s_seen\".fresh", w.t.prefix), 7);

	/* in the tenant database the shared schema is the admin's: foreign tables, SELECT only */
	ck_assert_int_eq(wh_number(w.role, "SELECT count(*) FROM pg_namespace WHERE nspname = 'raw' "
				  "AND pg_get_userbyid(nspowner) = 'ironlayer_wh_admin'"), 1);
	ck_assert_int_eq(wh_number(w.role, "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON "
				  "n.oid = c.relnamespace WHERE n.nspname = 'raw' AND (c.relkind <> "
				  "'f' OR pg_get_userbyid(c.relowner) <> 'ironlayer_wh_admin')"), 0);
	ck_assert_int_eq(wh_number(w.role, "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON "
				  "n.oid = c.relnamespace WHERE n.nspname = 'raw' AND ("
				  "has_table_privilege('%s', c.oid, 'INSERT, UPDATE, DELETE, TRUNCATE, "
				  "REFERENCES, TRIGGER') OR NOT has_table_privilege('%s', c.oid, "
				  "'SELECT'))", w.role, w.role), 0);
	ck_assert_int_eq(wh_number(w.role, "SELECT has_schema_privilege('%s', 'raw', 'CREATE')::int",
				  w.role), 0);
	/* and the reader behind it may only read the shared schemas */
	ck_assert_int_eq(wh_number("ironlayer_wh", "SELECT count(*) FROM pg_class c JOIN "
				  "pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'raw' AND "
				  "c.relkind = 'r' AND has_table_privilege('ironlayer_wh_reader', c.oid, "
				  "'INSERT, UPDATE, DELETE, TRUNCATE')"), 0);
	snprintf(sql, sizeof(sql), "DROP TABLE raw.%s CASCADE", table);
	free(psql("ironlayer_wh", sql));
	wh_tenant_free(&w);
}
END_TEST

/* The README's demo, end to end: its models read raw.orders & co. through the tenant database. */
START_TEST(test_security_wh__the_demo_builds_from_the_shared_sources)
{
	struct wh_tenant w;
	char cmd[2048], repo[512], *dsn, body[1024], path[256], *id;
	const char *revs[2][2] = { { "HEAD~2", "HEAD~1" }, { "HEAD~1", "HEAD" } };
	char shas[2][48];
	struct resp *r;
	int i;

	wh_tenant_new(&w);
	dsn = conf_value("warehouse_admin_dsn");
	ck_assert_ptr_nonnull(dsn);
	snprintf(repo, sizeof(repo), "%s/repos/%s/%s", getenv("IL_TEST_VAR"), w.t.tenant_id,
		 unique("demo"));
	snprintf(cmd, sizeof(cmd), "psql -X -q -v ON_ERROR_STOP=1 '%s' -f %s/examples/demo-project/"
		 "seed.sql >/dev/null && %s/examples/make-demo-repo.sh %s/examples/demo-project %s "
		 ">/dev/null", dsn, getenv("IL_TEST_SRCDIR"), getenv("IL_TEST_SRCDIR"),
		 getenv("IL_TEST_SRCDIR"), repo);
	free(dsn);
	ck_assert_int_eq(system(cmd), 0);
	for (i = 0; i < 2; i++) {
		git_rev(repo, revs[i][0], shas[0]);
		git_rev(repo, revs[i][1], shas[1]);
		snprintf(body, sizeof(body), "{\"repo_path\":\"%s\",\"base_sha\":\"%s\","
			 "\"target_sha\":\"%s\"}", repo, shas[0], shas[1]);
		r = api_json("POST", "/api/v1/plans/generate", w.t.token, body);
		ck_assert_msg(r->status == 201, "%ld %s", r->status, r->body);
		id = must_str(r, "plan_id");
		resp_free(r);
		snprintf(path, sizeof(path), "/api/v1/plans/%s/approve", id);
		resp_free(api_json("POST", path, w.t.token, "{}"));
		snprintf(path, sizeof(path), "/api/v1/plans/%s/apply", id);
		free(id);
		r = api_json("POST", path, w.t.token, "{}");
		ck_assert_status(r, 200);
		ck_assert_msg(strcmp(resp_str(r, "status"), "applied") == 0, "%s", r->body);
		resp_free(r);
	}
	ck_assert_int_eq(wh_number(w.role, "SELECT count(*) FROM \"%s_staging\".stg_customers",
				  w.t.prefix),
			 wh_number("ironlayer_wh", "SELECT count(*) FROM raw.customers"));
	ck_assert_int_gt(wh_number(w.role, "SELECT count(*) FROM \"%s_analytics\".revenue_summary",
				  w.t.prefix), 0);
	ck_assert_int_eq(wh_number(w.role, "SELECT sum(orders) FROM \"%s_analytics\".revenue_summary",
				  w.t.prefix),
			 wh_number("ironlayer_wh", "SELECT sum(n) FROM (SELECT count(DISTINCT o.order_id)"
				  " AS n FROM raw.payments p JOIN raw.orders o ON o.order_id = "
				  "p.order_id WHERE p.succeeded AND o.status NOT IN ('cancelled', "
				  "'returned') GROUP BY p.method) AS x"));
	wh_tenant_free(&w);
}
END_TEST

/* ---------------------------------------------------------------- the role and the database */

START_TEST(test_security_wh__tenant_role_and_database_are_locked_down)
{
	struct wh_tenant w;
	char sql[256], *out, *limit_text;
	long limit;
	struct resp *r;
	static const struct wh_model again[] = {
		{ "src.more", NULL, "SELECT 1 AS one" },
	};

	wh_tenant_ready(&w);
	limit_text = conf_value("warehouse_connection_limit");
	limit = limit_text ? strtol(limit_text, NULL, 10) : 4;   /* the default */
	free(limit_text);
	ck_assert_int_eq(wh_number("postgres", "SELECT count(*) FROM pg_roles WHERE rolname = '%s' "
				  "AND rolcanlogin AND NOT rolinherit AND NOT rolsuper AND NOT "
				  "rolcreatedb AND NOT rolcreaterole AND NOT rolreplication AND NOT "
				  "rolbypassrls AND rolconnlimit = %ld", w.role, limit), 1);
	ck_assert_int_eq(wh_number("postgres", "SELECT count(*) FROM pg_auth_members m JOIN pg_roles "
				  "u ON u.oid = m.member WHERE u.rolname = '%s'", w.role), 0);
	/* its database: owned by it, from the template, nothing granted to PUBLIC */
	ck_assert_int_eq(wh_number("postgres", "SELECT count(*) FROM pg_database WHERE datname = "
				  "'%s' AND pg_get_userbyid(datdba) = '%s' AND datacl IS NOT NULL AND "
				  "NOT EXISTS (SELECT 1 FROM aclexplode(datacl) x WHERE x.grantee = 0)",
				  w.role, w.role), 1);
	ck_assert_int_eq(wh_number(w.role, "SELECT count(*) FROM pg_foreign_server WHERE srvname = "
				  "'ironlayer_wh_shared'"), 1);

	/* a membership and an attribute slipped in are taken away at the next apply */
	snprintf(sql, sizeof(sql), "GRANT ironlayer_app TO \"%s\"; ALTER ROLE \"%s\" INHERIT "
		 "CONNECTION LIMIT -1", w.role, w.role);
	out = psql("postgres", sql);
	ck_assert_str_eq(out, "");
	free(out);
	r = apply_models(&w.t, again, 1);
	ck_assert_str_eq(resp_str(r, "status"), "applied");
	resp_free(r);
	ck_assert_int_eq(wh_number("postgres", "SELECT count(*) FROM pg_auth_members m JOIN pg_roles "
				  "u ON u.oid = m.member WHERE u.rolname = '%s'", w.role), 0);
	ck_assert_int_eq(wh_number("postgres", "SELECT count(*) FROM pg_roles WHERE rolname = '%s' "
				  "AND NOT rolinherit AND rolconnlimit = %ld", w.role, limit), 1);

	/* one it cannot take away (a superuser's) stops the apply before any tenant SQL */
	snprintf(sql, sizeof(sql), "ALTER ROLE \"%s\" BYPASSRLS", w.role);
	free(psql("postgres", sql));
	r = apply_models(&w.t, again, 1);
	ck_assert_str_eq(resp_str(r, "status"), "failed");
	ck_assert_str_eq(resp_str(r, "runs.0.error_message"),
			 "cannot prepare the warehouse for this tenant");
	resp_free(r);
	snprintf(sql, sizeof(sql), "ALTER ROLE \"%s\" NOBYPASSRLS", w.role);
	free(psql("postgres", sql));
	wh_tenant_free(&w);
}
END_TEST

/* ---------------------------------------------------------------- the cluster's own doors */

/* psql -w (never prompts) as user (NULL: this process's user) without a password file. */
static int psql_as(const char *user, const char *db, const char *role)
{
	char cmd[1024], as[64] = "";

	if (user != NULL)
		snprintf(as, sizeof(as), "runuser -u %s -- ", user);
	snprintf(cmd, sizeof(cmd), "cd / && %senv PGPASSFILE=/nonexistent PGPASSWORD= "
		 "psql -X -w -q -c 'SELECT 1' 'host=%s/pg/run port=5432 dbname=%s user=%s' "
		 ">/dev/null 2>&1", as, getenv("IL_TEST_VAR"), db, role);
	return system(cmd);
}

START_TEST(test_security_wh__cluster_is_closed_to_other_local_users)
{
	char path[512];
	struct stat st;
	static const char *const roles[] = { "postgres", "ironlayer_app", "ironlayer_owner",
					     "ironlayer_wh_admin", "ironlayer_wh_reader" };
	size_t i;

	snprintf(path, sizeof(path), "%s/pg/run", getenv("IL_TEST_VAR"));
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_msg((st.st_mode & 0077) == 0, "%s is mode %o", path, st.st_mode & 0777);
	/* no trust, no peer: every rule asks for the password */
	ck_assert_int_eq(wh_number("postgres", "SELECT count(*) FROM pg_hba_file_rules WHERE "
				  "auth_method <> 'scram-sha-256' OR error IS NOT NULL"), 0);
	ck_assert_int_gt(wh_number("postgres", "SELECT count(*) FROM pg_hba_file_rules"), 0);
	/* even this user, who reaches the socket, gets in nowhere without a password */
	for (i = 0; i < sizeof(roles) / sizeof(roles[0]); i++)
		ck_assert_msg(psql_as(NULL, "ironlayer", roles[i]) != 0, "%s without a password",
			      roles[i]);
	ck_assert_int_ne(psql_as(NULL, "ironlayer_wh", "ironlayer_wh_admin"), 0);
	if (geteuid() == 0) {
		ck_assert_int_ne(psql_as("nobody", "ironlayer", "postgres"), 0);
		ck_assert_int_ne(psql_as("nobody", "ironlayer_wh", "postgres"), 0);
		/* the same command with the superuser's password works: the refusals meant it */
		snprintf(path, sizeof(path), "%s/secrets/pgpass", getenv("IL_TEST_VAR"));
		ck_assert_int_eq(stat(path, &st), 0);
		ck_assert_int_eq(st.st_mode & 0777, 0600);
	}
}
END_TEST

/* ---------------------------------------------------------------- schema prefixes */

START_TEST(test_security_wh__schema_prefix_stays_out_of_system_schemas)
{
	static const char *const bad[] = { "pg", "pg_catalog", "pgx", "information_schema",
					   "information_schema_x", "public", "public_data" };
	struct tenant t;
	char body[256];
	size_t i;
	struct resp *r;

	tenant_new(&t, "secwh");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(body, sizeof(body), "{\"name\":\"e%zu\",\"executor\":\"postgres\","
			 "\"schema_prefix\":\"%s\"}", i, bad[i]);
		r = api_json("POST", "/api/v1/environments", t.token, body);
		ck_assert_msg(r->status == 422, "%s: %ld %s", bad[i], r->status, r->body);
		ck_assert_str_eq(resp_str(r, "code"), "validation_error");
		ck_assert_str_eq(resp_str(r, "detail.0.loc.1"), "schema_prefix");
		resp_free(r);
	}
	r = api_json("POST", "/api/v1/environments", t.token,
		     "{\"name\":\"ok\",\"executor\":\"postgres\",\"schema_prefix\":\"pub\"}");
	ck_assert_status(r, 201);
	resp_free(r);
	tenant_free(&t);
}
END_TEST

Suite *suite_security_wh(void)
{
	Suite *s = suite_create("security_wh");
	TCase *tc = tcase_create("security_wh");

	tcase_set_timeout(tc, 180);
	tcase_add_test(tc, test_security_wh__model_sql_cannot_escape_its_role);
	tcase_add_test(tc, test_security_wh__statements_are_refused_before_they_run);
	tcase_add_test(tc, test_security_wh__the_tenant_role_can_do_nothing_else);
	tcase_add_test(tc, test_security_wh__catalogs_show_nothing_of_another_tenant);
	tcase_add_test(tc, test_security_wh__shared_sources_are_read_only_and_refreshed);
	tcase_add_test(tc, test_security_wh__the_demo_builds_from_the_shared_sources);
	tcase_add_test(tc, test_security_wh__tenant_role_and_database_are_locked_down);
	tcase_add_test(tc, test_security_wh__cluster_is_closed_to_other_local_users);
	tcase_add_test(tc, test_security_wh__schema_prefix_stays_out_of_system_schemas);
	suite_add_tcase(s, tc);
	return s;
}
