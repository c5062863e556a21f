/* test_databricks.c: the Databricks executor against t/fakes/fake_databricks.py */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "exec/exec.h"
#include "suites.h"
#include "util/arena.h"
#include "util/error.h"

#define STATEMENTS "/api/2.0/sql/statements"
#define TARGET "`main`.`dev_analytics`.`orders`"

static const char *env(const char *name)
{
	const char *v = getenv(name);

	ck_assert_msg(v != NULL && *v != '\0', "%s is not set (run t/exec/run-exec-tests.sh)",
		      name);
	return v;
}

/* Each test starts with an empty record of requests. */
static void forget_requests(void)
{
	FILE *f = fopen(env("IL_TEST_DATABRICKS_RECORD"), "w");

	if (f != NULL)
		fclose(f);
}

static struct executor *open_with(struct arena *a, long timeout_s, int retries)
{
	struct exec_databricks_opts o = {
		.host = env("IL_TEST_DATABRICKS_URL"),
		.address = env("IL_TEST_DATABRICKS_ADDRESS"),
		.ca_file = env("IL_TEST_DATABRICKS_CA"),
		.token = env("IL_TEST_DATABRICKS_TOKEN"),
		.warehouse_id = env("IL_TEST_DATABRICKS_WAREHOUSE"),
		.timeout_seconds = timeout_s,
		.poll_interval_ms = 50,
		.max_retries = retries,
	};
	struct executor *ex = NULL;

	ck_assert_int_eq(exec_databricks_open(&ex, a, &o), 0);
	ck_assert_ptr_nonnull(ex);
	ck_assert_str_eq(ex->name, "databricks");
	return ex;
}

static struct exec_step step(enum materialization m, const char *sql)
{
	struct exec_step s = {
		.model = "analytics.orders", .catalog = "main", .schema = "dev_analytics",
		.table = "orders", .materialization = m, .sql = sql, .run_id = "run-1",
	};

	return s;
}

/* Runs s on a fresh executor and returns its result (strings live in a). */
static struct exec_result run_step(struct arena *a, const struct exec_step *s, long timeout_s,
				   int retries)
{
	struct executor *ex = open_with(a, timeout_s, retries);
	struct exec_result res;

	ck_assert_int_eq(ex->run(ex, a, s, &res), 0);
	ex->close(ex);
	ex->close(ex);          /* closing twice is harmless */
	return res;
}

/* The recorded requests, one JSON object each, in order. */
static json_object *requests(void)
{
	FILE *f = fopen(env("IL_TEST_DATABRICKS_RECORD"), "r");
	json_object *all = json_object_new_array();
	char line[65536];

	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		json_object *o = json_tokener_parse(line);

		ck_assert_ptr_nonnull(o);
		json_object_array_add(all, o);
	}
	fclose(f);
	return all;
}

static const char *field(json_object *o, const char *a, const char *b)
{
	json_object *v = NULL;

	if (!json_object_object_get_ex(o, a, &v))
		return NULL;
	if (b != NULL && (v == NULL || !json_object_object_get_ex(v, b, &v)))
		return NULL;
	return v != NULL && json_object_is_type(v, json_type_string) ?
	       json_object_get_string(v) : NULL;
}

static json_object *req(json_object *all, size_t i)
{
	ck_assert_uint_lt(i, json_object_array_length(all));
	return json_object_array_get_idx(all, i);
}

/* The bodies of the statement submissions, in order; returns how many. */
static size_t submissions(json_object *all, json_object **out, size_t max)
{
	size_t i, n = 0;

	for (i = 0; i < json_object_array_length(all); i++) {
		json_object *r = req(all, i), *body;

		if (strcmp(field(r, "method", NULL), "POST") != 0 ||
		    strcmp(field(r, "path", NULL), STATEMENTS) != 0)
			continue;
		ck_assert(json_object_object_get_ex(r, "body", &body));
		if (n < max)
			out[n] = body;
		n++;
	}
	return n;
}

static size_t count_path(json_object *all, const char *method, const char *path)
{
	size_t i, n = 0;

	for (i = 0; i < json_object_array_length(all); i++)
		if (strcmp(field(req(all, i), "method", NULL), method) == 0 &&
		    strcmp(field(req(all, i), "path", NULL), path) == 0)
			n++;
	return n;
}

