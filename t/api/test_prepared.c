/* test_prepared.c: the workers' prepared statements across restarts and schema changes */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/auth.h"
#include "db/db.h"
#include "util/arena.h"
#include "util/log.h"

#include "harness.h"

/* The reads every worker prepares statements for. */
static const char *const reads[] = {
	"/api/v1/auth/me", "/api/v1/plans?limit=20", "/api/v1/models?limit=20",
	"/api/v1/runs?limit=20", "/api/v1/environments",
};
#define NREADS (sizeof(reads) / sizeof(reads[0]))

static void get_ok(const struct tenant *t, const char *path)
{
	struct resp *r = api("GET", path, t->token, NULL, NULL, NULL);

	ck_assert_msg(r->status == 200, "GET %s: expected 200, got %ld: %s", path, r->status,
		      r->body);
	resp_free(r);
}

/* Every read, often enough that each worker has prepared its statements. */
static void warm(const struct tenant *t)
{
	size_t i, k;

	for (k = 0; k < 8; k++)
		for (i = 0; i < NREADS; i++)
			get_ok(t, reads[i]);
}

/* 1 for a 503 in the API's error shape, which a client retries; fails the test on anything else but 200. */
static int ok_or_clean_503(struct resp *r, const char *path)
{
	if (r->status == 200)
		return 0;
	ck_assert_msg(r->status == 503, "GET %s: expected 200 or 503, got %ld: %s", path,
		      r->status, r->body);
	ck_assert_str_eq(resp_str(r, "code"), "service_unavailable");
	ck_assert_ptr_null(strstr(r->body, "cached plan"));
	return 1;
}

/*
 * PostgreSQL restarts under warm workers: their connections and every name
 * prepared on them are gone. Each read's first request gets a 200 or a clean
 * 503; the ones after it succeed (the statements are prepared again).
 */
START_TEST(test_prepared__reads_survive_a_postgres_restart)
{
	struct tenant t;
	size_t i;
	int k;

	tenant_new(&t, "prep-restart");
	warm(&t);
	ck_assert_int_eq(stack("pg stop"), 0);
	ck_assert_int_eq(stack("pg start"), 0);
	for (i = 0; i < NREADS; i++) {
		struct resp *r = api("GET", reads[i], t.token, NULL, NULL, NULL);

		ok_or_clean_503(r, reads[i]);
		resp_free(r);
		for (k = 0; k < 4; k++)
			get_ok(&t, reads[i]);
	}
	tenant_free(&t);
}
END_TEST

/*
 * Changes the type of a column that prepared statements return (what a
 * migration may do): PostgreSQL then refuses the old prepared form ("cached
 * plan must not change result type"). No worker passes that on: a request
 * gets at most a clean 503 per worker, and every request after it succeeds.
 */
static void alter_then_read(const struct tenant *t, const char *alter)
{
	int pids[8], workers = worker_pids(pids, 8), unavailable = 0, k;
	char *out = psql("ironlayer", alter);

	ck_assert_msg(out[0] == '\0', "%s", out);
	free(out);
	for (k = 0; k < 4 * workers; k++) {
		struct resp *r = api("GET", "/api/v1/auth/me", t->token, NULL, NULL, NULL);

		unavailable += ok_or_clean_503(r, "/api/v1/auth/me");
		if (r->status == 200)
			ck_assert_str_eq(resp_str(r, "email"), t->email);
		resp_free(r);
	}
	ck_assert_int_le(unavailable, workers);
	for (k = 0; k < 8; k++)
		get_ok(t, "/api/v1/auth/me");
}

START_TEST(test_prepared__column_type_change_is_prepared_again)
{
	struct tenant t;

	tenant_new(&t, "prep-alter");
	warm(&t);
	/* each ALTER writes the rows too: a read is answered from what was kept
	 * (http/respcache.h) until the tenant's data version moves */
	alter_then_read(&t, "ALTER TABLE users ALTER COLUMN display_name TYPE varchar(256);"
			" UPDATE users SET display_name = display_name;");
	ck_assert(worker_log_has("prepared statement went stale"));
	warm(&t);
	alter_then_read(&t, "ALTER TABLE users ALTER COLUMN display_name TYPE text;"
			" UPDATE users SET display_name = display_name;");
	warm(&t);
	tenant_free(&t);
}
END_TEST

