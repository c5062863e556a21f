/* test_preview.c: `plans show ID --sql` is exactly what apply then sends to the warehouse */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "clirun.h"

/* A growing list of statements. */
struct stmts {
	char **v;
	size_t n;
	unsigned mats;       /* the materializations of the steps (mats_seen) */
};

static void push(struct stmts *s, const char *text, size_t len)
{
	s->v = realloc(s->v, (s->n + 1) * sizeof(*s->v));
	s->v[s->n++] = strndup(text, len);
}

static void stmts_free(struct stmts *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

static void login(const struct cli_user *u, const char *email)
{
	struct run r;

	cli(&r, u, NULL, TEST_PASSWORD "\n", "login --email %s", email);
	ck_assert_msg(r.status == 0, "%s", r.err);
	run_free(&r);
}

/* Plans base..target in env with the CLI and approves it; returns the plan id. */
static char *planned(const struct cli_user *u, const char *base, const char *target,
		     const char *env)
{
	json_object *plan;
	struct run r;
	char *id;

	cli(&r, u, NULL, NULL, "remote plan %s %s %s --env %s --as-of 2026-11-05 --json",
	    getenv("IL_TEST_REPO"), base, target, env);
	ck_assert_msg(r.status == 0, "%s", r.err);
	plan = json_tokener_parse(r.out);
	id = strdup(json_object_get_string(json_object_object_get(plan, "plan_id")));
	json_object_put(plan);
	run_free(&r);
	cli(&r, u, NULL, NULL, "approve %s", id);
	ck_assert_msg(r.status == 0, "%s", r.err);
	run_free(&r);
	return id;
}

/* Which materializations a preview's steps use, one bit each in out->mats. */
static void mats_seen(struct stmts *out, const char *mat)
{
	static const char *const names[] = { "TABLE", "VIEW", "INSERT_OVERWRITE", "MERGE" };
	size_t i;

	for (i = 0; i < 4; i++)
		if (mat != NULL && strcmp(mat, names[i]) == 0)
			out->mats |= 1u << i;
}

#define ALL_MATERIALIZATIONS 0xfu

/* Every statement of `plans show ID --sql --json`, steps in order. */
static void preview(struct stmts *out, const struct cli_user *u, const char *id,
		    const char *executor)
{
	json_object *o, *steps;
	struct run r;
	size_t i, k;

	cli(&r, u, NULL, NULL, "plans show %s --sql --json", id);
	ck_assert_msg(r.status == 0, "%s", r.err);
	o = json_tokener_parse(r.out);
	ck_assert_msg(o != NULL, "%s", r.out);
	ck_assert_str_eq(json_object_get_string(json_object_object_get(o, "executor")), executor);
	steps = json_object_object_get(o, "steps");
	for (i = 0; i < json_object_array_length(steps); i++) {
		json_object *s = json_object_array_get_idx(steps, i);
		json_object *list = json_object_object_get(s, "statements");

		ck_assert_msg(json_object_get_type(json_object_object_get(s, "error")) ==
			      json_type_null, "%s", json_object_to_json_string(s));
		mats_seen(out, json_object_get_string(json_object_object_get(s, "materialization")));
		for (k = 0; k < json_object_array_length(list); k++) {
			const char *t = json_object_get_string(json_object_array_get_idx(list, k));

			push(out, t, strlen(t));
		}
	}
	json_object_put(o);
	run_free(&r);
}

static long file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (long)st.st_size : 0;
}

static void apply_ok(const struct cli_user *u, const char *id)
{
	struct run r;

	cli(&r, u, NULL, NULL, "apply %s", id);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	run_free(&r);
}

/*
 * The statements the tenant's warehouse role sent, from the PostgreSQL log
 * (log_statement = all) after offset: "… il_t…@il_t… LOG:  execute
 * <unnamed>: SQL", continued on lines that start with a tab; the session's
 * settings (set_config when a connection opens) are not a step's.
 */
static void executed_on_postgres(struct stmts *out, long offset)
{
	static const char mark[] = "LOG:  execute <unnamed>: ";
	char *log = slurp(getenv("IL_TEST_PGLOG")), *p = log + offset;

	while ((p = strstr(p, mark)) != NULL) {
		char *line_start = p, *text = p + strlen(mark), *end = text;
		char *sql = NULL;
		size_t len = 0;

		while (line_start > log && line_start[-1] != '\n')
			line_start--;
		for (;;) {               /* the statement runs until a line without a tab */
			char *nl = strchr(end, '\n');

			if (nl == NULL || nl[1] != '\t') {
				end = nl ? nl : end + strlen(end);
				break;
			}
			end = nl + 1;
		}
		/* the tenant's warehouse role: "… [pid] il_t…@il_t… LOG: …" */
		if (strstr(line_start, "] ") != NULL &&
		    strncmp(strstr(line_start, "] ") + 2, "il_t", 4) == 0) {
			char *q;

			sql = strndup(text, (size_t)(end - text));
			/* continuation lines: "\n\t" stands for "\n" */
			for (q = sql; (q = strstr(q, "\n\t")) != NULL; q++)
				memmove(q + 1, q + 2, strlen(q + 2) + 1);
			len = strlen(sql);
			/* the session's own settings, made once per connection, belong to no step */
			if (strncmp(sql, "SELECT set_config(", 18) != 0)
				push(out, sql, len);
			free(sql);
		}
		p = end;
	}
	free(log);
}