/* A submission carries the warehouse, the catalog, the schema when asked, async waiting. */
static void assert_submission(json_object *body, const char *statement, int with_schema)
{
	json_object *v;

	ck_assert_str_eq(field(body, "statement", NULL), statement);
	ck_assert_str_eq(field(body, "warehouse_id", NULL), env("IL_TEST_DATABRICKS_WAREHOUSE"));
	ck_assert_str_eq(field(body, "catalog", NULL), "main");
	if (with_schema)
		ck_assert_str_eq(field(body, "schema", NULL), "dev_analytics");
	else
		ck_assert(!json_object_object_get_ex(body, "schema", &v));
	ck_assert_str_eq(field(body, "wait_timeout", NULL), "0s");
	ck_assert_str_eq(field(body, "on_wait_timeout", NULL), "CONTINUE");
}

START_TEST(test_databricks__table_sends_exact_requests)
{
	struct arena *a = arena_new(0);
	struct exec_step s = step(MAT_TABLE, "select id, amount from raw.orders\n;\n");
	struct exec_result res = run_step(a, &s, 5, 2);
	json_object *all = requests(), *sub[4];
	const char *bearer = arena_printf(a, "Bearer %s", env("IL_TEST_DATABRICKS_TOKEN"));
	const char *poll = arena_printf(a, STATEMENTS "/%s", res.statement_id);
	size_t i;

	ck_assert_int_eq(res.ok, 1);
	ck_assert_ptr_null(res.error);
	ck_assert_int_eq(res.rows, 5);
	ck_assert(res.runtime_seconds > 0.05 && res.runtime_seconds < 5);
	ck_assert_ptr_nonnull(res.statement_id);
	/* schema: submit, RUNNING, SUCCEEDED; then the table the same way */
	ck_assert_uint_eq(json_object_array_length(all), 6);
	ck_assert_uint_eq(submissions(all, sub, 4), 2);
	assert_submission(sub[0], "CREATE SCHEMA IF NOT EXISTS `main`.`dev_analytics`", 0);
	assert_submission(sub[1], "CREATE OR REPLACE TABLE " TARGET " AS\n"
			  "select id, amount from raw.orders", 1);
	ck_assert_str_eq(field(req(all, 3), "method", NULL), "POST");
	ck_assert_uint_eq(count_path(all, "GET", poll), 2);
	ck_assert_str_eq(field(req(all, 5), "path", NULL), poll);
	for (i = 0; i < 6; i++) {
		json_object *r = req(all, i);

		ck_assert_str_eq(field(r, "headers", "authorization"), bearer);
		ck_assert_str_eq(field(r, "headers", "content-type"), "application/json");
		ck_assert(strncmp(field(r, "headers", "user-agent"), "ironlayer/", 10) == 0);
	}
	json_object_put(all);
	arena_free(a);
}
END_TEST

START_TEST(test_databricks__view_is_create_or_replace_without_rows)
{
	struct arena *a = arena_new(0);
	struct exec_step s = step(MAT_VIEW, "select 1 as one");
	struct exec_result res = run_step(a, &s, 5, 2);
	json_object *all = requests(), *sub[4];

	ck_assert_int_eq(res.ok, 1);
	ck_assert_int_eq(res.rows, -1);
	ck_assert_uint_eq(submissions(all, sub, 4), 2);
	assert_submission(sub[1], "CREATE OR REPLACE VIEW " TARGET " AS\nselect 1 as one", 1);
	json_object_put(all);
	arena_free(a);
}
END_TEST

START_TEST(test_databricks__insert_overwrite_replaces_the_interval)
{
	struct arena *a = arena_new(0);
	struct exec_step s = step(MAT_INSERT_OVERWRITE, "select * from raw.events -- last");
	struct exec_result res;
	json_object *all, *sub[4];

	s.time_column = "event_date";
	s.start = "2024-01-01";
	s.end = "2024-01-08";
	res = run_step(a, &s, 5, 2);
	all = requests();
	ck_assert_int_eq(res.ok, 1);
	ck_assert_int_eq(res.rows, 7);
	ck_assert_uint_eq(submissions(all, sub, 4), 3);
	assert_submission(sub[1], "CREATE TABLE IF NOT EXISTS " TARGET " AS\n"
			  "SELECT * FROM (\nselect * from raw.events -- last\n) AS source WHERE 1 = 0",
			  1);
	assert_submission(sub[2], "INSERT INTO " TARGET " REPLACE WHERE `event_date` >= "
			  "'2024-01-01' AND `event_date` < '2024-01-08'\n"
			  "SELECT * FROM (\nselect * from raw.events -- last\n) AS source", 1);
	json_object_put(all);
	arena_free(a);
}
END_TEST