/* A 401 exactly as a check before the handler gives it, and nothing of the tenant's. */
static void assert_refused(const struct tenant *t, const char *path)
{
	struct resp *r = api("GET", path, t->token, NULL, NULL, NULL);

	ck_assert_msg(r->status == 401, "GET %s with a revoked token: expected 401, got %ld: %s",
		      path, r->status, r->body);
	ck_assert_str_eq(resp_str(r, "code"), "invalid_token");
	ck_assert_str_eq(resp_str(r, "detail"), "invalid or expired token");
	ck_assert_str_eq(resp_header(r, "WWW-Authenticate"), "Bearer");
	ck_assert_ptr_null(strstr(r->body, t->email));
	ck_assert_ptr_null(resp_header(r, "X-Total-Count"));
	resp_free(r);
}

/*
 * A read sends its user check in one round trip with its query. A token whose
 * user moved to another epoch (a logout elsewhere) or was disabled is refused
 * by that check, on warm workers, for every read, also for one its handler
 * answers without a query (a bad limit, a malformed id): nothing of the
 * tenant comes back, and the worker's next request (another tenant's, same
 * workers) is served as usual.
 */
START_TEST(test_prepared__revoked_token_reads_nothing_in_the_pipeline)
{
	static const char *const more[] = {
		"/api/v1/plans?limit=0", "/api/v1/plans/not-a-plan",
		"/api/v1/runs/00000000-0000-0000-0000-000000000000",
		"/api/v1/models/staging.orders/lineage", "/api/v1/settings",
	};
	struct tenant t, other;
	char sql[256], *out, args[256];
	size_t i, k;

	tenant_new(&t, "prep-revoked");
	tenant_new(&other, "prep-other");
	warm(&t);
	warm(&other);
	snprintf(sql, sizeof(sql),
		 "UPDATE users SET token_epoch = token_epoch + 1 WHERE email = '%s';", t.email);
	out = psql("ironlayer", sql);
	free(out);
	for (k = 0; k < 3; k++) {
		for (i = 0; i < NREADS; i++) {
			assert_refused(&t, reads[i]);
			get_ok(&other, reads[i]);
		}
		for (i = 0; i < sizeof(more) / sizeof(more[0]); i++)
			assert_refused(&t, more[i]);
	}
	/* disabled (the CLI), with the other tenant's token still served in between */
	snprintf(args, sizeof(args), "user disable --email %s", other.email);
	ck_assert_int_eq(run_cli(args, NULL, NULL), 0);
	for (i = 0; i < NREADS; i++)
		assert_refused(&other, reads[i]);
	tenant_free(&other);
	tenant_free(&t);
}
END_TEST

/* A deferred opening's opener: the check passed; nothing to settle. */
static int session_seen(void *arg, const struct db_session *s, int can_rerun)
{
	(void)s;
	(void)can_rerun;
	++*(int *)arg;
	return 0;
}

/* One statement's one value on db (malloc'd; "<error>" when it failed, "<null>" for NULL). */
static char *value_of(struct db *db, struct arena *a, const char *sql)
{
	const char *v = NULL;
	int rc = db_exec_value(&v, db, a, sql, 0, NULL);

	return strdup(rc < 0 ? "<error>" : v == NULL ? "<null>" : v);
}

/* The user id and token epoch of a tenant's admin (psql as the superuser). */
static void admin_of(const struct tenant *t, char **user_id, long *epoch)
{
	char sql[320], *e;

	snprintf(sql, sizeof(sql), "SELECT id FROM users WHERE email = '%s'", t->email);
	*user_id = psql1(sql);
	snprintf(sql, sizeof(sql), "SELECT token_epoch FROM users WHERE email = '%s'", t->email);
	e = psql1(sql);
	*epoch = strtol(e, NULL, 10);
	free(e);
}

/*
 * What a worker does for a read: the deferred opening (binding, user check,
 * the first statement in one implicit transaction), maybe a second statement,
 * then the request's end (db_commit_nowait, then the rollback every request
 * ends with). Returns the first statement's count of users visible.
 */