static void expect_same(const struct stmts *want, const struct stmts *got)
{
	size_t i;

	for (i = 0; i < want->n && i < got->n; i++)
		ck_assert_msg(strcmp(want->v[i], got->v[i]) == 0,
			      "statement %zu differs:\npreview: %s\nran:     %s", i, want->v[i],
			      got->v[i]);
	ck_assert_msg(want->n == got->n, "preview has %zu statements, %zu ran", want->n, got->n);
}

START_TEST(test_cli__sql_preview_is_what_postgres_ran)
{
	struct stmts want = { NULL, 0, 0 }, got = { NULL, 0, 0 };
	struct cli_user u;
	struct tenant t;
	char *id;
	long at;

	tenant_new(&t, "clipgsql");
	user_new(&u);
	login(&u, t.email);
	/* every materialization into an empty environment, then again over what it built */
	id = planned(&u, "tags/c1", "tags/c2", "dev");
	preview(&want, &u, id, "postgres");
	ck_assert_int_ge((int)want.n, 25);   /* six steps, each BEGIN … COMMIT */
	ck_assert_uint_eq(want.mats, ALL_MATERIALIZATIONS);
	at = file_size(getenv("IL_TEST_PGLOG"));
	apply_ok(&u, id);
	executed_on_postgres(&got, at);
	expect_same(&want, &got);
	stmts_free(&want);
	stmts_free(&got);
	free(id);

	id = planned(&u, "tags/c2", "tags/c4", "dev");
	preview(&want, &u, id, "postgres");
	at = file_size(getenv("IL_TEST_PGLOG"));
	apply_ok(&u, id);
	executed_on_postgres(&got, at);
	expect_same(&want, &got);
	stmts_free(&want);
	stmts_free(&got);
	free(id);
	user_free(&u);
	tenant_free(&t);
}
END_TEST

/* The statement texts the fake Databricks received after offset, in order. */
static void executed_on_databricks(struct stmts *out, long offset)
{
	char *rec = slurp(getenv("IL_TEST_DATABRICKS_RECORD")), *line, *save = NULL;

	for (line = strtok_r(rec + offset, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		json_object *o = json_tokener_parse(line), *body, *st;

		if (o != NULL && strcmp(json_object_get_string(json_object_object_get(o, "method")),
					"POST") == 0 &&
		    strcmp(json_object_get_string(json_object_object_get(o, "path")),
			   "/api/2.0/sql/statements") == 0 &&
		    json_object_object_get_ex(o, "body", &body) &&
		    json_object_object_get_ex(body, "statement", &st))
			push(out, json_object_get_string(st), strlen(json_object_get_string(st)));
		json_object_put(o);
	}
	free(rec);
}

START_TEST(test_cli__sql_preview_is_what_databricks_received)
{
	struct stmts want = { NULL, 0, 0 }, got = { NULL, 0, 0 };
	struct cli_user u;
	struct tenant t;
	struct resp *r;
	char body[2048], *id;
	long at;

	tenant_new(&t, "clidbx");
	snprintf(body, sizeof(body),
		 "{\"name\":\"lake\",\"executor\":\"databricks\",\"catalog\":\"main\","
		 "\"schema_prefix\":\"lake\",\"connection\":{\"host\":\"%s\","
		 "\"warehouse_id\":\"%s\",\"token\":\"%s\"}}", getenv("IL_TEST_DATABRICKS_URL"),
		 getenv("IL_TEST_DATABRICKS_WAREHOUSE"), getenv("IL_TEST_DATABRICKS_TOKEN"));
	r = api_json("POST", "/api/v1/environments", t.token, body);
	ck_assert_status(r, 201);
	resp_free(r);
	user_new(&u);
	login(&u, t.email);
	id = planned(&u, "tags/c1", "tags/c4", "lake");
	preview(&want, &u, id, "databricks");
	ck_assert_ptr_nonnull(strstr(want.v[0], "CREATE SCHEMA IF NOT EXISTS `main`.`lake_raw`"));
	ck_assert_uint_eq(want.mats, ALL_MATERIALIZATIONS);
	at = file_size(getenv("IL_TEST_DATABRICKS_RECORD"));
	apply_ok(&u, id);
	executed_on_databricks(&got, at);
	expect_same(&want, &got);
	stmts_free(&want);
	stmts_free(&got);
	free(id);
	user_free(&u);
	tenant_free(&t);
}
END_TEST

Suite *suite_preview(void)
{
	Suite *s = suite_create("preview");
	TCase *tc = tcase_create("preview");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_cli__sql_preview_is_what_postgres_ran);
	tcase_add_test(tc, test_cli__sql_preview_is_what_databricks_received);
	suite_add_tcase(s, tc);
	return s;
}