START_TEST(test_databricks__full_refresh_rebuilds_the_table)
{
	struct arena *a = arena_new(0);
	struct exec_step s = step(MAT_INSERT_OVERWRITE, "select * from raw.events");
	struct exec_result res;
	json_object *all, *sub[4];

	s.time_column = "event_date";
	s.start = "2024-01-01";
	s.end = "2024-01-08";
	s.full_refresh = 1;
	res = run_step(a, &s, 5, 2);
	all = requests();
	ck_assert_int_eq(res.ok, 1);
	ck_assert_int_eq(res.rows, 5);
	ck_assert_uint_eq(submissions(all, sub, 4), 2);
	assert_submission(sub[1], "CREATE OR REPLACE TABLE " TARGET " AS\n"
			  "select * from raw.events", 1);
	json_object_put(all);
	arena_free(a);
}
END_TEST

START_TEST(test_databricks__merge_on_a_composite_key)
{
	struct arena *a = arena_new(0);
	struct exec_step s = step(MAT_MERGE, "select id, day, total from raw.totals");
	struct exec_result res;
	json_object *all, *sub[4];

	s.unique_key = "id,  day";
	s.full_refresh = 1; /* what the planner gives MERGE_BY_KEY: still an upsert */
	res = run_step(a, &s, 5, 2);
	all = requests();
	ck_assert_int_eq(res.ok, 1);
	ck_assert_int_eq(res.rows, 3);
	ck_assert_uint_eq(submissions(all, sub, 4), 3);
	assert_submission(sub[1], "CREATE TABLE IF NOT EXISTS " TARGET " AS\n"
			  "SELECT * FROM (\nselect id, day, total from raw.totals\n) AS source "
			  "WHERE 1 = 0", 1);
	assert_submission(sub[2], "MERGE INTO " TARGET " AS target\n"
			  "USING (\nselect id, day, total from raw.totals\n) AS source\n"
			  "ON target.`id` = source.`id` AND target.`day` = source.`day`\n"
			  "WHEN MATCHED THEN UPDATE SET *\nWHEN NOT MATCHED THEN INSERT *", 1);
	json_object_put(all);
	arena_free(a);
}
END_TEST

START_TEST(test_databricks__without_catalog_uses_two_part_names)
{
	struct arena *a = arena_new(0);
	struct exec_step s = step(MAT_TABLE, "select 1");
	struct exec_result res;
	json_object *all, *sub[4], *v;

	s.catalog = NULL;
	res = run_step(a, &s, 5, 2);
	all = requests();
	ck_assert_int_eq(res.ok, 1);
	ck_assert_uint_eq(submissions(all, sub, 4), 2);
	ck_assert_str_eq(field(sub[0], "statement", NULL),
			 "CREATE SCHEMA IF NOT EXISTS `dev_analytics`");
	ck_assert_str_eq(field(sub[1], "statement", NULL),
			 "CREATE OR REPLACE TABLE `dev_analytics`.`orders` AS\nselect 1");
	ck_assert(!json_object_object_get_ex(sub[1], "catalog", &v));
	json_object_put(all);
	arena_free(a);
}
END_TEST

START_TEST(test_databricks__failed_statement_reports_the_warehouse_message)
{
	struct arena *a = arena_new(0);
	struct exec_step s = step(MAT_TABLE, "select * from fail_me");
	struct exec_result res = run_step(a, &s, 5, 2);
	json_object *all = requests(), *sub[4];

	ck_assert_int_eq(res.ok, 0);
	ck_assert_int_eq(res.rows, -1);
	ck_assert_ptr_nonnull(res.error);
	ck_assert_msg(strstr(res.error, "[TABLE_OR_VIEW_NOT_FOUND] The table or view `fail_me` "
			     "cannot be found") != NULL, "error: %s", res.error);
	ck_assert_ptr_nonnull(res.statement_id);
	ck_assert_uint_eq(submissions(all, sub, 4), 2);
	json_object_put(all);
	arena_free(a);
}
END_TEST