static char *read_as(struct db *db, struct arena *a, const char *tenant_id, const char *user_id,
		     long epoch, const char *second, char **second_out)
{
	static const char count_users[] = "SELECT count(*) FROM users";
	int seen = 0;
	char *v;

	ck_assert_int_eq(db_defer_tenant_as_user(db, a, tenant_id, user_id, epoch, 0,
						 session_seen, &seen), 0);
	v = value_of(db, a, count_users);
	if (second != NULL)
		*second_out = value_of(db, a, second);
	db_commit_nowait(db, a);
	db_rollback(db, a);
	arena_reset(a);
	ck_assert_int_eq(seen, strcmp(v, "<error>") == 0 ? 0 : 1);
	return v;
}

/*
 * A read's tenant binding lives exactly as long as its request: on one
 * connection (a warm worker's), after tenant A's read (one pipeline, no
 * BEGIN, the binding local to its implicit transaction) an unbound statement
 * sees no setting and none of A's rows, and tenant B's read sees only B's;
 * a second statement in A's request still runs bound (it opens its own
 * bound transaction), and that binding ends with the request as well; a read
 * the user check refuses leaves nothing bound either. Fails if the binding
 * outlived the request (set_config not transaction-local, or the Sync not
 * ending the transaction).
 */
START_TEST(test_prepared__read_binding_ends_with_the_request)
{
	static const char only_a_fmt[] = "SELECT count(*) FROM users WHERE tenant_id = '%s'";
	struct tenant ta, tb;
	struct arena *a = arena_new(0);
	char *dsn = conf_value("database_url"), *ua, *ub, *v, *second = NULL, sql[160];
	long ea, eb;
	struct db db;
	int k;

	tenant_new(&ta, "bind-a");
	tenant_new(&tb, "bind-b");
	admin_of(&ta, &ua, &ea);
	admin_of(&tb, &ub, &eb);
	snprintf(sql, sizeof(sql), only_a_fmt, ta.tenant_id);
	log_set_level(IL_LOG_WARN);   /* the refusal below is logged at info */
	db_init(&db, dsn);
	for (k = 0; k < 3; k++) {   /* the later rounds run the prepared statements by name */
		v = read_as(&db, a, ta.tenant_id, ua, ea, NULL, NULL);
		ck_assert_str_eq(v, "1");
		free(v);
		v = value_of(&db, a, "SELECT coalesce(current_setting('app.tenant_id', true), '')");
		ck_assert_str_eq(v, "");
		free(v);
		v = value_of(&db, a, "SELECT count(*) FROM users");
		ck_assert_str_eq(v, "0");
		free(v);
		v = read_as(&db, a, tb.tenant_id, ub, eb, sql, &second);
		ck_assert_str_eq(v, "1");
		ck_assert_str_eq(second, "0");   /* B's request sees none of A's rows */
		free(v);
		free(second);
		/* a second statement in A's request is bound; after the request nothing is */
		v = read_as(&db, a, ta.tenant_id, ua, ea, sql, &second);
		ck_assert_str_eq(v, "1");
		ck_assert_str_eq(second, "1");
		free(v);
		free(second);
		v = value_of(&db, a, sql);
		ck_assert_str_eq(v, "0");
		free(v);
		/* refused by the check (another token epoch): nothing ran, nothing stays bound */
		v = read_as(&db, a, ta.tenant_id, ua, ea + 1, NULL, NULL);
		ck_assert_str_eq(v, "<error>");
		free(v);
		v = value_of(&db, a, sql);
		ck_assert_str_eq(v, "0");
		free(v);
		arena_reset(a);
	}
	db_close(&db);
	arena_free(a);
	free(dsn);
	free(ua);
	free(ub);
	tenant_free(&tb);
	tenant_free(&ta);
}
END_TEST

Suite *suite_prepared(void)
{
	Suite *s = suite_create("prepared");
	TCase *tc = tcase_create("prepared");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_prepared__reads_survive_a_postgres_restart);
	tcase_add_test(tc, test_prepared__column_type_change_is_prepared_again);
	tcase_add_test(tc, test_prepared__revoked_token_reads_nothing_in_the_pipeline);
	tcase_add_test(tc, test_prepared__read_binding_ends_with_the_request);
	suite_add_tcase(s, tc);
	return s;
}