START_TEST(test_databricks__timeout_cancels_the_statement)
{
	struct arena *a = arena_new(0);
	struct exec_step s = step(MAT_VIEW, "select * from slow_me");
	struct exec_result res = run_step(a, &s, 1, 2);
	json_object *all = requests();
	const char *cancel = arena_printf(a, STATEMENTS "/%s/cancel", res.statement_id);

	ck_assert_int_eq(res.ok, 0);
	ck_assert_str_eq(res.error, "timed out after 1 s; statement cancelled");
	ck_assert(res.runtime_seconds >= 1.0 && res.runtime_seconds < 4.0);
	ck_assert_uint_eq(count_path(all, "POST", cancel), 1);
	ck_assert_str_eq(field(req(all, json_object_array_length(all) - 1), "path", NULL),
			 cancel);
	json_object_put(all);
	arena_free(a);
}
END_TEST

/* The step's deadline wins over databricks_timeout_seconds when it comes first. */
START_TEST(test_databricks__step_deadline_cancels_before_the_statement_timeout)
{
	struct arena *a = arena_new(0);
	struct exec_step s = step(MAT_VIEW, "select * from slow_me");
	struct exec_result res;
	json_object *all;
	const char *cancel;

	s.deadline_ms = exec_now_ms() + 1000;
	s.timeout_seconds = 1;
	res = run_step(a, &s, 60, 2);
	all = requests();
	cancel = arena_printf(a, STATEMENTS "/%s/cancel", res.statement_id);
	ck_assert_int_eq(res.ok, 0);
	ck_assert_str_eq(res.error, "timed out after 1 s; statement cancelled");
	ck_assert(res.runtime_seconds >= 0.9 && res.runtime_seconds < 4.0);
	ck_assert_uint_eq(count_path(all, "POST", cancel), 1);
	json_object_put(all);
	arena_free(a);
}
END_TEST

/* Submits of the main statement (the one holding marker). */
static size_t main_submits(json_object *all, const char *marker)
{
	json_object *sub[8];
	size_t i, n = submissions(all, sub, 8), hits = 0;

	for (i = 0; i < n && i < 8; i++)
		if (strstr(field(sub[i], "statement", NULL), marker) != NULL)
			hits++;
	return hits;
}

START_TEST(test_databricks__429_is_retried)
{
	struct arena *a = arena_new(0);
	struct exec_step s = step(MAT_TABLE, "select 'flaky_me' as x");
	struct exec_result res = run_step(a, &s, 5, 2);
	json_object *all = requests();

	ck_assert_msg(res.ok == 1, "error: %s", res.error);
	ck_assert_int_eq(res.rows, 5);
	ck_assert_uint_eq(main_submits(all, "flaky_me"), 2);
	json_object_put(all);
	arena_free(a);
}
END_TEST

START_TEST(test_databricks__retry_after_is_honoured)
{
	struct arena *a = arena_new(0);
	struct exec_step s = step(MAT_VIEW, "select 'slowdown_me'");
	struct exec_result res = run_step(a, &s, 5, 1);
	json_object *all = requests();

	ck_assert_msg(res.ok == 1, "error: %s", res.error);
	ck_assert_uint_eq(main_submits(all, "slowdown_me"), 2);
	ck_assert_msg(res.runtime_seconds >= 1.0, "runtime %f", res.runtime_seconds);
	json_object_put(all);
	arena_free(a);
}
END_TEST

START_TEST(test_databricks__503_on_submit_and_poll_is_retried)
{
	struct arena *a = arena_new(0);
	struct exec_step s = step(MAT_TABLE, "select 'busy_me', 'poll503_me'");
	struct exec_result res = run_step(a, &s, 5, 2);
	json_object *all = requests();
	const char *poll = arena_printf(a, STATEMENTS "/%s", res.statement_id);

	ck_assert_msg(res.ok == 1, "error: %s", res.error);
	ck_assert_uint_eq(main_submits(all, "busy_me"), 2);
	ck_assert_uint_eq(count_path(all, "GET", poll), 3);
	json_object_put(all);
	arena_free(a);
}
END_TEST

START_TEST(test_databricks__failed_polling_cancels_the_statement)
{
	struct arena *a = arena_new(0);
	struct exec_step s = step(MAT_VIEW, "select 'pollgone_me'");
	struct exec_result res = run_step(a, &s, 5, 1);
	json_object *all = requests();
	const char *poll = arena_printf(a, STATEMENTS "/%s", res.statement_id);

	ck_assert_int_eq(res.ok, 0);
	ck_assert_str_eq(res.error, "databricks answered HTTP 503 TEMPORARILY_UNAVAILABLE: Please "
			 "try again later. (after 2 attempts); statement cancelled");
	ck_assert_uint_eq(count_path(all, "GET", poll), 2);
	ck_assert_uint_eq(count_path(all, "POST", arena_printf(a, "%s/cancel", poll)), 1);
	json_object_put(all);
	arena_free(a);
}
END_TEST

START_TEST(test_databricks__retries_run_out)
{
	struct arena *a = arena_new(0);
	struct exec_step s = step(MAT_TABLE, "select 'flaky_me' as y");
	struct exec_result res = run_step(a, &s, 5, 0);
	json_object *all = requests();

	ck_assert_int_eq(res.ok, 0);
	ck_assert_str_eq(res.error, "databricks answered HTTP 429 TOO_MANY_REQUESTS: Too many "
			 "requests. Please wait a moment and try again.");
	ck_assert_uint_eq(main_submits(all, "flaky_me"), 1);
	json_object_put(all);
	arena_free(a);
}
END_TEST

START_TEST(test_databricks__4xx_fails_without_retry)
{
	struct arena *a = arena_new(0);
	struct exec_step s = step(MAT_TABLE, "select reject_me");
	struct exec_result res = run_step(a, &s, 5, 3);
	json_object *all = requests();

	ck_assert_int_eq(res.ok, 0);
	ck_assert_str_eq(res.error, "databricks answered HTTP 400 INVALID_PARAMETER_VALUE: "
			 "[PARSE_SYNTAX_ERROR] Syntax error at or near 'reject_me'.");
	ck_assert_ptr_null(res.statement_id);      /* the main statement never got one */
	ck_assert_uint_eq(main_submits(all, "reject_me"), 1);
	json_object_put(all);
	arena_free(a);
}
END_TEST

START_TEST(test_databricks__token_never_reaches_the_error)
{
	struct arena *a = arena_new(0);
	struct exec_step s = step(MAT_TABLE, "select leak_me");
	struct exec_result res = run_step(a, &s, 5, 0);

	ck_assert_int_eq(res.ok, 0);
	ck_assert_ptr_null(strstr(res.error, env("IL_TEST_DATABRICKS_TOKEN")));
	ck_assert_str_eq(res.error, "databricks answered HTTP 400 INVALID_PARAMETER_VALUE: "
			 "bad request from Bearer [redacted]");
	arena_free(a);
}
END_TEST

START_TEST(test_databricks__invalid_steps_send_nothing)
{
	struct arena *a = arena_new(0);
	struct exec_step bad[4];
	struct exec_result res;
	json_object *all;
	size_t i;

	bad[0] = step(MAT_TABLE, "select 1");
	bad[0].table = "Orders";
	bad[1] = step(MAT_MERGE, "select 1");
	bad[1].unique_key = "id; drop table x";
	bad[2] = step(MAT_INSERT_OVERWRITE, "select 1");
	bad[2].time_column = "d";
	bad[2].start = "2024-1-01";
	bad[2].end = "2024-01-08";
	bad[3] = step(MAT_TABLE, " ;\n");
	for (i = 0; i < 4; i++) {
		res = run_step(a, &bad[i], 5, 0);
		ck_assert_int_eq(res.ok, 0);
		ck_assert_ptr_nonnull(res.error);
	}
	all = requests();
	ck_assert_uint_eq(json_object_array_length(all), 0);
	json_object_put(all);
	arena_free(a);
}
END_TEST

START_TEST(test_databricks__unreachable_host_fails_after_retries)
{
	struct arena *a = arena_new(0);
	struct exec_databricks_opts o = {
		.host = "https://127.0.0.1:1/", .address = "127.0.0.1",
		.token = "dapi-unreachable-0000", .warehouse_id = "w",
		.timeout_seconds = 2, .poll_interval_ms = 50, .max_retries = 1,
	};
	struct exec_step s = step(MAT_VIEW, "select 1");
	struct executor *ex = NULL;
	struct exec_result res;

	ck_assert_int_eq(exec_databricks_open(&ex, a, &o), 0);
	ck_assert_int_eq(ex->run(ex, a, &s, &res), 0);
	ck_assert_int_eq(res.ok, 0);
	ck_assert_msg(strstr(res.error, "databricks request failed") != NULL &&
		      strstr(res.error, "(after 2 attempts)") != NULL, "error: %s", res.error);
	arena_free(a);          /* closes the executor */
}
END_TEST

START_TEST(test_databricks__open_rejects_bad_options)
{
	struct arena *a = arena_new(0);
	struct exec_databricks_opts ok = {
		.host = "https://adb-1.azuredatabricks.net", .address = "203.0.113.7",
		.token = "dapi1", .warehouse_id = "w",
		.timeout_seconds = 60, .poll_interval_ms = 1000, .max_retries = 3,
	};
	/* each would send the token somewhere other than https://host/api/2.0/… */
	static const char *const bad_hosts[] = {
		"ftp://adb-1", "http://adb-1.azuredatabricks.net",
		"https://adb-1.azuredatabricks.net/internal", "https://adb-1.azuredatabricks.net?x=",
		"https://adb-1.azuredatabricks.net#", "https://u:p@adb-1.azuredatabricks.net",
		"https://adb-1.azuredatabricks.net:0", "https://", "https://a b",
	};
	struct exec_databricks_opts o;
	struct executor *ex = NULL;
	size_t i;

	for (i = 0; i < sizeof(bad_hosts) / sizeof(bad_hosts[0]); i++) {
		o = ok;
		o.host = bad_hosts[i];
		ck_assert_msg(exec_databricks_open(&ex, a, &o) == IL_EINVALID, "%s", bad_hosts[i]);
		ck_assert_ptr_null(ex);
	}
	o = ok;
	o.address = NULL;                  /* never without a checked address to pin */
	ck_assert_int_eq(exec_databricks_open(&ex, a, &o), IL_EINVALID);
	o.address = "adb-1.azuredatabricks.net";
	ck_assert_int_eq(exec_databricks_open(&ex, a, &o), IL_EINVALID);
	o = ok;
	o.host = "https://203.0.113.8";    /* an address literal must be the checked address */
	ck_assert_int_eq(exec_databricks_open(&ex, a, &o), IL_EINVALID);
	o = ok;
	o.token = "";
	ck_assert_int_eq(exec_databricks_open(&ex, a, &o), IL_EINVALID);
	o = ok;
	o.token = "dapi1\r\nX-Injected: 1";
	ck_assert_int_eq(exec_databricks_open(&ex, a, &o), IL_EINVALID);
	o = ok;
	o.timeout_seconds = 0;
	ck_assert_int_eq(exec_databricks_open(&ex, a, &o), IL_EINVALID);
	ck_assert_int_eq(exec_databricks_open(&ex, a, &ok), 0);
	ck_assert_ptr_nonnull(ex);
	o = ok;
	o.host = "https://ADB-1.azuredatabricks.net:8443/";
	ck_assert_int_eq(exec_databricks_open(&ex, a, &o), 0);
	arena_free(a);
}
END_TEST

START_TEST(test_databricks__a_name_goes_to_the_pinned_address)
{
	struct arena *a = arena_new(0);
	struct exec_databricks_opts o = {
		/* a name under .invalid never resolves: only the pinned address can answer */
		.host = env("IL_TEST_DATABRICKS_NAME_URL"),
		.address = env("IL_TEST_DATABRICKS_ADDRESS"),
		.ca_file = env("IL_TEST_DATABRICKS_CA"),
		.token = env("IL_TEST_DATABRICKS_TOKEN"),
		.warehouse_id = env("IL_TEST_DATABRICKS_WAREHOUSE"),
		.timeout_seconds = 5, .poll_interval_ms = 50, .max_retries = 0,
	};
	struct exec_step s = step(MAT_VIEW, "select 1");
	struct executor *ex = NULL;
	struct exec_result res;

	ck_assert_int_eq(exec_databricks_open(&ex, a, &o), 0);
	ck_assert_int_eq(ex->run(ex, a, &s, &res), 0);
	ck_assert_msg(res.ok == 1, "error: %s", res.error);
	arena_free(a);
}
END_TEST

START_TEST(test_databricks__tls_is_verified)
{
	struct arena *a = arena_new(0);
	struct exec_databricks_opts o = {
		.host = env("IL_TEST_DATABRICKS_URL"),
		.address = env("IL_TEST_DATABRICKS_ADDRESS"),
		.ca_file = NULL,                /* the system's CAs do not know the test CA */
		.token = env("IL_TEST_DATABRICKS_TOKEN"),
		.warehouse_id = env("IL_TEST_DATABRICKS_WAREHOUSE"),
		.timeout_seconds = 5, .poll_interval_ms = 50, .max_retries = 0,
	};
	struct exec_step s = step(MAT_VIEW, "select 1");
	struct executor *ex = NULL;
	struct exec_result res;
	json_object *all;

	ck_assert_int_eq(exec_databricks_open(&ex, a, &o), 0);
	ck_assert_int_eq(ex->run(ex, a, &s, &res), 0);
	ck_assert_int_eq(res.ok, 0);
	ck_assert_msg(strstr(res.error, "databricks request failed") != NULL, "error: %s",
		      res.error);
	all = requests();
	ck_assert_uint_eq(json_object_array_length(all), 0);   /* not one request got through */
	json_object_put(all);
	arena_free(a);
}
END_TEST

START_TEST(test_databricks__redirects_are_not_followed)
{
	struct arena *a = arena_new(0);
	struct exec_step s = step(MAT_TABLE, "select 'redirect_me'");
	struct exec_result res = run_step(a, &s, 5, 2);
	json_object *all = requests();
	size_t i;

	ck_assert_int_eq(res.ok, 0);
	ck_assert_msg(strncmp(res.error, "databricks answered HTTP 302", 28) == 0, "error: %s",
		      res.error);
	ck_assert_uint_eq(main_submits(all, "redirect_me"), 1);       /* and no retry */
	for (i = 0; i < json_object_array_length(all); i++)
		ck_assert_str_ne(field(req(all, i), "path", NULL), "/redirect-target");
	json_object_put(all);
	arena_free(a);
}
END_TEST

Suite *suite_databricks(void)
{
	Suite *s = suite_create("databricks");
	TCase *tc = tcase_create("statements");

	tcase_add_checked_fixture(tc, forget_requests, NULL);
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, test_databricks__table_sends_exact_requests);
	tcase_add_test(tc, test_databricks__view_is_create_or_replace_without_rows);
	tcase_add_test(tc, test_databricks__insert_overwrite_replaces_the_interval);
	tcase_add_test(tc, test_databricks__full_refresh_rebuilds_the_table);
	tcase_add_test(tc, test_databricks__merge_on_a_composite_key);
	tcase_add_test(tc, test_databricks__without_catalog_uses_two_part_names);
	tcase_add_test(tc, test_databricks__failed_statement_reports_the_warehouse_message);
	tcase_add_test(tc, test_databricks__timeout_cancels_the_statement);
	tcase_add_test(tc, test_databricks__step_deadline_cancels_before_the_statement_timeout);
	tcase_add_test(tc, test_databricks__429_is_retried);
	tcase_add_test(tc, test_databricks__retry_after_is_honoured);
	tcase_add_test(tc, test_databricks__503_on_submit_and_poll_is_retried);
	tcase_add_test(tc, test_databricks__failed_polling_cancels_the_statement);
	tcase_add_test(tc, test_databricks__retries_run_out);
	tcase_add_test(tc, test_databricks__4xx_fails_without_retry);
	tcase_add_test(tc, test_databricks__token_never_reaches_the_error);
	tcase_add_test(tc, test_databricks__invalid_steps_send_nothing);
	tcase_add_test(tc, test_databricks__unreachable_host_fails_after_retries);
	tcase_add_test(tc, test_databricks__open_rejects_bad_options);
	tcase_add_test(tc, test_databricks__a_name_goes_to_the_pinned_address);
	tcase_add_test(tc, test_databricks__tls_is_verified);
	tcase_add_test(tc, test_databricks__redirects_are_not_followed);
	suite_add_tcase(s, tc);
	return s;
}
